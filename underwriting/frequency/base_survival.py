"""The base frequency model as a survival model of time to breach: population, lifelines checks, curve.

Issue #24 asks for the quote's base rate to be a survival model of time to breach, fitted on the
real cohorts with exit as censoring and checked with lifelines. The shipped estimator stays the
piecewise-exponential proportional-hazards model fitted as a Poisson GLM
(:class:`~underwriting.frequency.base_model.BaseFrequencyModel`: every breach counted, exposure from
entry to exit); this module

* defines the **recorded population** the model is fitted on (:func:`recorded_mask`) and the
  insured-population recipe of the shipped version (:func:`fit_insured`);
* builds the **time-to-first-breach** table of the same exchanges (:func:`first_breach_table`: time
  on the list from entry, first breach as the event, exit or the data end as censoring) and fits it
  with lifelines (:func:`survival_check`): a univariate piecewise-exponential hazard by time on the
  list against a constant hazard (likelihood-ratio test), a Weibull AFT regression whose shape
  tests the same thing with the covariates, and a Cox regression whose log hazard ratios are set
  beside the GLM's;
* turns an annual rate into the survival curve over a policy term and the median time to breach
  (:func:`survival_curve`), the block the quote and ``frequency explain`` show.

Recorded population (the fit rule)
    An exchange-piece enters the fit when its exchange has a country on CryptoCompare's list
    (any listing of 2020-12-10, active or not: the same field the ``offshore`` term reads). The
    rows without one are the CoinPaprika-only tail: venues no curated aggregator carried, whose
    breaches are rarely recorded and whose closures are mostly unknown (see
    ``docs/frequency_validation.md`` for the exposure and breaches this removes). The rule reads
    an aggregator's listing, never a breach. A quoted exchange answers a questionnaire with its
    licensing country, volume and history: it belongs to this population, not to the tail.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from underwriting.frequency.base_design import jurisdiction_group

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Covariate groups of the shipped insured-population model: size and offshore registration. No
#: aggregator-grade term and no "no country in the aggregator" term (data-source artefacts).
INSURED_COVARIATES: tuple[str, ...] = ("volume", "offshore")
#: Breakpoints (years on the list) of the piecewise-exponential check of hazard by time on the list.
TIME_ON_LIST_BREAKS: tuple[float, ...] = (1.0, 3.0)
#: Times (years from inception) at which the quote shows the survival curve, plus the term's end.
CURVE_TIMES: tuple[float, ...] = (0.25, 0.5, 1.0)


def recorded_mask(panel: pd.DataFrame) -> np.ndarray:
    """Rows of a cohort panel in the recorded population: the exchange has a CryptoCompare country.

    Parameters
    ----------
    panel : DataFrame
        :func:`~underwriting.frequency.base_panel.cohort_panel` rows (``country`` is CryptoCompare's).

    Returns
    -------
    ndarray of bool
    """
    c = panel["country"]
    return np.array([isinstance(x, str) and bool(x.strip()) for x in c], dtype=bool)


def fit_insured(end: Any = None, *, panel: pd.DataFrame | None = None, reference_volume_usd: Any = None,
                **kw: Any) -> tuple[Any, pd.DataFrame]:
    """Fit the shipped recipe: recorded population, volume + offshore, trend by LR test.

    Parameters
    ----------
    end : date-like, optional
        End of follow-up (default: the data cut-off).
    panel : DataFrame, optional
        A cohort panel (default: the shipped cohorts to ``end``).
    reference_volume_usd : array-like, optional
        Daily USD volumes new volumes are ranked against (default: the CryptoCompare 2020 list).
    **kw
        Further :class:`BaseFrequencyModel` parameters (``trend``, ``level``).

    Returns
    -------
    (BaseFrequencyModel, DataFrame)
        The fitted model and the recorded-population rows it was fitted on.
    """
    from underwriting.datasets.cohorts import cohort_followup
    from underwriting.domain.vocabulary import DATA_CUTOFF
    from underwriting.frequency.base_model import BaseFrequencyModel
    from underwriting.frequency.base_panel import cohort_panel

    end = DATA_CUTOFF if end is None else end
    full = cohort_panel(end=end) if panel is None else panel
    rec = full[recorded_mask(full)].reset_index(drop=True)
    if reference_volume_usd is None:
        reference_volume_usd = cohort_followup("cryptocompare", exits=False)["volume_24h_usd"].to_numpy(dtype=float)
    kw.setdefault("covariates", INSURED_COVARIATES)
    model = BaseFrequencyModel(**kw).fit(rec, rec["breaches"], reference_volume_usd=reference_volume_usd)
    return model, rec


def fit_shipped(end: Any = None, **kw: Any) -> tuple[Any, pd.DataFrame]:
    """The shipped recipe (:func:`fit_insured`) on the shipped cohorts to ``end``: the model and its rows."""
    return fit_insured(end, **kw)


def first_breach_table(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per exchange: time on the list to its first breach, or to exit (censored).

    Returns
    -------
    DataFrame
        ``exchange_id``, ``T`` (years from entry), ``E`` (1 = breached), ``volume_pct`` and
        ``offshore`` at entry (first piece), ``exposure_years`` (whole follow-up).
    """
    import pandas as pd

    from underwriting.domain.vocabulary import DAYS_PER_YEAR

    p = panel.sort_values(["exchange_id", "start"])
    rows = []
    for eid, g in p.groupby("exchange_id", sort=True):
        entry = g["start"].iloc[0]
        hit = g[g["breaches"] > 0]
        if len(hit):
            # the first breach lies in the first piece with a breach; the piece gives its interval only,
            # so the event time is the breach date from the dates carried by the panel when present
            stop = hit["first_breach"].iloc[0] if "first_breach" in hit else hit["stop"].iloc[0]
            e = 1
        else:
            stop, e = g["stop"].iloc[-1], 0
        t = max((pd.Timestamp(stop) - entry).days, 1) / DAYS_PER_YEAR
        first = g.iloc[0]
        rows.append({"exchange_id": eid, "T": t, "E": e, "volume_pct": float(first["volume_pct"]),
                     "offshore": float(jurisdiction_group(first["country"]) != "licensed"),
                     "exposure_years": float(g["exposure_years"].sum())})
    return pd.DataFrame(rows)


def survival_check(panel: pd.DataFrame, model: Any) -> dict[str, Any]:
    """Fit time to first breach with lifelines and set it beside the Poisson GLM.

    Parameters
    ----------
    panel : DataFrame
        The rows ``model`` was fitted on (with ``first_breach`` dates; see :func:`panel_with_dates`).
    model : BaseFrequencyModel

    Returns
    -------
    dict
        ``exchanges``, ``events``; ``time_on_list``: piecewise hazards per year by years on the list
        (lifelines ``PiecewiseExponentialFitter``), the constant hazard (``ExponentialFitter``) and
        the likelihood-ratio test (df = pieces - 1); ``weibull``: AFT coefficients and shape
        ``rho`` with its 90% interval (rho = 1: constant hazard); ``cox``: log hazard ratios,
        their SEs and concordance, beside ``glm`` (the recurrent-event Poisson coefficients).
    """
    from lifelines import (
        CoxPHFitter,
        ExponentialFitter,
        PiecewiseExponentialFitter,
        WeibullAFTFitter,
    )
    from scipy import stats

    tab = first_breach_table(panel)
    T, E = tab["T"].to_numpy(float), tab["E"].to_numpy(int)
    pw = PiecewiseExponentialFitter(list(TIME_ON_LIST_BREAKS)).fit(T, E)
    ex = ExponentialFitter().fit(T, E)
    lr = max(0.0, 2 * (pw.log_likelihood_ - ex.log_likelihood_))
    df = len(TIME_ON_LIST_BREAKS)
    edges = (0.0, *TIME_ON_LIST_BREAKS, math.inf)
    pieces = []
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        lam = float(pw.params_[f"lambda_{i}_"])
        at_risk = np.clip(np.minimum(T, b) - a, 0, None)
        ev = int(np.sum((E == 1) & (T > a) & (T <= b)))
        pieces.append({"from_years": a, "to_years": None if math.isinf(b) else b,
                       "hazard_per_year": 1.0 / lam, "events": ev, "exchange_years": float(at_risk.sum())})
    cols = ["T", "E", "volume_pct", "offshore"]
    wb = WeibullAFTFitter(alpha=0.1).fit(tab[cols], "T", "E")
    rho_log = float(wb.params_[("rho_", "Intercept")])
    rho_se = float(wb.standard_errors_[("rho_", "Intercept")])
    z = float(stats.norm.ppf(0.95))
    cox = CoxPHFitter(alpha=0.1).fit(tab[cols], "T", "E")
    glm = {k: float(v) for k, v in model.coef_.items()}
    return {
        "exchanges": int(len(tab)), "events": int(E.sum()), "first_breach_only": True,
        "time_on_list": {"pieces": pieces, "constant_hazard_per_year": float(1.0 / ex.params_["lambda_"]),
                         "lr": lr, "df": df, "p": float(stats.chi2.sf(lr, df))},
        "weibull": {"rho": math.exp(rho_log), "rho_interval": [math.exp(rho_log - z * rho_se), math.exp(rho_log + z * rho_se)],
                    "coef": {k: float(wb.params_[("lambda_", k)]) for k in ("volume_pct", "offshore")},
                    "p_rho_is_1": float(2 * stats.norm.sf(abs(rho_log / rho_se)))},
        "cox": {"log_hr": {k: float(cox.params_[k]) for k in ("volume_pct", "offshore")},
                "se": {k: float(cox.standard_errors_[k]) for k in ("volume_pct", "offshore")},
                "concordance": float(cox.concordance_index_)},
        "glm": glm,
    }


def panel_with_dates(panel: pd.DataFrame, breach_dates: dict[str, list]) -> pd.DataFrame:
    """``panel`` with ``first_breach``: the first breach date inside each row's (start, stop], else NaT."""
    import pandas as pd

    out = panel.copy()
    fb = []
    for e, s, t in zip(out["exchange_id"], out["start"], out["stop"], strict=True):
        d = [x for x in breach_dates.get(e, []) if s < x <= t]
        fb.append(min(d) if d else pd.NaT)
    out["first_breach"] = pd.to_datetime(pd.Series(fb, index=out.index, dtype="object"))
    return out


def survival_curve(annual_rate: float, term_years: float, times: tuple[float, ...] = CURVE_TIMES) -> dict[str, Any]:
    """Survival curve over a policy term and median time to breach under a constant hazard.

    The shipped base model's hazard is constant in time on the list (tested in
    :func:`survival_check`) and the rate is held at the data end, so ``S(t) = exp(-rate * t)``.

    Parameters
    ----------
    annual_rate : float
        Breaches per year (base x experience x schedule), >= 0.
    term_years : float
        Policy term, years (> 0).
    times : tuple of float
        Times in years at which to show S(t) (those within the term, plus the term's end).

    Returns
    -------
    dict
        ``times_years``, ``survival`` (probability of no breach by each time),
        ``median_years_to_breach`` (``ln 2 / rate``; ``None`` when the rate is 0), ``hazard``.
    """
    if not (math.isfinite(annual_rate) and annual_rate >= 0):
        raise ValueError(f"annual_rate must be finite and non-negative, not {annual_rate!r}")
    if not (math.isfinite(term_years) and term_years > 0):
        raise ValueError(f"term_years must be positive, not {term_years!r}")
    ts = sorted({float(t) for t in times if 0 < t < term_years} | {float(term_years)})
    return {"times_years": ts, "survival": [math.exp(-annual_rate * t) for t in ts],
            "median_years_to_breach": (math.log(2) / annual_rate) if annual_rate > 0 else None,
            "hazard": "constant in time (piecewise-exponential check by time on the list: docs/frequency_validation.md)"}


def breach_dates(incidents: pd.DataFrame | None = None) -> dict[str, list]:
    """Breach dates (hack or insider incidents) by ``exchange_id``, sorted; the shipped table by default."""
    from underwriting.datasets.loaders import load_incidents
    from underwriting.domain.vocabulary import BREACH_EVENT_TYPES

    inc = load_incidents() if incidents is None else incidents
    br = inc[inc["event_type"].astype(str).isin(BREACH_EVENT_TYPES)]
    return {k: sorted(v) for k, v in br.groupby("exchange_id")["incident_date"].apply(list).items()}
