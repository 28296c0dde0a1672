"""The rendered collector checks its callers' mesh identities where the mesh gives them."""

from __future__ import annotations

from control_plane.render import pod_config
from ext_proc_server.core.config import CollectorConfig, MockadoConfig


def collector_of(**control_plane: object) -> CollectorConfig:
    config = MockadoConfig.model_validate(
        {"control_plane": {"namespaces": {"shop": {}}, **control_plane}}
    )
    data, _notes = pod_config(config)
    return CollectorConfig.model_validate(data["collector"])


def test_in_the_mesh_the_collector_requires_its_callers_identity() -> None:
    identity = collector_of().caller_identity
    assert identity.forwarded_by_sidecar and identity.required


def test_with_the_sidecars_own_tls_the_collector_does_not_trust_the_header() -> None:
    # The sidecars' TLS passes through the collector's sidecar: it appends no identity.
    tls = {"enabled": True, "ca_file": "/var/run/secrets/mockado/ca.pem"}
    identity = collector_of(collector={"tls": tls}).caller_identity
    assert not identity.forwarded_by_sidecar and not identity.required


def test_a_setting_of_the_users_own_is_kept() -> None:
    config = MockadoConfig.model_validate(
        {
            "collector": {"caller_identity": {"forwarded_by_sidecar": True}},
            "control_plane": {"namespaces": {"shop": {}}},
        }
    )
    data, _notes = pod_config(config)
    assert data["collector"]["caller_identity"] == {"forwarded_by_sidecar": True}
