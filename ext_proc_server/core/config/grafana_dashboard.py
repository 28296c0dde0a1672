"""``control_plane.grafana_dashboard``: how the dashboard's ConfigMap (deploy/grafana-sidecar/)
is marked for Grafana's dashboard sidecar. The sidecar loads the ConfigMaps carrying one
label (the Grafana Helm chart's ``sidecar.dashboards.label`` and ``labelValue``; with
kube-prometheus-stack, ``grafana.sidecar.dashboards...``), and puts a dashboard in the
folder one annotation names when its ``folderAnnotation`` is set."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from ext_proc_server.core.config.checks import (
    check_label_value,
    check_optional_dns_label,
    check_qualified_name,
)
from ext_proc_server.core.config.sections import ConfigSection

# The chart's defaults (and kube-prometheus-stack's): label grafana_dashboard, value "1".
DEFAULT_LABEL = "grafana_dashboard"
DEFAULT_LABEL_VALUE = "1"
# The sidecar's own default folder annotation (k8s-sidecar's FOLDER_ANNOTATION).
DEFAULT_FOLDER_ANNOTATION = "k8s-sidecar-target-directory"
# mockado's own labels on every object it renders: the sidecar's label must be another.
OWN_LABEL_PREFIXES = ("app.kubernetes.io/", "mockado.io/")
# A file name's limit on the file systems the sidecar writes to.
_MAX_FOLDER_PART = 255


class GrafanaDashboardConfig(ConfigSection):
    # The namespace of the ConfigMap: one the sidecar watches (its searchNamespace; the
    # chart's default is Grafana's own). Default control_plane.prometheus_namespace, else
    # mockado_namespace: where kube-prometheus-stack runs Grafana beside Prometheus.
    namespace: str | None = None
    # The label the sidecar watches for, and its value ("" where the sidecar takes any).
    label: str = DEFAULT_LABEL
    label_value: str = DEFAULT_LABEL_VALUE
    # The Grafana folder of the dashboard, relative to the sidecar's folder ("mockado",
    # "Platform/mockado"); unset: no annotation, the sidecar's default folder.
    folder: str | None = None
    # The annotation the sidecar reads the folder from (the chart's folderAnnotation).
    folder_annotation: str = DEFAULT_FOLDER_ANNOTATION

    _namespace = field_validator("namespace")(
        classmethod(lambda cls, v: check_optional_dns_label(v))
    )

    @field_validator("label")
    @classmethod
    def _label(cls, key: str) -> str:
        check_qualified_name(key)
        if key.startswith(OWN_LABEL_PREFIXES):
            raise ValueError(
                f"{key!r} is one of the labels mockado sets itself "
                f"({', '.join(OWN_LABEL_PREFIXES)}...); name the sidecar's label"
            )
        return key

    @field_validator("label_value", mode="before")
    @classmethod
    def _label_value(cls, value: Any) -> Any:
        # `labelValue: 1` in YAML (or MOCKADO_..._LABEL_VALUE=1) is the text the chart means.
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            return check_label_value(value)
        return value  # pydantic reports the type

    @field_validator("folder_annotation")
    @classmethod
    def _annotation(cls, key: str) -> str:
        return check_qualified_name(key)

    @field_validator("folder")
    @classmethod
    def _folder(cls, folder: str | None) -> str | None:
        if folder is None:
            return None
        if folder.startswith("/"):
            raise ValueError(
                "a folder relative to the sidecar's (an absolute path is outside what Grafana "
                "reads)"
            )
        for part in folder.split("/"):
            if part in ("", ".", ".."):
                raise ValueError("folder names separated by '/', none empty, '.' or '..'")
            if len(part) > _MAX_FOLDER_PART or not part.isprintable():
                raise ValueError(
                    f"each folder name is at most {_MAX_FOLDER_PART} printable characters"
                )
        return folder
