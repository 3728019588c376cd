"""Premium principles by registration: each is ONE :class:`PrincipleKind` in :data:`PRINCIPLE_REGISTRY`.

A principle turns the distribution of the insurer's loss ``L`` over the term (an
:class:`~underwriting.losses.aggregate.AggregateResult`, currency units) into a technical premium
(same units). The built-ins (``pure``, ``expected_value``, ``std``, ``variance``,
``cost_of_capital``, ``wang``, ``ph``; formulas in :mod:`underwriting.pricing.premium` and
``docs/pricing.md``) are registered below with :func:`register_principle`; a new one is one more
call, and every list of principles (:data:`PRINCIPLES`, the names :class:`Principle` accepts, the
``price --principle`` help) reads the registry. ``docs/extending.md`` shows how.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.aggregate import AggregateResult

__all__ = ["PrincipleKind", "PRINCIPLE_REGISTRY", "PRINCIPLES", "PRINCIPLE_BOUNDS", "register_principle", "unregister_principle",
           "Principle", "parse_principle", "distortion_premium", "wang_distortion", "ph_distortion"]


@dataclass(frozen=True)
class PrincipleKind:
    """One premium principle.

    Attributes
    ----------
    name : str
        The name of ``name:parameter``.
    premium : callable
        ``premium(result, parameter, level) -> float``: the technical premium (currency units) of
        the loss distribution ``result``; ``level`` is the pricing level (e.g. 0.995).
    default : float or None
        Parameter used when none is given; ``None`` with ``needs_parameter`` makes it required.
    description : str
        The formula in words, for help texts.
    symbol : str
        Name of the parameter in help texts (``θ``, ``k``, ``λ``...); empty for none.
    aliases : tuple of str
        Other names accepted.
    check : callable, optional
        ``check(parameter) -> str | None``: a message when a (finite, non-negative) parameter is out of range.
    needs_parameter : bool
        False for a principle without a parameter (``pure``).
    bounds : tuple of float
        ``(lowest, highest)`` accepted parameter. A parameter outside them is a typing mistake, not a
        pricing view (``wang:50`` charged 1.25x the layer limit; ``expected_value:1e308`` overflowed):
        the bounds are data, wide on purpose (several times what a market uses).
    """

    name: str
    premium: Callable[[AggregateResult, float | None, float], float]
    default: float | None
    description: str
    symbol: str = ""
    aliases: tuple[str, ...] = ()
    check: Callable[[float], str | None] | None = None
    needs_parameter: bool = True
    bounds: tuple[float, float] = (0.0, math.inf)


PRINCIPLE_REGISTRY: dict[str, PrincipleKind] = {}
_ALIASES: dict[str, str] = {}


def register_principle(name: str, premium: Callable[[AggregateResult, float | None, float], float], *,
                       default: float | None, description: str, symbol: str = "", aliases: tuple[str, ...] = (),
                       check: Callable[[float], str | None] | None = None,
                       needs_parameter: bool = True, bounds: tuple[float, float] = (0.0, math.inf)) -> PrincipleKind:
    """Register a premium principle (see :class:`PrincipleKind` for the arguments); return its entry.

    Raises
    ------
    ValueError
        The name or an alias is taken, or the name is not a lower-case identifier.
    """
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"a principle name is a lower-case identifier, got {name!r}")
    taken = [n for n in (name, *aliases) if n in PRINCIPLE_REGISTRY or n in _ALIASES]
    if taken:
        raise ValueError(f"principle name(s) already registered: {taken}")
    lo, hi = (float(b) for b in bounds)
    if not (0.0 <= lo <= hi):
        raise ValueError(f"bounds must be 0 <= lowest <= highest, got {bounds!r}")
    kind = PrincipleKind(name, premium, default, description, symbol, tuple(aliases), check, needs_parameter,
                         (lo, hi))
    PRINCIPLE_REGISTRY[name] = kind
    _ALIASES.update({a: name for a in aliases})
    return kind


def unregister_principle(name: str) -> None:
    """Remove a principle and its aliases (a plug-in's or a test's own)."""
    kind = PRINCIPLE_REGISTRY.pop(name)
    for a in kind.aliases:
        _ALIASES.pop(a, None)


class _PrincipleTable(Mapping[str, tuple[float | None, str]]):
    """Name -> (default parameter, description), read live from the registry."""

    def __getitem__(self, name: str) -> tuple[float | None, str]:
        k = PRINCIPLE_REGISTRY[name]
        return k.default, k.description

    def __iter__(self) -> Iterator[str]:
        return iter(PRINCIPLE_REGISTRY)

    def __len__(self) -> int:
        return len(PRINCIPLE_REGISTRY)


#: principle name -> (default parameter, description): a live view of :data:`PRINCIPLE_REGISTRY`.
PRINCIPLES: Mapping[str, tuple[float | None, str]] = _PrincipleTable()


class _BoundsTable(Mapping[str, tuple[float, float]]):
    """Name -> (lowest, highest) accepted parameter of every principle that takes one, read live."""

    def __getitem__(self, name: str) -> tuple[float, float]:
        k = PRINCIPLE_REGISTRY[name]
        if not k.needs_parameter:
            raise KeyError(name)
        return k.bounds

    def __iter__(self) -> Iterator[str]:
        return (n for n, k in PRINCIPLE_REGISTRY.items() if k.needs_parameter)

    def __len__(self) -> int:
        return sum(1 for k in PRINCIPLE_REGISTRY.values() if k.needs_parameter)


#: principle name -> (lowest, highest) accepted parameter (:attr:`PrincipleKind.bounds`), checked where a
#: principle is parsed; a live view of :data:`PRINCIPLE_REGISTRY`.
PRINCIPLE_BOUNDS: Mapping[str, tuple[float, float]] = _BoundsTable()


def principle_help() -> str:
    """``pure, expected_value:θ, ...``: the registered principles as the CLI takes them."""
    return ", ".join(k.name + (f":{k.symbol}" if k.symbol else "") for k in PRINCIPLE_REGISTRY.values())


def wang_distortion(lam: float) -> Callable[[np.ndarray], np.ndarray]:
    """Wang transform :math:`g(u) = Φ(Φ^{-1}(u) + λ)`."""
    return lambda u: special.ndtr(special.ndtri(np.clip(u, 0.0, 1.0)) + lam)


def ph_distortion(rho: float) -> Callable[[np.ndarray], np.ndarray]:
    """Proportional-hazard transform :math:`g(u) = u^{ρ}`."""
    return lambda u: np.clip(u, 0.0, 1.0) ** rho


def distortion_premium(result: AggregateResult, g: Callable[[np.ndarray], np.ndarray]) -> float:
    """Distorted expectation :math:`\\int_0^\\infty g(P(L > x))\\,dx` of a discrete loss distribution."""
    v = result.values
    s = result._sf  # P(L > v_k), accurate in the tail
    gaps = np.diff(v)
    return float(v[0] * g(np.array([1.0]))[0] + _fixed_order_dot(g(s[:-1]), gaps))


def _memo(result: Any, key: Any, compute: Callable[[], float]) -> float:
    """``compute()``, memoised on an :class:`AggregateResult` (its grid is read-only), else computed."""
    memo = getattr(result, "memo", None)
    return memo(key, compute) if memo is not None else compute()


@dataclass(frozen=True)
class Principle:
    """A premium principle: ``name`` (registered in :data:`PRINCIPLE_REGISTRY`) with its ``parameter``.

    Use :func:`parse_principle` to build one from ``"name:parameter"``.
    """

    name: str
    parameter: float | None = None

    def __post_init__(self) -> None:
        name = self.name.strip().lower()
        name = _ALIASES.get(name, name)
        kind = PRINCIPLE_REGISTRY.get(name)
        if kind is None:
            raise InputError(f"unknown premium principle {self.name!r}; choose from {sorted(PRINCIPLE_REGISTRY)}",
                             field="principle")
        object.__setattr__(self, "name", name)
        par = self.parameter
        if par is None:
            par = kind.default
            if par is None and kind.needs_parameter:
                raise InputError(f"principle {name!r} needs a parameter, e.g. {name}:1e-7", field="principle")
        if par is not None:
            par = float(par)
            if not math.isfinite(par) or par < 0:
                raise InputError(f"parameter must be a non-negative number, got {self.parameter!r}",
                                 field="principle")
            msg = kind.check(par) if kind.check is not None else None
            if msg:
                raise InputError(msg, field="principle")
            lo, hi = kind.bounds
            if not lo <= par <= hi:
                raise InputError(f"{name} parameter {par:g} is outside the accepted range {lo:g} to {hi:g} "
                                 "(PRINCIPLE_BOUNDS, the bounds registered with each principle in "
                                 "underwriting/pricing/principles.py)", field="principle")
        object.__setattr__(self, "parameter", par)

    def __str__(self) -> str:
        return self.name if self.parameter is None else f"{self.name}:{self.parameter:g}"

    def technical_premium(self, result: AggregateResult, level: float = 0.995) -> float:
        """Technical premium (currency units) of the loss distribution ``result``."""
        return PRINCIPLE_REGISTRY[self.name].premium(result, self.parameter, level)


def parse_principle(spec: str | Principle) -> Principle:
    """``"cost_of_capital:0.10"`` -> ``Principle("cost_of_capital", 0.1)``."""
    if isinstance(spec, Principle):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InputError("give a principle as name or name:parameter, e.g. cost_of_capital:0.10", field="principle")
    name, _, par = spec.partition(":")
    if _ and not par.strip():
        raise InputError(f"missing parameter after ':' in {spec!r}", field="principle")
    try:
        value = float(par) if par.strip() else None
    except ValueError:
        raise InputError(f"parameter {par!r} is not a number", field="principle") from None
    return Principle(name, value)


# ---- the built-in principles ------------------------------------------------------------------------
# Bounds: a market uses a Wang lambda of roughly 0.1-0.5 and cost-of-capital rates of 6-15% a year (Wang 2000,
# "A class of distortion operators", JRI 67(1); Solvency II's risk margin uses 6%); the bounds are several
# times wider. ``variance`` has a parameter in 1/currency units, so only its sign is bounded; every
# principle's premium is also checked against the largest loss the layer can pay (pricing.premium).

register_principle("pure", lambda r, k, level: r.mean, default=None, description="expected loss",
                   aliases=("net",), needs_parameter=False)
register_principle("expected_value", lambda r, k, level: (1 + k) * r.mean, default=0.3,
                   description="(1 + theta) E[L]", symbol="θ", aliases=("ev",),
                   bounds=(0.0, 10.0))      # theta: a load of at most 10x the expected loss
register_principle("std", lambda r, k, level: r.mean + k * r.std, default=0.5, description="E[L] + k SD[L]",
                   symbol="k", aliases=("sd", "standard_deviation"),
                   bounds=(0.0, 10.0))      # k: at most ten standard deviations
register_principle("variance", lambda r, k, level: r.mean + k * r.variance, default=None,
                   description="E[L] + k Var[L]", symbol="k")
register_principle("cost_of_capital", lambda r, k, level: r.mean + k * max(r.tvar(level) - r.mean, 0.0),
                   default=0.10, description="E[L] + r (TVaR_p - E[L])", symbol="r", aliases=("coc",),
                   bounds=(0.0, 1.0))       # r: at most 100% a year on the capital held
register_principle("wang", lambda r, k, level: _memo(r, ("wang", k), lambda: distortion_premium(r, wang_distortion(k))),
                   default=0.2, description="Wang transform, lambda", symbol="λ",
                   bounds=(0.0, 3.0))       # lambda 3 already prices a 1-in-1000 year as a 1-in-2 one
register_principle("ph", lambda r, k, level: _memo(r, ("ph", k), lambda: distortion_premium(r, ph_distortion(k))),
                   default=0.8, description="proportional hazard, rho in (0, 1]", symbol="ρ",
                   aliases=("proportional_hazard",),
                   bounds=(1e-3, 1.0),      # below 1e-3, g(u) = u**rho is 1 for every u > 0
                   check=lambda k: None if 0 < k <= 1 else f"proportional-hazard rho must be in (0, 1], got {k!r}")
