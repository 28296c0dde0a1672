"""Templates: strict about missing values, and config values cannot change the YAML shape."""

from __future__ import annotations

import pytest
import yaml

from control_plane.render import render_template
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError
from tests.unit.control_plane.render.support import files_of


def test_templates_are_strict_about_undefined_values() -> None:
    with pytest.raises(RenderError, match="Undefined"):
        render_template("istio/envoyfilter-tap.yaml.j2", namespace="x")


def test_hostile_values_cannot_break_the_yaml() -> None:
    nasty = '/a": b\n- injected: {x'
    config = MockadoConfig.model_validate(
        {"control_plane": {"namespaces": {"shop": {"exclude_paths": [nasty]}}}}
    )
    doc = yaml.safe_load(files_of(config)["istio/shop/envoyfilter-capture.yaml"])
    (patch,) = [p for p in doc["spec"]["configPatches"] if p["applyTo"] == "HTTP_FILTER"]
    matchers = patch["patch"]["value"]["typed_config"]["xds_matcher"]["matcher_list"]["matchers"]
    excluded = matchers[1]  # after the upgrade rule
    assert excluded["predicate"]["single_predicate"]["value_match"] == {"prefix": nasty}
