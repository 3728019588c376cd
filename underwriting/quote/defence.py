"""The quote's defence block: the severity fit and its goodness of fit, the perils, the EP points, the interval.

What an underwriter shows to defend a price (issue #16), built from the loss stage's model and the layers
stage's prices (:mod:`underwriting.quote.layers`), amounts converted into the quote currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from underwriting.caches import register_cache
from underwriting.domain.message import msg
from underwriting.i18n import N_
from underwriting.quote.layers import (
    EP_FARTHEST_TERMS,
    EP_RETURN_PERIODS,
    LayerPricing,
    layer_blocks,
)

__all__ = ["Defence", "defence", "ep_return_periods", "GOF_BOOTSTRAP", "GOF_SEED", "SELECTION_FAMILIES",
           "compute_gof", "stored_gof", "INTERVAL_LEVEL",
           "frequency_interval", "severity_block", "perils_block", "ep_points"]


#: Parametric-bootstrap samples of the severity's goodness-of-fit p-value (seed :data:`GOF_SEED`; about 1.4 s
#: when computed, so it is computed at model build and stored in the registry: ``severity_fit``).
GOF_BOOTSTRAP = 200
#: Seed of the bootstrap.
GOF_SEED = 0
_GOF_CACHE: dict[int, tuple[Any, Any]] = register_cache({}, "quote.defence._GOF_CACHE")


#: Families the quote's severity is compared with by AIC (``severity.selection``).
SELECTION_FAMILIES = ("lognormal", "lomax", "weibull", "gamma")


def compute_gof(fit: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The fit's parametric-bootstrap p-values (:data:`GOF_BOOTSTRAP` samples, seed :data:`GOF_SEED`) and the
    AIC table of :data:`SELECTION_FAMILIES` on the same amounts, computed (what the stored record holds)."""
    from underwriting.losses.severity import gof_bootstrap, select_severity

    table = select_severity(fit._amounts, fit.threshold, families=SELECTION_FAMILIES).table()
    rows = [{"family": r["family"], "aic": float(r["aic"]), "delta_aic": float(r["delta_aic"]),
             "akaike_weight": float(r["akaike_weight"])} for r in table]
    return gof_bootstrap(fit, n_boot=GOF_BOOTSTRAP, random_state=GOF_SEED), rows


def stored_gof(fit: Any, registry: Any = None) -> tuple[Any, list[dict[str, Any]]] | None:
    """The registry's ``severity`` record of ``fit`` (signature and hashes checked on load), or ``None`` when
    the registry has none or it is the record of another fit or other settings (then the caller computes).

    Raises
    ------
    ModelIntegrityError
        The registry's record is altered, unsigned or unknown (never silently replaced by a computation).
    """
    from underwriting.losses.severity.record import NAME
    from underwriting.registry import Registry

    reg = registry if registry is not None else Registry(None)
    if NAME not in reg.names() or not reg.versions(NAME):
        return None
    rec = reg.load(NAME)
    if not rec.matches(fit, n_boot=GOF_BOOTSTRAP, seed=GOF_SEED, families=SELECTION_FAMILIES):
        return None
    return rec.gof_bootstrap(), rec.selection_rows()


def _gof_bootstrap(fit: Any, registry: Any = None) -> tuple[Any, list[dict[str, Any]]]:
    """The fit's parametric-bootstrap p-values and the AIC table of the families on the same amounts: the
    registry's stored record when it is this fit's (:func:`stored_gof`), else computed; once per fit object
    (the quote's fit is cached per process)."""
    hit = _GOF_CACHE.get(id(fit))
    if hit is None or hit[0] is not fit:
        got = stored_gof(fit, registry)
        hit = (fit, got if got is not None else compute_gof(fit))
        _GOF_CACHE[id(fit)] = hit
    boot, rows = hit[1]
    return boot, [dict(r) for r in rows]


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


def severity_block(fit: Any, registry: Any = None) -> dict[str, Any]:
    """The severity the quote uses: family, fitted parameters (USD, ground up) and goodness of fit.

    ``gof`` holds the Anderson-Darling statistic against the left-truncated fitted CDF (the amount at
    the reporting threshold handled, :func:`underwriting.losses.severity.ad_ks_statistics`) and its
    parametric-bootstrap p-value (:func:`underwriting.losses.severity.gof_bootstrap`, which refits
    every sample, so the estimated parameters are accounted for; :data:`GOF_BOOTSTRAP` samples, seed 0),
    plus the Kolmogorov-Smirnov statistic with its bootstrap p-value. ``selection``: the families of
    :data:`SELECTION_FAMILIES` fitted to the same amounts, ranked by AIC (the quote's family need not be
    the best ranked: it says so openly).
    """
    b, selection = _gof_bootstrap(fit, registry)
    method = msg(N_("parametric bootstrap, {n} refitted samples, seed {seed}"), n=str(b.n_boot), seed=str(b.seed))
    gof = {"test": "anderson_darling", "statistic": float(b.ad_statistic), "p_value": float(b.ad_pvalue),
           "p_value_method": method.text(), "p_value_method_message": method.as_json(),
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


@dataclass(frozen=True)
class Defence:
    """The defence stage's result: what the quote shows to defend its price (quote currency).

    Attributes
    ----------
    severity : dict
        The severity block (:func:`severity_block`).
    perils : list of dict
        Per peril: expected count over the term and expected insured loss (:func:`perils_block`).
    p_attach, p_exhaust : float
        Largest P(attach) and smallest P(exhaust) over the layers.
    ep_points : list of dict
        OEP and AEP at :func:`ep_return_periods` of the layers' P(attach) (:func:`ep_points`).
    layers : list of dict
        Per-layer results (:func:`underwriting.quote.layers.layer_blocks`).
    """

    severity: dict[str, Any]
    perils: list[dict[str, Any]]
    p_attach: float
    p_exhaust: float
    ep_points: list[dict[str, float]]
    layers: list[dict[str, Any]]

    def quote_fields(self) -> dict[str, Any]:
        """The fields of :class:`~underwriting.domain.quote.Quote` this block fills."""
        return {"severity": self.severity, "perils": self.perils, "p_attach": self.p_attach,
                "p_exhaust": self.p_exhaust, "ep_points": self.ep_points, "layers": self.layers}


def defence(fit: Any, perils: Sequence[Any], priced: Sequence[LayerPricing], q_rate: float,
            policy_per_usd: float, registry: Any = None) -> Defence:
    """The defence block of a quote from the severity ``fit``, the loss model's ``perils`` and the priced layers
    (``registry``: where the stored severity record is read, default :class:`~underwriting.registry.Registry`)."""
    return Defence(severity=severity_block(fit, registry), perils=perils_block(perils, priced, q_rate),
                   p_attach=max(lp.priced.prob_attach for lp in priced),
                   p_exhaust=min(lp.priced.prob_exhaust for lp in priced),
                   ep_points=ep_points(priced, q_rate), layers=layer_blocks(priced, q_rate, policy_per_usd))
