"""Where mockado's packaged files live, the source checkout around them, and the flags
every WireMock it starts shares."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent

# Jinja templates of every rendered file.
TEMPLATES_DIR = _PACKAGE_DIR / "templates"
# mockado's WireMock launcher (stubs indexed by exact URL or path), run from source by a JDK.
WIREMOCK_LAUNCHER = _PACKAGE_DIR / "wiremock" / "MockadoWireMock.java"
# The checkout this package was installed from in editable mode (make install): its .venv
# and .tools hold Envoy and the WireMock jar. Meaningless for a wheel install.
REPO_ROOT = _PACKAGE_DIR.parent

# Every WireMock mockado starts (the rendered Deployment, `mockado up`) serves with these.
WIREMOCK_SERVING_FLAGS = (
    "--disable-banner",
    # Serving at volume: no per-request log lines.
    "--disable-request-logging",
    # Answers go out as recorded (uncompressed): WireMock's own gzip would rewrite ETags
    # ("v1" -> "v1--gzip") and send other bytes than the stub holds.
    "--disable-gzip",
    # Whatever Envoy lets through (60 KiB of headers each way by default) is served: with
    # Jetty's own buffers a request got 414 or 431 from about 32 KiB, before any stub, and
    # a stub with as many response headers (a long CSP, many cookies) answered 500.
    "--jetty-header-request-size",
    str(64 * 1024),
    "--jetty-header-response-size",
    str(64 * 1024),
)
