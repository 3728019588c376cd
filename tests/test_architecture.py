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
    "_version": 0, "errors": 0, "caches": 0, "fileio": 0, "resources": 0, "registry": 0, "figures": 0, "figure_style": 0, "i18n": 0,
    "domain": 1,
    "datasets": 2,
    "features": 3,
    "scoring": 4, "survival": 4, "frequency": 4,
    "losses": 5,
    "pricing": 6,
    "reserve": 7,
    "quote": 8, "reserve_report": 8,
    "lifecycle": 9, "portfolio": 9, "models_build": 9,
    "cli": 10, "api": 10, "service": 10, "__main__": 10, "__init__": 0,
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


#: A string naming a module of the package (``importlib.import_module("underwriting.x")``, a lazy
#: export table, a ``"module:function"`` loader): a hidden import, checked like a written one.
_MODULE_STRING = re.compile(r"^(underwriting(?:\.\w+)+)(?::\w+)?$")

#: Upward imports that are allowed, each with its reason. Keep this short.
ALLOWED_UPWARD = {
    ("__init__.py", "underwriting.api"):
        "the package reaches the public façade on first attribute access (underwriting.price_layer), not at import",
    ("domain/policy.py", "underwriting.pricing.layers"):
        "PolicyTerms.to_layer builds the pricing engine's Layer (a function-level import; pricing "
        "does not import it back at module level)",
}
#: Known violations owned by another branch, to be removed by it (issue #17: registry kinds are to
#: be registered from the layer that owns them).
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _walk(tree: ast.AST, *, runtime_only: bool):
    """Every node, or with ``runtime_only`` every node outside ``if TYPE_CHECKING:`` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if runtime_only and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(tree: ast.AST, *, top_level_only: bool = False, strings: bool = False, runtime_only: bool = False):
    nodes = tree.body if top_level_only else _walk(tree, runtime_only=runtime_only)
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif strings and isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = _MODULE_STRING.match(node.value)
            if m:
                yield m.group(1)


def test_import_layering():
    bad = []
    for path in _modules():
        rel = path.relative_to(PKG)
        mine = _part(rel)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imports(tree, strings=True):
            if not name.startswith("underwriting."):
                continue
            theirs = name.split(".")[1]
            key = (str(rel), name)
            if key in ALLOWED_UPWARD or key in KNOWN_UPWARD:
                continue
            if theirs != mine and LAYERS.get(theirs, 99) > LAYERS.get(mine, -1):
                bad.append(f"{rel} imports {name}")
    assert not bad, "imports against the layering of docs/ARCHITECTURE.md:\n" + "\n".join(bad)


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    for cand in (PKG.joinpath(*parts).with_suffix(".py"), PKG.joinpath(*parts, "__init__.py")):
        if cand.is_file():
            return cand
    return None


def _import_graph(*, runtime_only: bool = True) -> dict[Path, set[Path]]:
    """Module → modules it imports (anywhere in the file, including string imports; with ``runtime_only``
    imports for type checkers only do not count)."""
    graph: dict[Path, set[Path]] = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps = set()
        for name in _imports(tree, strings=True, runtime_only=runtime_only):
            if name.startswith("underwriting."):
                target = _module_file(name)
                if target is not None and target != path:
                    deps.add(target)
        graph[path] = deps
    return graph


def _cycles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on: set[Path] = set()
    out: list[list[Path]] = []

    def visit(v: Path) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_inside_a_package():
    """Within one package (e.g. ``survival/``) no two modules import each other, directly or through
    others, even inside functions or for type checkers only: a package's modules form a DAG (its
    ``__init__`` may re-export)."""
    graph = _import_graph(runtime_only=False)
    bad = []
    for part in sorted({_part(p.relative_to(PKG)) for p in graph}):
        members = {p for p in graph if _part(p.relative_to(PKG)) == part and p.name != "__init__.py"}
        sub = {p: graph[p] & members for p in members}
        bad += [" <-> ".join(str(p.relative_to(PKG)) for p in c) for c in _cycles(sub)]
    assert not bad, "import cycles inside a package:\n" + "\n".join(bad)


def test_cycle_finder_sees_a_cycle():
    a, b, c = Path("a.py"), Path("b.py"), Path("c.py")
    assert _cycles({a: {b}, b: {a}, c: {a}}) == [[a, b]]
    assert _cycles({a: {b}, b: {c}, c: set()}) == []


def test_string_imports_are_read():
    tree = ast.parse('import importlib\nimportlib.import_module("underwriting.pricing.layers")\n'
                     'LOADER = "underwriting.lifecycle.loaders:load_thing"\nDOC = "see underwriting.cli"\n')
    assert set(_imports(tree, strings=True)) == {"importlib", "underwriting.pricing.layers",
                                                 "underwriting.lifecycle.loaders"}


def test_cli_modules_keep_heavy_imports_out_of_module_level():
    bad = []
    for path in [*sorted((PKG / "cli").glob("*.py")), PKG / "api.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imports(tree, top_level_only=True):
            root = name.split(".")[0]
            if root in HEAVY or (root == "underwriting" and name not in (
                    "underwriting._version", "underwriting.errors", "underwriting.cli", "underwriting.cli._common")):
                bad.append(f"{path.name}: {name}")
    assert not bad, f"CLI modules import at module level: {bad}"


def test_every_expected_failure_is_strict_and_gives_a_reason():
    """xfail is strict for the whole suite (pyproject: ``xfail_strict = true``), and every xfail says why."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert cfg.get("xfail_strict") is True
    bad = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "xfail":
                kw = {k.arg: k.value for k in node.keywords}
                strict = kw.get("strict")
                if "reason" not in kw or (isinstance(strict, ast.Constant) and strict.value is False):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, f"xfail without a reason or not strict: {bad}"


