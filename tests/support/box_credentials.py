"""The credentials Secrets of the runbook, made in the cluster in a box, and what the
rendered Redis does with them (tests/integration/test_cluster_box.py)."""

from __future__ import annotations

from tests.support.box import Box

PSEUDONYM_KEY = "box-test-pseudonym-key-0123456789"
# The Secrets the runbook creates (docs/security.md): WireMock admin credentials and Redis's
# probe password, then each component's own Redis password.
CREDENTIALS = {"wiremock-admin-user": "mockado", "wiremock-admin-password": "box-admin-5f2c9e",
               "redis-password": "box-redis-8a1d7b"}  # fmt: skip
REDIS_PASSWORDS = {"collector": "box-collector-3e9a01", "loader": "box-loader-72c4d8",
                   "keeper": "box-keeper-b05f6e"}  # fmt: skip


def create_secrets(box: Box) -> None:
    """The Secrets of the runbook, as ``kubectl create secret generic`` makes them."""
    box.create_secret_generic("mockado", "mockado-credentials", CREDENTIALS)
    for component, password in REDIS_PASSWORDS.items():
        box.create_secret_generic("mockado", f"mockado-redis-{component}", {"password": password})
    box.create_secret_generic(
        "mockado", "mockado-env", {"MOCKADO_COLLECTOR__PSEUDONYM_KEY": PSEUDONYM_KEY}
    )


def resp(*words: str | bytes) -> bytes:
    """One Redis command in RESP, as a client library sends it."""
    parts = [w.encode() if isinstance(w, str) else w for w in words]
    return f"*{len(parts)}\r\n".encode() + b"".join(
        b"$%d\r\n%s\r\n" % (len(part), part) for part in parts
    )


REDIS = "mockado-redis.mockado.svc.cluster.local"


def assert_redis_wants_the_secret(box: Box) -> None:
    def call(*commands: str) -> str:
        data = "".join(f"{c}\r\n" for c in (*commands, "QUIT")).encode()
        return box.tcp(REDIS, 6379, data, namespace="checkout")

    assert call("PING").startswith("-NOAUTH"), "Redis answered a caller without a password"
    assert call("AUTH not-the-password", "PING").startswith("-WRONGPASS")
    # The default user is off, even with the password every component once shared.
    assert call(f"AUTH {CREDENTIALS['redis-password']}", "PING").startswith("-WRONGPASS")
    collector = f"AUTH mockado-collector {REDIS_PASSWORDS['collector']}"
    assert call(collector, "PING").startswith("+OK\r\n+PONG\r\n")
    # The collector is refused the loader's records and the dangerous commands.
    for refused in ("HGETALL mockado:mappings:record:default", "FLUSHALL", "CONFIG SET save x"):
        assert call(collector, refused).startswith("+OK\r\n-NOPERM"), refused
    assert call(f"AUTH mockado-collector {REDIS_PASSWORDS['loader']}", "PING").startswith(
        "-WRONGPASS")  # fmt: skip
    # The kubelet put the passwords into redis-server's argv; once started they are not visible.
    redis = next(c for c in box.containers() if c.name == "redis")
    cmdline = box.ctx.docker.text("exec", redis.docker_name, "cat", "/proc/1/cmdline")
    for password in (CREDENTIALS["redis-password"], *REDIS_PASSWORDS.values()):
        assert password in " ".join(redis.argv)
        assert password not in cmdline
