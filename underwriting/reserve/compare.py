"""Insurance versus cash: the cost of meeting a reserve requirement over a horizon, and the cheapest mix.

For a programme (a set of policies, possibly empty) with reserve credit ``C`` against requirement
``R``, per year (all in the submission's currency)::

    carry        = (funding_cost − reserve_yield) × (R − C)        cost of holding the residual cash
    premium      = Σ premiums                                     paid at the start of each year
    recoveries   = Σ E[insurer payments]                           (a saving: losses you no longer bear)
    default      = Σ PD_1y(rating) × LGD × E[insurer payments]     recoveries lost to insurer default
    basis        = Σ E[payments] × (1 − s) / s                     expected losses inside the policy's band
                                                                   it would not pay (s = coverage share ×
                                                                   coinsurance); costed at basis_risk_load

    NPV = Σ_{t=1..H} premium / (1+d)^(t−1)
          + Σ_{t=1..H} (carry − recoveries + default + basis_risk_load × basis) / (1+d)^t

Cash only is the empty programme: ``NPV = Σ carry(R) / (1+d)^t``. The exchange's own expected
losses are common to every option and left out. The requirement and the programme are assumed to
stay the same over the horizon (renewed on the same terms).

Candidates come from quotes the user supplies (:func:`load_quotes`) or from a pricing callable
over a limit × deductible grid (:func:`grid_candidates`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from underwriting.domain.currency import FxTable
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.reserve.assessment import ReserveAssessment, assess
from underwriting.reserve.figures import FxLog
from underwriting.reserve.regime import Regime, load_regime

PriceFn = Callable[[float, float], float]


@dataclass(frozen=True)
class CostAssumptions:
    """Economic assumptions of the comparison (shares per year unless stated).

    Attributes
    ----------
    funding_cost, reserve_yield, discount_rate : float
        Per year. The carry cost of cash is ``funding_cost − reserve_yield``.
    lgd : float
        Loss given insurer default, share of the claim owed.
    expected_loss_ratio : float
        Expected recoveries ÷ premium, used when a quote gives no expected loss.
    basis_risk_load : float
        Cost per unit of expected uncovered loss inside the credited band.
    pd_1y : dict
        One-year insurer default probability by rating.
    provenance : dict
        ``{name: "source [status]"}`` for display.
    """

    funding_cost: float
    reserve_yield: float
    discount_rate: float
    lgd: float
    expected_loss_ratio: float
    basis_risk_load: float
    pd_1y: dict[str, float]
    provenance: dict[str, str] = field(default_factory=dict)

    @classmethod
    def default(cls, **overrides: float) -> CostAssumptions:
        """The bundled defaults (``cost_assumptions.toml``) with keyword overrides (marked ``user``)."""
        text = (resources.files("underwriting.reserve") / "cost_assumptions.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text)
        vals: dict[str, Any] = {k: v["value"] for k, v in data.items()}
        prov = {k: f"{v['source']} [{v['status']}]" for k, v in data.items()}
        for k, v in overrides.items():
            if v is None:
                continue
            if k not in vals or k == "pd_1y":
                raise InputError(f"unknown cost assumption; known: {', '.join(sorted(set(vals) - {'pd_1y'}))}", field=k)
            if not (isinstance(v, int | float) and -1.0 < float(v) < 10.0):
                raise InputError(f"must be a number between -1 and 10 (got {v!r})", field=k)
            if k in ("lgd", "expected_loss_ratio") and not 0.0 <= v <= 1.0 + 9.0 * (k == "expected_loss_ratio"):
                raise InputError(f"out of range (got {v!r})", field=k)
            vals[k] = float(v)
            prov[k] = "command line [user]"
        return cls(**vals, provenance=prov)


@dataclass(frozen=True)
class Candidate:
    """A priced policy that could join a programme.

    Attributes
    ----------
    policy : PolicyTerms
    premium : float
        Annual premium in the policy's currency.
    expected_recovery : float
        Expected annual insurer payments in the policy's currency.
    basis : str
        Where the price came from (``"quote"``, ``"price_fn"``, ``"premium × expected_loss_ratio"``...).
    """

    policy: PolicyTerms
    premium: float
    expected_recovery: float
    basis: str = "quote"


@dataclass(frozen=True)
class ProgrammeCost:
    """Cost of one programme over the horizon (amounts in the submission currency)."""

    policies: tuple[str, ...]
    compliant: bool
    requirement: float
    credit: float
    residual_cash: float
    premium: float
    carry: float
    expected_recovery: float
    default_cost: float
    basis_risk: float
    annual_cost: float
    npv: float
    note: str = ""
    basis_cost: float = 0.0

    @property
    def label(self) -> str:
        return " + ".join(self.policies) if self.policies else "cash only"

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["policies"] = list(self.policies)
        d["label"] = self.label
        return d


@dataclass(frozen=True)
class Comparison:
    """All programmes evaluated, cheapest compliant first, with the assumptions used."""

    regime: str
    currency: str
    horizon_years: int
    assumptions: CostAssumptions
    programmes: tuple[ProgrammeCost, ...]
    best: ProgrammeCost
    cash_only: ProgrammeCost
    best_assessment: ReserveAssessment
    candidates: tuple[Candidate, ...]
    skipped_overlap: tuple[str, ...] = ()
    pricing_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        a = self.assumptions
        return {
            "regime": self.regime, "currency": self.currency, "horizon_years": self.horizon_years,
            "assumptions": {k: getattr(a, k) for k in ("funding_cost", "reserve_yield", "discount_rate", "lgd",
                                                        "expected_loss_ratio", "basis_risk_load", "pd_1y")},
            "assumption_sources": a.provenance,
            "candidates": [{"policy_id": c.policy.policy_id, "currency": c.policy.currency,
                            "deductible": c.policy.deductible, "limit": c.policy.limit,
                            "insurer_rating": c.policy.insurer_rating, "premium": c.premium,
                            "expected_recovery": c.expected_recovery, "basis": c.basis} for c in self.candidates],
            "best": self.best.to_dict(),
            "cash_only": self.cash_only.to_dict(),
            "saving_vs_cash": self.cash_only.npv - self.best.npv,
            "programmes": [p.to_dict() for p in self.programmes],
            "skipped_overlapping": list(self.skipped_overlap),
            "pricing_note": self.pricing_note,
            "best_assessment": self.best_assessment.to_dict(),
        }

    def to_table(self, top: int = 15) -> str:
        cur = self.currency
        a = self.assumptions
        out = [f"Insurance vs cash under {self.regime} over {self.horizon_years} years (amounts in {cur}, NPV at "
               f"{a.discount_rate:.1%})",
               f"carry cost of cash = funding {a.funding_cost:.2%} − reserve yield {a.reserve_yield:.2%} = "
               f"{a.funding_cost - a.reserve_yield:.2%}/yr; LGD {a.lgd:.0%}; basis-risk load {a.basis_risk_load:.0%} "
               "[all assumptions unless overridden]"]
        if self.pricing_note:
            out.append(self.pricing_note)
        out.append("")
        hdr = (f"  {'programme':<44}{'ok':<4}{'credit':>18}{'residual cash':>18}{'premium/yr':>16}"
               f"{'E[recov]/yr':>16}{'default/yr':>12}{'basis cost/yr':>15}{'NPV cost':>18}")
        out.append(hdr)
        for p in self.programmes[:top]:
            out.append(f"  {p.label[:43]:<44}{'yes' if p.compliant else 'no':<4}{p.credit:>18,.0f}"
                       f"{p.residual_cash:>18,.0f}{p.premium:>16,.0f}{p.expected_recovery:>16,.0f}"
                       f"{p.default_cost:>12,.0f}{p.basis_cost:>15,.0f}{p.npv:>18,.0f}")
        if len(self.programmes) > top:
            out.append(f"  ... {len(self.programmes) - top} more (see --json)")
        out.append("  premium/yr: premiums as charged (loaded); basis cost/yr: basis-risk load × expected uncovered "
                   "loss inside the credited band")
        if self.skipped_overlap:
            out.append(f"  {len(self.skipped_overlap)} programme(s) left out: their policies insure the same losses "
                       "twice (--allow-overlap to cost them)")
        out += ["", f"cheapest compliant: {self.best.label}: NPV {self.best.npv:,.0f} vs cash only "
                f"{self.cash_only.npv:,.0f} (saving {self.cash_only.npv - self.best.npv:,.0f})"]
        return "\n".join(out) + "\n"


def annuity(rate: float, years: int, *, advance: bool = False) -> float:
    """Present value of 1 per year for ``years`` years (in arrears, or in advance)."""
    s = sum((1.0 + rate) ** -t for t in range(1, years + 1))
    return s * (1.0 + rate) if advance else s


def evaluate_programme(sub: Submission, regime: Regime, programme: Sequence[Candidate], fx: FxTable,
                       assumptions: CostAssumptions, horizon_years: int,
                       as_of: dt.date | None = None) -> tuple[ProgrammeCost, ReserveAssessment]:
    """Cost one programme (see the module docstring for the formulas)."""
    a = assess(sub, [c.policy for c in programme], regime, fx, as_of=as_of)
    log = FxLog(fx, a.as_of.year)
    cur = a.currency
    prem = rec = dflt = basis = 0.0
    for c, pc in zip(programme, a.policies, strict=True):
        p_prem = log.convert(c.premium, c.policy.currency, cur, "premium")
        p_rec = log.convert(c.expected_recovery, c.policy.currency, cur, "expected recovery")
        prem += p_prem
        rec += p_rec
        dflt += assumptions.pd_1y[c.policy.insurer_rating] * assumptions.lgd * p_rec
        s = pc.coverage_share * c.policy.coinsurance
        # a policy earning no credit leaves no credited band to miss (its uncovered losses stay in cash)
        basis += p_rec * (1.0 - s) / s if s > 0 and pc.standalone_credit > 0 else 0.0
    spread = assumptions.funding_cost - assumptions.reserve_yield
    carry = spread * a.residual_cash
    basis_cost = assumptions.basis_risk_load * basis
    annual_end = carry - rec + dflt + basis_cost
    npv = prem * annuity(assumptions.discount_rate, horizon_years, advance=True) + \
        annual_end * annuity(assumptions.discount_rate, horizon_years)
    compliant = all(p.eligible for p in a.policies)
    note = "" if compliant else "ineligible: " + ", ".join(p.policy_id for p in a.policies if not p.eligible)
    cost = ProgrammeCost(tuple(c.policy.policy_id for c in programme), compliant, a.requirement.amount, a.credit,
                         a.residual_cash, prem, carry, rec, dflt, basis, prem + annual_end, npv, note, basis_cost)
    return cost, a


def optimise(sub: Submission, regime: str | Path | Regime, candidates: Sequence[Candidate], fx: FxTable | None = None,
             *, horizon_years: int = 3, assumptions: CostAssumptions | None = None, max_layers: int = 3,
             as_of: dt.date | None = None, allow_overlap: bool = False, pricing_note: str = "") -> Comparison:
    """Evaluate cash only and every mix of up to ``max_layers`` candidates; pick the cheapest compliant.

    A mix is *compliant* when every policy in it passes the regime's tests (a failed policy earns no
    credit yet costs its premium); credit plus residual cash always meets the requirement.

    Parameters
    ----------
    sub : Submission
    regime : str, Path or Regime
    candidates : sequence of Candidate
        Priced policies (quotes, or a grid from a pricing callable).
    horizon_years : int
        Years over which the programme is renewed on the same terms (≥ 1).
    max_layers : int
        Largest number of policies in one programme (mixes grow as n choose k).
    allow_overlap : bool
        Also cost programmes in which two policies pay the same losses (same custody tier and cause on
        overlapping bands): double insurance, left out by default.
    pricing_note : str
        Where the candidates' premiums came from, shown with the table.
    """
    if not isinstance(horizon_years, int) or not 1 <= horizon_years <= 50:
        raise InputError(f"must be a whole number of years between 1 and 50 (got {horizon_years!r})",
                         field="--horizon-years")
    if not 1 <= max_layers <= 6:
        raise InputError("must be between 1 and 6", field="--max-layers")
    reg = load_regime(regime)
    if fx is None:
        from underwriting.reserve.assessment import default_fx

        fx = default_fx()
    assumptions = assumptions or CostAssumptions.default()
    ids = [c.policy.policy_id for c in candidates]
    if len(set(ids)) != len(ids):
        raise InputError("two candidates share a policy_id; give each quote its own", field="quote.policy_id")
    clash = set() if allow_overlap or len(candidates) < 2 else double_insured_pairs(sub, reg, candidates, fx, as_of)
    progs: list[tuple[ProgrammeCost, ReserveAssessment]] = []
    skipped: list[str] = []
    for k in range(0, min(max_layers, len(candidates)) + 1):
        for combo in itertools.combinations(candidates, k):
            ids_c = [c.policy.policy_id for c in combo]
            if any((x, y) in clash for x, y in itertools.combinations(ids_c, 2)):
                skipped.append(" + ".join(ids_c))
                continue
            progs.append(evaluate_programme(sub, reg, combo, fx, assumptions, horizon_years, as_of))
    progs.sort(key=lambda pa: (not pa[0].compliant, pa[0].npv, len(pa[0].policies)))
    best, best_a = next(pa for pa in progs if pa[0].compliant)
    cash = next(pa[0] for pa in progs if not pa[0].policies)
    return Comparison(reg.id, best_a.currency, horizon_years, assumptions, tuple(p for p, _ in progs), best, cash,
                      best_a, tuple(candidates), tuple(skipped), pricing_note)


def double_insured_pairs(sub: Submission, regime: Regime, candidates: Sequence[Candidate], fx: FxTable,
                         as_of: dt.date | None = None) -> set[tuple[str, str]]:
    """Pairs of candidates (ordered as given) that pay the same losses: a common (tier, cause) cell on
    overlapping bands ``[attachment, attachment + width)``, in the requirement currency."""
    a = assess(sub, [c.policy for c in candidates], regime, fx, as_of=as_of)
    out = set()
    for i, x in enumerate(a.layers):
        for y in a.layers[i + 1:]:
            for cell, wx in x.widths.items():
                wy = y.widths[cell]
                if wx > 0 and wy > 0 and min(x.attachment + wx, y.attachment + wy) > max(x.attachment, y.attachment):
                    out.add((x.policy_id, y.policy_id))
                    break
    return out


# ---- candidates -----------------------------------------------------------------------------------

def grid_candidates(template: PolicyTerms, deductibles: Sequence[float], limits: Sequence[float], price_fn: PriceFn,
                    *, loss_fn: PriceFn | None = None, expected_loss_ratio: float = 0.5) -> list[Candidate]:
    """Candidates over a deductible × limit grid, priced by ``price_fn(deductible, limit) -> premium``.

    Parameters
    ----------
    template : PolicyTerms
        Terms shared by every candidate (insurer, dates, perils...); deductible and limit are replaced.
    deductibles, limits : sequence of float
        In the template's currency; pairs with ``deductible >= limit`` are skipped.
    price_fn : callable
        Annual premium for a layer, in the template's currency.
    loss_fn : callable, optional
        Expected annual insurer payments for a layer; default ``premium × expected_loss_ratio``.
    """
    from underwriting.domain.validation import validate_model

    out = []
    for d in deductibles:
        for lim in limits:
            if d >= lim:
                continue
            data = template.model_dump()
            data.update(policy_id=f"{template.policy_id}-{_short(lim)}xs{_short(d)}", deductible=float(d),
                        limit=float(lim), sublimits={k: min(v, lim) for k, v in template.sublimits.items()})
            if data.get("aggregate_limit") is not None:
                data["aggregate_limit"] = max(data["aggregate_limit"], float(lim))
            pol = validate_model(PolicyTerms, data, source="grid")
            prem = float(price_fn(float(d), float(lim)))
            if not prem >= 0:
                raise InputError(f"pricing returned {prem!r} for {lim:,.0f} xs {d:,.0f}", field="price_fn")
            if loss_fn is not None:
                rec, basis = float(loss_fn(float(d), float(lim))), "price_fn; loss_fn"
            else:
                rec, basis = prem * expected_loss_ratio, "price_fn; recoveries = premium × expected_loss_ratio"
            out.append(Candidate(pol, prem, rec, basis))
    return out


def _short(x: float) -> str:
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= div:
            return f"{x / div:g}{suf}"
    return f"{x:g}"


_QUOTE_EXTRA = ("premium", "expected_loss")


def load_quotes(path: str | Path, *, expected_loss_ratio: float = 0.5) -> list[Candidate]:
    """Read candidate policies with premiums from a TOML or JSON file.

    Format::

        [defaults]            # any PolicyTerms fields shared by the quotes
        insurer = "..."
        ...
        [[quote]]
        policy_id = "primary-5bn"
        deductible = 100_000_000
        limit = 5_000_000_000
        premium = 95_000_000          # annual, in the policy currency
        expected_loss = 40_000_000    # optional: expected annual insurer payments

    Raises
    ------
    InputError
        Naming the field (``quote.1.premium``, ``quote.0.insurer_rating``...).
    """
    from underwriting.domain.validation import validate_model
    from underwriting.fileio import read_document

    src = str(path)
    doc = read_document(path)
    unknown = set(doc) - {"defaults", "quote"}
    if unknown:
        raise InputError(f"unknown top-level key(s) {', '.join(sorted(unknown))}; expected [defaults] and [[quote]]",
                         field=sorted(unknown)[0], source=src)
    defaults = doc.get("defaults", {})
    quotes = doc.get("quote")
    if not isinstance(defaults, dict):
        raise InputError("must be a table", field="defaults", source=src)
    if not isinstance(quotes, list) or not quotes:
        raise InputError("at least one [[quote]] is required", field="quote", source=src)
    out = []
    for i, q in enumerate(quotes):
        if not isinstance(q, dict):
            raise InputError("must be a table", field=f"quote.{i}", source=src)
        prem = q.get("premium")
        if isinstance(prem, bool) or not isinstance(prem, int | float) or not (0 <= prem < float("inf")):
            raise InputError(f"required: a non-negative annual premium (got {prem!r})", field=f"quote.{i}.premium",
                             source=src)
        el = q.get("expected_loss")
        if el is not None and (isinstance(el, bool) or not isinstance(el, int | float) or not 0 <= el < float("inf")):
            raise InputError(f"must be a non-negative number (got {el!r})", field=f"quote.{i}.expected_loss",
                             source=src)
        data = {**defaults, **{k: v for k, v in q.items() if k not in _QUOTE_EXTRA}}
        data.setdefault("policy_id", f"quote-{i + 1}")
        try:
            pol = validate_model(PolicyTerms, data, source=src)
        except InputError as exc:
            raise InputError(f"quote.{i}: {exc.message}", field=f"quote.{i}", source=src) from None
        if el is None:
            out.append(Candidate(pol, float(prem), float(prem) * expected_loss_ratio,
                                 "quote; recoveries = premium × expected_loss_ratio"))
        else:
            out.append(Candidate(pol, float(prem), float(el), "quote"))
    return out


def layer_pricer(frequency: Any, severity: Any, *, principle: str | None = None,
                 **kwargs: Any) -> tuple[PriceFn, PriceFn]:
    """``(price_fn, loss_fn)`` for :func:`grid_candidates`, through :func:`underwriting.pricing.premium.price_layer`.

    Parameters
    ----------
    frequency, severity
        Loss-count and severity models of :mod:`underwriting.losses` (e.g. ``Poisson(0.2)``,
        ``Lognormal(mu, sigma)``), severities in the policy currency.
    principle : str, optional
        Premium principle passed to ``price_layer`` (default: the project's ``DEFAULT_PRINCIPLE``).
    **kwargs
        Further ``price_layer`` keywords (``loadings`` to get the premium as charged, ``method``...).
    """
    from underwriting.pricing.layers import Layer as PricingLayer
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE, price_layer

    principle = principle or DEFAULT_PRINCIPLE

    cache: dict[tuple[float, float], Any] = {}

    def _res(d: float, lim: float) -> Any:
        if (d, lim) not in cache:
            cache[(d, lim)] = price_layer(frequency, severity, PricingLayer(deductible=d, limit=lim),
                                          principle=principle, **kwargs)
        return cache[(d, lim)]

    return (lambda d, lim: float(_res(d, lim).premium)), (lambda d, lim: float(_res(d, lim).expected_loss))


def perils_pricer(perils: Sequence[Any], policy_per_usd: float, template: PolicyTerms, *,
                  principle: str | None = None, **kwargs: Any) -> tuple[PriceFn, PriceFn]:
    """``(price_fn, loss_fn)`` over the exchange's own loss model (its quote's perils, in USD).

    Each grid layer ``limit xs deductible`` (policy currency) is converted to USD, priced by
    :func:`underwriting.pricing.premium.price_perils` with the template's share, aggregate terms and
    sub-limits, and the premium (as charged, with the ``loadings`` given) and expected loss are
    converted back into the policy currency.

    Parameters
    ----------
    perils : sequence of underwriting.losses.aggregate.Peril
        Counts over the term and exposure-capped severities in USD (``build_loss_model(...).perils``).
    policy_per_usd : float
        Policy-currency units per USD.
    template : PolicyTerms
        Terms shared by the grid.
    principle : str, optional
        Premium principle (default ``DEFAULT_PRINCIPLE``).
    **kwargs
        Further ``price_perils`` keywords (``loadings``, ``level``, ``method``...).
    """
    from underwriting.pricing.layers import Layer as PricingLayer
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE, price_perils

    if not perils:
        raise InputError("the template covers no peril the loss model prices", field="--template")
    principle = principle or DEFAULT_PRINCIPLE
    r = float(policy_per_usd)
    cache: dict[tuple[float, float], Any] = {}

    def _res(d: float, lim: float) -> Any:
        if (d, lim) not in cache:
            agg = template.aggregate_limit
            layer = PricingLayer(deductible=d / r, limit=lim / r, agg_deductible=template.aggregate_deductible / r,
                                 agg_limit=None if agg is None else max(agg, lim) / r, share=template.coinsurance,
                                 reinstatements=template.reinstatements,
                                 reinstatement_premium=template.reinstatement_premium_pct,
                                 sublimits={k: min(v, lim) / r for k, v in template.sublimits.items()},
                                 term_years=template.term_years)
            cache[(d, lim)] = price_perils(list(perils), layer, principle=principle, **kwargs)
        return cache[(d, lim)]

    return (lambda d, lim: float(_res(d, lim).premium) * r), (lambda d, lim: float(_res(d, lim).expected_loss) * r)


# ---- plots ----------------------------------------------------------------------------------------

def short_amount(x: float, _pos: Any = None) -> str:
    """Axis label for an amount: ``1.5bn``, ``200M``, ``750k`` (never scientific notation)."""
    a = abs(x)
    for div, suf in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:,.4g}{suf}"
    return f"{x:,.0f}"


def _title_inside(ax: Any, text: str) -> None:
    ax.text(0.01, 0.98, text, transform=ax.transAxes, ha="left", va="top", fontsize=10,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def plot_costs(comp: Comparison, path: str | Path, top: int = 12) -> Path:
    """Horizontal bar chart of NPV cost by programme (cheapest first) saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    progs = [p for p in comp.programmes if p.compliant][:top]
    if comp.cash_only not in progs:
        progs.append(comp.cash_only)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(progs) + 2.0))
    labels = [p.label for p in progs][::-1]
    vals = [p.npv for p in progs][::-1]
    colors = ["#999999" if not p.policies else ("#2a7f62" if p is comp.best else "#4c72b0") for p in progs][::-1]
    ax.barh(labels, vals, color=colors)
    ax.xaxis.set_major_formatter(FuncFormatter(short_amount))
    ax.set_xlabel(f"NPV cost over {comp.horizon_years} years ({comp.currency})")
    ax.axvline(0, color="black", lw=0.8)
    lo, hi = min(0.0, *vals), max(0.0, *vals)
    ax.set_xlim(lo - 0.05 * (hi - lo or 1.0), hi + 0.05 * (hi - lo or 1.0))
    ax.set_ylim(-0.6, len(progs) + 1.2)  # room for the title inside the axes
    _title_inside(ax, f"Insurance vs cash under {comp.regime}\nNPV cost; cheapest compliant in green")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_waterfall(a: ReserveAssessment, path: str | Path) -> Path:
    """Waterfall: requirement → each policy's incremental credit (tower order) → cap → residual cash,
    with the retention (losses below the lowest attachment, kept in cash) marked inside the residual."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    r = a.requirement.amount
    order = sorted(range(len(a.policies)), key=lambda i: a.policies[i].attachment)
    steps: list[tuple[str, float]] = []
    prev = 0.0
    chosen: list[int] = []
    for i in order:
        chosen.append(i)
        sub_credit = _partial_credit(a, chosen)
        steps.append((a.policies[i].policy_id, -(sub_credit - prev)))
        prev = sub_credit
    if a.credit < a.credit_before_cap:
        steps.append((f"cap {a.cap_share:.0%}", a.credit_before_cap - a.credit))
    fig, ax = plt.subplots(figsize=(8, 4.8))
    x, level = 0, r
    ax.bar(x, r, color="#4c72b0")
    names = ["requirement"]
    for name, delta in steps:
        x += 1
        lo, hi = sorted((level, level + delta))
        ax.bar(x, hi - lo, bottom=lo, color="#2a7f62" if delta < 0 else "#c44e52")
        names.append(name)
        level += delta
    x += 1
    retention = 0.0
    if a.layers:
        low = min(L.attachment for L in a.layers)
        retention = min(level, sum(min(low, k.amount) for k in a.components))
    ax.bar(x, level, color="#999999")
    if retention > 0:
        ax.bar(x, retention, color="#999999", hatch="//", edgecolor="black", lw=0.5,
               label=f"retention below the lowest attachment: {short_amount(retention)} {a.currency}")
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9), fontsize=8)
    names.append("residual cash")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(short_amount))
    ax.set_ylabel(a.currency)
    ax.set_ylim(0, r * 1.3 if r > 0 else 1.0)  # room for the title and legend inside the axes
    _title_inside(ax, f"{a.regime.id}: requirement → credit → residual cash ({a.currency})")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _partial_credit(a: ReserveAssessment, idx: list[int]) -> float:
    """Tower credit (before cap) of a subset of the assessed policies."""
    from underwriting.reserve.tower import tower_credit

    return tower_credit([a.layers[i] for i in idx], list(a.components))
