"""Policy structure and the quote's defence: layers and towers, guard rails, currency, defence block.

:func:`underwriting.quoting.make_quote` calls these functions; they hold the logic of issue #16 so the
pipeline itself stays short.

* **Layers and towers.** One :class:`~underwriting.domain.policy.PolicyTerms` is one layer; a
  :class:`~underwriting.domain.policy.Programme` is a tower of them. Every layer is priced on the
  same loss model (the same perils, counts and severities, in USD) by
  :func:`underwriting.pricing.premium.price_perils`; the quote's expected loss and premium are the
  sums over the layers (expected values add). The standard deviation and TVaR of a tower are the sums
  of the layers' (comonotonic sums: upper bounds, since both are subadditive); the OEP of a tower at a
  return period is the sum of the layers' (each layer's largest occurrence payment comes from the same
  largest ground-up loss) and the AEP the comonotonic sum.
* **Guard rails.** Terms that make the cover unreachable or worthless are refused (exit 2, naming the
  field): a limit or sub-limit below one unit of the policy currency, a layer attaching at or above
  the exchange's customer assets (no single loss can reach it: the severity is capped by them), and
  an aggregate deductible no modelled term's losses reach (P(attach) = 0). Merely unusual terms are
  quoted with a warning: a layer reached less than once in :data:`RARE_ATTACH_TERMS` terms. The
  premium never falls below the expected loss and a risk load is never negative: a principle whose
  discretised value falls below the mean (a layer far narrower than the grid's bucket) is floored at
  the expected loss, and the quote says so; an upfront premium that a large reinstatement credit
  would take under the expected loss is raised to it (with a warning).
* **Currency.** A quote in another currency than the submission's converts the exposure at the
  as-of year's rate (recorded), prices in USD as always and converts the results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from underwriting.errors import InputError

__all__ = ["EP_RETURN_PERIODS", "RARE_ATTACH_TERMS", "LayerPricing", "submission_in_currency", "layer_terms",
           "check_terms", "price_layers", "severity_block", "perils_block", "ep_points", "ep_return_periods",
           "layer_blocks",
           "programme_terms", "incident_fx", "unused_fx_warnings",
           "premium_range", "frequency_interval", "INTERVAL_LEVEL"]

#: Return periods (policy terms; years for a one-year policy) of the quote's EP points for a layer reached at
#: least once in 10 terms; a layer reached more rarely gets points from its own P(attach)
#: (:func:`ep_return_periods`).
EP_RETURN_PERIODS: tuple[float, ...] = (10.0, 25.0, 50.0, 100.0, 200.0, 250.0)
#: The rarest EP point of a rarely reached layer: 1 in this many terms (or 10 x 1/P(attach) if rarer still).
EP_FARTHEST_TERMS = 10_000.0
#: A layer reached less often than once in this many terms is quoted with a warning.
RARE_ATTACH_TERMS = 10_000.0
#: Below this P(attach) the cover is unreachable (refused): the aggregate loss grid holds no mass there.
UNREACHABLE_P = 1e-12


def submission_in_currency(sub: Any, currency: str, fx: Any) -> Any:
    """The submission with its exposure amounts converted into ``currency`` at the as-of year's rates.

    ``fx`` is an :class:`~underwriting.domain.currency.FxTable`. Amounts are multiplied by
    ``rate(currency) / rate(submission currency)`` (both in units per USD), so their USD value,
    and with it every model input, is unchanged.
    """
    if currency == sub.currency:
        return sub
    year = sub.as_of.year
    k = fx.rate(currency, year).units_per_usd / fx.rate(sub.currency, year).units_per_usd
    e, a = sub.exposure, sub.exposure.customer_assets
    assets = a.with_(hot=a.hot * k, warm=a.warm * k, cold=a.cold * k, total=a.total * k)
    return sub.with_(exposure=e.with_(currency=currency, customer_assets=assets,
                                      trading_volume_12m=e.trading_volume_12m * k, own_funds=e.own_funds * k,
                                      fixed_overheads_prior_year=e.fixed_overheads_prior_year * k))


def layer_terms(terms: Any) -> list[Any]:
    """The layers of ``terms``: a Programme's layers, or ``[terms]`` for one PolicyTerms."""
    return list(terms.layers) if hasattr(terms, "layers") else [terms]


