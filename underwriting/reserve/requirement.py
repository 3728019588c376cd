"""Requirement calculators: one pure function per method a regime file may name.

Each returns a :class:`Requirement` in the submission's currency with every input and
intermediate figure, so the number can be re-done by hand. Amounts the regime states in its own
currency (a euro minimum, a yen floor) are converted at the as-of year's rate, and the rate is
recorded in the FX log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.reserve.figures import Figure, FxLog
from underwriting.reserve.regime import Param, Regime, typed_requirement_params
from underwriting.reserve.regime_params import (
    REQUIREMENT_METHOD_REGISTRY,
    BaselBiaParams,
    CustodyCoverParams,
    MicaParams,
    VaraCapitalParams,
    VolumeIncidentParams,
    requirement_method,
)


@dataclass(frozen=True)
class Requirement:
    """The reserve (or capital, or cover) a regime requires.

    Attributes
    ----------
    amount : float
        Requirement in ``currency``.
    currency : str
        The submission's currency.
    formula : str
        The formula in words.
    inputs, steps : tuple of Figure
        Inputs (regime parameters and submission fields) and intermediate figures.
    tier_amounts : dict
        For requirements built from custody tiers: ``{"hot": ..., "cold": ...}`` (else empty).
    """

    amount: float
    currency: str
    formula: str
    inputs: tuple[Figure, ...]
    steps: tuple[Figure, ...]
    tier_amounts: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "amount": self.amount, "currency": self.currency, "formula": self.formula,
            "inputs": [f.to_dict() for f in self.inputs], "steps": [f.to_dict() for f in self.steps],
            "tier_amounts": dict(self.tier_amounts),
        }


def _pfig(name: str, p: Param, value: Any | None = None, unit: str | None = None) -> Figure:
    v = p.value if value is None else value
    if isinstance(v, dict):
        v = ", ".join(f"{k}: {x:,}" if isinstance(x, int | float) else f"{k}: {x}" for k, x in v.items())
    return Figure(name, v if isinstance(v, int | float | str) else str(v), unit if unit is not None else p.unit,
                  p.status, p.source)


def _sub(name: str, value: float, unit: str, fieldpath: str) -> Figure:
    return Figure(name, value, unit, "input", f"submission {fieldpath}")


@requirement_method("volume_incident", VolumeIncidentParams)
def volume_incident(sub: Submission, regime: Regime, fx: FxLog) -> Requirement:
    """Volume- and incident-based requirement (model for the pending Japanese reserve).

    ``requirement = clip(base_rate × V × F, floor, cap)`` with ``V`` the 12-month trading volume and
    ``F = min(factor_cap, 1 + multiplier × incident_rate)``, ``incident_rate`` = losses (or
    compensation) in the prior ``window`` years ÷ (``V`` × ``volume_base_years``), after the
    Commodity Futures Industry Association's incident rate. Floor and cap are in the regime currency.
    """
    p: VolumeIncidentParams = typed_requirement_params(regime)  # type: ignore[assignment]
    rp = regime.requirement.params
    cur = sub.currency
    v = sub.exposure.trading_volume_12m
    inputs = [_sub("trading_volume_12m", v, cur, "exposure.trading_volume_12m")]
    for n in ("base_rate", "incident_window_years", "volume_base_years", "incident_measure",
              "partial_reimbursement_share", "incident_multiplier", "incident_factor_cap", "floor", "cap"):
        inputs.append(_pfig(n, rp[n]))
    base = p.base_rate * v
    steps = [Figure("base = base_rate × volume", base, cur)]
    window_start = _years_before(sub.as_of, p.incident_window_years)
    total = 0.0
    for i, inc in enumerate(sub.incidents):
        if not (window_start < inc.date <= sub.as_of):
            steps.append(Figure(f"incident {i} ({inc.date})", 0.0, cur, "input",
                                f"outside the {p.incident_window_years:g}-year window after {window_start}"))
            continue
        amt = fx.convert(inc.amount, inc.currency, cur, f"incident {i} amount", year=inc.date.year)
        if p.incident_measure == "compensation":
            share = {"full": 1.0, "partial": p.partial_reimbursement_share, "none": 0.0, "unknown": 1.0}[
                inc.customers_reimbursed]
            amt *= share
            note = f"compensation ({inc.customers_reimbursed}: ×{share:g}; unknown counted in full)"
        else:
            note = "loss amount"
        total += amt
        steps.append(Figure(f"incident {i} ({inc.date}, {inc.custody_tier}, {inc.vector})", amt, cur, "input", note))
    denom = v * p.volume_base_years
    rate = total / denom if denom > 0 else 0.0
    factor = min(p.incident_factor_cap, 1.0 + p.incident_multiplier * rate)
    raw = base * factor
    floor = fx.convert(p.floor, regime.currency, cur, "requirement floor")
    cap = fx.convert(p.cap, regime.currency, cur, "requirement cap")
    amount = min(max(raw, floor), cap)
    steps += [
        Figure(f"incident {p.incident_measure} in window ({window_start} to {sub.as_of})", total, cur),
        Figure("volume base = volume × volume_base_years", denom, cur),
        Figure("incident_rate = incident total ÷ volume base", rate, "share"),
        Figure("incident_factor = min(factor_cap, 1 + multiplier × incident_rate)", factor, "×"),
        Figure("raw = base × incident_factor", raw, cur),
        Figure("floor (converted)", floor, cur), Figure("cap (converted)", cap, cur),
        Figure("requirement = min(max(raw, floor), cap)", amount, cur),
    ]
    return Requirement(amount, cur, regime.requirement.formula, tuple(inputs), tuple(steps))


@requirement_method("mica_art67", MicaParams)
def mica_art67(sub: Submission, regime: Regime, fx: FxLog) -> Requirement:
    """MiCA Art. 67(1): the higher of the Annex IV permanent minimum and ¼ of prior-year fixed overheads."""
    p: MicaParams = typed_requirement_params(regime)  # type: ignore[assignment]
    rp = regime.requirement.params
    cur = sub.currency
    fo = sub.exposure.fixed_overheads_prior_year
    minimum_reg = p.class_minimums[str(p.casp_class)]  # type: ignore[index]
    minimum = fx.convert(minimum_reg, regime.currency, cur, "permanent minimum capital")
    quarter = p.overheads_fraction * fo
    amount = max(minimum, quarter)
    inputs = [_sub("fixed_overheads_prior_year", fo, cur, "exposure.fixed_overheads_prior_year"),
              _pfig("casp_class", rp["casp_class"]), _pfig("class_minimums", rp["class_minimums"]),
              _pfig("overheads_fraction", rp["overheads_fraction"])]
    steps = [Figure(f"permanent minimum (class {p.casp_class})", minimum_reg, regime.currency),
             Figure("permanent minimum (converted)", minimum, cur),
             Figure("overheads_fraction × fixed overheads", quarter, cur),
             Figure("requirement = max(minimum, fraction × overheads)", amount, cur)]
    return Requirement(amount, cur, regime.requirement.formula, tuple(inputs), tuple(steps))


@requirement_method("basel_bia", BaselBiaParams)
def basel_bia(sub: Submission, regime: Regime, fx: FxLog) -> Requirement:
    """Operational-risk charge, Basic Indicator Approach style: ``alpha × gross income``.

    Gross income is the regime parameter ``gross_income`` (in the submission's currency; override it
    with ``--param requirement.gross_income=...``) or, when it is ``"proxy"``, a fee-rate proxy
    ``gross_income_fee_rate × trading_volume_12m`` (an assumption, shown as such).
    """
    p: BaselBiaParams = typed_requirement_params(regime)  # type: ignore[assignment]
    rp = regime.requirement.params
    cur = sub.currency
    v = sub.exposure.trading_volume_12m
    inputs = [_pfig("alpha", rp["alpha"]), _pfig("gross_income", rp["gross_income"])]
    steps = []
    if p.gross_income == "submission":
        gi_sub = sub.exposure.gross_income
        if gi_sub is None:
            raise InputError("Basel's operational-risk charge needs the exchange's annual gross income: give "
                             "exposure.gross_income in the submission (or --param requirement.gross_income=AMOUNT; "
                             "or --param requirement.gross_income=\"proxy\" for a fee-rate proxy, printed as such)",
                             field="exposure.gross_income")
        gi = float(gi_sub)
        inputs.append(_sub("gross_income", gi, cur, "exposure.gross_income"))
        steps.append(Figure("gross income (from the submission)", gi, cur, "input", "submission exposure.gross_income"))
    elif p.gross_income == "proxy":
        gi = p.gross_income_fee_rate * v
        inputs += [_sub("trading_volume_12m", v, cur, "exposure.trading_volume_12m"),
                   _pfig("gross_income_fee_rate", rp["gross_income_fee_rate"])]
        steps.append(Figure("gross income PROXY (not the exchange's figure) = fee rate × volume", gi, cur,
                            "assumption", rp["gross_income_fee_rate"].source))
    else:
        gi = float(p.gross_income)
        steps.append(Figure("gross income (given)", gi, cur, rp["gross_income"].status, rp["gross_income"].source))
    amount = p.alpha * gi
    steps.append(Figure("operational-risk charge = alpha × gross income", amount, cur))
    return Requirement(amount, cur, regime.requirement.formula, tuple(inputs), tuple(steps))


@requirement_method("custody_cover", CustodyCoverParams)
def custody_cover(sub: Submission, regime: Regime, fx: FxLog) -> Requirement:
    """Cover of client assets by custody tier: ``hot_share × hot + warm_share × warm + cold_share × cold``."""
    p: CustodyCoverParams = typed_requirement_params(regime)  # type: ignore[assignment]
    rp = regime.requirement.params
    cur = sub.currency
    a = sub.exposure.customer_assets
    hot = p.hot_share * a.hot + p.warm_share * a.warm
    cold = p.cold_share * a.cold
    inputs = [_sub("customer_assets.hot", a.hot, cur, "exposure.customer_assets.hot"),
              _sub("customer_assets.warm", a.warm, cur, "exposure.customer_assets.warm"),
              _sub("customer_assets.cold", a.cold, cur, "exposure.customer_assets.cold"),
              _pfig("hot_share", rp["hot_share"]), _pfig("warm_share", rp["warm_share"]),
              _pfig("cold_share", rp["cold_share"])]
    steps = [Figure("hot part = hot_share × hot + warm_share × warm", hot, cur),
             Figure("cold part = cold_share × cold", cold, cur),
             Figure("requirement = hot part + cold part", hot + cold, cur)]
    return Requirement(hot + cold, cur, regime.requirement.formula, tuple(inputs), tuple(steps),
                       {"hot": hot, "cold": cold})


@requirement_method("vara_capital", VaraCapitalParams)
def vara_capital(sub: Submission, regime: Regime, fx: FxLog) -> Requirement:
    """Dubai VARA paid-up capital (Company Rulebook Part VI), from fixed annual overheads.

    Exchange services: ``max(AED 800k, 15% × overheads)`` with a VARA-licensed custodian, else
    ``max(AED 1.5m, 25% × overheads)``; an exchange holding client assets itself also provides custody
    services: ``max(AED 600k, 25% × overheads)``. Parts are combined by ``combine`` (``sum`` or
    ``max``). AED amounts are converted to USD at the regime's ``aed_per_usd`` peg, then to the
    submission currency.
    """
    p: VaraCapitalParams = typed_requirement_params(regime)  # type: ignore[assignment]
    rp = regime.requirement.params
    cur = sub.currency
    fo = sub.exposure.fixed_overheads_prior_year

    def aed(x: float, purpose: str) -> float:
        return fx.convert(x / p.aed_per_usd, "USD", cur, purpose)

    names = ["aed_per_usd", "uses_licensed_custodian", "combine"]
    if p.uses_licensed_custodian:
        ex_min, ex_frac = p.exchange_min_with_custodian, p.exchange_fraction_with_custodian
        names += ["exchange_min_with_custodian", "exchange_fraction_with_custodian"]
    else:
        ex_min, ex_frac = p.exchange_min_otherwise, p.exchange_fraction_otherwise
        names += ["exchange_min_otherwise", "exchange_fraction_otherwise", "custody_min", "custody_fraction"]
    inputs = [_sub("fixed_overheads_prior_year", fo, cur, "exposure.fixed_overheads_prior_year")]
    inputs += [_pfig(n, rp[n]) for n in names]
    ex_min_c = aed(ex_min, "VARA minimum capital (AED at the peg)")
    exchange = max(ex_min_c, ex_frac * fo)
    steps = [Figure("exchange services minimum (AED)", ex_min, "AED"),
             Figure("exchange services minimum (converted at the peg)", ex_min_c, cur),
             Figure(f"exchange services = max(minimum, {ex_frac:.0%} × overheads)", exchange, cur)]
    amount = exchange
    if not p.uses_licensed_custodian:
        cu_min_c = aed(p.custody_min, "VARA minimum capital (AED at the peg)")
        custody = max(cu_min_c, p.custody_fraction * fo)
        amount = exchange + custody if p.combine == "sum" else max(exchange, custody)
        steps += [Figure("custody services minimum (AED)", p.custody_min, "AED"),
                  Figure("custody services minimum (converted at the peg)", cu_min_c, cur),
                  Figure(f"custody services = max(minimum, {p.custody_fraction:.0%} × overheads)", custody, cur)]
    steps.append(Figure(f"requirement = {p.combine} of the activities' paid-up capital", amount, cur))
    return Requirement(amount, cur, regime.requirement.formula, tuple(inputs), tuple(steps))


def compute_requirement(sub: Submission, regime: Regime, fx: FxLog) -> Requirement:
    """Dispatch to the regime's requirement method (the registry of
    :func:`~underwriting.reserve.regime_params.requirement_method`)."""
    return REQUIREMENT_METHOD_REGISTRY[regime.requirement.method].evaluate(sub, regime, fx)


def _years_before(d: dt.date, years: float) -> dt.date:
    """``d`` minus ``years`` (whole years move the calendar year; fractions use 365.25 days)."""
    whole = int(years)
    try:
        out = d.replace(year=d.year - whole)
    except ValueError:  # 29 February
        out = d.replace(year=d.year - whole, day=28)
    return out - dt.timedelta(days=round((years - whole) * 365.25))
