"""Coverage model and tower arithmetic: how much of each requirement component a set of policies replaces.

A requirement is made of *components* ``k`` with amounts ``R_k`` that add up to the requirement:

* a custody-cover regime (Hong Kong) has one component per custody tier, ``R_hot`` (hot + warm
  client assets × their shares) and ``R_cold``, each answering only for losses of its own tier;
* any other regime has one component ``all tiers`` of amount ``R`` whose losses come from the hot or
  the cold tier in the regime's tier mix (customer assets or fixed weights).

Within a component, a loss comes from custody tier ``t`` with probability ``m_k(t)`` (1 for a
tier component) and from cause ``c`` (external hack, third-party vendor, insider, social
engineering) with probability ``w_c`` (the regime's cause weights). A policy *i* pays a loss of cell
``(t, c)`` on the band ``[a_i, a_i + W_itc]``: ``a_i`` = deductible + aggregate deductible (the
retention stays in the reserve), ``W_itc`` = the limit cut to any sub-limit on the cell's perils, or
0 when a peril is missing or excluded. Each policy has a factor ``f_i`` in [0, 1] (0 if any test
failed; else coinsurance × Π(1 − haircut)).

Credit of component ``k`` before the regime cap::

    C_k = Σ_{t,c} m_k(t) w_c ∫_0^{R_k} max_{i pays (t, c) at x} f_i dx     ≤ R_k

and the tower credit is ``Σ_k C_k`` (:func:`underwriting.reserve.allocation.tower_credit`, which also holds
each policy to what it can pay over all components). Overlapping layers count once, at the best factor available at
each amount; a policy's band is measured against the component it answers for (a hot-only policy
earns credit on ``[0, R_hot]``, never on the cold part); adding a policy or widening a limit never
lowers the credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.reserve.regime import CAUSES, TIERS, Regime
from underwriting.reserve.regime_params import register_rule_kind_elsewhere
from underwriting.reserve.requirement import Requirement

#: The ``coverage`` rule kind (what the reserve is for, by tier and cause) is evaluated here, with the
#: requirement's components, not by :mod:`underwriting.reserve.rules`.
register_rule_kind_elsewhere("coverage")

TIER_PERIL = {"hot": "hot_wallet_theft", "cold": "cold_wallet_theft"}
TIER_EXCLUSION = {"hot": None, "cold": "cold_wallet"}
CAUSE_PERIL = {"external_hack": None, "third_party_vendor": "third_party_vendor", "insider": "insider",
               "social_engineering": "social_engineering"}
CAUSE_EXCLUSION = CAUSE_PERIL
Cell = tuple[str, str]


@dataclass(frozen=True)
class Layer:
    """One policy placed in the tower, in the requirement's currency.

    Attributes
    ----------
    policy_id : str
    attachment : float
        Deductible plus aggregate deductible, converted.
    limit : float
        Per-occurrence limit, converted.
    widths : dict
        ``{(tier, cause): width}``: per-cell cover above the attachment (0 = not covered).
    factor : float
        Credit factor in [0, 1] (eligibility × haircuts × coinsurance).
    payable : float
        Most loss the insurer pays on over the period, before its share (:func:`payable_amount`),
        converted; ``inf`` for no bound. Bounds the policy's credit summed over the components
        (:mod:`underwriting.reserve.allocation`).
    """

    policy_id: str
    attachment: float
    limit: float
    widths: dict[Cell, float]
    factor: float
    payable: float = float("inf")


def payable_amount(pol: PolicyTerms) -> float:
    """Most loss ``pol`` pays on over its period, in its currency, before its share.

    The aggregate limit when the terms state one; otherwise ``limit × (1 + reinstatements)``: a limit
    that is not reinstated is paid once (the reserve reads no stated aggregate as no more than the
    limit and its reinstatements, the conservative reading; the pricing engine prices such a layer
    without an aggregate cap).
    """
    if pol.aggregate_limit is not None:
        return float(pol.aggregate_limit)
    return float(pol.limit) * (1 + int(pol.reinstatements))


@dataclass(frozen=True)
class Component:
    """One part of the requirement and the custody tiers its losses come from.

    Attributes
    ----------
    name : str
        ``"hot"``, ``"cold"`` (tier components) or ``"all tiers"``.
    amount : float
        ``R_k`` in the requirement currency.
    tier_mix : dict
        ``{tier: share}``, adding up to 1.
    cause_weights : dict
        ``{cause: share}``, adding up to 1 (the regime's coverage weights).
    """

    name: str
    amount: float
    tier_mix: dict[str, float]
    cause_weights: dict[str, float] = field(default_factory=dict)

    def cells(self) -> dict[Cell, float]:
        """Weights ``m_k(t) × w_c`` of the (tier, cause) cells inside the component (they add up to 1)."""
        return {(t, c): self.tier_mix.get(t, 0.0) * self.cause_weights[c] for t in TIERS for c in CAUSES}


def components(regime: Regime, sub: Submission, req: Requirement) -> list[Component]:
    """Split the requirement into the components policies are measured against (see module docstring)."""
    cov = regime.coverage
    cw = dict(cov.cause_weights)
    if cov.tier_weights == "requirement_components" and req.tier_amounts:
        return [Component(t, float(req.tier_amounts.get(t, 0.0)), {t: 1.0}, cw) for t in TIERS]
    if cov.tier_weights == "fixed":
        tw = dict(cov.fixed_tier_weights or {})
    else:
        a = sub.exposure.customer_assets
        hot, cold = a.hot + a.warm, a.cold
        tot = hot + cold
        tw = {"hot": hot / tot, "cold": cold / tot} if tot > 0 else {"hot": 0.5, "cold": 0.5}
    return [Component("all tiers", req.amount, tw, cw)]


def cell_weights(comps: list[Component]) -> dict[Cell, float]:
    """Weights of the cells over the whole requirement: ``Σ_k R_k m_k(t) w_c / R`` (display only)."""
    total = sum(k.amount for k in comps)
    out = {(t, c): 0.0 for t in TIERS for c in CAUSES}
    for k in comps:
        share = k.amount / total if total > 0 else 1.0 / len(comps)
        for cell, w in k.cells().items():
            out[cell] += share * w
    return out


def cell_width(pol: PolicyTerms, tier: str, cause: str, limit: float) -> float:
    """Cover width (in the policy currency) the policy gives a cell: 0 if a peril is missing/excluded."""
    width = limit
    tp, cp = TIER_PERIL[tier], CAUSE_PERIL[cause]
    if tp not in pol.perils or (TIER_EXCLUSION[tier] and TIER_EXCLUSION[tier] in pol.exclusions):
        return 0.0
    width = min(width, pol.sublimits.get(tp, width))  # type: ignore[arg-type]
    if cp is not None:
        if cp not in pol.perils or CAUSE_EXCLUSION[cause] in pol.exclusions:
            return 0.0
        width = min(width, pol.sublimits.get(cp, width))  # type: ignore[arg-type]
    return width


def _clip(a: float, b: float, r: float) -> float:
    return max(0.0, min(b, r) - max(a, 0.0))


def union_integral(intervals: list[tuple[float, float, float]], r: float) -> float:
    """∫_0^r max{f : a ≤ x < b} dx over ``(a, b, f)`` intervals (0 where none covers)."""
    pts = sorted({0.0, r, *(min(max(a, 0.0), r) for a, _, _ in intervals),
                  *(min(max(b, 0.0), r) for _, b, _ in intervals)})
    total = 0.0
    for lo, hi in zip(pts, pts[1:], strict=False):
        if hi <= lo:
            continue
        mid = 0.5 * (lo + hi)
        f = max((f for a, b, f in intervals if a <= mid < b), default=0.0)
        total += f * (hi - lo)
    return total


def component_credit(layers: list[Layer], comp: Component) -> float:
    """``C_k = Σ_cells m_k(t) w_c ∫_0^{R_k} max f`` (see module docstring), never above ``R_k``."""
    total = 0.0
    for cell, w in comp.cells().items():
        if w <= 0:
            continue
        iv = [(L.attachment, L.attachment + L.widths[cell], L.factor) for L in layers
              if L.widths[cell] > 0 and L.factor > 0]
        total += w * union_integral(iv, comp.amount)
    return min(total, comp.amount)


def layer_in_component(layer: Layer, comp: Component) -> dict[str, float]:
    """A layer's place in one component: its band inside ``[0, R_k]`` and the share of it covered.

    Returns ``{"band_from", "band_to", "band", "covered_share"}``; ``covered_share`` is the cell-weighted
    share of the band the policy's perils answer for (before its factor).
    """
    lo = min(max(layer.attachment, 0.0), comp.amount)
    hi = min(max(layer.attachment + layer.limit, 0.0), comp.amount)
    band = max(0.0, hi - lo)
    if band <= 0:
        return {"band_from": lo, "band_to": hi, "band": 0.0, "covered_share": 0.0}
    cov = sum(w * _clip(layer.attachment, layer.attachment + layer.widths[c], comp.amount)
              for c, w in comp.cells().items())
    return {"band_from": lo, "band_to": hi, "band": band, "covered_share": cov / band}


def coverage_share(layer: Layer, comps: list[Component]) -> tuple[float, float]:
    """``(band, share)`` over the components the layer answers for (covered share > 0).

    ``band`` is the layer's band summed over those components; ``share`` the covered part of it.
    A layer answering for no component returns ``(0, 0)``.
    """
    band = cov = 0.0
    for k in comps:
        p = layer_in_component(layer, k)
        if p["covered_share"] > 0:
            band += p["band"]
            cov += p["band"] * p["covered_share"]
    return (band, cov / band) if band > 0 else (0.0, 0.0)


def overlaps(layers: list[Layer], r: float) -> list[tuple[str, str, float, float]]:
    """Pairs of layers whose bands overlap inside ``[0, r]``: ``(id_a, id_b, from, to)``."""
    out = []
    for i, a in enumerate(layers):
        for b in layers[i + 1:]:
            lo = max(a.attachment, b.attachment, 0.0)
            hi = min(a.attachment + a.limit, b.attachment + b.limit, r)
            if hi > lo:
                out.append((a.policy_id, b.policy_id, lo, hi))
    return out


def segments(layers: list[Layer], r: float) -> list[dict[str, Any]]:
    """The tower as bands of ``[0, r]``: which policies sit on each band (for display and plots)."""
    pts = sorted({0.0, r, *(min(max(L.attachment, 0.0), r) for L in layers),
                  *(min(max(L.attachment + L.limit, 0.0), r) for L in layers)})
    out = []
    for lo, hi in zip(pts, pts[1:], strict=False):
        if hi <= lo:
            continue
        mid = 0.5 * (lo + hi)
        ids = [L.policy_id for L in layers if L.attachment <= mid < L.attachment + L.limit]
        out.append({"from": lo, "to": hi, "policies": ids})
    return out