def check_terms(layers: Sequence[Any], sub: Any, *, policy_per_sub: float, prefix: bool = False) -> list[str]:
    """Refuse terms that make a layer worthless before any pricing; return warnings for unusual ones.

    Parameters
    ----------
    layers : sequence of PolicyTerms
    sub : Submission
    policy_per_sub : float
        Units of the policy currency per unit of the submission's currency.
    prefix : bool
        Name fields ``layers.<i>.<field>`` (a programme) instead of ``<field>``.

    Raises
    ------
    InputError
        A limit or sub-limit below one currency unit, or a layer attaching at or above the customer
        assets (no loss can reach it).
    """
    warnings: list[str] = []
    assets = sub.exposure.customer_assets.total * policy_per_sub
    for i, t in enumerate(layers):
        name = (lambda f, i=i: f"layers.{i}.{f}") if prefix else (lambda f: f)
        if t.limit < 1.0:
            raise InputError(f"{t.limit:g} {t.currency} is below one currency unit: the cover is worthless",
                             field=name("limit"))
        for peril, amount in t.sublimits.items():
            if amount < 1.0:
                raise InputError(f"{amount:g} {t.currency} is below one currency unit: the {peril} cover is "
                                 "worthless", field=name(f"sublimits.{peril}"))
        att = t.attachment_point
        if att > 0 and att >= assets:
            f = "attachment" if t.attachment > 0 else "deductible"
            raise InputError(f"the layer attaches at {att:,.0f} {t.currency}, at or above the exchange's customer "
                             f"assets ({assets:,.0f} {t.currency}); no single loss (capped by the assets) can reach it",
                             field=name(f))
        if t.minimum_premium > 0 and t.minimum_premium > t.limit * t.coinsurance:
            warnings.append(f"{t.policy_id}: minimum premium {t.minimum_premium:,.0f} {t.currency} exceeds the "
                            "insurer's share of the limit")
    if len(layers) > 1:  # a tower: say where it leaves a gap (retained by the insured) or layers overlap
        ordered = sorted(layers, key=lambda t: (t.attachment_point, t.limit))
        for lo, hi in zip(ordered, ordered[1:], strict=False):
            top = lo.attachment_point + lo.limit
            if hi.attachment_point > top:
                warnings.append(f"{lo.policy_id} ends at {top:,.0f} {lo.currency} but {hi.policy_id} attaches at "
                                f"{hi.attachment_point:,.0f}: the gap between them is retained by the insured")
            elif hi.attachment_point < top:
                warnings.append(f"{lo.policy_id} and {hi.policy_id} overlap from {hi.attachment_point:,.0f} to "
                                f"{min(top, hi.attachment_point + hi.limit):,.0f} {lo.currency}: both pay there")
    return warnings


@dataclass(frozen=True)
class LayerPricing:
    """One layer priced on the quote's loss model (amounts in USD over the term).

    ``premium`` and ``components`` are the pricing engine's, or floored at the expected loss when
    ``floored`` (see :func:`price_layers`).
    """

    terms: Any
    layer: Any
    priced: Any
    premium: float
    components: dict[str, float]
    floored: bool


def _floored(priced: Any, loads: Any) -> tuple[float, dict[str, float]]:
    """Premium and components with the technical premium floored at the expected loss (risk load 0)."""
    el = priced.expected_loss
    phi = priced.layer.reinstatement_factor(priced.distribution)
    before_tax = el / (1.0 - loads.expense - loads.commission)
    gross = before_tax * (1.0 + loads.tax)
    upfront = gross / (1.0 + phi)
    uplift = max(loads.minimum_premium - upfront, 0.0)
    premium = upfront + uplift
    comps = {"expected_loss": el, "risk_load": 0.0, "expense": before_tax * loads.expense,
             "commission": before_tax * loads.commission, "tax": before_tax * loads.tax, "minimum_uplift": uplift,
             "reinstatement_credit": upfront - gross, "total": premium}
    return premium, comps


