"""Namespace and workload: the stream metadata's, else the sidecar's node attributes. The
workload is only read for a new exchange, so a repeat leaves the attributes alone."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.capture import StreamMeta
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.names import ATTR_NAMESPACE, ATTR_WORKLOAD, EXT_PROC_FILTER_NAME
from ext_proc_server.mapping.repeats import RepeatIndex
from tests.unit.capture.stream_helpers import make, req_headers, resp_body, resp_headers


class CountedAttributes:
    """A request-headers message whose ``attributes`` reads are counted."""

    def __init__(self, message) -> None:
        self._message = message
        self.request_headers = message.request_headers
        self.reads = 0

    @property
    def attributes(self):
        self.reads += 1
        return self._message.attributes


def _request(node: dict[str, str]):
    message = req_headers(path="/orders/7", method="GET", eos=True, authority="orders:8080")
    for name, value in node.items():
        message.attributes[EXT_PROC_FILTER_NAME].fields[name].string_value = value
    return message


def _run(assembler, first) -> object:
    assert assembler.on_request_headers(first) is None
    assert assembler.on_response_headers(resp_headers()) is None
    return assembler.on_response_body(resp_body(b'{"id":7}', eos=True))


_NAMES = st.sampled_from(["", "shop", "payments"])


@settings(max_examples=100, deadline=None)
@given(
    meta_namespace=_NAMES,
    meta_workload=st.sampled_from(["", "web"]),
    node_namespace=_NAMES,
    node_workload=st.sampled_from(["", "orders", "w" * 300]),
)
def test_metadata_first_then_the_node_attributes(
    meta_namespace, meta_workload, node_namespace, node_workload
):
    node = {ATTR_NAMESPACE: node_namespace, ATTR_WORKLOAD: node_workload}
    meta = StreamMeta(namespace=meta_namespace, workload=meta_workload)
    done = _run(make(meta=meta), _request({k: v for k, v in node.items() if v}))
    exchange = done.exchange
    # The rule as it reads: each from the metadata when it has one, else the attributes.
    assert exchange.namespace == (meta_namespace or node_namespace)[:253]
    assert exchange.workload == (meta_workload or node_workload)[:253]


def test_a_repeat_reads_no_workload_from_the_attributes():
    config = CollectorConfig()
    repeats = RepeatIndex(config)
    meta = StreamMeta(namespace="shop")  # as the rendered filter sends it: no workload
    node = {ATTR_NAMESPACE: "shop", ATTR_WORKLOAD: "orders"}

    first = CountedAttributes(_request(node))
    done = _run(make(config, meta=meta, repeats=repeats), first)
    assert done.exchange.workload == "orders" and first.reads >= 1
    repeats.remember(repeats.key_of(done.exchange), "mapping-1")

    again = CountedAttributes(_request(node))
    assert _run(make(config, meta=meta, repeats=repeats), again).repeat
    assert again.reads == 0


def test_without_a_namespace_in_the_metadata_both_are_read_with_the_request():
    first = CountedAttributes(_request({ATTR_NAMESPACE: "shop", ATTR_WORKLOAD: "orders"}))
    assembler = make(meta=StreamMeta())
    assert assembler.on_request_headers(first) is None
    # The canonical host needs the namespace before the response: both are read now.
    assert (assembler.namespace, assembler.workload) == ("shop", "orders")
    reads = first.reads
    assert assembler.on_response_headers(resp_headers()) is None
    done = assembler.on_response_body(resp_body(b"{}", eos=True))
    assert (done.exchange.namespace, done.exchange.workload) == ("shop", "orders")
    assert first.reads == reads
