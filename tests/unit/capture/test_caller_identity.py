"""A capture stream may claim only its caller's namespace (its mesh identity's)."""

import asyncio

import pytest

from ext_proc_server.capture import ExtProcServicer
from ext_proc_server.capture.caller_identity import (
    caller_check,
    peer_namespace,
    spiffe_namespace,
    xfcc_namespace,
)
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import ConfigError
from tests.support.ext_proc_rig import make_config
from tests.unit.capture.stream_helpers import req_headers, resp_body, resp_headers
from tests.unit.capture.test_servicer import FakeContext, dropped

SHOP = "spiffe://cluster.local/ns/shop/sa/default"
BILLING = "spiffe://cluster.local/ns/billing/sa/api"
BEHIND_SIDECAR = {"forwarded_by_sidecar": True, "required": True}


def sidecar_xfcc(uri: str) -> str:
    """An element as Istio's inbound sidecar appends it (Envoy's format)."""
    return (
        f'By=spiffe://cluster.local/ns/mockado/sa/mockado-collector;Hash=ab12;Subject="";URI={uri}'
    )


@pytest.mark.parametrize(
    ("uri", "namespace"),
    [
        (SHOP, "shop"),
        ("spiffe://example.org/ns/a-b/sa/x", "a-b"),
        ("spiffe://cluster.local/ns//sa/x", None),
        ("spiffe://cluster.local/ns/shop/sa/x/extra", None),
        ("spiffe://cluster.local/namespace/shop/sa/x", None),
        ("https://cluster.local/ns/shop/sa/x", None),
    ],
)
def test_the_namespace_of_a_spiffe_id(uri, namespace):
    assert spiffe_namespace(uri) == namespace


def test_the_last_xfcc_element_is_the_callers_earlier_ones_came_with_the_request():
    forged = f"URI={BILLING}"
    assert xfcc_namespace(f"{forged},{sidecar_xfcc(SHOP)}") == "shop"
    assert xfcc_namespace(sidecar_xfcc(BILLING)) == "billing"
    # A quoted value holding "," and ";" does not split the element.
    assert xfcc_namespace(f'{forged},Subject="CN=a,O=b;c";URI={SHOP}') == "shop"
    # Nor does a quoted value that looks like a URI pair.
    assert xfcc_namespace(f'Subject="CN=x;URI={BILLING}";URI={SHOP}') == "shop"


def test_an_xfcc_element_without_one_namespace_names_none():
    assert xfcc_namespace('Hash=ab;Subject="CN=x"') is None
    assert xfcc_namespace(f"URI={SHOP};URI={BILLING}") is None
    assert xfcc_namespace(f"URI={SHOP},Hash=ab") is None


def test_the_tls_peer_namespace_comes_from_its_spiffe_uri_san():
    assert peer_namespace({"peer_spiffe_id": [SHOP.encode()]}) == "shop"
    assert peer_namespace({"peer_uri": [b"urn:x", SHOP.encode()]}) == ("shop")
    assert peer_namespace({"x509_common_name": [b"mockado-client"]}) is None


def exchange():
    return [
        req_headers(path="/v1/orders", method="GET", eos=True),
        resp_headers(),
        resp_body(b'{"ok": true}', eos=True),
    ]


def stream(config: CollectorConfig, metadata: tuple) -> list:
    submitted: list = []
    servicer = ExtProcServicer(config=config, submit=submitted.append)
    asyncio.run(servicer.Process(iter(()), FakeContext(exchange(), metadata=metadata)))
    servicer.flush_metrics()
    return submitted


def identity_config(**identity) -> CollectorConfig:
    return make_config({"caller_identity": identity}).collector


def test_a_stream_claiming_another_namespace_than_its_callers_is_refused_and_counted():
    config = identity_config(**BEHIND_SIDECAR)
    before = dropped("caller_namespace")
    forged = (("x-mockado-namespace", "billing"), ("x-forwarded-client-cert", sidecar_xfcc(SHOP)))
    assert stream(config, forged) == []
    assert dropped("caller_namespace") == before + 1


def test_a_stream_claiming_its_callers_namespace_is_captured():
    config = identity_config(**BEHIND_SIDECAR)
    genuine = (("x-mockado-namespace", "shop"), ("x-forwarded-client-cert", sidecar_xfcc(SHOP)))
    [captured] = stream(config, genuine)
    assert captured.namespace == "shop"


def test_a_stream_naming_no_namespace_takes_its_callers():
    config = identity_config(**BEHIND_SIDECAR)
    [captured] = stream(config, (("x-forwarded-client-cert", sidecar_xfcc(SHOP)),))
    assert captured.namespace == "shop"


def test_a_stream_without_an_identity_is_refused_when_one_is_required():
    config = identity_config(**BEHIND_SIDECAR)
    before = dropped("caller_unidentified")
    assert stream(config, (("x-mockado-namespace", "shop"),)) == []
    assert dropped("caller_unidentified") == before + 1


def test_two_xfcc_headers_name_no_identity():
    # Which one the sidecar wrote is unknown: neither is believed.
    config = identity_config(**BEHIND_SIDECAR)
    before = dropped("caller_unidentified")
    two = (
        ("x-mockado-namespace", "billing"),
        ("x-forwarded-client-cert", sidecar_xfcc(SHOP)),
        ("x-forwarded-client-cert", sidecar_xfcc(BILLING)),
    )
    assert stream(config, two) == []
    assert dropped("caller_unidentified") == before + 1


def test_without_a_sidecar_in_front_the_header_is_not_believed():
    # A collector reached directly: whoever connects writes the header.
    assert caller_check(CollectorConfig()) is None
    forged = (("x-mockado-namespace", "billing"), ("x-forwarded-client-cert", sidecar_xfcc(SHOP)))
    [captured] = stream(CollectorConfig(), forged)
    assert captured.namespace == "billing"


def test_requiring_an_identity_with_no_source_of_one_is_a_config_error():
    with pytest.raises(ConfigError, match=r"caller_identity\.required"):
        identity_config(required=True)
