"""Architecture checks that keep mockado's layout honest.

Each check takes the checkout root and returns its problems as strings; an empty list means
the rule holds. ``python -m tests.support.architecture [ROOT]`` prints every problem, grouped
by check, and exits 1 when there is any.

- ``import_cycles``: no import cycle among the project's modules (ext_proc_server,
  control_plane, tests, bench). Imports anywhere in a module count, relative ones resolved;
  ``from pkg import name`` imports ``pkg.name`` when that is a module, else ``pkg``. Importing
  ``pkg.sub`` from outside ``pkg`` also runs ``pkg/__init__.py``, so that is an edge too.
- ``private_imports``: no module reaches another module's private (``_name``) names, by
  ``from x import _name``, ``x._name`` after ``import x``, or ``y._name`` after
  ``from x import y``. Dunders are public. A private module (``pkg._models``) is open to its
  own package (``from ._models import Request``) and closed to everything outside it.
- ``long_modules``: no module over 600 lines.
- ``long_functions``: no function over 60 lines unless a comment line right above its ``def``
  (or above its decorators) starts with ``# Long because`` and says why.
- ``duplicate_blocks``: no block of 6 or more lines repeated in the product code (lines
  compared stripped; blank lines, comments and docstrings skipped; blocks made only of
  brackets, ``else:``, ``return``, imports, decorators and the like ignored).
"""

from __future__ import annotations

import ast
import functools
import io
import re
import sys
import tokenize
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO

PRODUCT_PACKAGES = ("ext_proc_server", "control_plane")
PROJECT_PACKAGES = (*PRODUCT_PACKAGES, "tests", "bench")
MODULE_LINE_LIMIT = 600
FUNCTION_LINE_LIMIT = 60
DUPLICATE_WINDOW_LINES = 6
LONG_FUNCTION_REASON = re.compile(r"#\s*Long because\b\s*\S")

_DOCUMENTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

_TRIVIAL_LINE = re.compile(
    r"[()\[\]{},:;]+"
    r"|(else|try|finally|except|except Exception|except BaseException):"
    r"|return|return None|return True|return False|pass|continue|break|raise|yield|\.\.\."
)


@dataclass(frozen=True)
class _Source:
    """One parsed Python file of the checkout."""

    name: str
    rel: str
    is_package: bool
    text: str
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class _Import:
    """What one imported name loads: ``module`` always; ``attribute`` when the name is not a
    module itself; ``binding`` (local name, module) when a module lands in the namespace."""

    line: int
    module: str
    attribute: str | None = None
    binding: tuple[str, str] | None = None


@functools.lru_cache(maxsize=1024)
def _parse(path: Path, mtime_ns: int, size_bytes: int) -> tuple[str, ast.Module]:
    """A file's text and tree, parsed once per version of the file for all the checks."""
    text = path.read_text(encoding="utf-8")
    return text, ast.parse(text, filename=str(path))


