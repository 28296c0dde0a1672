"""The architecture checks fire on each kind of problem, stay quiet on clean code, and the
repository itself passes them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.architecture import (
    CHECKS,
    FUNCTION_LINE_LIMIT,
    MODULE_LINE_LIMIT,
    duplicate_blocks,
    import_cycles,
    long_functions,
    long_modules,
    main,
    private_imports,
)
from tests.support.paths import REPO


def tree(root: Path, files: dict[str, str]) -> Path:
    """Write a checkout: every directory on the way to a file becomes a package."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in [path.parent, *path.parent.parents]:
            if package == root:
                break
            (package / "__init__.py").touch()
        path.write_text(textwrap.dedent(text))
    return root


def function(name: str, lines: int, above: str = "") -> str:
    """A function of exactly ``lines`` lines (its def included), with ``above`` over it."""
    body = "".join(f"    x{n} = {n}\n" for n in range(lines - 1))
    return f"{above}def {name}():\n{body}"


# Import cycles


def test_a_cycle_is_reported_as_its_chain_with_function_level_and_relative_imports(tmp_path):
    tree(
        tmp_path,
        {
            "ext_proc_server/steps/a.py": "from ext_proc_server.steps.b import run\n",
            "ext_proc_server/steps/b.py": """\
                def run():
                    from . import a

                    return a
            """,
        },
    )
    assert import_cycles(tmp_path) == [
        "import cycle: ext_proc_server.steps.a -> ext_proc_server.steps.b -> "
        "ext_proc_server.steps.a (ext_proc_server/steps/a.py:1 imports ext_proc_server.steps.b; "
        "ext_proc_server/steps/b.py:2 imports ext_proc_server.steps.a)"
    ]


def test_a_cycle_through_a_package_init_re_export_counts(tmp_path):
    tree(
        tmp_path,
        {
            "control_plane/render/__init__.py": "from control_plane.render.pages import page\n",
            "control_plane/render/pages.py": "from control_plane.checks import check\npage = 1\n",
            "control_plane/checks.py": "from control_plane.render import page\ncheck = 2\n",
        },
    )
    [problem] = import_cycles(tmp_path)
    assert problem.startswith(
        "import cycle: control_plane.checks -> control_plane.render -> "
        "control_plane.render.pages -> control_plane.checks ("
    )


def test_importing_a_submodule_runs_its_package_init(tmp_path):
    tree(
        tmp_path,
        {
            "tests/rig/__init__.py": "from tests.rig.core import Rig\n",
            "tests/rig/core.py": "import bench.run\nRig = 1\n",
            "tests/rig/helpers.py": "",
            "bench/run.py": "import tests.rig.helpers\n",
        },
    )
    [problem] = import_cycles(tmp_path)
    assert "bench.run -> tests.rig -> tests.rig.core -> bench.run" in problem


def test_one_way_imports_and_a_package_importing_its_own_parts_are_no_cycle(tmp_path):
    tree(
        tmp_path,
        {
            "ext_proc_server/sanitize/__init__.py": """\
                from ext_proc_server.sanitize.sanitizer import Sanitizer
                from . import detectors
            """,
            "ext_proc_server/sanitize/detectors.py": "import re\nimport ext_proc_server.core\n",
            "ext_proc_server/sanitize/sanitizer.py": "from .detectors import re\nSanitizer = 1\n",
            "ext_proc_server/core/__init__.py": "",
            "tests/unit/test_sanitize.py": "from ext_proc_server.sanitize import Sanitizer\n",
            "bench/run.py": "import tests.unit.test_sanitize\n",
        },
    )
    assert import_cycles(tmp_path) == []


# Private names


def test_each_way_of_reaching_a_private_name_is_reported(tmp_path):
    tree(
        tmp_path,
        {
            "ext_proc_server/core/util.py": "_secret = 1\npublic = 2\n",
            "ext_proc_server/http/_models.py": "class Request: ...\n",
            "tests/unit/test_util.py": """\
                import ext_proc_server.core.util
                import ext_proc_server.core.util as u
                from ext_proc_server.core import util
                from ext_proc_server.core.util import _secret, public


                def test_it():
                    assert ext_proc_server.core.util._secret == u._secret == util._secret
            """,
            "bench/client.py": "from ext_proc_server.http._models import Request\n",
        },
    )
    assert private_imports(tmp_path) == [
        "tests/unit/test_util.py:4: uses private name ext_proc_server.core.util._secret",
        "tests/unit/test_util.py:8: uses private name ext_proc_server.core.util._secret",
        "bench/client.py:1: uses private module ext_proc_server.http._models",
    ]


def test_a_sibling_module_may_not_take_a_private_name_either(tmp_path):
    tree(
        tmp_path,
        {
            "control_plane/render/pages.py": "_limit = 1\n",
            "control_plane/render/checks.py": "from .pages import _limit\n",
        },
    )
    assert private_imports(tmp_path) == [
        "control_plane/render/checks.py:1: uses private name control_plane.render.pages._limit"
    ]


def test_dunders_public_names_and_a_package_own_private_modules_are_fine(tmp_path):
    tree(
        tmp_path,
        {
            "ext_proc_server/__init__.py": '__version__ = "1"\n',
            "ext_proc_server/http/__init__.py": "from ._models import Request\n",
            "ext_proc_server/http/_models.py": "class Request:\n    _cache = None\n",
            "ext_proc_server/http/client.py": """\
                from ext_proc_server.http import _models
                from ext_proc_server.http._models import Request

                assert _models.Request is Request
            """,
            "tests/unit/test_http.py": """\
                import os

                import ext_proc_server
                from ext_proc_server import __version__
                from ext_proc_server.http import Request


                def test_it():
                    assert ext_proc_server.__version__ == __version__
                    assert Request._cache is None
                    os._exit
            """,
        },
    )
    assert private_imports(tmp_path) == []


