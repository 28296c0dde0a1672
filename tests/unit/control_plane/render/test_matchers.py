"""Filters as Envoy matchers: the regexes match what the patterns mean."""

from __future__ import annotations

import fnmatch
import re

import pytest

from control_plane.render import glob_authority_regex, host_matcher, path_matcher, sample_fraction
from ext_proc_server.core.errors import RenderError


def test_sample_fraction_is_exact_for_whole_and_fractional_percents() -> None:
    assert sample_fraction(10)["numerator"] == 10
    assert sample_fraction(10)["denominator"] == "HUNDRED"
    assert (sample_fraction(12.5)["numerator"], sample_fraction(12.5)["denominator"]) == (
        125_000,
        "MILLION",
    )
    with pytest.raises(RenderError):
        sample_fraction(-1)


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "API.Example.com:8443", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "evil-example.com", False),
        ("api.example.com", "apiXexample.com", False),
        ("re:pay(ments)?", "payments:80", True),
    ],
)
def test_host_matcher_is_a_full_match_on_authority(pattern: str, host: str, matches: bool) -> None:
    regex = host_matcher(pattern)["value"]
    assert bool(re.fullmatch(regex, host)) is matches


def test_path_matcher_prefix_and_regex_allow_a_query() -> None:
    assert path_matcher("/healthz") == {"kind": "prefix", "value": "/healthz"}
    regex = path_matcher("re:/users/[0-9]+")["value"]
    assert re.fullmatch(regex, "/users/42?x=1")
    assert not re.fullmatch(regex, "/users/abc")
    with pytest.raises(RenderError, match="invalid regex"):
        path_matcher("re:(")


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        (p, h)
        for p in ["payments.*", "*.example.com", "a?c.[!x]y", "[ab]*", "x[", "mid*dle", "a.b+c"]
        for h in ["payments.svc", "api.example.com", "abc.zy", "abc.xy", "b", "x[", "middle",
                  "a.b+c", "a.bbc", "Payments.Svc"]
    ],
)  # fmt: skip
def test_authority_regex_agrees_with_fnmatch(pattern: str, host: str) -> None:
    regex = glob_authority_regex(pattern)
    expected = fnmatch.fnmatchcase(host.lower(), pattern.lower())
    assert bool(re.fullmatch(regex, host)) is expected
    assert bool(re.fullmatch(regex, f"{host}:8080")) is expected
