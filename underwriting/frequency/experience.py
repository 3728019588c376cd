"""Experience rating: the exchange's own breach record updates its base rate by credibility.

The model is Poisson–gamma (Bühlmann–Straub credibility is exact for it). Exchange ``i`` has an
unknown annual breach rate ``λ_i``; given ``λ_i`` its breaches in ``E_i`` exposure years are
Poisson(``λ_i E_i``). Across exchanges with the same base-model covariates, ``λ_i`` varies as
``Gamma(shape α, rate α / m_i)``: mean ``m_i`` (the base model's rate, per year), coefficient of
variation ``1 / √α``. The prior is worth ``α / m_i`` years of the exchange's own experience.

After ``N`` breaches in ``E`` years the posterior mean is::

    (α + N) / (α / m + E) = Z · N / E + (1 − Z) · m,     Z = E / (E + α / m)

(``Z`` is the credibility weight). ``α`` is estimated from the between-exchange dispersion of
counts in a cohort (:func:`estimate_prior_strength`): with the base model's expected counts
``μ_i``, the counts are negative binomial with ``Var N_i = μ_i + μ_i² / α``.

**The rule applied to a quote** (:func:`experience_rating`), monotone by construction:

1. every breach (an incident whose event type is in
   :data:`~underwriting.domain.vocabulary.BREACH_EVENT_TYPES`) dated in the look-back window
   ``[max(launch, as_of − look_back_years), as_of]`` counts with a weight ``w`` = size weight × age
   weight (:func:`underwriting.features.history.breach_weights`, parameters in ``experience.toml``
   ``[weights]``): the size weight rises with the loss in USD, between bounds (a €50m unreimbursed
   insider loss is a breach like any other, weighed by its size); the age weight is
   ``0.5 ** (age / half_life)``. The window's exposure years are decayed alike
   (:func:`~underwriting.features.history.decayed_exposure`), so ``N_w = Σ w`` and ``E_w`` replace
   ``N`` and ``E`` (exponentially smoothed experience);
2. the credibility posterior ``(α + N_w) / (α / m + E_w)`` rises strictly with ``N_w``, hence with each
   breach's size and recency;
3. with at least one breach in the window the rate is never below the prior ``m`` (a past breach
   never lowers the rate); with none, quiet years lower it gently, never below
   ``quiet_floor × m`` (``quiet_floor`` is data, in ``schedule.toml``'s ``[experience]`` table).

So ``posterior = max((α + N_w) / (α / m + E_w), m if N ≥ 1 else quiet_floor · m)``: each term
is non-decreasing in every breach weight and in ``m``, so adding a breach, or a bigger or more recent
one, never lowers the rate and a higher base rate never gives a lower posterior (which is how the base
model's interval is carried through, see :mod:`underwriting.frequency.model`). ``α`` is bounded and
chosen by cross-validated predictive likelihood (:mod:`underwriting.frequency.experience_prior`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from underwriting.domain.currency import FxTable
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.frequency.experience_prior import load_settings

if TYPE_CHECKING:  # pragma: no cover
    from underwriting.domain.submission import Incident, Submission

#: Event type of a submission incident by its vector: a fraud or exit scam is not a hack (the
#: shipped incident table records those as ``event_type = "fraud"``); every other vector,
#: ``other`` and ``unknown`` included, is taken as a breach (the cautious reading).
VECTOR_EVENT_TYPE: dict[str, str] = {
    "hot_wallet_key": "hack", "cold_wallet_key": "hack", "multisig_signing": "hack",
    "third_party_vendor": "hack", "insider": "insider", "api_or_account_takeover": "hack",
    "exit_scam_or_fraud": "fraud", "other": "hack", "unknown": "hack",
}
#: Search bounds of α (gamma shape) in the marginal-likelihood fit; an optimum at the upper
#: bound means "no detectable dispersion" and is reported as α = ∞ (the prior gets full weight).
ALPHA_BOUNDS = (1e-3, 1e6)


# --------------------------------------------------------------------------- prior strength


@dataclass(frozen=True)
class PriorStrength:
    """Gamma shape ``α`` of the between-exchange spread of breach rates, as estimated.

    Attributes
    ----------
    alpha : float
        Marginal-likelihood estimate (``math.inf`` when the counts show no over-dispersion).
    alpha_moments : float
        Method-of-moments estimate ``Σ μ² / Σ((N − μ)² − N)`` (``inf`` when the denominator ≤ 0).
    se_log_alpha : float
        Standard error of ``ln α`` from the observed information (``nan`` when ``α`` is infinite).
    interval : tuple of float
        Approximate 90% interval of ``α``: Wald on ``ln α``; when ``α`` is infinite, the one-sided
        90% profile-likelihood lower bound and ``inf``.
    n_exchanges : int
    breaches : float
        Total observed count.
    expected : float
        Total expected count under the base model (``Σ μ``).
    log_likelihood : float
        Negative binomial log-likelihood at ``alpha``.
    """

    alpha: float
    alpha_moments: float
    se_log_alpha: float
    interval: tuple[float, float]
    n_exchanges: int
    breaches: float
    expected: float
    log_likelihood: float


def _nb_loglik(alpha: float, n, mu) -> float:
    import numpy as np
    from scipy.special import gammaln

    a = float(alpha)
    return float(np.sum(gammaln(n + a) - gammaln(a) - gammaln(n + 1)
                        + a * np.log(a / (a + mu)) + n * np.log(np.where(mu > 0, mu, 1.0) / (a + mu))))


def estimate_prior_strength(counts, exposures, expected) -> PriorStrength:
    """Estimate the gamma shape ``α`` from a cohort's counts around the base model's expectation.

    Parameters
    ----------
    counts : array-like of int
        Breaches of each exchange during its follow-up (non-negative integers).
    exposures : array-like of float
        Follow-up of each exchange, in years (> 0: leave out an exchange with no follow-up). Only
        checked; the information is carried by ``expected``.
    expected : array-like of float
        Expected count of each exchange over its follow-up under the base model
        (``annual_rate × exposure``, > 0).

    Returns
    -------
    PriorStrength
        ``alpha`` is the maximum of the negative binomial marginal likelihood
        ``N_i ~ NB(mean μ_i, Var μ_i + μ_i² / α)``, over ``ln α`` in :data:`ALPHA_BOUNDS`;
        ``inf`` if the maximum is at the upper bound (no over-dispersion).

    Raises
    ------
    InputError
        Arrays of different lengths, negative or non-integer counts, non-positive exposure or
        expectation, fewer than two exchanges or no breach at all.
    """
    import numpy as np
    from scipy.optimize import brentq, minimize_scalar

    n = np.asarray(counts, dtype=float)
    e = np.asarray(exposures, dtype=float)
    mu = np.asarray(expected, dtype=float)
    if not (n.shape == e.shape == mu.shape) or n.ndim != 1:
        raise InputError(f"counts, exposures and expected must be 1-d and of one length "
                         f"(got {n.shape}, {e.shape}, {mu.shape})", field="counts")
    for name, arr in (("counts", n), ("exposures", e), ("expected", mu)):
        if not np.all(np.isfinite(arr)):
            raise InputError("must be finite numbers", field=name)
    if np.any(n < 0) or np.any(n != np.round(n)):
        raise InputError("must be non-negative whole numbers", field="counts")
    if np.any(e <= 0):
        raise InputError("every exposure must be positive (years of follow-up)", field="exposures")
    if np.any(mu <= 0):
        raise InputError("every expected count must be positive", field="expected")
    if n.size < 2:
        raise InputError("need at least two exchanges to measure dispersion", field="counts")
    if n.sum() == 0:
        raise InputError("the cohort has no breach: dispersion cannot be measured", field="counts")

    denom = float(np.sum((n - mu) ** 2 - n))
    a_mom = float(np.sum(mu**2) / denom) if denom > 0 else math.inf

    lo, hi = (math.log(b) for b in ALPHA_BOUNDS)

    def nll(log_a: float) -> float:
        return -_nb_loglik(math.exp(log_a), n, mu)

    res = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9})
    log_a = float(res.x)
    if hi - log_a < 1e-3 or nll(hi) <= float(res.fun):
        alpha, se = math.inf, math.nan
        ll = float(np.sum(n * np.log(mu) - mu - np.array([math.lgamma(k + 1) for k in n])))
        # one-sided 90% profile-likelihood bound: where the log-likelihood has fallen by
        # chi2_1(0.80) / 2 below its supremum (the Poisson limit)
        drop = 0.5 * 1.6423744151498185
        f = lambda la: -nll(la) - (ll - drop)  # noqa: E731
        a_low = math.exp(brentq(f, lo, hi, xtol=1e-10)) if f(lo) < 0 < f(hi - 1e-9) else ALPHA_BOUNDS[0]
        interval = (a_low, math.inf)
    else:
        alpha = math.exp(log_a)
        h = 1e-4  # observed information on the ln α scale, by central differences
        info = (nll(log_a + h) - 2 * nll(log_a) + nll(log_a - h)) / h**2
        se = 1.0 / math.sqrt(info) if info > 0 else math.nan
        z = 1.6448536269514722
        interval = ((math.exp(log_a - z * se), math.exp(log_a + z * se)) if math.isfinite(se)
                    else (math.nan, math.nan))
        ll = -float(res.fun)
    return PriorStrength(alpha=alpha, alpha_moments=a_mom, se_log_alpha=se, interval=interval,
                         n_exchanges=int(n.size), breaches=float(n.sum()), expected=float(mu.sum()),
                         log_likelihood=ll)


# --------------------------------------------------------------------------- posterior


def credibility_posterior(prior_rate: float, prior_strength: float, breaches: float,
                          exposure_years: float) -> tuple[float, float]:
    """Poisson–gamma posterior mean rate and credibility weight (no floor).

    Parameters
    ----------
    prior_rate : float
        Prior mean ``m``, breaches per year (> 0).
    prior_strength : float
        Gamma shape ``α`` (> 0; ``inf`` gives the prior back with ``Z = 0``).
    breaches : float
        ``N`` (≥ 0).
    exposure_years : float
        ``E`` (≥ 0).

    Returns
    -------
    (float, float)
        ``((α + N) / (α / m + E), Z = E / (E + α / m))``.
    """
    m, a = float(prior_rate), float(prior_strength)
    if not (math.isfinite(m) and m > 0):
        raise InputError(f"prior rate must be a positive finite number, got {m!r}", field="prior_rate")
    if not a > 0:
        raise InputError(f"prior strength must be positive, got {a!r}", field="prior_strength")
    if breaches < 0 or exposure_years < 0:
        raise InputError("breaches and exposure years must not be negative", field="breaches")
    if math.isinf(a):
        return m, 0.0
    k = a / m  # the prior's worth, in years
    return (a + breaches) / (k + exposure_years), exposure_years / (exposure_years + k)


@dataclass(frozen=True)
class ExperienceRating:
    """The experience block of a quote.

    Attributes
    ----------
    prior_rate : float
        Base model's annual rate ``m`` (breaches per year).
    prior_strength : float
        Gamma shape ``α``; the prior is worth ``α / m`` years.
    prior_years : float
        ``α / m``, in years.
    exposure_years : float
        ``E``: years in the look-back window since launch, up to ``as_of``.
    breaches : int
        ``N``: breaches dated in the window (unweighted count).
    credibility : float
        ``Z = E_w / (E_w + α / m)``.
    credibility_rate : float
        ``(α + N_w) / (α / m + E_w)`` before the floor.
    floor_rate : float
        ``m`` when ``N ≥ 1``, ``quiet_floor × m`` when ``N = 0``.
    posterior_rate : float
        ``max(credibility_rate, floor_rate)``, breaches per year.
    look_back_years : float
    quiet_floor : float
    weighted_breaches : float
        ``N_w``: sum of the breach weights (``= N`` without weights).
    weighted_exposure_years : float
        ``E_w``: the window's exposure with the age decay, years (``= E`` without decay).
    breach_weights : tuple of float
        Weight of each breach in the window (size × age), in date order.
    half_life_years : float
        Age decay's half-life, years (``inf``: no decay).
    """

    prior_rate: float
    prior_strength: float
    prior_years: float
    exposure_years: float
    breaches: int
    credibility: float
    credibility_rate: float
    floor_rate: float
    posterior_rate: float
    look_back_years: float
    quiet_floor: float
    weighted_breaches: float = math.nan
    weighted_exposure_years: float = math.nan
    breach_weights: tuple[float, ...] = ()
    half_life_years: float = math.inf

    @property
    def factor(self) -> float:
        """``posterior_rate / prior_rate``."""
        return self.posterior_rate / self.prior_rate

    @property
    def floor_applied(self) -> bool:
        """Whether the floor, not the credibility formula, set the rate."""
        return self.floor_rate > self.credibility_rate


def rate_with_experience(prior_rate: float, prior_strength: float, breaches: int, exposure_years: float,
                         *, quiet_floor: float, look_back_years: float = math.nan,
                         weighted_breaches: float | None = None, weighted_exposure_years: float | None = None,
                         breach_weights: tuple[float, ...] = (), half_life_years: float = math.inf
                         ) -> ExperienceRating:
    """Apply the rule of the module docstring to one exchange.

    Parameters
    ----------
    prior_rate : float
        Base annual rate ``m`` (> 0).
    prior_strength : float
        Gamma shape ``α`` (> 0 or ``inf``).
    breaches : int
        Breaches in the window (≥ 0), unweighted: sets the floor.
    exposure_years : float
        Years observed in the window (≥ 0).
    quiet_floor : float
        Lowest posterior / prior ratio without a breach, in (0, 1].
    look_back_years : float, optional
        Recorded in the result.
    weighted_breaches, weighted_exposure_years : float, optional
        ``N_w`` and ``E_w`` (default: ``breaches`` and ``exposure_years``, unweighted).
    breach_weights : tuple of float
        Recorded in the result.
    half_life_years : float
        Recorded in the result.
    """
    if not 0 < quiet_floor <= 1:
        raise InputError(f"quiet_floor must be in (0, 1], got {quiet_floor!r}", field="experience.quiet_floor")
    n = int(breaches)
    nw = float(n if weighted_breaches is None else weighted_breaches)
    ew = float(exposure_years if weighted_exposure_years is None else weighted_exposure_years)
    if (n >= 1) != (nw > 0):
        raise InputError("weighted breaches must be positive exactly when there is a breach", field="breaches")
    rate, z = credibility_posterior(prior_rate, prior_strength, nw, ew)
    m = float(prior_rate)
    floor = m if n >= 1 else quiet_floor * m
    a = float(prior_strength)
    return ExperienceRating(prior_rate=m, prior_strength=a, prior_years=a / m if math.isfinite(a) else math.inf,
                            exposure_years=float(exposure_years), breaches=n, credibility=z,
                            credibility_rate=rate, floor_rate=floor, posterior_rate=max(rate, floor),
                            look_back_years=float(look_back_years), quiet_floor=float(quiet_floor),
                            weighted_breaches=nw, weighted_exposure_years=ew,
                            breach_weights=tuple(float(w) for w in breach_weights),
                            half_life_years=float(half_life_years))


def is_breach(incident: Incident) -> bool:
    """Whether a submission incident counts as a breach (its vector's event type is in
    :data:`~underwriting.domain.vocabulary.BREACH_EVENT_TYPES`)."""
    return VECTOR_EVENT_TYPE[incident.vector] in BREACH_EVENT_TYPES


def window(as_of: dt.date, launch_date: dt.date, look_back_years: float) -> tuple[dt.date, float]:
    """Start of the look-back window and the exposure years in it.

    The window is ``[max(launch, as_of − look_back_years), as_of]`` cut at the launch date; exposure is its
    length in years of :data:`~underwriting.domain.vocabulary.DAYS_PER_YEAR` days.
    """
    if not look_back_years > 0:
        raise InputError(f"look_back_years must be positive, got {look_back_years!r}",
                         field="experience.look_back_years")
    back = as_of - dt.timedelta(days=round(look_back_years * DAYS_PER_YEAR))
    start = max(back, launch_date)
    return start, max((as_of - start).days, 0) / DAYS_PER_YEAR


def count_breaches(dates: Iterable[dt.date], start: dt.date, as_of: dt.date) -> int:
    """Breaches dated in ``[start, as_of]`` (both ends included)."""
    return sum(1 for d in dates if start <= d <= as_of)


def losses_usd(submission: Submission, incidents: Sequence[Incident], fx: Any = None) -> list[float]:
    """Loss of each incident in USD, at the as-of year's rates (the year the quote converts the exposure at;
    the bundled FX table unless ``fx`` is given)."""
    if any(i.currency != "USD" for i in incidents) and fx is None:

        fx = FxTable.bundled()
    return [float(i.amount) if i.currency == "USD" else fx.convert(float(i.amount), i.currency, "USD",
                                                                     submission.as_of.year) for i in incidents]


def experience_rating(submission: Submission, prior_rate: float, prior_strength: float, *,
                      look_back_years: float, quiet_floor: float, settings: Any = None,
                      fx: Any = None) -> ExperienceRating:
    """Experience block of one submission (the rule of the module docstring).

    Parameters
    ----------
    submission : Submission
        Its ``incidents``, ``as_of`` and ``exchange.launch_date`` are used.
    prior_rate : float
        The base model's annual rate for this exchange.
    prior_strength : float
        Gamma shape ``α`` (see :mod:`underwriting.frequency.experience_prior`).
    look_back_years, quiet_floor : float
        From the schedule table's ``[experience]`` block.
    settings : ExperienceSettings, optional
        Breach weights (``experience.toml`` by default).
    fx : FxTable, optional
        Rates for incident amounts in another currency than the exposure's.
    """
    from underwriting.features.history import breach_weights, decayed_exposure

    s = settings or load_settings()
    start, years = window(submission.as_of, submission.exchange.launch_date, look_back_years)
    hits = sorted((i for i in submission.incidents if is_breach(i) and start <= i.date <= submission.as_of),
                  key=lambda i: i.date)
    ages = [(submission.as_of - i.date).days / DAYS_PER_YEAR for i in hits]
    w = breach_weights(losses_usd(submission, hits, fx), ages, **s.weight_params()) if hits else ()
    return rate_with_experience(prior_rate, prior_strength, len(hits), years, quiet_floor=quiet_floor,
                                look_back_years=look_back_years, weighted_breaches=float(sum(w)),
                                weighted_exposure_years=decayed_exposure(years, s.half_life_years),
                                breach_weights=tuple(w), half_life_years=s.half_life_years)


def recent_breaches(submission: Submission, inception: dt.date, months: int) -> list[Incident]:
    """Breaches dated in the ``months`` months before ``inception`` (up to it, included): the referral rule."""
    days = round(months * DAYS_PER_YEAR / 12)
    return [i for i in submission.incidents
            if is_breach(i) and inception - dt.timedelta(days=days) <= i.date <= inception]


def breach_counts(incidents, exchange_ids: Sequence[str], starts, ends):
    """Breaches of each exchange in ``[start, end]`` from an incidents table.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``exchange_id``, a date column (``incident_date`` or ``date``) and ``event_type``
        (shipped table) or ``vector`` (contract frame: mapped by :data:`VECTOR_EVENT_TYPE`).
    exchange_ids : sequence of str
    starts, ends : sequence of dates
        Follow-up of each exchange.

    Returns
    -------
    numpy.ndarray of int
    """
    import numpy as np
    import pandas as pd

    date_col = "incident_date" if "incident_date" in incidents.columns else "date"
    if "event_type" in incidents.columns:
        kind = incidents["event_type"].astype(str)
    elif "vector" in incidents.columns:
        kind = incidents["vector"].map(VECTOR_EVENT_TYPE).fillna("hack")
    else:
        raise InputError("incidents need an event_type or vector column", field="incidents")
    b = incidents[kind.isin(BREACH_EVENT_TYPES).to_numpy()]
    d = pd.to_datetime(b[date_col])
    ids = b["exchange_id"].to_numpy()
    out = np.zeros(len(exchange_ids), dtype=int)
    for j, (eid, s, e) in enumerate(zip(exchange_ids, pd.to_datetime(list(starts)), pd.to_datetime(list(ends)),
                                        strict=True)):
        out[j] = int(((ids == eid) & (d >= s).to_numpy() & (d <= e).to_numpy()).sum())
    return out


__all__ = [
    "ALPHA_BOUNDS", "ExperienceRating", "PriorStrength", "VECTOR_EVENT_TYPE", "breach_counts", "count_breaches",
    "credibility_posterior", "estimate_prior_strength", "experience_rating", "is_breach", "losses_usd",
    "rate_with_experience", "recent_breaches", "window",
]
