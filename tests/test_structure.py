"""The package structure stays honest: public surfaces, no import cycles, one decoding loop.

The rules, as the checks below enforce them (docs/CONVENTIONS.md states them for
contributors):

* A private module (a dotted-path part that starts with ``_``, like ``accord.serve._main``)
  belongs to the package that contains it (``accord.serve``). Only code inside that package
  may import it, or any other private name from it. Everyone else imports from the
  package's ``__init__`` (``from accord.serve import ...``). ``accord._locale`` belongs to
  ``accord`` itself, so every accord module may use it.
* Tests count as being inside the package they test: a file under ``tests/<name>/`` may
  import ``accord.<name>``'s private modules, and files directly under ``tests/`` may
  import ``accord``'s own private modules (``accord._locale``). Importing another package's
  private modules from a test is not allowed. A test that needs another package's internals
  shows that the package is missing a public name.
* Benchmarks (``bench/``) are users of the packages: they import public names only.
* No module-level import cycles inside ``src/accord``. An import counts as module-level
  when it runs as the module is imported, including imports in ``try``, ``with``, class
  bodies and ``if`` blocks other than ``if TYPE_CHECKING:``. Imports inside functions do
  not count. ``from accord.pkg import name`` depends on ``accord.pkg``'s ``__init__``, and
  also on ``accord.pkg.name`` when that is a module.
* Token-by-token decoding with a key/value cache (``past_key_values``, ``DynamicCache``)
  lives in ``accord.model`` only, so the package has one decoding loop.
* Every package under ``src/accord`` has an ``__init__.py``. That file defines
  ``__all__``, without duplicates, and every name in it can be imported. ``__all__`` is
  the package's surface: a name that another package, a test of another package or a
  benchmark imports from it must be listed there.

These checks read the source with :mod:`ast`. Only the two ``__all__`` checks import the
packages.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "accord"
# Alembic loads these by file path; they are scripts, not part of the import graph's API.
NOT_PACKAGES = {PACKAGE / "store" / "migrations", PACKAGE / "store" / "migrations" / "versions"}
DECODING_MARKERS = ("past_key_values", "DynamicCache")


@dataclass(frozen=True)
class Import:
    """One import statement, resolved to absolute dotted names.

    ``module`` is what the statement imports from (``a.b`` in ``from a.b import c``, or
    the imported module itself for ``import a.b``); ``names`` are the names it takes from
    there (empty for ``import a.b``).
    """

    path: Path
    line: int
    module: str
    names: tuple[str, ...]
    module_level: bool

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def text(self) -> str:
        if self.names:
            return f"from {self.module} import {', '.join(self.names)}"
        return f"import {self.module}"


def module_name(path: Path) -> str:
    """``src/accord/serve/_main.py`` -> ``accord.serve._main``; packages drop ``__init__``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if not any(path.is_relative_to(d) for d in NOT_PACKAGES):
            yield path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(body: list[ast.stmt], module_level: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement under ``body``, flagged with whether it runs at import time."""
    for node in body:
        yield node, module_level
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _statements(node.body, False)
        elif isinstance(node, ast.If):
            runs = module_level and not _is_type_checking(node.test)
            yield from _statements(node.body, runs)
            yield from _statements(node.orelse, module_level)
        else:
            for name in ("body", "orelse", "finalbody"):
                yield from _statements(getattr(node, name, []), module_level)
            for handler in getattr(node, "handlers", []):
                yield from _statements(handler.body, module_level)
            for case in getattr(node, "cases", []):
                yield from _statements(case.body, module_level)


def imports_of(path: Path, module: str | None) -> list[Import]:
    """The import statements in ``path``.

    Args:
        path: A Python file.
        module: Its dotted name, which relative imports are resolved against; ``None`` for
            files outside ``src`` (tests, benchmarks), whose relative imports never reach
            ``accord`` and are skipped.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node, module_level in _statements(tree.body, True):
        if isinstance(node, ast.Import):
            out.extend(Import(path, node.lineno, alias.name, (), module_level)
                       for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    continue
                base = module.split(".")
                if path.name != "__init__.py":
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            out.append(Import(path, node.lineno, target,
                              tuple(alias.name for alias in node.names), module_level))
    return out


def private_owner(dotted: str) -> str | None:
    """The package a private ``accord`` name belongs to, or ``None`` if the name is public.

    ``accord.serve._main.run`` -> ``accord.serve``; ``accord._locale`` -> ``accord``;
    dunder parts (``__main__``) are not private.
    """
    parts = dotted.split(".")
    if parts[0] != "accord":
        return None
    for i, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:i])
    return None


