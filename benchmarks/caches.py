"""Empty the aggregate engine's per-process caches keyed by loss-model values, so a timed repeat is cold
for what it claims (issue #29, target 0).

``underwriting.clear_caches(static=False)`` (every registered value cache; the static ones, shipped data
and constants, stay) is used when the package has it. Otherwise every ``functools``-style
cache (anything with ``cache_clear``) of the loaded ``underwriting.losses`` and ``underwriting.pricing``
modules is emptied, except the few that hold no loss-model values (``STATIC``: type tuples, quadrature
nodes, shipped data files), which a warm process always has. The compound-result cache must be among
those cleared: if it cannot be found (renamed or moved), this raises rather than let a benchmark time
cache hits as if they were engine runs.
"""

from __future__ import annotations

import sys

STATIC = {"_severity_types", "_gauss_legendre_nodes", "hot_wallet_assumption", "_shipped_split"}
PREFIXES = ("underwriting.losses", "underwriting.pricing")


def clear_engine_caches() -> list[str]:
    """Clear the value-keyed engine caches; return the qualified names of those cleared."""
    import underwriting

    cleared = []
    if callable(getattr(underwriting, "clear_caches", None)):
        underwriting.clear_caches(static=False)  # value caches only: shipped data stays warm
        cleared.append("underwriting.clear_caches")
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(PREFIXES):
            continue
        for attr, obj in list(vars(mod).items()):
            if attr in STATIC or isinstance(obj, type) or not callable(getattr(obj, "cache_clear", None)):
                continue
            if getattr(obj, "__module__", name) != name and not attr.startswith("_"):
                continue  # a public cached function re-exported from elsewhere: cleared at home
            obj.cache_clear()
            cleared.append(f"{name}.{attr}")
    if not any(c.endswith("_compound_cached") or c == "underwriting.clear_caches" for c in cleared):
        raise RuntimeError("the compound-result cache was not found: the benchmark would time cache hits")
    return cleared