def _sources(root: Path, packages: tuple[str, ...]) -> list[_Source]:
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            stat = path.stat()
            text, tree = _parse(path, stat.st_mtime_ns, stat.st_size)
            found.append(_Source(".".join(parts), rel.as_posix(), is_package, text, tree))
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _from_base(source: _Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = source.package.split(".")
    base = ".".join(parts[: max(0, len(parts) - (node.level - 1))])
    return f"{base}.{node.module}" if node.module else base


def _imports(source: _Source, known: set[str]) -> Iterator[_Import]:
    """Every import statement of the module, at any depth, one entry per imported name."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.partition(".")[0]
                bound = alias.name if alias.asname else local
                yield _Import(node.lineno, alias.name, binding=(local, bound))
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(source, node)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if candidate in known:
                    binding = (alias.asname or alias.name, candidate)
                    yield _Import(node.lineno, candidate, binding=binding)
                elif alias.name == "*":
                    yield _Import(node.lineno, base)
                else:
                    yield _Import(node.lineno, base, attribute=alias.name)


def _packages_run_by(module: str, importer: str, known: set[str]) -> Iterator[str]:
    """The package ``__init__`` modules an import of ``module`` runs, outside the importer's
    own packages (those are already running when the importer runs)."""
    parts = module.split(".")
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        inside = importer == package or importer.startswith(package + ".")
        if package in known and not inside:
            yield package


def _import_graph(sources: list[_Source]) -> dict[str, dict[str, str]]:
    """module -> {imported module: "path:line" of the first import making that edge}."""
    known = {source.name for source in sources}
    graph: dict[str, dict[str, str]] = {source.name: {} for source in sources}
    for source in sources:
        edges = graph[source.name]
        for imported in _imports(source, known):
            where = f"{source.rel}:{imported.line}"
            targets = [*_packages_run_by(imported.module, source.name, known), imported.module]
            for target in targets:
                if target in known and target != source.name:
                    edges.setdefault(target, where)
    return graph


def _shortest_cycle(graph: dict[str, dict[str, str]], start: str) -> list[str] | None:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(came_from[chain[-1]])
                return chain[::-1]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    return None


def import_cycles(root: Path) -> list[str]:
    """Each import cycle as its chain of modules, with where each link is imported."""
    graph = _import_graph(_sources(root, PROJECT_PACKAGES))
    seen: set[tuple[str, ...]] = set()
    problems = []
    for module in sorted(graph):
        chain = _shortest_cycle(graph, module)
        if chain is None:
            continue
        first = chain.index(min(chain))
        chain = chain[first:] + chain[:first]
        if tuple(chain) in seen:
            continue
        seen.add(tuple(chain))
        links = zip(chain, [*chain[1:], chain[0]], strict=True)
        where = "; ".join(f"{graph[a][b]} imports {b}" for a, b in links)
        problems.append(f"import cycle: {' -> '.join([*chain, chain[0]])} ({where})")
    return problems


def _private_module_problem(module: str, importer: str) -> str | None:
    """Why ``importer`` may not load ``module``: a private component outside its package."""
    parts = module.split(".")
    for depth, part in enumerate(parts):
        owner = ".".join(parts[:depth])
        if _is_private(part) and not (importer == owner or importer.startswith(owner + ".")):
            return f"private module {'.'.join(parts[: depth + 1])}"
    return None


def _module_of(node: ast.expr, bindings: dict[str, str], known: set[str]) -> str | None:
    """The project module an expression like ``x`` or ``x.y`` names, if it names one."""
    if isinstance(node, ast.Name):
        return bindings.get(node.id)
    if isinstance(node, ast.Attribute):
        parent = _module_of(node.value, bindings, known)
        if parent is not None and f"{parent}.{node.attr}" in known:
            return f"{parent}.{node.attr}"
    return None


def _reach(source: _Source, module: str, attribute: str, known: set[str]) -> str | None:
    """What is private about ``module.attribute`` seen from ``source``, if anything."""
    if f"{module}.{attribute}" in known:
        return _private_module_problem(f"{module}.{attribute}", source.name)
    if _is_private(attribute):
        return f"private name {module}.{attribute}"
    return None


def _private_uses(source: _Source, known: set[str]) -> Iterator[tuple[int, str]]:
    bindings: dict[str, str] = {}
    project = {name.partition(".")[0] for name in known}
    for imported in _imports(source, known):
        if imported.binding and imported.binding[1] in known:
            bindings.setdefault(*imported.binding)
        if imported.module.partition(".")[0] not in project:
            continue
        problem = _private_module_problem(imported.module, source.name)
        if problem is None and imported.attribute and imported.module in known:
            problem = _reach(source, imported.module, imported.attribute, known)
        if problem:
            yield imported.line, problem
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            module = _module_of(node.value, bindings, known)
            problem = module and _reach(source, module, node.attr, known)
            if problem:
                yield node.lineno, problem


def private_imports(root: Path) -> list[str]:
    """Each use of another module's private name or another package's private module."""
    sources = _sources(root, PROJECT_PACKAGES)
    known = {source.name for source in sources}
    problems = []
    for source in sources:
        for line, problem in sorted(set(_private_uses(source, known))):
            problems.append(f"{source.rel}:{line}: uses {problem}")
    return problems


def long_modules(root: Path) -> list[str]:
    """Each module over MODULE_LINE_LIMIT lines."""
    problems = []
    for source in _sources(root, PROJECT_PACKAGES):
        count = len(source.text.splitlines())
        if count > MODULE_LINE_LIMIT:
            problems.append(f"{source.rel}: {count} lines (limit {MODULE_LINE_LIMIT})")
    return problems


def _comment_columns(text: str) -> dict[int, int]:
    """line number -> column where its comment starts, for every line with a comment."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return {tok.start[0]: tok.start[1] for tok in tokens if tok.type == tokenize.COMMENT}


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, _Function]]:
    """(qualified name, node) of every function and method, nested ones included."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            continue  # a def is a statement: no function hides inside an expression
        if isinstance(child, _Function):
            yield prefix + child.name, child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def _says_why_long(function: _Function, lines: list[str]) -> bool:
    above = {function.lineno - 1}
    if function.decorator_list:
        above.add(function.decorator_list[0].lineno - 1)
    return any(
        0 < line <= len(lines) and LONG_FUNCTION_REASON.match(lines[line - 1].strip())
        for line in above
    )


def long_functions(root: Path) -> list[str]:
    """Each function over FUNCTION_LINE_LIMIT lines without a ``# Long because`` comment."""
    problems = []
    for source in _sources(root, PROJECT_PACKAGES):
        lines = source.text.splitlines()
        for name, function in _functions(source.tree):
            length = (function.end_lineno or function.lineno) - function.lineno + 1
            if length > FUNCTION_LINE_LIMIT and not _says_why_long(function, lines):
                problems.append(
                    f"{source.rel}:{function.lineno}: {name} is {length} lines "
                    f"(limit {FUNCTION_LINE_LIMIT}) with no '# Long because ...' comment above"
                )
    return problems


