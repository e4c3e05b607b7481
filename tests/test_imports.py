"""The import graph between the top-level packages: no cycles, and ``bot`` stands alone.

Rasa loads ``bot/`` (custom components, the NLG server) into its own process, so ``bot``
must not import the action server (``actions``), the handoff service (``handoff``) or the
tools around them (``tools``). Every ``.py`` file is parsed with :mod:`ast`, nothing is
imported, and imports inside functions count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "actions", "handoff", "tools", "contracts")
# What bot/ may not import: everything that is not loaded by Rasa itself.
BOT_FORBIDDEN = ("actions", "handoff", "tools")


@dataclass(frozen=True)
class Edge:
    """One import of package ``target`` from a module of package ``source``."""

    source: str
    target: str
    where: str  # "path:line", relative to the root


def _imported_packages(tree: ast.AST) -> Iterable[tuple[str, int]]:
    """The top-level name of each absolute import in ``tree``, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def import_edges(root: Path, packages: Iterable[str] = PACKAGES) -> list[Edge]:
    """Every import from one of ``packages`` to another, found by parsing the files."""
    names = [name for name in packages if (root / name).is_dir()]
    edges = []
    for source in names:
        for path in sorted((root / source).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for target, line in _imported_packages(tree):
                if target in names and target != source:
                    edges.append(Edge(source, target, f"{path.relative_to(root)}:{line}"))
    return edges


def find_cycle(edges: Iterable[Edge]) -> list[Edge] | None:
    """A cycle in the package graph as the edges that make it, or None if there is none."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
    done: set[str] = set()

    def visit(package: str, path: list[Edge], on_path: list[str]) -> list[Edge] | None:
        if package in on_path:
            return path[on_path.index(package) :]
        if package in done:
            return None
        for target, edge in sorted(graph.get(package, {}).items()):
            cycle = visit(target, [*path, edge], [*on_path, package])
            if cycle is not None:
                return cycle
        done.add(package)
        return None

    for start in sorted(graph):
        cycle = visit(start, [], [])
        if cycle is not None:
            return cycle
    return None


def describe(cycle: list[Edge]) -> str:
    """``a -> b -> a`` followed by the import that makes each step."""
    chain = " -> ".join([cycle[0].source, *(edge.target for edge in cycle)])
    steps = "\n".join(f"  {e.source} -> {e.target}  ({e.where})" for e in cycle)
    return f"{chain}\n{steps}"


def bot_violations(edges: Iterable[Edge]) -> list[Edge]:
    return [e for e in edges if e.source == "bot" and e.target in BOT_FORBIDDEN]


def test_no_cycle_between_top_level_packages() -> None:
    cycle = find_cycle(import_edges(ROOT))
    if cycle is not None:
        pytest.fail("import cycle between top-level packages:\n" + describe(cycle))


def test_bot_imports_nothing_outside_what_rasa_loads() -> None:
    bad = bot_violations(import_edges(ROOT))
    assert not bad, "bot/ imports from " + ", ".join(f"{e.target} ({e.where})" for e in bad)


def test_the_checks_see_imports_anywhere_in_a_module(tmp_path: Path) -> None:
    """The checker itself: a function-level import from bot/ and a cycle are both caught."""
    for name, text in {
        "bot/__init__.py": "",
        "bot/evaluation.py": "def f():\n    from actions.knowledge import get_index\n",
        "actions/__init__.py": "",
        "actions/handoff.py": "import bot.escalation\nfrom . import store\n",
        "handoff/views.py": "from tools import serve\n",
        "tools/serve.py": "import os\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    edges = import_edges(tmp_path)  # contracts/ is missing there and skipped

    assert {(e.source, e.target) for e in edges} == {
        ("bot", "actions"),
        ("actions", "bot"),
        ("handoff", "tools"),
    }
    assert [e.where for e in bot_violations(edges)] == ["bot/evaluation.py:2"]
    cycle = find_cycle(edges)
    assert cycle is not None
    assert describe(cycle).splitlines()[0] == "actions -> bot -> actions"


# Files that still import from a conftest.py, kept by their owners for now; each entry
# goes when its import moves to tests/helpers/.
def _imported_modules(tree: ast.AST, module: str) -> Iterable[tuple[str, int]]:
    """The full dotted name of each import in ``tree`` (relative ones resolved)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            yield name, node.lineno
            for alias in node.names:  # `from tests.e2e import test_handoff`
                yield f"{name}.{alias.name}", node.lineno


def imports_of_test_modules(root: Path) -> list[str]:
    """Imports under ``root/tests`` of a test module or a conftest: ``path:line -> module``."""
    found = []
    for path in sorted((root / "tests").rglob("*.py")):
        where = path.relative_to(root)
        if "__pycache__" in path.parts:
            continue
        module = ".".join(where.with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in _imported_modules(tree, module):
            parts = name.split(".")
            if parts[0] == "tests" and (parts[-1].startswith("test_") or parts[-1] == "conftest"):
                found.append(f"{where}:{line} -> {name}")
    return found


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    bad = imports_of_test_modules(ROOT)
    assert not bad, "shared helpers belong in tests/helpers/:\n  " + "\n  ".join(bad)


def test_the_test_import_check_sees_test_modules_and_conftests(tmp_path: Path) -> None:
    for name, text in {
        "tests/e2e/test_a.py": "from tests.e2e.test_b import call\n",
        "tests/e2e/test_b.py": "from tests.helpers.stack import call\n",
        "tests/e2e/test_c.py": "from . import conftest\nfrom tests.e2e import test_b\n",
        "tests/handoff/test_d.py": "def f():\n    import tests.handoff.conftest\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    assert imports_of_test_modules(tmp_path) == [
        "tests/e2e/test_a.py:1 -> tests.e2e.test_b",
        "tests/e2e/test_c.py:1 -> tests.e2e.conftest",
        "tests/e2e/test_c.py:2 -> tests.e2e.test_b",
        "tests/handoff/test_d.py:2 -> tests.handoff.conftest",
    ]
