"""The package's per-process caches, each registered where it is defined, and one ``clear_caches()``.

A cache registers itself when its module is imported, either as a decorator above
``functools.lru_cache``/``functools.cache``::

    @register_cache
    @functools.lru_cache(maxsize=64)
    def _rates(...): ...

or around a module-level container (``_LOADED = register_cache({}, "registry.loaded")``). Any object
with ``cache_clear()`` (an ``lru_cache`` wrapper, the compound-distribution cache) or ``clear()`` (a
dict, a set) can be registered. A cache is *static* (``register_cache(static=True)``) when it holds no
values computed from a quote's inputs, only what a warm process always has: shipped files read once
(models, regimes, catalogues, FX tables), installed versions, fixed numerical constants.
:func:`clear_caches` empties every registered cache (or, with ``static=False``, the value caches
only: what a benchmark of a cold engine path clears), so a test can start from an empty process
state; a cache of a module not yet imported is empty by construction. Standard library only
(foundation layer).
"""

from __future__ import annotations

from typing import Any

__all__ = ["register_cache", "clear_caches", "cache_sizes", "registered_caches", "static_caches"]

_REGISTRY: dict[str, Any] = {}
_STATIC: set[str] = set()


def _default_name(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname:
        raise TypeError("a container cache needs an explicit name: register_cache({}, 'part.name')")
    return f"{module.removeprefix('underwriting.')}.{qualname}"


def register_cache(obj: Any = None, name: str | None = None, *, static: bool = False) -> Any:
    """Register ``obj`` as a per-process cache; return it unchanged (usable as a decorator).

    Parameters
    ----------
    obj : object
        An ``lru_cache``/``cache`` wrapper or any object with ``cache_clear()`` or ``clear()``. Omitted,
        a decorator is returned (``@register_cache(static=True)``).
    name : str, optional
        Its name in :func:`cache_sizes` (default: ``module.qualname`` without the package prefix);
        registering the same name again replaces the entry (a module reloaded by a test).
    static : bool
        True for a cache of shipped data or constants (kept by ``clear_caches(static=False)``).

    Returns
    -------
    object
        ``obj`` itself (or the decorator).
    """
    if obj is None:
        return lambda o: register_cache(o, name, static=static)
    if not (callable(getattr(obj, "cache_clear", None)) or callable(getattr(obj, "clear", None))):
        raise TypeError(f"{obj!r} has neither cache_clear() nor clear(); it cannot be registered as a cache")
    key = name or _default_name(obj)
    _REGISTRY[key] = obj  # modules register on import, under the interpreter's import lock
    if static:
        _STATIC.add(key)
    else:
        _STATIC.discard(key)
    return obj


def _size(obj: Any) -> int:
    info = getattr(obj, "cache_info", None)
    if callable(info):
        return int(info().currsize)
    return len(obj)


def registered_caches(*, static: bool = True) -> dict[str, Any]:
    """The registered caches by name (a copy); without the static ones when ``static`` is False."""
    return {k: v for k, v in list(_REGISTRY.items()) if static or k not in _STATIC}


def static_caches() -> set[str]:
    """Names of the caches registered as static."""
    return set(_STATIC)


def cache_sizes() -> dict[str, int]:
    """Number of entries held by each registered cache, by name."""
    return {name: _size(obj) for name, obj in sorted(registered_caches().items())}


def clear_caches(*, static: bool = True) -> list[str]:
    """Empty the registered per-process caches.

    Parameters
    ----------
    static : bool
        Also the static caches (shipped data, constants); False keeps them, as a warm process has them.

    Returns
    -------
    list of str
        The names of the caches cleared, sorted.
    """
    caches = registered_caches(static=static)
    for obj in caches.values():
        clear = getattr(obj, "cache_clear", None)
        (clear if callable(clear) else obj.clear)()
    return sorted(caches)
