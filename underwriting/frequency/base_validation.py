"""Validation of the base frequency model on the cohorts: in-sample counts, calendar trend,
attrition, out-of-time prediction and the published shares of exchanges ever breached.

Every function returns plain numbers (dicts) so ``docs/frequency_validation.md``, the model's
``training.json`` and the tests all quote the same runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from underwriting.domain.vocabulary import DAYS_PER_YEAR

#: Published shares of exchanges ever breached (cohorts not chosen by hacks), with their follow-up.
PUBLISHED_SHARES: tuple[dict[str, Any], ...] = (
    {"study": "Moore & Christin 2013", "breached": 9, "exchanges": 40, "share": 0.225,
     "note": "Bitcoin exchanges 2010-2013; median lifetime 381 days"},
    {"study": "Moore, Christin & Szurdi 2018", "breached": 25, "exchanges": 80, "share": 25 / 80,
     "note": "exchanges established 2010-2015, followed to 2015"},
    {"study": "Magomedov & Fantazzini 2025", "breached": None, "exchanges": 228, "share": 0.28,
     "note": "exchanges 2011-2024; mean lifetime 67.8 months"},
)


def poisson_interval(observed: int, level: float = 0.9) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean given an observed count."""
    from scipy import stats

    a = 1 - level
    lo = 0.0 if observed == 0 else float(stats.chi2.ppf(a / 2, 2 * observed) / 2)
    hi = float(stats.chi2.ppf(1 - a / 2, 2 * observed + 2) / 2)
    return lo, hi


def by_calendar_year(panel: Any) -> list[dict[str, Any]]:
    """Breaches, exposure and crude rate per calendar year of a cohort panel."""
    g = panel.groupby("calendar_year").agg(breaches=("breaches", "sum"), exposure=("exposure_years", "sum"),
                                           exchanges=("exchange_id", "nunique"))
    return [{"year": int(y), "breaches": int(r.breaches), "exposure_years": float(r.exposure),
             "exchanges": int(r.exchanges), "rate": float(r.breaches / r.exposure)} for y, r in g.iterrows()]


def attrition_check(**kw: Any) -> dict[str, Any]:
    """Does unrecorded closure bias later years? Compare the trend with and without censoring the
    2019 exchanges that CryptoCompare no longer lists as active at 2020-12-10, and the 2021+
    rates of the two groups."""
    from underwriting.frequency.base_model import BaseFrequencyModel, cohort_panel

    full = cohort_panel(**kw)
    cens = cohort_panel(attrition_censor=True, **kw)
    mf = BaseFrequencyModel(trend=True).fit(full, full["breaches"])
    mc = BaseFrequencyModel(trend=True).fit(cens, cens["breaches"])
    late = full[(full["calendar_year"] >= 2021) & (full["snapshot"] == "coinpaprika")]
    late_cc = full[(full["calendar_year"] >= 2021) & (full["snapshot"] == "cryptocompare")]
    return {
        "trend_all": mf.trend_test_, "trend_censored": mc.trend_test_,
        "unlisted_2021_on": {"breaches": int(late["breaches"].sum()), "exposure_years": float(late["exposure_years"].sum())},
        "listed_2021_on": {"breaches": int(late_cc["breaches"].sum()), "exposure_years": float(late_cc["exposure_years"].sum())},
    }


def out_of_time(level: float = 0.9, fit_end: str = "2020-12-31") -> dict[str, Any]:
    """Fit on the 2019 cohort with follow-up to ``fit_end`` (volume only, no trend: six breaches
    cannot carry more), predict the same exchanges' breaches from the next day to the data
    cut-off, and compare observed with expected (exact Poisson interval on the observed count)."""
    import pandas as pd

    from underwriting.frequency.base_model import BaseFrequencyModel, cohort_panel

    early = cohort_panel(end=fit_end, snapshots=("coinpaprika",))
    model = BaseFrequencyModel(trend=False, covariates=("volume",)).fit(early, early["breaches"])
    full = cohort_panel(snapshots=("coinpaprika",))
    later = full[full["start"] > pd.Timestamp(fit_end)]
    beta = model.coef_.to_numpy()
    D = np.column_stack([np.ones(len(later)), later["volume_pct"].to_numpy()])
    mu = np.exp(D @ beta) * later["exposure_years"].to_numpy()
    expected = float(mu.sum())
    grad = (D * mu[:, None]).sum(axis=0)
    se_log = math.sqrt(float(grad @ model.cov_.to_numpy() @ grad)) / expected
    observed = int(later["breaches"].sum())
    lo, hi = poisson_interval(observed, level)
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "fit_window": ["2019-09-07", fit_end], "fit_events": model.events_, "fit_exposure_years": model.exposure_years_,
        "coef": {k: float(v) for k, v in model.coef_.items()},
        "predict_window": [str((pd.Timestamp(fit_end) + pd.Timedelta(days=1)).date()), "2025-11-30"],
        "observed": observed, "expected": expected, "oe": observed / expected,
        "oe_interval": [lo / expected, hi / expected], "level": level,
        "expected_interval_parameters": [expected * math.exp(-z * se_log), expected * math.exp(z * se_log)],
    }


def ever_breached(model: Any, panel: Any, months: float = 67.8) -> dict[str, Any]:
    """Observed and model-implied shares of exchanges ever breached.

    ``in_sample``: per exchange, 1 - exp(-sum of fitted means) over its own follow-up, averaged,
    beside the observed share with any breach. ``horizon``: 1 - exp(-rate x months/12) for the
    2020 cohort's exchanges (at their 2020 covariates, rate held at the data end), overall and
    for the top third by volume, beside the published shares (whose cohorts were notable,
    larger exchanges with longer lives).
    """
    fitted = panel.assign(mu=model.fitted_)
    per = fitted.groupby("exchange_id").agg(mu=("mu", "sum"), b=("breaches", "sum"))
    cc = panel[panel["snapshot"] == "cryptocompare"].drop_duplicates("exchange_id")
    rate = model.predict(cc[["volume_24h_usd", "country", "security_points"]].assign(age_years=np.nan))
    p = 1 - np.exp(-rate.to_numpy() * months / 12)
    top = cc["volume_pct"].to_numpy() >= 2 / 3
    return {
        "exchanges": int(len(per)), "observed_share": float((per["b"] > 0).mean()),
        "implied_share": float((1 - np.exp(-per["mu"])).mean()),
        "horizon_months": months, "implied_share_2020_cohort": float(p.mean()),
        "implied_share_2020_top_third": float(p[top].mean()),
        "published": [dict(d) for d in PUBLISHED_SHARES],
        "days_per_year": DAYS_PER_YEAR,
    }