def price_layers(perils: Sequence[Any], layers: Sequence[tuple[Any, Any]], *, basis: Any, seed: int,
                 policy_per_usd: float, warnings: list[str]) -> list[LayerPricing]:
    """Price each ``(PolicyTerms, Layer in USD)`` on the same perils; floors and warnings applied.

    A layer's ``minimum_premium`` (policy currency) enters the loads in USD. A technical premium below
    the expected loss (possible only through discretisation, for a layer much narrower than a bucket)
    is floored at the expected loss, with a warning.
    """
    from underwriting.pricing.premium import Loadings, price_perils

    out = []
    for terms, layer in layers:
        loads = Loadings(expense=basis.expense, commission=basis.commission, tax=basis.tax,
                         minimum_premium=terms.minimum_premium / policy_per_usd)
        priced = price_perils(list(perils), layer, principle=basis.principle, level=basis.level, loadings=loads,
                              method="fft", random_state=seed, return_periods=EP_RETURN_PERIODS)
        floored = priced.technical_premium < priced.expected_loss
        prem, comps = priced.premium, priced.components.to_dict()
        if floored:
            prem, comps = _floored(priced, loads)
            warnings.append(f"{terms.policy_id}: the premium principle gave a risk load of "
                            f"{priced.technical_premium - priced.expected_loss:.3g} USD (negative, a discretisation "
                            "artefact of a very narrow layer); floored at the expected loss")
        if prem < priced.expected_loss:
            # a large reinstatement credit can push the upfront premium under the expected loss (the
            # premium income, upfront plus expected reinstatement premiums, never is): floor it
            lift = priced.expected_loss - prem
            comps = {**comps, "minimum_uplift": comps.get("minimum_uplift", 0.0) + lift}
            prem = priced.expected_loss
            comps["total"] = prem
            warnings.append(f"{terms.policy_id}: the reinstatement credit took the upfront premium below the "
                            "expected loss; raised to the expected loss")
        lp = LayerPricing(terms=terms, layer=layer, priced=priced, premium=prem, components=comps, floored=floored)
        p_att = priced.prob_attach
        agg = terms.aggregate_deductible > 0
        if priced.expected_loss <= 0 or p_att < UNREACHABLE_P:
            field = "aggregate_deductible" if agg else ("attachment" if terms.attachment > 0 else "deductible")
            raise InputError(f"{terms.policy_id}: no loss the model can produce reaches this layer "
                             f"(P(attach) = {p_att:.3g}, expected loss {priced.expected_loss:.3g} USD): "
                             "the cover is worthless", field=field)
        if p_att * RARE_ATTACH_TERMS < 1.0:
            warnings.append(f"{terms.policy_id}: the layer is reached less than once in {RARE_ATTACH_TERMS:,.0f} "
                            f"terms (P(attach) = {p_att:.3g}); its price rests on the far tail of the severity")
        out.append(lp)
    return out


#: Parametric-bootstrap samples of the severity's goodness-of-fit p-value (seed 0; about 1.4 s once a process).
GOF_BOOTSTRAP = 200
_GOF_CACHE: dict[int, tuple[Any, Any]] = {}


#: Families the quote's severity is compared with by AIC (``severity.selection``).
SELECTION_FAMILIES = ("lognormal", "lomax", "weibull", "gamma")


