"""The README's configuration reference keeps up with the config model."""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel

from ext_proc_server.core.config import MockadoConfig, TLSClient, TLSServer
from tests.support.paths import REPO

README = (REPO / "README.md").read_text()


def documented_keys(section: str) -> set[str]:
    start = README.index(f"**`{section}`**")
    end = README.find("**`", start + 5)
    table = README[start : end if end != -1 else None]
    return set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.M))


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        nested = [
            t
            for t in (field.annotation, *typing.get_args(field.annotation))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        container = typing.get_origin(field.annotation) in (list, dict)
        expand = nested and not container and nested[0] not in (TLSClient, TLSServer)
        if expand and key not in ("global", "namespaces") and field.default_factory is not None:
            keys |= model_keys(nested[0], f"{key}.")
        else:
            keys.add(key)
    return keys


def test_every_config_key_is_in_the_readme_reference():
    for section in ("collector", "loader", "serving", "control_plane"):
        model = MockadoConfig.model_fields[section].annotation
        missing = model_keys(model) - documented_keys(section)
        assert not missing, f"README configuration reference lacks {section}: {sorted(missing)}"


def test_readme_names_the_two_commands():
    assert "make run" in README and "make test" in README
