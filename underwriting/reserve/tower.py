"""Coverage model and tower arithmetic: how much of the requirement a set of policies replaces.

The requirement ``R`` is a band of loss amounts ``[0, R]`` the reserve must be able to pay. What the
reserve is for is split into *cells*: custody tier (hot incl. warm, cold) × cause of loss (external
hack, third-party vendor, insider, social engineering), with weights ``w_c`` adding up to 1 (from
the regime's coverage block). A policy *i* covers cell *c* on the band ``[a_i, a_i + W_ic]`` where
``a_i`` = deductible + aggregate deductible (the retention stays in the reserve) and ``W_ic`` = the
limit, cut to any sub-limit on the cell's perils, or 0 if a peril is missing or excluded. Each
policy has a factor ``f_i`` in [0, 1] (0 if any test failed; else coinsurance × Π(1 − haircut)).

Credit before the regime cap::

    C = Σ_c w_c ∫_0^R max_{i covers c at x} f_i dx

Overlapping layers therefore count once, at the best factor available at each amount, so adding a
policy never lowers the credit and widening a limit never does either; ``C ≤ R`` always.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.reserve.regime import CAUSES, TIERS, Regime
from underwriting.reserve.requirement import Requirement

TIER_PERIL = {"hot": "hot_wallet_theft", "cold": "cold_wallet_theft"}
TIER_EXCLUSION = {"hot": None, "cold": "cold_wallet"}
CAUSE_PERIL = {"external_hack": None, "third_party_vendor": "third_party_vendor", "insider": "insider",
               "social_engineering": "social_engineering"}
CAUSE_EXCLUSION = CAUSE_PERIL


@dataclass(frozen=True)
class Layer:
    """One policy placed in the tower, in the requirement's currency.

    Attributes
    ----------
    policy_id : str
    attachment : float
        Deductible plus aggregate deductible, converted.
    widths : dict
        ``{(tier, cause): width}``: per-cell cover above the attachment (0 = not covered).
    factor : float
        Credit factor in [0, 1] (eligibility × haircuts × coinsurance).
    """

    policy_id: str
    attachment: float
    limit: float
    widths: dict[tuple[str, str], float]
    factor: float


def cell_weights(regime: Regime, sub: Submission, req: Requirement) -> dict[tuple[str, str], float]:
    """Weights of the (tier, cause) cells: tier weight × cause weight (they add up to 1)."""
    cov = regime.coverage
    if cov.tier_weights == "fixed":
        tw = dict(cov.fixed_tier_weights or {})
    else:
        if cov.tier_weights == "customer_assets":
            a = sub.exposure.customer_assets
            hot, cold = a.hot + a.warm, a.cold
        else:
            hot, cold = req.tier_amounts.get("hot", 0.0), req.tier_amounts.get("cold", 0.0)
        tot = hot + cold
        tw = {"hot": hot / tot, "cold": cold / tot} if tot > 0 else {"hot": 0.5, "cold": 0.5}
    return {(t, c): tw[t] * cov.cause_weights[c] for t in TIERS for c in CAUSES}


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


def tower_credit(layers: list[Layer], weights: dict[tuple[str, str], float], r: float) -> float:
    """Credit before the cap: ``Σ_c w_c ∫_0^R max f`` (see module docstring)."""
    total = 0.0
    for cell, w in weights.items():
        if w <= 0:
            continue
        iv = [(L.attachment, L.attachment + L.widths[cell], L.factor) for L in layers
              if L.widths[cell] > 0 and L.factor > 0]
        total += w * union_integral(iv, r)
    return min(total, r)


def coverage_share(layer: Layer, weights: dict[tuple[str, str], float], r: float) -> tuple[float, float]:
    """``(band, share)``: the layer's band inside ``[0, R]`` and the weighted share of it that is covered."""
    band = _clip(layer.attachment, layer.attachment + layer.limit, r)
    if band <= 0:
        return 0.0, 1.0
    cov = sum(w * _clip(layer.attachment, layer.attachment + layer.widths[c], r) for c, w in weights.items())
    return band, cov / band


def overlaps(layers: list[Layer], r: float) -> list[tuple[str, str, float, float]]:
    """Pairs of layers whose bands overlap inside ``[0, R]``: ``(id_a, id_b, from, to)``."""
    out = []
    for i, a in enumerate(layers):
        for b in layers[i + 1:]:
            lo = max(a.attachment, b.attachment, 0.0)
            hi = min(a.attachment + a.limit, b.attachment + b.limit, r)
            if hi > lo:
                out.append((a.policy_id, b.policy_id, lo, hi))
    return out


def segments(layers: list[Layer], r: float) -> list[dict[str, Any]]:
    """The tower as bands of ``[0, R]``: which policies sit on each band (for display and plots)."""
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
