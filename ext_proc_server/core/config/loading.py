"""Load the whole file once: YAML, then ``MOCKADO_*`` environment overrides, then validation.

Overrides use a double underscore between levels, for example
``MOCKADO_COLLECTOR__REDIS_URL=redis://cache:6379/0`` or
``MOCKADO_LOADER__RETRY_ATTEMPTS=8``. Values are parsed as YAML scalars, so
``true``, ``10`` and ``[a, b]`` work. Errors name the key: ``collector.redis_url: invalid URL``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator

from ext_proc_server.core.config.checks import KeyedValueError
from ext_proc_server.core.config.collector import CollectorConfig
from ext_proc_server.core.config.control_plane import COLLECTOR_SERVICE, ControlPlaneConfig
from ext_proc_server.core.config.loader import LoaderConfig
from ext_proc_server.core.config.rendered_names import check_canary_services, check_collector_host
from ext_proc_server.core.config.sections import REDACTED, ConfigSection, redact_url
from ext_proc_server.core.config.serving import ServingConfig
from ext_proc_server.core.config.yaml_file import read_yaml_mapping
from ext_proc_server.core.errors import ConfigError

ENV_PREFIX = "MOCKADO_"
# Set by the kubelet in every container of a pod.
KUBERNETES_MARKER = "KUBERNETES_SERVICE_HOST"
# Secrets that only a Secret may set (the environment or a key file): mockado.yaml is a
# ConfigMap, readable by more people than the key should be. -> where to set it instead.
ENV_ONLY_SECRETS = {
    ("collector", "dedup_key"): "MOCKADO_COLLECTOR__DEDUP_KEY or collector.dedup_key_file",
}


class MockadoConfig(ConfigSection):
    collector: CollectorConfig = Field(default_factory=CollectorConfig)
    loader: LoaderConfig = Field(default_factory=LoaderConfig)
    control_plane: ControlPlaneConfig = Field(default_factory=ControlPlaneConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)

    @model_validator(mode="before")
    @classmethod
    def _collector_in_cluster_domain(cls, data: Any) -> Any:
        """Without control_plane.collector.host, sidecars stream to the collector Service by
        its name in the cluster's DNS domain (collector.cluster_domain), as Istio names it."""
        collector = data.get("collector") if isinstance(data, dict) else None
        if not isinstance(collector, dict) or not isinstance(collector.get("cluster_domain"), str):
            return data
        cp = data.get("control_plane") or {}
        target = (cp.get("collector") or {}) if isinstance(cp, dict) else None
        if not isinstance(target, dict) or "host" in target:
            return data
        domain = collector["cluster_domain"].strip().lower().strip(".")
        default_namespace = ControlPlaneConfig.model_fields["mockado_namespace"].default
        namespace = cp.get("mockado_namespace", default_namespace)
        host = f"{COLLECTOR_SERVICE}.{namespace}.svc.{domain}"
        return {**data, "control_plane": {**cp, "collector": {**target, "host": host}}}

    @model_validator(mode="after")
    def _renders_what_it_names(self) -> MockadoConfig:
        check_collector_host(self.control_plane, self.collector, self.serving)
        check_canary_services(self.control_plane, self.collector)
        return self


def _parse_env_value(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        # A secret is taken verbatim: YAML would turn a key like 0x1f.. or 1234 into a
        # number and cut "abc #def" at the "#".
        node[path[-1]] = raw if is_secret_key(path[-1]) else _parse_env_value(raw)
    return data


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, KeyedValueError):
            # A check across sections names its whole key.
            loc, msg = (f"{loc}.{cause.subkey}" if loc else cause.subkey), str(cause)
        loc = loc or "(root)"
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{loc}: {msg}")
    return "; ".join(lines)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> MockadoConfig:
    """Load YAML (optional), then ``MOCKADO_*`` env, then explicit overrides.

    ``path`` defaults to ``$MOCKADO_CONFIG`` when set. Raises ConfigError naming the key.
    """
    env = os.environ if env is None else env
    if path is None:
        path = env.get("MOCKADO_CONFIG") or None
    data: dict[str, Any] = {}
    if path is not None:
        data = read_yaml_mapping(Path(path))
        _refuse_file_secrets(data)
    data = _apply_env(data, env)
    for dotted, value in (overrides or {}).items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    try:
        config = MockadoConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None
    _refuse_open_console_in_pod(config, env)
    return config


def in_kubernetes_pod(env: Mapping[str, str]) -> bool:
    """Whether this process runs in a Kubernetes pod: the kubelet sets this variable in
    every container."""
    return bool(env.get(KUBERNETES_MARKER))


def _refuse_open_console_in_pod(config: MockadoConfig, env: Mapping[str, str]) -> None:
    # Render refuses the key, but the environment (Secret mockado-env) could still set it:
    # a pod's loopback is shared by every container and by kubectl port-forward.
    if config.loader.console_open_on_loopback and in_kubernetes_pod(env):
        raise ConfigError(
            "loader.console_open_on_loopback: refused in a Kubernetes pod (its loopback "
            "is shared by every container and by kubectl port-forward); set "
            "loader.console_user and loader.console_password instead"
        )


def _refuse_file_secrets(data: Mapping[str, Any]) -> None:
    for (section, key), instead in ENV_ONLY_SECRETS.items():
        values = data.get(section)
        if isinstance(values, Mapping) and key in values:
            raise ConfigError(
                f"{section}.{key}: never in the config file; set it from a Secret ({instead})"
            )


def redacted_dump(config: MockadoConfig) -> dict[str, Any]:
    """The config as plain data with secrets (keys, passwords in URLs) redacted."""
    data = config.model_dump(mode="json", by_alias=True)

    def scrub(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (REDACTED if is_secret_key(k) and v else scrub(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        if isinstance(node, str) and "://" in node:
            return redact_url(node)
        return node

    return scrub(data)


def is_secret_key(key: str) -> bool:
    """A config key holding a credential: never shown, never written to a ConfigMap."""
    return key in {"pseudonym_key", "dedup_key"} or key.endswith("password")