#: No module of the package is longer than this (lines): one module, one job.
MAX_LINES = 500
#: Modules over :data:`MAX_LINES`, each with its reason; to be split by the branch named.
LONG_MODULES: dict[str, str] = {}


def test_no_module_is_over_the_line_limit():
    long = {str(p.relative_to(PKG)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    bad = {k: v for k, v in long.items() if k not in LONG_MODULES}
    assert not bad, f"modules over {MAX_LINES} lines (split them): {bad}"


#: Compatibility shims: modules that only re-export another module's names for outside callers (each
#: warns with ``DeprecationWarning`` or names its removal). The package itself never imports them.
SHIMS = {"losses/frequency.py"}
#: Internal imports of a shim still to be removed, each by the branch named (issue #25).
KNOWN_SHIM_IMPORTS: dict[tuple[str, str], str] = {}
#: Release that removes each shim (its warning names it).
SHIM_REMOVAL = {"underwriting.losses.frequency": "0.2.0"}


def _shims() -> set[str]:
    """The declared shims and every module that warns ``DeprecationWarning`` at import (a shim by behaviour)."""
    found = set(SHIMS)
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level: a warning at import
            if isinstance(node, ast.Expr) and "DeprecationWarning" in ast.unparse(node):
                found.add(str(path.relative_to(PKG)))
    return found


def test_no_internal_import_of_a_shim():
    shims = _shims()
    graph = _import_graph(runtime_only=False)
    bad = [f"{p.relative_to(PKG)} imports {t.relative_to(PKG)}" for p, deps in graph.items() for t in deps
           if str(t.relative_to(PKG)) in shims and str(p.relative_to(PKG)) not in shims
           and (str(p.relative_to(PKG)), str(t.relative_to(PKG))) not in KNOWN_SHIM_IMPORTS]
    assert not bad, "the package imports a shim (import the module it points to):\n" + "\n".join(bad)


def test_shims_warn_with_their_removal_version():
    import importlib
    import sys
    import warnings

    assert {f"underwriting.{s[:-3].replace('/', '.')}" for s in SHIMS} == set(SHIM_REMOVAL)
    for name, version in SHIM_REMOVAL.items():
        sys.modules.pop(name, None)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            importlib.import_module(name)
        msgs = [str(w.message) for w in seen if issubclass(w.category, DeprecationWarning)]
        assert any(version in m for m in msgs), (name, msgs)


def _quote_stages() -> tuple[str, ...]:
    tree = ast.parse((PKG / "quote" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = getattr(node, "target", None) or (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "STAGES":
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("underwriting/quote/__init__.py declares no STAGES")


def test_quote_stages_follow_the_documented_flow():
    """``underwriting.quote.STAGES`` is the quote's data flow: the diagram of docs/ARCHITECTURE.md names
    the stages (``quote.<stage>``) in that order; each stage is a module of ``underwriting/quote/``; no
    stage imports a later one; ``quote.make`` imports every stage before it (and none after)."""
    stages = _quote_stages()
    section = DOC[DOC.index("## Data flow"):DOC.index("## Layers")]
    flow = section.split("```")[1]  # the diagram
    named: list[str] = []
    for m in re.finditer(r"\bquote\.(\w+)", flow):
        if m.group(1) in stages and m.group(1) not in named:
            named.append(m.group(1))
    assert tuple(named) == stages, f"the diagram lists the stages as {named}, the code as {list(stages)}"
    files = {s: PKG / "quote" / f"{s}.py" for s in stages}
    assert all(f.is_file() for f in files.values()), [s for s, f in files.items() if not f.is_file()]
    graph = _import_graph(runtime_only=False)
    later = [(a, b) for i, a in enumerate(stages) for b in stages[i + 1:] if files[b] in graph[files[a]]]
    assert not later, f"stages importing a later stage: {later}"
    k = stages.index("make")
    missing = [s for s in stages[:k] if files[s] not in graph[files["make"]]]
    assert not missing, f"make_quote does not compose the stages {missing}"


def test_the_quote_package_holds_only_stages_and_their_helpers():
    """Every module of ``underwriting/quote/`` is a stage or one of its helpers (``SUPPORT``)."""
    tree = ast.parse((PKG / "quote" / "__init__.py").read_text(encoding="utf-8"))
    support = next(tuple(ast.literal_eval(n.value)) for n in tree.body
                   if isinstance(n, ast.AnnAssign | ast.Assign)
                   and getattr(getattr(n, "target", None) or n.targets[0], "id", None) == "SUPPORT")
    mods = {p.stem for p in (PKG / "quote").glob("*.py") if p.name != "__init__.py"}
    assert mods == set(_quote_stages()) | set(support), mods ^ (set(_quote_stages()) | set(support))
