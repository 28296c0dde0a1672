import pytest

from ext_proc_server.core.hosts import host_of, url_host


@pytest.mark.parametrize(
    ("authority", "host"),
    [
        ("api.example:8080", "api.example"),
        ("Api.Example:8080", "api.example"),
        ("API.Example", "api.example"),
        ("api.example", "api.example"),
        ("[::1]:8443", "::1"),
        ("[::1]", "::1"),
        ("10.0.0.1:80", "10.0.0.1"),
        ("::1", "::1"),
        ("", ""),
    ],
)
def test_host_of_drops_port_brackets_and_case(authority: str, host: str) -> None:
    assert host_of(authority) == host


@pytest.mark.parametrize(
    ("authority", "host"),
    [
        ("Api.Example:8080", "api.example"),
        ("api.example", "api.example"),
        ("10.0.0.1:80", "10.0.0.1"),
        ("[::1]:9000", "[::1]"),
        ("::1", "[::1]"),
        ("", ""),
    ],
)
def test_url_host_puts_an_ipv6_literal_in_brackets(authority: str, host: str) -> None:
    assert url_host(host_of(authority)) == host
