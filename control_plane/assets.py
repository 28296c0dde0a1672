"""Where mockado's packaged files live, and the source checkout around them."""

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
