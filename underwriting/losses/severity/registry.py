"""The severity family registry: a family is ONE class, registered with :func:`register_family`.

A family is a frozen dataclass subclass of :class:`~underwriting.losses.severity.base.Severity`
whose fields are its parameters, with ``family`` (its name) and, to be fittable, a ``fit_spec``
classmethod returning a :class:`~underwriting.losses.severity.base.FitSpec`. Registering it makes it known to every list of families:
:func:`~underwriting.losses.severity.catalogue.make_severity` (``price --severity``, user files),
:func:`~underwriting.losses.severity.fitting.fit_severity`, the default of
:func:`~underwriting.losses.severity.selection.select_severity`, the pricing engine's by-value caches
and the ``price --severity`` help. ``docs/extending.md`` shows how to add one.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from underwriting.losses.severity.base import Severity

# --------------------------------------------------------------------------------------------
# The family registry
# --------------------------------------------------------------------------------------------
#: Family name (and alias) -> severity class: the one list of families. :func:`make_severity`,
#: :func:`~underwriting.losses.severity.fitting.fit_severity`, the default of
#: :func:`~underwriting.losses.severity.selection.select_severity`, the engine's value caches and the
#: ``price --severity`` help all read it.
FAMILY_REGISTRY: dict[str, type[Severity]] = {}
_IN_SELECTION: dict[str, bool] = {}

S = TypeVar("S", bound=type)


def register_family(cls: S | None = None, *, aliases: tuple[str, ...] = (), in_selection: bool = True) -> Any:
    """Class decorator registering a severity family under ``cls.family`` (and ``aliases``).

    The class must be a frozen dataclass subclass of :class:`Severity` (its parameters are its
    fields; value equality lets the engine cache results by value). Usable bare (``@register_family``)
    or with options.

    Parameters
    ----------
    aliases : tuple of str
        Other names :func:`make_severity` and ``fit_severity`` accept.
    in_selection : bool
        Whether :func:`select_severity` fits it by default.
    """

    def register(c: S) -> S:
        if not (isinstance(c, type) and issubclass(c, Severity)):
            raise TypeError(f"{c!r} is not a Severity subclass")
        params = c.__dict__.get("__dataclass_params__")  # the class itself, not only a parent, is one
        if params is None or not params.frozen:
            raise TypeError(f"{c.__name__} must be a frozen dataclass (its fields are its parameters)")
        names = (c.family, *aliases)
        for n in names:
            if not n.isidentifier() or n != n.lower():
                raise ValueError(f"a family name is a lower-case identifier, got {n!r}")
            if n in FAMILY_REGISTRY and FAMILY_REGISTRY[n] is not c:
                raise ValueError(f"severity family {n!r} is already registered")
        for n in names:
            FAMILY_REGISTRY[n] = c
        _IN_SELECTION[c.family] = in_selection
        return c

    return register if cls is None else register(cls)


def unregister_family(name: str) -> None:
    """Remove a family and its aliases (a plug-in's or a test's own)."""
    cls = FAMILY_REGISTRY[name]
    for n in [k for k, v in FAMILY_REGISTRY.items() if v is cls]:
        del FAMILY_REGISTRY[n]
    _IN_SELECTION.pop(cls.family, None)


def family_names(*, selection: bool = False) -> tuple[str, ...]:
    """The registered families' own names (no aliases), in registration order; with ``selection``,
    only those :func:`select_severity` fits by default."""
    return tuple(n for n, c in FAMILY_REGISTRY.items() if c.family == n and (_IN_SELECTION.get(n) or not selection))


def family_parameters(name: str) -> tuple[str, ...]:
    """Parameter names of a registered family (its dataclass fields), e.g. ``("mu", "sigma")``."""
    cls = FAMILY_REGISTRY[name]
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def severity_help() -> str:
    """``lognormal:mu=,sigma= | ...``: the registered families as ``price --severity`` takes them."""
    return " | ".join(f"{n}:" + ",".join(f"{p}=" for p in family_parameters(n)) for n in family_names())
