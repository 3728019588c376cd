"""Validation of the base frequency model on the cohorts: in-sample counts, calendar trend,
attrition, out-of-time prediction and the published shares of exchanges ever breached.

Every function returns plain numbers (dicts) so ``docs/frequency_validation.md``, the model's
``training.json`` and the tests all quote the same runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from underwriting.datasets.cohorts import cohort_followup
from underwriting.domain.vocabulary import DATA_CUTOFF, DAYS_PER_YEAR
from underwriting.frequency.base_design import design
from underwriting.frequency.base_panel import cohort_panel
from underwriting.frequency.base_survival import fit_insured, recorded_mask

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
    from underwriting.frequency.base_model import BaseFrequencyModel

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


def out_of_time(level: float = 0.9, fit_end: str = "2020-12-31", exit_rule: str = "none") -> dict[str, Any]:
    """Fit on the 2019 cohort with follow-up to ``fit_end`` (volume only, no trend: six breaches
    cannot carry more), predict the same exchanges' breaches from the next day to the data
    cut-off, and compare observed with expected (exact Poisson interval on the observed count).
    The check of frequency 0.1.0 (no exits by default); the shipped version's table is
    :func:`segment_table`."""
    import pandas as pd

    from underwriting.frequency.base_model import BaseFrequencyModel

    early = cohort_panel(end=fit_end, snapshots=("coinpaprika",), exit_rule=exit_rule)
    model = BaseFrequencyModel(trend=False, covariates=("volume",)).fit(early, early["breaches"])
    full = cohort_panel(snapshots=("coinpaprika",), exit_rule=exit_rule)
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


#: Out-of-time split of the segment table: fit on follow-up to this day, predict from the next day.
SEGMENT_FIT_END = "2022-12-31"
#: Size of the "largest exchanges of the latest list" segment.
TOP_N = 100


def oe_row(segment: str, observed: int, expected: float, level: float = 0.9, **extra: Any) -> dict[str, Any]:
    """One row of the validation table: O/E with the exact Poisson interval of the observed count."""
    lo, hi = poisson_interval(int(observed), level)
    e = float(expected)
    return {"segment": segment, "observed": int(observed), "expected": e,
            "oe": observed / e if e > 0 else math.inf,
            "interval": [lo / e, hi / e] if e > 0 else [math.inf, math.inf], "level": level,
            "inside": bool(e > 0 and lo / e <= 1.0 <= hi / e), **extra}


def segment_table(fit_end: str = SEGMENT_FIT_END, level: float = 0.9, *, jp: Any = None) -> dict[str, Any]:
    """Out-of-time O/E of the shipped recipe by segment (the table of docs/frequency_validation.md).

    The recipe (:func:`underwriting.frequency.base_survival.fit_insured`) is refitted on the follow-up
    to ``fit_end`` and predicts the rows from the next day to the data cut-off. Segments: the recorded
    population; each third of within-list volume rank; the ``TOP_N`` largest exchanges of the latest
    list (CryptoCompare 2020-12-10, every one of them, with or without a country); and, when ``jp``
    (a frame of ``exchange_id``, ``start``, ``stop``, ``breaches``, ``country``, ``volume_24h_usd``) is
    given, the Japanese registered exchanges over the same later window. The whole cohort including the
    unrecorded tail is reported too, for information (not gated: its breaches are under-recorded).
    """
    import pandas as pd

    model, _ = fit_insured(end=fit_end)
    full = cohort_panel()
    cut = pd.Timestamp(fit_end) + pd.Timedelta(days=1)
    later = full[full["start"] >= cut].reset_index(drop=True)
    mu = row_rates(model, later) * later["exposure_years"].to_numpy(float)
    later = later.assign(mu=mu)
    rec = later[recorded_mask(later)]
    rows = [oe_row("recorded population", rec["breaches"].sum(), rec["mu"].sum(), level,
                   exchanges=int(rec["exchange_id"].nunique()), exposure_years=float(rec["exposure_years"].sum()))]
    for i, name in enumerate(("volume third 1 (smallest)", "volume third 2", "volume third 3 (largest)")):
        s = rec[(rec["volume_pct"] >= i / 3) & ((rec["volume_pct"] < (i + 1) / 3) | (i == 2))]
        rows.append(oe_row(name, s["breaches"].sum(), s["mu"].sum(), level, exchanges=int(s["exchange_id"].nunique()),
                           exposure_years=float(s["exposure_years"].sum())))
    cc = cohort_followup("cryptocompare", exits=False).sort_values("volume_24h_usd", ascending=False)
    top = set(cc["exchange_id"].head(TOP_N))
    s = later[later["exchange_id"].isin(top)]
    rows.append(oe_row(f"largest {TOP_N} of CryptoCompare 2020-12-10", s["breaches"].sum(), s["mu"].sum(), level,
                       exchanges=int(s["exchange_id"].nunique()), exposure_years=float(s["exposure_years"].sum())))
    if jp is not None:
        j = jp_expected(model, jp, cut)
        rows.append(oe_row("Japanese registered exchanges (out of time)", j["observed"], j["expected"], level,
                           exchanges=j["exchanges"], exposure_years=j["exposure_years"]))
    info = [oe_row("whole cohort incl. unrecorded tail (information)", later["breaches"].sum(), later["mu"].sum(), level,
                   exchanges=int(later["exchange_id"].nunique()), exposure_years=float(later["exposure_years"].sum()))]
    return {"fit_window": [None, fit_end], "predict_window": [str(cut.date()), str(full["stop"].max().date())],
            "fit_events": model.events_, "fit_exposure_years": model.exposure_years_,
            "fit_terms": list(model.terms_), "coef": {k: float(v) for k, v in model.coef_.items()},
            "rows": rows, "information": info, "all_inside": all(r["inside"] for r in rows)}


def row_rates(model: Any, panel: Any) -> np.ndarray:
    """Annual rate of each panel row under a fitted base model, with the row's own ``volume_pct``
    (within-list rank, as at fit time); breaches per year."""

    trend = "trend" in model.terms_
    D = design(panel, model.reference_log_volume_, trend=True, trend_cap=model.data_end_,
               volume_pct=panel["volume_pct"].to_numpy(dtype=float),
               unknown_as_offshore=model.unknown_as_offshore)[:, model._columns(trend)]
    return np.exp(D @ model.coef_.to_numpy())


def jp_expected(model: Any, jp: Any, start: Any, end: Any = None) -> dict[str, Any]:
    """Observed and expected breaches of a Japanese cohort frame inside ``[start, end]``.

    ``jp``: one row per exchange with ``exchange_id``, ``start``, ``stop`` (timestamps), ``breach_dates``
    (list of timestamps), optional ``volume_24h_usd`` (NaN: unknown size, averaged) and ``country``.
    """
    import pandas as pd

    s0 = pd.Timestamp(start)
    e0 = pd.Timestamp(DATA_CUTOFF if end is None else end)
    a = pd.to_datetime(jp["start"]).where(pd.to_datetime(jp["start"]) > s0, s0)
    b = pd.to_datetime(jp["stop"]).where(pd.to_datetime(jp["stop"]) < e0, e0)
    yrs = np.clip((b - a).dt.days.to_numpy(float) / DAYS_PER_YEAR, 0, None)
    X = pd.DataFrame({"volume_24h_usd": jp["volume_24h_usd"] if "volume_24h_usd" in jp else np.nan,
                      "country": jp["country"] if "country" in jp else "JP",
                      "security_points": np.nan, "age_years": np.nan})
    rate = model.predict(X).to_numpy(float)
    obs = sum(sum(1 for d in ds if ai < d <= bi) for ds, ai, bi in zip(jp["breach_dates"], a, b, strict=True))
    return {"observed": int(obs), "expected": float((rate * yrs).sum()), "exchanges": int((yrs > 0).sum()),
            "exposure_years": float(yrs.sum())}