def _spans(nodes: Iterator[ast.AST]) -> Iterator[int]:
    for node in nodes:
        yield from range(node.lineno, (node.end_lineno or node.lineno) + 1)


def _docstring_lines(tree: ast.Module) -> set[int]:
    owners = [tree, *(node for node in ast.walk(tree) if isinstance(node, _DOCUMENTED))]
    docstrings = (
        owner.body[0]
        for owner in owners
        if owner.body
        and isinstance(owner.body[0], ast.Expr)
        and isinstance(owner.body[0].value, ast.Constant)
        and isinstance(owner.body[0].value.value, str)
    )
    return set(_spans(docstrings))


def _structural_lines(tree: ast.Module) -> set[int]:
    """Lines of import statements and decorators: shared structure, not copy-paste."""
    imports = (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))
    decorated = (node for node in ast.walk(tree) if isinstance(node, _DOCUMENTED))
    decorators = (decorator for node in decorated for decorator in node.decorator_list)
    return set(_spans(imports)) | set(_spans(decorators))


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    trivial: bool


def _normalised_lines(source: _Source) -> list[_Line]:
    """The lines worth comparing: stripped, comments cut, blanks and docstrings dropped."""
    comments = _comment_columns(source.text)
    skipped = _docstring_lines(source.tree)
    structural = _structural_lines(source.tree)
    kept = []
    for number, raw in enumerate(source.text.splitlines(), start=1):
        text = raw[: comments.get(number, len(raw))].strip()
        if text and number not in skipped:
            trivial = number in structural or bool(_TRIVIAL_LINE.fullmatch(text))
            kept.append(_Line(number, text, trivial))
    return kept


def _repeated_windows(files: dict[str, list[_Line]]) -> set[tuple[str, int, str, int]]:
    """(file, index, other file, other index) of each pair of equal non-trivial windows."""
    size = DUPLICATE_WINDOW_LINES
    places: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
    for rel, lines in files.items():
        for index in range(len(lines) - size + 1):
            window = lines[index : index + size]
            if not all(line.trivial for line in window):
                places[tuple(line.text for line in window)].append((rel, index))
    pairs = set()
    for occurrences in places.values():
        for position, (rel, index) in enumerate(occurrences):
            for other, other_index in occurrences[position + 1 :]:
                if rel != other or other_index - index >= size:
                    pairs.add((rel, index, other, other_index))
    return pairs


def _span(lines: list[_Line], index: int, count: int) -> str:
    return f"{lines[index].number}-{lines[index + count - 1].number}"


def duplicate_blocks(root: Path) -> list[str]:
    """Each block of DUPLICATE_WINDOW_LINES or more lines repeated in the product code."""
    files = {source.rel: _normalised_lines(source) for source in _sources(root, PRODUCT_PACKAGES)}
    pairs = _repeated_windows(files)
    problems = []
    for rel, index, other, other_index in sorted(pairs):
        if (rel, index - 1, other, other_index - 1) in pairs:
            continue  # inside a block already reported from its first line
        extra = 0
        while (rel, index + extra + 1, other, other_index + extra + 1) in pairs:
            extra += 1
        count = DUPLICATE_WINDOW_LINES + extra
        first, second = _span(files[rel], index, count), _span(files[other], other_index, count)
        problems.append(f"{rel}:{first} repeats at {other}:{second} ({count} lines)")
    return problems


CHECKS: tuple[Callable[[Path], list[str]], ...] = (
    import_cycles,
    private_imports,
    long_modules,
    long_functions,
    duplicate_blocks,
)


def main(argv: list[str] | None = None) -> int:
    """Print every problem of the checkout at argv[0] (default: this one); 1 if any."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else REPO
    total = 0
    for check in CHECKS:
        problems = check(root)
        total += len(problems)
        if problems:
            print(f"{check.__name__} ({len(problems)}):")
            print("\n".join(f"  {problem}" for problem in problems))
    print(f"architecture: {total} problem(s)" if total else "architecture: ok")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