def private_reaches(imp: Import, inside: str | None) -> list[str]:
    """Private names ``imp`` takes from a package that does not contain ``inside``."""
    targets = [f"{imp.module}.{name}" for name in imp.names] or [imp.module]
    bad = []
    for target in targets:
        owner = private_owner(target)
        if owner is not None and not (inside == owner or (inside or "").startswith(owner + ".")):
            bad.append(target)
    return bad


def _private_violations(files: list[tuple[Path, str | None, str | None]]) -> list[str]:
    """Messages for every private reach in ``files`` (path, module name, package inside)."""
    messages = []
    for path, module, inside in files:
        for imp in imports_of(path, module):
            owners = sorted({str(private_owner(t)) for t in private_reaches(imp, inside)})
            for owner in owners:
                messages.append(f"{imp.where()}: `{imp.text()}` reaches into {owner}'s "
                                f"private modules; import from `{owner}` instead (add the "
                                f"names to {owner}.__all__ if they are missing)")
    return messages


def test_src_modules_import_only_public_names_of_other_packages() -> None:
    files = [(p, module_name(p), module_name(p)) for p in source_files()]
    offences = _private_violations(files)
    assert offences == [], ("private imports across packages:\n  " + "\n  ".join(offences))


def test_tests_import_only_private_modules_of_the_package_they_test() -> None:
    tests = ROOT / "tests"
    files = []
    for path in sorted(tests.rglob("*.py")):
        folder = path.relative_to(tests).parts[:-1]
        files.append((path, None, f"accord.{folder[0]}" if folder else "accord"))
    offences = _private_violations(files)
    assert offences == [], ("tests importing another package's private modules:\n  "
                            + "\n  ".join(offences))


def test_benchmarks_import_only_public_names() -> None:
    files = [(path, None, None) for path in sorted((ROOT / "bench").rglob("*.py"))]
    offences = _private_violations(files)
    assert offences == [], "benchmarks importing private modules:\n  " + "\n  ".join(offences)


def import_graph() -> tuple[dict[str, dict[str, Import]], set[str]]:
    """Module-level import edges between ``accord`` modules: ``{importer: {imported: via}}``."""
    modules = {module_name(p): p for p in source_files()}
    graph: dict[str, dict[str, Import]] = {}
    for name, path in modules.items():
        edges: dict[str, Import] = {}
        for imp in imports_of(path, name):
            if not imp.module_level:
                continue
            for target in [imp.module, *(f"{imp.module}.{n}" for n in imp.names)]:
                if target in modules and target != name:
                    edges.setdefault(target, imp)
        graph[name] = edges
    return graph, set(modules)


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Groups of two or more modules that import each other, directly or in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    # Iterative Tarjan: the import graph is deep enough to make recursion fragile.
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def test_no_module_level_import_cycles() -> None:
    graph, _ = import_graph()
    reports = []
    for group in strongly_connected(graph):
        members = set(group)
        edges = [f"    {a} -> {b}   ({via.where()}: `{via.text()}`)"
                 for a in group for b, via in sorted(graph[a].items()) if b in members]
        reports.append(f"cycle among {', '.join(group)}:\n" + "\n".join(edges))
    assert reports == [], (
        "module-level import cycles (break one edge per cycle: import the submodule that "
        "defines the name, or move the import into the function that needs it):\n"
        + "\n".join(reports))


def test_decoding_with_a_kv_cache_lives_in_accord_model() -> None:
    offences = []
    for path in source_files():
        if module_name(path).split(".")[:2] == ["accord", "model"]:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for marker in DECODING_MARKERS:
                if marker in line:
                    offences.append(f"{path.relative_to(ROOT)}:{number}: {marker}")
    assert offences == [], ("decoding outside accord.model (call accord.model's generation "
                            "functions instead):\n  " + "\n  ".join(offences))


def test_every_package_folder_has_an_init() -> None:
    folders = {p.parent for p in source_files()}
    missing = sorted(str(f.relative_to(ROOT)) for f in folders
                     if not (f / "__init__.py").is_file())
    assert missing == [], f"package folders without __init__.py: {missing}"


def _packages() -> list[str]:
    return sorted(module_name(p) for p in source_files()
                  if p.name == "__init__.py" and p.parent != PACKAGE)


