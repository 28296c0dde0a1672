"""TLS files a rendered Envoy bootstrap names but this machine does not have.

`render --check` validates the rendered files, not the certificates: a bootstrap for a VM
or a pod names its CA and client certificate where they will be mounted there
(``/etc/mockado/tls/ca.pem``), and ``envoy --mode validate`` reads every file it names. So
the copy Envoy validates trusts the system CA bundle instead of an absent CA, and leaves
out a client certificate whose files are absent; each stand-in is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from control_plane.render import SYSTEM_CA_FILES

_Exists = Callable[[str], bool]


def _filename(node: Any) -> str | None:
    return node.get("filename") if isinstance(node, dict) else None


def _system_ca(exists: _Exists) -> str | None:
    return next((path for path in SYSTEM_CA_FILES if exists(path)), None)


def _stand_in(context: dict[str, Any], exists: _Exists, notes: list[str]) -> None:
    """One ``common_tls_context``: an absent trusted CA becomes the system bundle, a client
    certificate with an absent file is left out."""
    kept = []
    for cert in context.get("tls_certificates") or []:
        files = [_filename(cert.get(k)) for k in ("certificate_chain", "private_key")]
        absent = [f for f in files if f and not exists(f)]
        if absent:
            notes.append(f"client certificate {', '.join(absent)} not on this machine: left out")
        else:
            kept.append(cert)
    if "tls_certificates" in context:
        context["tls_certificates"] = kept
    trusted = (context.get("validation_context") or {}).get("trusted_ca")
    ca_file = _filename(trusted)
    if ca_file and not exists(ca_file):
        bundle = _system_ca(exists)
        if bundle is None:
            return  # Envoy's own error names the file
        trusted["filename"] = bundle
        notes.append(f"CA {ca_file} not on this machine: the system bundle {bundle} stood in")


def _walk(node: Any, exists: _Exists, notes: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "common_tls_context" and isinstance(value, dict):
                _stand_in(value, exists, notes)
            _walk(value, exists, notes)
    elif isinstance(node, list):
        for item in node:
            _walk(item, exists, notes)


def with_stand_ins(text: str, *, exists: _Exists | None = None) -> tuple[str, list[str]]:
    """``text`` (an Envoy bootstrap) as Envoy can validate it here, and what stood in for
    what; ``text`` itself when every file it names is on this machine."""
    exists = exists or (lambda path: Path(path).is_file())
    doc = yaml.safe_load(text)
    notes: list[str] = []
    _walk(doc, exists, notes)
    if not notes:
        return text, []
    # JSON is YAML: Envoy reads the copy by its .yaml name.
    return yaml.safe_dump(doc, sort_keys=False), notes