def _gof_bootstrap(fit: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The fit's parametric-bootstrap p-values and the AIC table of the families on the same amounts,
    computed once per fit object (the quote's fit is cached per process)."""
    hit = _GOF_CACHE.get(id(fit))
    if hit is None or hit[0] is not fit:
        from underwriting.losses.severity import gof_bootstrap, select_severity

        table = select_severity(fit._amounts, fit.threshold, families=SELECTION_FAMILIES).table()
        rows = [{"family": r["family"], "aic": float(r["aic"]), "delta_aic": float(r["delta_aic"]),
                 "akaike_weight": float(r["akaike_weight"])} for r in table]
        hit = (fit, (gof_bootstrap(fit, n_boot=GOF_BOOTSTRAP, random_state=0), rows))
        _GOF_CACHE[id(fit)] = hit
    return hit[1]


#: Coverage of the frequency interval (``frequency.interval``) and of the premium range.
INTERVAL_LEVEL = 0.90


def frequency_interval(fe: Any) -> list[float]:
    """The 90% interval of the term's expected breaches: the one risk model's own interval (base-model
    uncertainty), else the 5% and 95% quantiles of the gamma with the estimate's mean and parameter
    variance (baseline, survival), else the point estimate twice (no parameter uncertainty recorded)."""
    d = getattr(fe, "detail", None) or {}
    iv = d.get("expected_breaches_interval")
    if iv:
        return [float(iv[0]), float(iv[1])]
    lam, v = float(fe.expected_breaches), float(fe.variance_of_lambda)
    if lam > 0 and v > 0:
        from scipy import stats

        lo, hi = stats.gamma(lam * lam / v, scale=v / lam).ppf([(1 - INTERVAL_LEVEL) / 2, (1 + INTERVAL_LEVEL) / 2])
        return [float(lo), float(hi)]
    return [lam, lam]


def premium_range(perils: Sequence[Any], layers: Sequence[tuple[Any, Any]], interval: Sequence[float], *,
                  expected_breaches: float, basis: Any, seed: int, policy_per_usd: float) -> list[float]:
    """Premium (USD, all layers) at each end of the frequency interval of the term's expected breaches.

    With ``lam`` breaches expected instead of ``expected_breaches`` (the point estimate, all perils,
    covered or not), each covered peril's count becomes Poisson with mean ``lam × mean_p /
    expected_breaches``; every layer is priced as in :func:`price_layers` (loads, minimum premium,
    floors), so a tower's range is the sum of its layers' ranges.
    """
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.frequency import Poisson

    total = float(expected_breaches)
    out = []
    for lam in interval:
        if total <= 0 or lam <= 0:
            out.append(0.0)
            continue
        scaled = [Peril(p.name, Poisson(lam * float(p.frequency.mean()) / total), p.severity) for p in perils]
        try:
            out.append(sum(lp.premium for lp in price_layers(scaled, layers, basis=basis, seed=seed,
                                                             policy_per_usd=policy_per_usd, warnings=[])))
        except InputError:  # the layer is out of reach at the low end of the interval: only the floor applies
            out.append(sum(t.minimum_premium / policy_per_usd for t, _ in layers))
    return out


def severity_block(fit: Any) -> dict[str, Any]:
    """The severity the quote uses: family, fitted parameters (USD, ground up) and goodness of fit.

    ``gof`` holds the Anderson-Darling statistic against the left-truncated fitted CDF (the amount at
    the reporting threshold handled, :func:`underwriting.losses.severity.ad_ks_statistics`) and its
    parametric-bootstrap p-value (:func:`underwriting.losses.severity.gof_bootstrap`, which refits
    every sample, so the estimated parameters are accounted for; :data:`GOF_BOOTSTRAP` samples, seed 0),
    plus the Kolmogorov-Smirnov statistic with its bootstrap p-value. ``selection``: the families of
    :data:`SELECTION_FAMILIES` fitted to the same amounts, ranked by AIC (the quote's family need not be
    the best ranked: it says so openly).
    """
    b, selection = _gof_bootstrap(fit)
    gof = {"test": "anderson_darling", "statistic": float(b.ad_statistic), "p_value": float(b.ad_pvalue),
           "p_value_method": f"parametric bootstrap, {b.n_boot} refitted samples, seed {b.seed}",
           "ks_statistic": float(b.ks_statistic), "ks_p_value": float(b.ks_pvalue)}
    return {"family": fit.family, "parameters": {k: float(v) for k, v in fit.params.items()},
            "currency": "USD", "threshold": float(fit.threshold), "n": int(fit.n), "aic": float(fit.aic),
            "gof": gof, "selection": selection}


def perils_block(perils: Sequence[Any], priced: Sequence[LayerPricing], q_rate: float) -> list[dict[str, Any]]:
    """Per peril: expected count over the term and expected insured loss (quote currency), summed over layers.

    Each layer's expected loss is split between the perils in proportion to their expected occurrence
    payments ``E[N_p] × share × E[min((X_p - a)+, l_p)]`` (with the peril's sub-limit). Without
    aggregate terms that is each peril's exact expected loss; with them the split is pro rata.
    """
    rows = {p.name: {"name": p.name, "expected_count": float(p.frequency.mean()), "expected_loss": 0.0}
            for p in perils}
    for lp in priced:
        occ = {p.name: float(p.frequency.mean()) * lp.layer.share * lp.layer.expected_occurrence_loss(p.severity, p.name)
               for p in perils}
        tot = sum(occ.values())
        if tot <= 0:
            continue
        for name, v in occ.items():
            rows[name]["expected_loss"] += lp.priced.expected_loss * (v / tot) * q_rate
    return list(rows.values())


def _two_figures(x: float) -> float:
    """``x`` rounded to two significant figures (540, 1,700, 10,000)."""
    import math

    k = math.floor(math.log10(x)) - 1
    return float(round(x / 10.0 ** k) * 10.0 ** k)


def ep_return_periods(p_attach: float) -> tuple[float, ...]:
    """The six return periods (terms) of the quote's EP points, from the layer's own P(attach).

    A layer reached at least once in 10 terms (``p_attach >= 0.1``) keeps the fixed 1-in-10 to 1-in-250
    points (:data:`EP_RETURN_PERIODS`). A rarer layer would be zero at all of them, so its points span its
    own tail: ``T_a = 1 / p_attach`` (where the layer starts paying; excluded, the payment there is zero by
    definition) to ``T_max = max(10,000, 10 T_a)``, six points evenly spaced in log,
    ``T_k = T_a (T_max / T_a)^(k/6)`` for ``k = 1..6``, each rounded to two significant figures. The ratio
    of neighbours is at least ``10^(1/6)`` (1.47), so the rounded points stay distinct and above ``T_a``.

    Parameters
    ----------
    p_attach : float
        Probability that a loss reaches the layer in the term (the largest over a tower's layers).
    """
    import math

    n = len(EP_RETURN_PERIODS)
    if not (p_attach > 0.0) or p_attach >= 1.0 / EP_RETURN_PERIODS[0]:
        return EP_RETURN_PERIODS
    t_a = 1.0 / p_attach
    t_max = max(EP_FARTHEST_TERMS, 10.0 * t_a)
    step = math.log(t_max / t_a) / n
    return tuple(_two_figures(t_a * math.exp(step * k)) for k in range(1, n + 1))


def ep_points(priced: Sequence[LayerPricing], q_rate: float) -> list[dict[str, float]]:
    """``{return_period, oep, aep}`` at :func:`ep_return_periods` of the layers' P(attach) (quote currency,
    summed over layers)."""
    rps = ep_return_periods(max((lp.priced.prob_attach for lp in priced), default=0.0))
    curves = [lp.priced.distribution.ep_curve(rps) for lp in priced]
    out = []
    for k, rp in enumerate(rps):
        oep = aep = 0.0
        for curve in curves:
            row = curve[k]
            aep += float(row["loss"])
            oep += float(row.get("oep_loss", row["loss"]))
        out.append({"return_period": rp, "oep": oep * q_rate, "aep": aep * q_rate})
    return out


def layer_blocks(priced: Sequence[LayerPricing], q_rate: float, policy_per_usd: float) -> list[dict[str, Any]]:
    """Per-layer results in the quote currency."""
    conv = q_rate / policy_per_usd
    out = []
    for lp in priced:
        t, r = lp.terms, lp.priced
        prem = lp.premium * q_rate
        cover = t.limit * t.coinsurance * conv
        out.append({
            "policy_id": t.policy_id, "label": f"{_short(t.limit)} xs {_short(t.attachment_point)} {t.currency}",
            "attachment": t.attachment_point * conv, "limit": t.limit * conv, "coinsurance": t.coinsurance,
            "expected_loss": r.expected_loss * q_rate, "std": r.std * q_rate, "tvar_995": r.tvar * q_rate,
            "premium": prem, "minimum_premium": t.minimum_premium * conv,
            "premium_components": {k: v * q_rate for k, v in lp.components.items() if k != "total"},
            "rate_on_line": prem / cover if cover > 0 else None, "p_attach": r.prob_attach,
            "p_exhaust": r.prob_exhaust, "risk_load_floored": lp.floored,
        })
    return out


def _short(v: float) -> str:
    for div, suf in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.6g}{suf}"
    return f"{v:.6g}"


def programme_terms(programme: Any, conv: float, covered: Sequence[str]) -> dict[str, Any]:
    """The quote's ``terms`` block for a tower: its span (lowest attachment to highest top), in the quote currency."""
    ls = list(programme.layers)
    bottom = min(t.attachment_point for t in ls)
    top = max(t.attachment_point + t.limit for t in ls)
    shares = {t.coinsurance for t in ls}
    first = ls[0]
    return {"policy_id": programme.programme_id, "currency_of_policy": first.currency,
            "inception": first.inception.isoformat(), "expiry": first.expiry.isoformat(),
            "term_years": first.term_years, "deductible": min(t.deductible for t in ls) * conv,
            "attachment": bottom * conv, "limit": (top - bottom) * conv, "aggregate_limit": None,
            "coinsurance": shares.pop() if len(shares) == 1 else 1.0, "perils_covered": list(covered),
            "default_terms": False, "layers": len(ls)}


def incident_fx(sub: Any, fx: Any) -> list[dict[str, Any]]:
    """The rates that convert the submission's past incident amounts to USD (risk-score features), one per
    currency and year, in the order met."""
    out: list[dict[str, Any]] = []
    seen = set()
    for inc in sub.incidents:
        key = (inc.currency, inc.date.year)
        if inc.currency == "USD" or key in seen:
            continue
        seen.add(key)
        r = fx.rate(inc.currency, inc.date.year)
        out.append({"currency": inc.currency, "units_per_usd": r.units_per_usd, "basis": r.basis, "source": r.source,
                    "purpose": f"incident amounts of {inc.date.year} (risk-score features)"})
    return out


def unused_fx_warnings(user_rates: Mapping[str, float], used: set[str]) -> list[str]:
    """A warning for each user rate (``--fx``) that no conversion of the quote used."""
    return [f"--fx {c}={r:g}: no amount of this quote is in {c}, so the rate was not used"
            for c, r in sorted(user_rates.items()) if c not in used and c != "USD"] + \
           [f"--fx USD={r:g}: USD is the pricing currency (1 per USD by definition); the rate was not used"
            for c, r in sorted(user_rates.items()) if c == "USD"]