@pytest.mark.parametrize("package", _packages())
def test_package_all_lists_names_that_exist(package: str) -> None:
    mod = importlib.import_module(package)
    assert hasattr(mod, "__all__"), f"{package}/__init__.py defines no __all__"
    names = list(mod.__all__)
    assert all(isinstance(n, str) for n in names), f"{package}.__all__ holds non-strings"
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == [], f"{package}.__all__ lists these twice: {duplicates}"
    missing = [n for n in names if not hasattr(mod, n)]
    assert missing == [], f"{package}.__all__ names what {package} does not define: {missing}"


def test_other_packages_import_only_names_in_all() -> None:
    surfaces = {name: set(importlib.import_module(name).__all__) for name in _packages()}
    tests = ROOT / "tests"
    files = [(p, module_name(p), module_name(p)) for p in source_files()]
    for path in sorted(tests.rglob("*.py")):
        folder = path.relative_to(tests).parts[:-1]
        files.append((path, None, f"accord.{folder[0]}" if folder else "accord"))
    files += [(path, None, None) for path in sorted((ROOT / "bench").rglob("*.py"))]
    offences = []
    for path, module, inside in files:
        for imp in imports_of(path, module):
            if imp.module not in surfaces or inside == imp.module or (
                    (inside or "").startswith(imp.module + ".")):
                continue
            # Private names are the business of the private-import checks above.
            hidden = [n for n in imp.names if n not in surfaces[imp.module]
                      and not n.startswith("_") and n != "*"]
            if hidden:
                offences.append(f"{imp.where()}: {', '.join(hidden)} not in "
                                f"{imp.module}.__all__ (add it there if it is public)")
    assert offences == [], ("names imported from a package surface that the surface does not "
                            "declare:\n  " + "\n  ".join(offences))


# The checks above must be able to fail: each helper is tried on a small known case.


def test_private_owner_finds_the_owning_package() -> None:
    assert private_owner("accord.serve._main.database_url_of") == "accord.serve"
    assert private_owner("accord._locale") == "accord"
    assert private_owner("accord.store.migrations.env") is None
    assert private_owner("accord.train.__main__") is None
    assert private_owner("accord.serve.live_server") is None
    assert private_owner("_pytest.fixtures") is None


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_private_reaches_flag_other_packages_only(tmp_path: Path) -> None:
    f = _write(tmp_path / "m.py", (
        "from accord.serve._main import run\n"
        "from accord.serve import _admin, app\n"
        "import accord.model._packing\n"
        "from accord.serve import live_server\n"
        "from accord._locale import ensure_utf8_locale\n"
        "def f():\n"
        "    from accord.review._export import content_hash\n"))
    found = [t for imp in imports_of(f, None) for t in private_reaches(imp, "accord.cli")]
    assert found == ["accord.serve._main.run", "accord.serve._admin",
                     "accord.model._packing", "accord.review._export.content_hash"]
    inside = [t for imp in imports_of(f, None) for t in private_reaches(imp, "accord.serve")]
    assert inside == ["accord.model._packing", "accord.review._export.content_hash"]


def test_relative_imports_resolve_against_the_module(tmp_path: Path) -> None:
    init = _write(tmp_path / "__init__.py", "from ._a import x\nfrom . import _b\n")
    mod = _write(tmp_path / "_c.py", "from ..other._d import y\nfrom . import _b\n")
    assert [(i.module, i.names) for i in imports_of(init, "accord.pkg")] == [
        ("accord.pkg._a", ("x",)), ("accord.pkg", ("_b",))]
    assert [(i.module, i.names) for i in imports_of(mod, "accord.pkg._c")] == [
        ("accord.other._d", ("y",)), ("accord.pkg", ("_b",))]


def test_only_import_time_statements_are_module_level(tmp_path: Path) -> None:
    f = _write(tmp_path / "m.py", (
        "from typing import TYPE_CHECKING\n"
        "try:\n    import a\nexcept ImportError:\n    import b\n"
        "if TYPE_CHECKING:\n    import c\nelse:\n    import d\n"
        "class K:\n    import e\n"
        "def f():\n    import g\n"))
    level = {i.module: i.module_level for i in imports_of(f, None)}
    assert level == {"typing": True, "a": True, "b": True, "c": False, "d": True, "e": True,
                     "g": False}


def test_strongly_connected_finds_rings_not_chains() -> None:
    via = Import(ROOT, 1, "x", (), True)
    graph = {"a": {"b": via}, "b": {"c": via}, "c": {"a": via, "d": via}, "d": {},
             "e": {"f": via}, "f": {"e": via}, "g": {"a": via}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["e", "f"]]
