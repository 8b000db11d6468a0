"""The layout: the library stays free of Streamlit, and its imports follow the data flow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

LIBRARY = Path(__file__).parents[1] / "clustering"


def test_no_library_module_mentions_streamlit_in_an_import() -> None:
    offenders = []
    for path in LIBRARY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_importing_every_library_module_does_not_load_streamlit() -> None:
    modules = sorted("clustering." + ".".join(p.relative_to(LIBRARY).with_suffix("").parts)
                     for p in LIBRARY.rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print('streamlit' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=LIBRARY.parent, check=True)
    assert done.stdout.strip() == "False"


# The data flow, in order: a module may import from its own stage, an earlier one, or
# the shared foundations; never from a later stage (and so never in a cycle).
FOUNDATIONS = {"settings", "errors", "cache", "config"}
STAGES = ["files", "images", "features", "reduce", "clusters", "results", "review", "export",
          "assign", "pipeline", "distributed", "jobs", "cli", "__main__"]


def _imports() -> dict[str, set[str]]:
    """``{module: clustering modules it imports}`` for every library module."""
    paths = {".".join(("clustering",) + p.relative_to(LIBRARY).with_suffix("").parts)
             .removesuffix(".__init__"): p for p in LIBRARY.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found = set()
        tree = ast.parse(path.read_text())  # imports for type hints only count too
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in paths
                             else node.module for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m.split(".")[0] in ("clustering", "dashboard")
                       and m != name}
    return graph


def _stage(module: str) -> int | None:
    part = module.split(".")[1] if "." in module else ""
    return None if part in FOUNDATIONS | {"", "testing"} else STAGES.index(part)


def test_library_imports_follow_the_data_flow() -> None:
    backwards = []
    for module, imported in _imports().items():
        for other in imported:
            assert not other.startswith("dashboard"), f"{module} imports the dashboard"
            mine, theirs = _stage(module), _stage(other)
            if mine is None and theirs is not None and module.split(".")[1] != "testing":
                backwards.append(f"{module} -> {other}")  # foundations import no stage
            elif mine is not None and theirs is not None and theirs > mine:
                backwards.append(f"{module} -> {other}")
    assert backwards == []


def test_no_import_cycles_between_library_modules() -> None:
    graph = _imports()
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in graph.get(module, ()):
            if other in graph and state.get(other) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [module, other]))
            if other in graph and other not in state:
                visit(other, path + [module])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [])
