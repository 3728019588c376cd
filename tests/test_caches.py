"""``underwriting.clear_caches()`` empties every per-process cache, and every cache is registered."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import underwriting
from underwriting.caches import cache_sizes, clear_caches, register_cache, registered_caches

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "underwriting"

#: Caches not registered yet, by name (none: every cache registers itself).
PENDING: set[str] = set()
_CACHE_DECORATORS = {"cache", "lru_cache"}
_CACHE_NAME = re.compile(r"(?i)^_\w*(cache|loaded)(_\w*)?$")


def _is_cache_decorator(d: ast.expr) -> bool:
    target = d.func if isinstance(d, ast.Call) else d
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    return name in _CACHE_DECORATORS


def _is_register(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return getattr(target, "id", None) == "register_cache"


def _unregistered() -> list[str]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        if "_bundled" in path.parts:
            continue
        rel = str(path.relative_to(PKG))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decos = node.decorator_list
                if any(_is_cache_decorator(d) for d in decos) and not any(_is_register(d) for d in decos):
                    out.append(f"{rel}:{node.name}")
        for node in tree.body:  # module-level containers named like a cache
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and _CACHE_NAME.match(t.id) and not _is_register(node.value) \
                            and isinstance(node.value, (ast.Dict, ast.Call, ast.Set)) and not t.id.endswith("_lock"):
                        out.append(f"{rel}:{t.id}")
    return out


def test_every_cache_of_the_package_registers_itself():
    missing = sorted(m for m in _unregistered() if m.split(":")[1] not in PENDING)
    assert not missing, f"caches not registered with underwriting.caches.register_cache: {missing}"


def test_the_finder_sees_an_unregistered_cache(tmp_path, monkeypatch):
    tree = ast.parse("import functools\n@functools.lru_cache(maxsize=2)\ndef f(x):\n    return x\n")
    fn = tree.body[1]
    assert any(_is_cache_decorator(d) for d in fn.decorator_list)
    assert not any(_is_register(d) for d in fn.decorator_list)


def test_clear_caches_empties_every_cache_after_a_quote():
    import underwriting.scoring as scoring
    from underwriting.datasets import synthetic
    from underwriting.frequency import experience_prior
    from underwriting.registry import store

    q = underwriting.api.quote(ROOT / "datasets/examples/jp_small_exchange.json",
                               ROOT / "datasets/examples/policy_jp_primary.toml")
    assert q.premium > 0
    # containers a quote does not touch: filled by hand
    synthetic._CAL_CACHE[("test",)] = {}
    scoring._CACHE[("test", 0, 0)] = None
    experience_prior._SETTINGS_CACHE.setdefault("test", None)
    store._LOADED.setdefault(("test", "0"), None)

    sizes = cache_sizes()
    assert len(sizes) >= 17, sorted(sizes)
    filled = {n for n, k in sizes.items() if k}
    for name in ("losses.aggregate.engines._compound_cached", "losses.aggregate.discretisation._discretize_cached",
                 "pricing.layers._layer_mean_cached", "pricing.premium._ilf_rows_cached",
                 "losses.perils.hot_wallet_assumption", "datasets.synthetic._CAL_CACHE", "scoring._CACHE"):
        assert name in filled, (name, sizes)

    cleared = underwriting.clear_caches()
    assert cleared == sorted(registered_caches())
    assert set(filled) <= set(cleared)
    assert {n: k for n, k in cache_sizes().items() if k} == {}

    # the next quote is computed again from empty caches and gives the same canonical numbers
    again = underwriting.api.quote(ROOT / "datasets/examples/jp_small_exchange.json",
                                   ROOT / "datasets/examples/policy_jp_primary.toml")
    assert again.canonical() == q.canonical()


def test_static_caches_survive_a_value_clear():
    import underwriting.i18n  # noqa: F401 - registers its catalogue cache
    import underwriting.losses.aggregate.engines  # noqa: F401 - registers the compound cache
    import underwriting.registry.store  # noqa: F401 - registers the verified-model cache
    from underwriting.caches import static_caches
    from underwriting.losses import perils

    perils.hot_wallet_assumption()
    static = static_caches()
    assert {"losses.perils.hot_wallet_assumption", "registry.store._LOADED", "i18n.translations"} <= static
    assert "losses.aggregate.engines._compound_cached" not in static
    box: list[int] = [1]
    register_cache(box, "test.value")
    try:
        cleared = clear_caches(static=False)
        assert "test.value" in cleared and box == []
        assert not static & set(cleared)
        assert cache_sizes()["losses.perils.hot_wallet_assumption"] == 1
    finally:
        from underwriting import caches

        caches._REGISTRY.pop("test.value")


def test_register_rejects_what_cannot_be_cleared_and_names_default():
    with pytest.raises(TypeError, match="cannot be registered"):
        register_cache(42, "x")
    with pytest.raises(TypeError, match="explicit name"):
        register_cache({})
    box: list[int] = [1]
    register_cache(box, "test.box")
    try:
        assert "test.box" in clear_caches() and box == []
    finally:
        from underwriting import caches

        caches._REGISTRY.pop("test.box")
