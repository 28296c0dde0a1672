"""Credentials of mockado's own services in Kubernetes: Secrets the user creates, which
the rendered pods reference by name and key. No rendered file ever holds a value.

- WireMock's admin API wants HTTP Basic (``--admin-api-basic-auth user:password``); the
  loader and the keepers send the same pair (``MOCKADO_LOADER__WIREMOCK_ADMIN_USER``/``_PASSWORD``).
- Redis has one ACL user per component (``redis_users``): the collector, the loader and
  the keepers each read their own password from their own Secret
  (``mockado-redis-<component>``), mounted in no other pod but Redis; their user names are
  plain variables (``MOCKADO_<SECTION>__REDIS_USERNAME``). ``default`` is off. Redis's own
  readiness probe authenticates as ``mockado-probe`` with ``mockado-credentials``'
  ``redis-password``, the key every earlier render gave Redis.

The references are required: until the Secrets exist, those pods do not start (locked
until the user opts in with credentials), rather than running without a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from control_plane.render.redis_users import PROBE_KEY, redis_users, user_of
from ext_proc_server.core.config import is_secret_key

# Names of Secrets and of their keys, never values.
CREDENTIALS_SECRET = "mockado-credentials"  # noqa: S105
WIREMOCK_ADMIN_USER = "wiremock-admin-user"
WIREMOCK_ADMIN_PASSWORD = "wiremock-admin-password"  # noqa: S105
REDIS_PASSWORD = PROBE_KEY
# The optional Secret of the other MOCKADO_* settings (pseudonym key, full URLs).
ENV_SECRET = "mockado-env"  # noqa: S105


@dataclass(frozen=True)
class SecretEnv:
    """One environment variable of a container: a key of a Secret, or (``value``) a plain
    value that is no secret (a Redis user name)."""

    name: str
    key: str
    secret: str = CREDENTIALS_SECRET
    value: str | None = None


def _redis_env(section: str, component: str) -> tuple[SecretEnv, ...]:
    user = user_of(component)
    prefix = f"MOCKADO_{section.upper()}__REDIS_"
    return (
        SecretEnv(f"{prefix}USERNAME", "", value=user.name),
        SecretEnv(f"{prefix}PASSWORD", user.key, user.secret),
    )


_WIREMOCK_ADMIN = (
    SecretEnv("MOCKADO_LOADER__WIREMOCK_ADMIN_USER", WIREMOCK_ADMIN_USER),
    SecretEnv("MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD", WIREMOCK_ADMIN_PASSWORD),
)
_ENV_OF_COMPONENT = {
    "collector": _redis_env("collector", "collector"),
    "loader": (*_redis_env("loader", "loader"), *_WIREMOCK_ADMIN),
    # The keeper reads the loader's section, as its own Redis user.
    "keeper": (*_redis_env("loader", "keeper"), *_WIREMOCK_ADMIN),
    # Expanded by the kubelet into the argv: $(WIREMOCK_ADMIN_USER):$(WIREMOCK_ADMIN_PASSWORD).
    "wiremock": (
        SecretEnv("WIREMOCK_ADMIN_USER", WIREMOCK_ADMIN_USER),
        SecretEnv("WIREMOCK_ADMIN_PASSWORD", WIREMOCK_ADMIN_PASSWORD),
    ),
    # Every user's password, expanded by the kubelet into the --user arguments.
    "redis": tuple(SecretEnv(u.password_env, u.key, u.secret) for u in redis_users()),
}


def secret_env(component: str) -> list[SecretEnv]:
    """The Secret-backed environment of ``component`` (collector, loader, keeper, wiremock,
    redis)."""
    return list(_ENV_OF_COMPONENT[component])


def create_secret_commands(namespace: str) -> list[str]:
    """The runbook's commands that create the credentials Secrets with random values."""
    random = '"$(openssl rand -hex 24)"'
    commands = [
        f"kubectl -n {namespace} create secret generic {CREDENTIALS_SECRET} "
        f"--from-literal={WIREMOCK_ADMIN_USER}=mockado "
        f"--from-literal={WIREMOCK_ADMIN_PASSWORD}={random} "
        f"--from-literal={REDIS_PASSWORD}={random}"
    ]
    for user in redis_users():
        if user.secret != CREDENTIALS_SECRET:
            commands.append(f"kubectl -n {namespace} create secret generic {user.secret} "
                            f"--from-literal={user.key}={random}")  # fmt: skip
    return commands


def _from_secret(section: str, key: str) -> str:
    env = f"MOCKADO_{section.upper()}__{key.upper()}"
    for entry in _ENV_OF_COMPONENT.get(section, ()):
        if entry.name == env and entry.value is None:
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
