"""Credentials of mockado's own services in Kubernetes: one Secret the user creates, which
the rendered pods reference by name and key. No rendered file ever holds a value.

- WireMock's admin API wants HTTP Basic (``--admin-api-basic-auth user:password``); the
  loader sends the same pair (``MOCKADO_LOADER__WIREMOCK_ADMIN_USER``/``_PASSWORD``).
- Redis starts with ``--requirepass``; the collector and loader authenticate with
  ``MOCKADO_<SECTION>__REDIS_PASSWORD``.

The references are required: until the Secret exists, those pods do not start (locked
until the user opts in with credentials), rather than running without a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ext_proc_server.core.config import is_secret_key

# Names of Secrets and of their keys, never values.
CREDENTIALS_SECRET = "mockado-credentials"  # noqa: S105
WIREMOCK_ADMIN_USER = "wiremock-admin-user"
WIREMOCK_ADMIN_PASSWORD = "wiremock-admin-password"  # noqa: S105
REDIS_PASSWORD = "redis-password"  # noqa: S105
# The optional Secret of the other MOCKADO_* settings (pseudonym key, full URLs).
ENV_SECRET = "mockado-env"  # noqa: S105


@dataclass(frozen=True)
class SecretEnv:
    """One environment variable of a container, from a key of the credentials Secret."""

    name: str
    key: str
    secret: str = CREDENTIALS_SECRET


_ENV_OF_COMPONENT = {
    "collector": (SecretEnv("MOCKADO_COLLECTOR__REDIS_PASSWORD", REDIS_PASSWORD),),
    "loader": (
        SecretEnv("MOCKADO_LOADER__REDIS_PASSWORD", REDIS_PASSWORD),
        SecretEnv("MOCKADO_LOADER__WIREMOCK_ADMIN_USER", WIREMOCK_ADMIN_USER),
        SecretEnv("MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD", WIREMOCK_ADMIN_PASSWORD),
    ),
    # Expanded by the kubelet into the argv: $(WIREMOCK_ADMIN_USER):$(WIREMOCK_ADMIN_PASSWORD).
    "wiremock": (
        SecretEnv("WIREMOCK_ADMIN_USER", WIREMOCK_ADMIN_USER),
        SecretEnv("WIREMOCK_ADMIN_PASSWORD", WIREMOCK_ADMIN_PASSWORD),
    ),
    "redis": (SecretEnv("REDIS_PASSWORD", REDIS_PASSWORD),),
}


def secret_env(component: str) -> list[SecretEnv]:
    """The Secret-backed environment of ``component`` (collector, loader, wiremock, redis)."""
    return list(_ENV_OF_COMPONENT[component])


def create_secret_command(namespace: str) -> str:
    """The runbook's command that creates the credentials Secret with random passwords."""
    return (
        f"kubectl -n {namespace} create secret generic {CREDENTIALS_SECRET} "
        f"--from-literal={WIREMOCK_ADMIN_USER}=mockado "
        f'--from-literal={WIREMOCK_ADMIN_PASSWORD}="$(openssl rand -hex 24)" '
        f'--from-literal={REDIS_PASSWORD}="$(openssl rand -hex 24)"'
    )


def _from_secret(section: str, key: str) -> str:
    env = f"MOCKADO_{section.upper()}__{key.upper()}"
    for entry in _ENV_OF_COMPONENT.get(section, ()):
        if entry.name == env:
            return f"Secret {entry.secret} key {entry.key} (as {env})"
    return f"Secret {ENV_SECRET} as {env}"


def remove_secrets(data: dict[str, Any], notes: list[str]) -> None:
    """Drop every credential from the pods' config data (a ConfigMap is no place for one);
    ``notes`` names each key removed and where the pods get it instead, never its value."""
    for section, values in data.items():
        if not isinstance(values, dict):
            continue
        for key in sorted(k for k in values if is_secret_key(k)):
            del values[key]
            notes.append(f"{section}.{key}: removed (secret); the pods read it from "
                         f"{_from_secret(section, key)}")  # fmt: skip
