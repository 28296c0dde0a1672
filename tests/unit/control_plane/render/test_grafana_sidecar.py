"""The dashboard's ConfigMap for Grafana's dashboard sidecar: its label, label value and
folder annotation come from control_plane.grafana_dashboard (file or MOCKADO_* override),
are checked at load by the API server's rules, each error naming its key, and render into a
ConfigMap that Kubernetes' schema accepts, exactly as configured."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from control_plane.render import left_over_objects, render_all, write_files
from control_plane.render.dashboard import (
    DASHBOARD_CONFIGMAP_PATH,
    render_dashboard,
    render_dashboard_configmap,
)
from control_plane.validate import kubernetes_problems
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import ConfigError
from tests.unit.control_plane.render.support import docs, files_of

KEY = "control_plane.grafana_dashboard"
ENV = "MOCKADO_CONTROL_PLANE__GRAFANA_DASHBOARD__"
# The Kubernetes API server's rules (k8s.io/apimachinery/pkg/util/validation): a qualified
# name (label and annotation keys) is an optional DNS-1123 subdomain prefix of at most 253
# characters and "/", then a name of at most 63; a label value is such a name, or empty.
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def api_server_takes_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(name) <= 63 and bool(_NAME.fullmatch(name))


def api_server_takes_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_NAME.fullmatch(value)))


def configmap(**sidecar: Any) -> dict[str, Any]:
    config = load_config(None, env={}, overrides={f"{KEY}.{k}": v for k, v in sidecar.items()})
    (doc,) = docs(render_dashboard_configmap(config.control_plane))
    assert doc["data"] == {"mockado.json": render_dashboard(config.control_plane)}
    return doc


def load_error(**sidecar: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={}, overrides={f"{KEY}.{k}": v for k, v in sidecar.items()})
    return str(caught.value)


def test_by_default_the_charts_label_and_no_folder():
    doc = configmap()
    assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "annotations" not in doc["metadata"]
    assert kubernetes_problems(doc, source=DASHBOARD_CONFIGMAP_PATH) == []


# What Grafana Helm chart users set (sidecar.dashboards.label / labelValue /
# folderAnnotation): its defaults, a value-less match, a prefixed key, the folder annotations
# in use (the sidecar's own default, and grafana_folder).
@pytest.mark.parametrize(
    ("label", "value", "annotation", "folder"),
    [
        ("grafana_dashboard", "1", "k8s-sidecar-target-directory", "mockado"),
        ("grafana_dashboard", "", "grafana_folder", "Platform/Mesh tools"),
        ("grafana.example.com/dashboard", "mesh-tools", "grafana_folder", "mockado"),
        ("dashboards", "true", "example.com/folder", "Équipe plateforme/mockado"),
    ],
)
def test_the_configured_label_and_folder_render_into_a_valid_configmap(
    label, value, annotation, folder
):
    doc = configmap(label=label, label_value=value, folder_annotation=annotation, folder=folder)
    labels = doc["metadata"]["labels"]
    assert labels[label] == value
    # mockado's own labels stay, and nothing else is added.
    assert set(labels) == {
        label,
        "app.kubernetes.io/name",
        "app.kubernetes.io/component",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/managed-by",
        "mockado.io/namespace",
    }
    assert doc["metadata"]["annotations"] == {annotation: folder}
    assert kubernetes_problems(doc, source=DASHBOARD_CONFIGMAP_PATH) == []


def test_the_environment_overrides_each_key():
    env = {
        f"{ENV}LABEL": "dashboards",
        # As a shell or a Secret gives it: YAML reads 1 as a number; the label's value is text.
        f"{ENV}LABEL_VALUE": "1",
        f"{ENV}FOLDER": "mockado",
        f"{ENV}FOLDER_ANNOTATION": "grafana_folder",
    }
    sidecar = load_config(None, env=env).control_plane.grafana_dashboard
    assert (sidecar.label, sidecar.label_value) == ("dashboards", "1")
    assert (sidecar.folder, sidecar.folder_annotation) == ("mockado", "grafana_folder")


@pytest.mark.parametrize(
    ("sidecar", "key", "why"),
    [
        ({"label": "grafana dashboard"}, "label", "label name"),
        ({"label": "Example.com/dashboard"}, "label", "prefix"),
        ({"label": "app.kubernetes.io/part-of"}, "label", "mockado sets itself"),
        ({"label": "mockado.io/namespace"}, "label", "mockado sets itself"),
        ({"label_value": "yes please"}, "label_value", "label value"),
        ({"label_value": "x" * 64}, "label_value", "label value"),
        ({"label_value": True}, "label_value", "string"),
        ({"folder_annotation": "-folder"}, "folder_annotation", "label name"),
        # The API server wants a prefix wherever there is a "/", and one "/" at most.
        ({"label": "/dashboard"}, "label", "prefix"),
        ({"folder_annotation": "/0"}, "folder_annotation", "prefix"),
        ({"label": "a.io/b/dashboard"}, "label", "prefix"),
        ({"folder": "/var/lib/grafana/dashboards"}, "folder", "relative"),
        ({"folder": "../../etc"}, "folder", "'..'"),
        ({"folder": "a//b"}, "folder", "none empty"),
        ({"folder": "mock\nado"}, "folder", "printable"),
        ({"folder": "x" * 256}, "folder", "at most 255"),
        ({"sidecar_label": "x"}, "sidecar_label", "unknown key"),
    ],
)
def test_a_bad_value_is_refused_at_load_naming_its_key(sidecar, key, why):
    message = load_error(**sidecar)
    assert message.startswith(f"{KEY}.{key}: "), message
    assert why in message, message


def test_a_bad_value_from_the_environment_names_its_key_too():
    with pytest.raises(ConfigError, match=rf"^{KEY}\.label_value: .*label value"):
        load_config(None, env={f"{ENV}LABEL_VALUE": "one two"})


# Any text of the characters that matter, and text shaped like a key (most of it taken).
_KEY_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from("aZ09-_./ é:"), max_size=70),
    st.from_regex(r"([a-z0-9.-]{1,12}/)?[-A-Za-z0-9_.]{1,12}", fullmatch=True),
)


@settings(max_examples=150, deadline=None)
@given(label=_KEY_TEXT, value=_KEY_TEXT)
@example(label="/0", value="")
def test_a_label_is_taken_exactly_when_the_api_server_would_take_it(label, value):
    allowed = (
        api_server_takes_key(label)
        and api_server_takes_value(value)
        and not label.startswith(("app.kubernetes.io/", "mockado.io/"))
    )
    if not allowed:
        assert load_error(label=label, label_value=value).startswith(f"{KEY}.label")
        return
    # Taken as it is, whatever YAML would make of it unquoted (a number, true, null).
    assert configmap(label=label, label_value=value)["metadata"]["labels"][label] == value


@settings(max_examples=100, deadline=None)
@given(folder=st.text(alphabet=st.sampled_from("ab/. é:#'\"{}"), min_size=1, max_size=20))
def test_a_folder_is_rendered_verbatim_or_refused(folder):
    parts = folder.split("/")
    if folder.startswith("/") or any(p in ("", ".", "..") for p in parts):
        assert load_error(folder=folder).startswith(f"{KEY}.folder: ")
        return
    doc = configmap(folder=folder)
    assert doc["metadata"]["annotations"] == {"k8s-sidecar-target-directory": folder}
    assert kubernetes_problems(doc, source=DASHBOARD_CONFIGMAP_PATH) == []


def test_the_yaml_file_takes_the_charts_unquoted_value(tmp_path):
    path = tmp_path / "mockado.yaml"
    path.write_text(
        yaml.safe_dump({"control_plane": {"grafana_dashboard": {"label_value": 1}}}),
        encoding="utf-8",
    )
    assert configmap_from(path)["metadata"]["labels"]["grafana_dashboard"] == "1"


def configmap_from(path) -> dict[str, Any]:
    # Where `mockado render` puts it.
    (doc,) = docs(files_of(load_config(path, env={}))[DASHBOARD_CONFIGMAP_PATH])
    return doc


def _namespace_of(control_plane: dict[str, Any]) -> str:
    config = load_config(None, env={}, overrides={"control_plane": control_plane})
    (doc,) = docs(render_dashboard_configmap(config.control_plane))
    return doc["metadata"]["namespace"]


def test_the_configmap_goes_where_the_sidecar_watches():
    assert _namespace_of({"mockado_namespace": "mocks"}) == "mocks"
    assert _namespace_of({"prometheus_namespace": "monitoring"}) == "monitoring"
    # A Grafana without the Operator, its sidecar watching its own namespace.
    chosen = {"prometheus_namespace": "monitoring", "grafana_dashboard": {"namespace": "grafana"}}
    assert _namespace_of(chosen) == "grafana"
    assert load_error(namespace="Grafana").startswith(f"{KEY}.namespace: ")


def test_a_configmap_moved_to_another_namespace_is_listed_to_delete(tmp_path):
    before = load_config(None, env={})
    write_files(render_all(before), tmp_path)
    after = load_config(None, env={}, overrides={f"{KEY}.namespace": "grafana"})
    (listed,) = left_over_objects(render_all(after), tmp_path)[DASHBOARD_CONFIGMAP_PATH]
    # Another object: the one in the old namespace stays in the cluster until deleted.
    assert listed.delete_command == (
        "kubectl delete -n mockado configmap/mockado-grafana-dashboard --ignore-not-found"
    )
