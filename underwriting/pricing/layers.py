"""Policy terms: per-occurrence and aggregate layers, share, reinstatements, sub-limits.

Vocabulary (all amounts in currency units, e.g. USD):

* ``deductible`` ``d`` and ``limit`` ``l`` per occurrence: the limit is the *width* of cover
  above the deductible, so "9M xs 1M" pays ``min((X - 1M)+, 9M)`` for a loss ``X``;
* ``agg_deductible`` and ``agg_limit`` over the term, applied to the sum of the occurrence
  payments;
* ``share``: the insurer's proportion (coinsurance) of what the layer pays;
* ``reinstatements``: number of times the occurrence limit is restored after being used,
  each for a premium of ``reinstatement_premium`` (fraction of the upfront premium), pro rata
  to the amount of limit reinstated (``pro_rata_amount=True``, the default) or charged in full
  as soon as the reinstated limit is used; with ``n`` reinstatements and no explicit aggregate
  limit, the aggregate limit is ``(n + 1) * limit``;
* ``sublimits``: lower per-occurrence limits for named perils (see
  :data:`underwriting.losses.aggregate.PERILS`);
* ``term_years``: the policy term; frequencies passed to pricing are counts over the term.

Layer algebra: for any loss ``x``, ``retained(x) + ceded(x) == x`` and the ceded amounts of
the layers of a :func:`tower` add up to ``min(x, top of tower)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.aggregate import PERILS, AggregateResult, Peril, check_amount, compound
from underwriting.losses.aggregate.discretisation import cacheable_severity
from underwriting.losses.severity import Severity

__all__ = ["Layer", "tower", "split_gross", "layer_loss", "format_amount", "MAX_REINSTATEMENTS"]


#: Most reinstatements a layer may carry (each costs a pass over the aggregate distribution).
MAX_REINSTATEMENTS = 100


def format_amount(v: float) -> str:
    """Short human form of an amount: 9000000 -> '9M', 2500 -> '2.5k', inf -> 'unlimited'."""
    if not math.isfinite(v):
        return "unlimited"
    for div, suf in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.6g}{suf}"
    return f"{v:.6g}"


def layer_loss(x: Any, deductible: float = 0.0, limit: float = math.inf) -> np.ndarray:
    """Per-occurrence payment ``min((x - deductible)+, limit)`` (vectorised, currency units)."""
    return np.clip(np.asarray(x, dtype=float) - deductible, 0.0, limit)


@dataclass(frozen=True)
class Layer:
    """An insurance layer (immutable; validated on creation).

    Parameters
    ----------
    deductible : float
        Per-occurrence deductible / attachment (currency units, >= 0).
    limit : float
        Per-occurrence limit = width of cover above the deductible (> 0; ``inf`` unlimited).
    agg_deductible : float
        Aggregate deductible over the term (>= 0).
    agg_limit : float, optional
        Aggregate limit over the term; default ``(reinstatements + 1) * limit`` when
        reinstatements are given, else unlimited.
    share : float
        Insurer's share of the layer, in (0, 1].
    reinstatements : int
        Number of reinstatements of the occurrence limit (>= 0).
    reinstatement_premium : float or sequence of float
        Premium for each reinstatement as a fraction of the upfront premium (1.0 = 100%); one
        value for all, or one per reinstatement.
    pro_rata_amount : bool
        Reinstatement premium pro rata to the amount reinstated (else charged in full as soon
        as the reinstated limit is touched).
    sublimits : mapping of peril name to float
        Per-occurrence sub-limits by peril (the effective limit is the lower of the two).
    term_years : float
        Policy term in years (> 0).
    """

    deductible: float = 0.0
    limit: float = math.inf
    agg_deductible: float = 0.0
    agg_limit: float | None = None
    share: float = 1.0
    reinstatements: int = 0
    reinstatement_premium: float | tuple[float, ...] = 1.0
    pro_rata_amount: bool = True
    sublimits: Mapping[str, float] = field(default_factory=dict)
    term_years: float = 1.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "deductible", check_amount("deductible", self.deductible))
        set_(self, "limit", check_amount("limit", self.limit, allow_inf=True, positive=True))
        set_(self, "agg_deductible", check_amount("agg_deductible", self.agg_deductible))
        n = self.reinstatements
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise InputError(f"must be a non-negative integer, got {n!r}", field="reinstatements")
        if n > MAX_REINSTATEMENTS:
            raise InputError(f"at most {MAX_REINSTATEMENTS} reinstatements, got {n!r}", field="reinstatements")
        set_(self, "reinstatements", int(n))
        if not isinstance(self.pro_rata_amount, bool | np.bool_):
            raise InputError(f"must be true or false, got {self.pro_rata_amount!r}", field="pro_rata_amount")
        set_(self, "pro_rata_amount", bool(self.pro_rata_amount))
        if self.agg_limit is None:
            agg = (n + 1) * self.limit if n > 0 else math.inf
        else:
            agg = check_amount("agg_limit", self.agg_limit, allow_inf=True, positive=True)
        set_(self, "agg_limit", agg)
        share = check_amount("share", self.share)
        if not (0 < share <= 1):
            raise InputError(f"insurer's share must be in (0, 1], got {self.share!r}", field="share")
        set_(self, "share", share)
        rp = self.reinstatement_premium
        rps = tuple(float(v) for v in (rp if isinstance(rp, Sequence) else [rp] * max(n, 1)))
        if n > 0 and len(rps) != n:
            raise InputError(f"give one reinstatement premium or {n}, got {len(rps)}", field="reinstatement_premium")
        if any((not math.isfinite(v)) or v < 0 for v in rps):
            raise InputError("reinstatement premiums must be non-negative fractions", field="reinstatement_premium")
        set_(self, "reinstatement_premium", rps[:n] if n > 0 else ())
        if n > 0 and not math.isfinite(self.limit):
            raise InputError("reinstatements need a finite occurrence limit", field="reinstatements")
        subs = {}
        for k, v in dict(self.sublimits).items():
            if k not in PERILS:
                raise InputError(f"unknown peril {k!r}; choose from {list(PERILS)}", field="sublimits")
            subs[k] = check_amount(f"sublimits.{k}", v, allow_inf=True, positive=True)
        set_(self, "sublimits", _FrozenDict(sorted(subs.items())))
        t = check_amount("term_years", self.term_years, positive=True)
        if math.isinf(t):
            raise InputError("must be finite", field="term_years")
        set_(self, "term_years", t)

    # --- descriptions -----------------------------------------------------------------------
    @property
    def exhaustion_point(self) -> float:
        """Ground-up loss at which one occurrence uses up the limit: ``deductible + limit``."""
        return self.deductible + self.limit

    @property
    def label(self) -> str:
        """Market shorthand, e.g. ``'9M xs 1M'``."""
        s = f"{format_amount(self.limit)} xs {format_amount(self.deductible)}"
        if self.share != 1:
            s = f"{self.share:.4g} of {s}"
        return s

    def peril_limit(self, peril: str) -> float:
        """Effective per-occurrence limit for a peril (the sub-limit when lower)."""
        return min(self.limit, self.sublimits.get(peril, math.inf))

    # --- loss algebra -----------------------------------------------------------------------
    def occurrence(self, x: Any, peril: str | None = None) -> np.ndarray:
        """Layer payment per occurrence, 100% basis: ``min((x - d)+, l)``."""
        lim = self.peril_limit(peril) if peril else self.limit
        return layer_loss(x, self.deductible, lim)

    def ceded(self, x: Any, peril: str | None = None) -> np.ndarray:
        """Insurer's payment for one occurrence of size ``x``: ``share * min((x - d)+, l)``."""
        return self.share * self.occurrence(x, peril)

    def retained(self, x: Any, peril: str | None = None) -> np.ndarray:
        """What the insured keeps of one occurrence: ``x - ceded(x)``."""
        return np.asarray(x, dtype=float) - self.ceded(x, peril)

    def aggregate(self, s: Any) -> np.ndarray:
        """Insurer's payment over the term from the sum ``s`` of occurrence payments (100%)."""
        return self.share * np.clip(np.asarray(s, dtype=float) - self.agg_deductible, 0.0, self.agg_limit)

    def annual_ceded(self, occurrences: Sequence[float], perils: Sequence[str] | None = None) -> float:
        """Insurer's payment over the term for a list of ground-up occurrence amounts."""
        x = np.asarray(occurrences, dtype=float)
        if perils is None:
            occ = self.occurrence(x)
        else:
            occ = np.array([float(self.occurrence(v, p)) for v, p in zip(x, perils, strict=True)])
        return float(self.aggregate(occ.sum()))

    def expected_occurrence_loss(self, severity: Severity, peril: str | None = None) -> float:
        """Expected layer payment per occurrence at 100%: ``LEV(d + l) - LEV(d)``."""
        lim = self.peril_limit(peril) if peril else self.limit
        return _layer_mean(severity, self.deductible, lim)

    # --- distribution -----------------------------------------------------------------------
    def loss_distribution(self, perils: Peril | Sequence[Peril], **engine: Any) -> AggregateResult:
        """Distribution of the insurer's loss over the term (see :func:`~underwriting.losses.aggregate.compound`)."""
        return compound(perils, deductible=self.deductible, limit=self.limit, sublimits=dict(self.sublimits),
                        agg_deductible=self.agg_deductible, agg_limit=self.agg_limit, share=self.share,
                        **engine)

    def reinstatement_factor(self, result: AggregateResult) -> float:
        """Expected reinstatement premium as a fraction of the upfront premium.

        Reinstatement ``i`` (1-based) restores the limit used between ``(i-1) l`` and
        ``i l`` of aggregate occurrence payments (after the aggregate deductible), so its
        expected premium is ``c_i E[min((S - D_a - (i-1) l)+, l)] / l`` pro rata to amount, or
        ``c_i P(S - D_a > (i-1) l)`` when charged in full; for the first reinstatement without
        an aggregate deductible that is the exact probability of attaching.
        """
        if self.reinstatements == 0:
            return 0.0
        s100 = result.values / self.share  # min((S - D_a)+, L_a), 100% basis
        total = 0.0
        for i, c in enumerate(self.reinstatement_premium, start=1):
            lo = (i - 1) * self.limit
            if self.pro_rata_amount:
                used = np.clip(s100 - lo, 0.0, self.limit)
                total += c * float(_fixed_order_dot(used, result.probs)) / self.limit
            elif i == 1:
                # the first reinstatement is charged whenever the layer attaches: the engine's
                # P(attach), exact 1 - P_N(F_X(d)) without an aggregate deductible and the model's
                # P(S > D_a) with one, not the grid's mass above (lowered by mass dispersal)
                total += c * float(result.prob_attach)
            elif result.method != "mc" and result.bucket:
                # the model's P(S - D_a > (i-1) l) on the grid: the mass above the grid point plus
                # half its continuous mass, never its atom (S = (i-1) l exactly: whole limits used
                # up and nothing else, which touches no reinstated limit)
                total += c * float(result.sf(self.share * lo, smooth=True))
            else:
                total += c * float(result.probs[s100 > lo + 1e-9 * self.limit].sum())
        return total

    def with_(self, **changes: Any) -> Layer:
        """A copy with some terms changed (validated again).

        An aggregate limit that was derived from the terms (``(n + 1) * limit``, or unlimited
        without reinstatements) is derived again from the new terms; an explicit one is kept.
        A single reinstatement premium carries over to a new number of reinstatements.
        """
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        n = self.reinstatements
        derived_agg = (n + 1) * self.limit if n > 0 else math.inf
        if "agg_limit" not in changes and self.agg_limit == derived_agg:
            d["agg_limit"] = None
        if "reinstatements" in changes and "reinstatement_premium" not in changes:
            rps = set(self.reinstatement_premium)
            if len(rps) <= 1:
                d["reinstatement_premium"] = rps.pop() if rps else 1.0
        d["sublimits"] = dict(self.sublimits)
        d.update(changes)
        return Layer(**d)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-ready: infinite amounts become None)."""
        def fin(v):
            return v if math.isfinite(v) else None
        return {"deductible": self.deductible, "limit": fin(self.limit), "agg_deductible": self.agg_deductible,
                "agg_limit": fin(self.agg_limit), "share": self.share, "reinstatements": self.reinstatements,
                "reinstatement_premium": list(self.reinstatement_premium), "pro_rata_amount": self.pro_rata_amount,
                "sublimits": {k: fin(v) for k, v in self.sublimits.items()}, "term_years": self.term_years,
                "label": self.label}


class _FrozenDict(dict):
    """A read-only dict (hashable) for the sub-limits of a frozen Layer."""

    def _ro(self, *a, **k):
        raise TypeError("Layer.sublimits is read-only; use Layer.with_(sublimits=...)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _ro  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def tower(limits: Sequence[float], attachment: float = 0.0, **terms: Any) -> tuple[Layer, ...]:
    """Stacked layers: the first attaches at ``attachment``, each next one where the last ends.

    Parameters
    ----------
    limits : sequence of float
        Width of each layer from the bottom up (currency units).
    attachment : float
        Deductible of the lowest layer.
    **terms
        Other :class:`Layer` terms applied to every layer (e.g. ``share``).
    """
    out = []
    d = float(attachment)
    for lim in limits:
        out.append(Layer(deductible=d, limit=lim, **terms))
        d += float(lim)
    return tuple(out)


def split_gross(x: Any, layers: Layer | Sequence[Layer]) -> tuple[np.ndarray, np.ndarray]:
    """Split ground-up occurrence losses into (retained, ceded) over one or more layers.

    ``retained + ceded == x`` element-wise; ceded is the sum over the layers.
    """
    ls = (layers,) if isinstance(layers, Layer) else tuple(layers)
    xa = np.asarray(x, dtype=float)
    ceded = np.zeros_like(xa)
    for layer in ls:
        ceded = ceded + layer.ceded(xa)
    return xa - ceded, ceded


@register_cache
@functools.lru_cache(maxsize=1024, typed=True)
def _layer_mean_cached(severity: Any, deductible: float, limit: float) -> float:
    return float(severity.layer_mean(deductible, limit))


def _layer_mean(severity: Any, deductible: float, limit: float) -> float:
    """``severity.layer_mean(deductible, limit)`` as a float, cached by value for the package's own
    (frozen, parameter-compared) severities: the ILF table of a quote's layer is the same at every
    frequency (premium-range ends) and for every warm quote."""
    if cacheable_severity(severity):
        try:
            return _layer_mean_cached(severity, deductible, limit)
        except TypeError:  # an unhashable argument
            pass
    return float(severity.layer_mean(deductible, limit))
