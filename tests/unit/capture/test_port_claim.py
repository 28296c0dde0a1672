"""The claim a ``--workers N`` run takes on its gRPC port before any worker listens: Linux
lets any process of the same user join a port SO_REUSEPORT sockets hold, so without it a
second run would bind beside the first and take a share of its streams."""

from __future__ import annotations

import socket

import pytest

from ext_proc_server.capture.grpc_options import claim_shared_port
from ext_proc_server.core.errors import ConfigError
from tests.support.processes import promised_port

HOST = "0.0.0.0"


def workers_socket(port: int) -> socket.socket:
    """A socket as a worker of a ``--workers N`` run listens: SO_REUSEPORT set, and
    SO_REUSEADDR as gRPC sets it on every port it listens on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    sock.listen()
    return sock


def test_a_port_another_runs_workers_listen_on_is_refused() -> None:
    port = promised_port()
    with workers_socket(port):
        # The same user could join them: what the claim is there to refuse.
        with workers_socket(port):
            pass
        with pytest.raises(ConfigError, match=f"collector.grpc_port: cannot listen on {port}$"):
            claim_shared_port(HOST, port)


def test_a_run_started_while_another_holds_the_claim_is_refused_until_it_ends() -> None:
    port = promised_port()
    first = claim_shared_port(HOST, port)
    with first, pytest.raises(ConfigError, match=f"cannot listen on {port}$"):
        claim_shared_port(HOST, port)  # nothing listens yet: the first run's claim refuses
    with claim_shared_port(HOST, port) as again:
        assert again.fileno() >= 0


def test_connections_left_in_time_wait_do_not_hold_the_port() -> None:
    """A collector started again where one just stopped: the connections it closed first
    wait in TIME_WAIT on the port, and the workers (SO_REUSEADDR) bind it all the same."""
    port = promised_port()
    with workers_socket(port) as listener:
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server's side closes first: its side waits in TIME_WAIT
        assert client.recv(1) == b""
        client.close()
    with claim_shared_port(HOST, port) as claim:
        assert claim.fileno() >= 0