# Long modules


def test_a_module_over_the_limit_is_reported_wherever_it_lives(tmp_path):
    over = "x = 1\n" * (MODULE_LINE_LIMIT + 1)
    tree(
        tmp_path,
        {
            "ext_proc_server/big.py": over,
            "tests/unit/test_big.py": over,
            "bench/big.py": over,
            "control_plane/just_fits.py": "x = 1\n" * MODULE_LINE_LIMIT,
        },
    )
    assert long_modules(tmp_path) == [
        f"ext_proc_server/big.py: {MODULE_LINE_LIMIT + 1} lines (limit {MODULE_LINE_LIMIT})",
        f"tests/unit/test_big.py: {MODULE_LINE_LIMIT + 1} lines (limit {MODULE_LINE_LIMIT})",
        f"bench/big.py: {MODULE_LINE_LIMIT + 1} lines (limit {MODULE_LINE_LIMIT})",
    ]


# Long functions


def test_a_long_function_needs_a_comment_saying_why(tmp_path):
    over = FUNCTION_LINE_LIMIT + 1
    method = textwrap.indent(function("run", over, "@staticmethod\n"), "    ")
    tree(
        tmp_path,
        {
            "ext_proc_server/steps.py": function("bare", over)
            + function("unrelated", over, "# Does a lot.\n")
            + function("no_reason", over, "# Long because\n")
            + f"class Worker:\n{method}",
            "bench/run.py": function("just_fits", FUNCTION_LINE_LIMIT),
        },
    )
    limit = f"{over} lines (limit {FUNCTION_LINE_LIMIT}) with no '# Long because ...' comment above"
    assert long_functions(tmp_path) == [
        f"ext_proc_server/steps.py:1: bare is {limit}",
        f"ext_proc_server/steps.py:{over + 2}: unrelated is {limit}",
        f"ext_proc_server/steps.py:{2 * over + 3}: no_reason is {limit}",
        f"ext_proc_server/steps.py:{3 * over + 5}: Worker.run is {limit}",
    ]


def test_a_long_because_comment_above_the_def_or_its_decorators_is_enough(tmp_path):
    over = FUNCTION_LINE_LIMIT + 1
    tree(
        tmp_path,
        {
            "control_plane/cli.py": function("parser", over, "# Long because one flag a line.\n")
            + function("decorated", over, "# Long because a table.\n@staticmethod\n")
            + function("between", over, "@staticmethod\n# Long because a table.\n"),
            "tests/unit/test_cli.py": function(
                "test_all", over, "# Long because every step of one story.\n"
            ),
        },
    )
    assert long_functions(tmp_path) == []


# Duplicate blocks

BLOCK = """\
    total = 0
    for item in items:
        if item.weight > limit:
            total += item.weight * 2
        else:
            total += item.weight
    seen.add(item.name)
    log.info("total %s", total)
"""


def test_a_repeated_block_is_reported_with_both_places(tmp_path):
    reworded = BLOCK.replace("total = 0\n", "total = 0  # a running sum\n\n    # the loop\n")
    tree(
        tmp_path,
        {
            "ext_proc_server/a.py": f"import logging\n\n\ndef a(items):\n{BLOCK}",
            "control_plane/b.py": (
                f'class B:\n    """B."""\n\n    def b(self, items):\n'
                f'        """Sum."""\n{textwrap.indent(reworded, "    ")}'
            ),
        },
    )
    assert duplicate_blocks(tmp_path) == [
        "ext_proc_server/a.py:5-12 repeats at control_plane/b.py:6-15 (8 lines)"
    ]


def test_short_repeats_trivial_structure_and_tests_are_not_duplicates(tmp_path):
    five = "".join(BLOCK.splitlines(keepends=True)[:4]) + "    seen.add(item.name)\n"
    trivial = textwrap.dedent(
        """\
        '''The same module docstring.

        Over several lines.
        '''

        import os
        import sys
        from pathlib import (
            Path,
        )

        try:
            pass
        except Exception:
            pass
        finally:
            pass


        @functools.cache
        @staticmethod
        """
    )
    tree(
        tmp_path,
        {
            "ext_proc_server/a.py": f"{trivial}def a(items):\n{five}    return 1\n",
            "control_plane/b.py": f"{trivial}def b(items):\n{five}    return 2\n",
            "tests/unit/test_a.py": f"def test_a(items):\n{BLOCK}",
            "tests/unit/test_b.py": f"def test_b(items):\n{BLOCK}",
        },
    )
    assert duplicate_blocks(tmp_path) == []


# The command


def test_the_command_prints_each_problem_and_fails(tmp_path, capsys):
    tree(tmp_path, {"bench/big.py": "x = 1\n" * (MODULE_LINE_LIMIT + 1)})
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "long_modules (1):\n  bench/big.py: 601 lines" in out
    assert out.endswith("architecture: 1 problem(s)\n")


def test_the_command_passes_a_clean_checkout(tmp_path, capsys):
    tree(tmp_path, {"ext_proc_server/a.py": "x = 1\n", "tests/unit/test_a.py": "y = 2\n"})
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == "architecture: ok\n"


# The repository itself


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_the_repository_passes(check):
    assert (REPO / "ext_proc_server").is_dir() and (REPO / "control_plane").is_dir()
    problems = check(REPO)
    assert not problems, f"{check.__name__}:\n" + "\n".join(problems)
