"""docs/ARCHITECTURE.md stays true to the tree, and imports follow the documented layering."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "underwriting"
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")

#: Layer of each top-level part of the package; a module may import only from its own part or
#: from a lower layer. Mirrors the table in docs/ARCHITECTURE.md.
LAYERS = {
    "_version": 0, "errors": 0, "fileio": 0, "resources": 0, "registry": 0,
    "domain": 1,
    "datasets": 2,
    "features": 3,
    "scoring": 4, "survival": 4, "frequency": 4,
    "losses": 5,
    "pricing": 6,
    "reserve": 7,
    "quoting": 8, "report": 8,
    "lifecycle": 9, "portfolio": 9, "models_build": 9,
    "cli": 10, "service": 10, "__main__": 10, "__init__": 0,
}
HEAVY = {"pandas", "numpy", "scipy", "sklearn", "lifelines", "matplotlib", "joblib", "pyarrow", "pydantic"}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        if "_bundled" in path.parts:
            continue
        yield path


def _part(rel: Path) -> str:
    first = rel.parts[0]
    return first[:-3] if first.endswith(".py") else first


def test_every_module_is_documented():
    missing = [str(p.relative_to(ROOT)) for p in _modules()
               if p.name != "__init__.py" and str(p.relative_to(ROOT)) not in DOC]
    assert not missing, f"modules not described in docs/ARCHITECTURE.md: {missing}"


def test_documented_modules_exist():
    named = set(re.findall(r"`(underwriting/[\w/]+\.py)`", DOC))
    gone = sorted(n for n in named if not (ROOT / n).exists())
    assert not gone, f"docs/ARCHITECTURE.md names modules that do not exist: {gone}"


def _imports(tree: ast.AST, *, top_level_only: bool = False):
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_import_layering():
    bad = []
    for path in _modules():
        rel = path.relative_to(PKG)
        mine = _part(rel)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imports(tree):
            if not name.startswith("underwriting."):
                continue
            theirs = name.split(".")[1]
            if theirs != mine and LAYERS.get(theirs, 99) > LAYERS.get(mine, -1):
                bad.append(f"{rel} imports {name}")
    assert not bad, "imports against the layering of docs/ARCHITECTURE.md:\n" + "\n".join(bad)


def test_cli_modules_keep_heavy_imports_out_of_module_level():
    bad = []
    for path in sorted((PKG / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imports(tree, top_level_only=True):
            root = name.split(".")[0]
            if root in HEAVY or (root == "underwriting" and name not in (
                    "underwriting._version", "underwriting.errors", "underwriting.cli", "underwriting.cli._common")):
                bad.append(f"{path.name}: {name}")
    assert not bad, f"CLI modules import at module level: {bad}"
