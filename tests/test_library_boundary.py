"""The library stays free of Streamlit: importing every module never loads it."""

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
