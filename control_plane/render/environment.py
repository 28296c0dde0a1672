"""The Jinja environment every file is rendered with, and its filters.

Templates render with StrictUndefined, so a missing value is an error, never an empty
string; every rendered file must parse as YAML.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2
import yaml

from control_plane.assets import TEMPLATES_DIR
from ext_proc_server.core.errors import RenderError

ENVOY_VERSION = "1.40"


def _duration(seconds: float) -> str:
    """0.25 -> "0.25s", 1.0 -> "1s" (protobuf Duration JSON form)."""
    text = f"{float(seconds):.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _quote(value: object) -> str:
    # A JSON string is a valid double-quoted YAML scalar, whatever it contains.
    return json.dumps(str(value), ensure_ascii=True)


def _yaml_bool(value: object) -> str:
    if not isinstance(value, bool):
        raise RenderError("template: yaml_bool expects a boolean")
    return "true" if value else "false"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML output, values are quoted with |q
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["q"] = _quote
    env.filters["duration"] = _duration
    env.filters["yaml_bool"] = _yaml_bool
    return env


def render_template(name: str, /, **context: Any) -> str:
    """Render one template; undefined values and template errors become RenderError."""
    try:
        template = _environment().get_template(name)
        text = template.render(template_name=name, envoy_version=ENVOY_VERSION, **context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{name}: {exc.__class__.__name__}: {exc.message}") from exc
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise RenderError(f"{name}: rendered output is not valid YAML") from exc
    return text
