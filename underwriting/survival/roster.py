"""Survival analysis of the real, curated exchange roster (``datasets/exchanges.csv``).

What the real data can say without posture: the Kaplan–Meier curve of the time from launch to
the first breach, lifetimes (launch to closure), the ever-hacked and closed shares, and a Cox
model / piecewise-exponential panel model on the few observable covariates (jurisdiction group,
launch era, recent breaches). Figures for ``docs/survival.md`` come from::

    python -m underwriting.survival.roster

Caveats (repeated in the docs): the roster was built outward from an incident list, so hacked
exchanges are over-represented; only exchanges with a known launch date enter the time-to-event
analyses; most launch dates are known to the year only (stored as 1 January).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from underwriting.datasets.loaders import load_exchange_panel, load_exchanges, load_incidents
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF, DAYS_PER_YEAR
from underwriting.survival._target import survival_target
from underwriting.survival.estimator import TimeToBreachModel
from underwriting.survival.metrics import kaplan_meier

#: Jurisdiction groups (ISO alpha-2 of the headquarters/registration as stated by the source).
JURISDICTION_GROUPS = {
    "asia": ("JP", "KR", "SG", "HK", "CN", "TW", "TR", "IN", "ID", "TH", "VN", "MY", "PH", "AE"),
    "us_eu": ("US", "GB", "DE", "FR", "IT", "ES", "NL", "EE", "FI", "LT", "LU", "MT", "AT", "CH", "PL",
              "SI", "IE", "CZ", "SE", "DK", "CA", "AU", "NZ", "BR", "MX", "ZA", "GI"),
    "offshore": ("SC", "VG", "KY", "BZ", "BS", "BM", "VC", "PA", "MU", "CW", "MH", "SV"),
}
CUTOFF = DATA_CUTOFF
DAYS = DAYS_PER_YEAR


def _group(code) -> str:
    if not isinstance(code, str) or not code:
        return "unknown"
    for g, codes in JURISDICTION_GROUPS.items():
        if code in codes:
            return g
    return "other"


def first_breach_table(exchanges=None, incidents=None, *, cutoff: dt.date = CUTOFF):
    """One row per exchange with a known launch: years from launch to the first breach (hack or
    insider) or to censoring (closure or ``cutoff``), plus covariates known at launch."""
    import pandas as pd

    ex = load_exchanges() if exchanges is None else exchanges
    inc = load_incidents() if incidents is None else incidents
    inc = inc[inc["event_type"].astype(str).isin(BREACH_EVENT_TYPES)]
    first = pd.to_datetime(inc["incident_date"]).groupby(inc["exchange_id"]).min()
    ex = ex[ex["launch_date"].notna()].copy()
    launch = pd.to_datetime(ex["launch_date"])
    end = pd.to_datetime(ex["closure_date"]).fillna(pd.Timestamp(cutoff))
    fb = ex["exchange_id"].map(first)
    event = fb.notna() & (fb >= launch)
    stop = np.where(event, fb, end)
    years = (pd.to_datetime(stop) - launch).dt.days.to_numpy(float) / DAYS
    life_end = end
    out = pd.DataFrame({
        "exchange_id": ex["exchange_id"].to_numpy(),
        "launch_year": launch.dt.year.to_numpy(),
        "jurisdiction_group": ex["country"].map(_group).to_numpy(),
        "time": np.maximum(years, 1.0 / DAYS),  # a breach on launch day counts at one day (time > 0)
        "event": event.to_numpy().astype(int),
        "closed": ex["closure_date"].notna().to_numpy().astype(int),
        "lifetime": (life_end - launch).dt.days.to_numpy(float) / DAYS,
    })
    out["era"] = pd.cut(out["launch_year"], [0, 2013, 2017, 3000], labels=["<=2013", "2014-2017", ">=2018"]).astype(str)
    return out


def _design(df):
    import pandas as pd

    X = pd.DataFrame(index=df.index)
    X["era_2014_2017"] = (df["era"] == "2014-2017").astype(float)
    X["era_2018_plus"] = (df["era"] == ">=2018").astype(float)
    for g in ("asia", "offshore", "other_or_unknown"):
        if g == "other_or_unknown":
            X[g] = df["jurisdiction_group"].isin(["other", "unknown"]).astype(float)
        else:
            X[g] = (df["jurisdiction_group"] == g).astype(float)
    return X  # reference: launched <= 2013, US/EU


def analyse(exchanges=None, incidents=None) -> dict:
    """All figures of the real-roster section of ``docs/survival.md`` as a dict."""
    import pandas as pd

    ex = load_exchanges() if exchanges is None else exchanges
    inc = load_incidents() if incidents is None else incidents
    hacked_ids = set(inc.loc[inc["event_type"].astype(str).isin(BREACH_EVENT_TYPES), "exchange_id"])
    res: dict = {"n_exchanges": int(len(ex)), "n_ever_hacked": int(ex["exchange_id"].isin(hacked_ids).sum()),
                 "n_closed": int(ex["closure_date"].notna().sum())}
    fb = first_breach_table(ex, inc)
    res["n_with_launch"] = int(len(fb))
    res["n_first_breaches"] = int(fb["event"].sum())
    km = kaplan_meier(fb["time"], fb["event"] > 0)
    res["km_first_breach"] = {h: float(km(np.array([h]))[0]) for h in (1.0, 2.0, 3.0, 5.0, 10.0)}
    below = km.x[km.y <= 0.5]
    res["median_years_to_first_breach"] = float(below[0]) if below.size else None
    # lifetimes (launch to closure; open exchanges censored at the cut-off)
    kml = kaplan_meier(fb["lifetime"], fb["closed"] > 0)
    res["km_closure_1y"] = float(1 - kml(np.array([1.0]))[0])
    below = kml.x[kml.y <= 0.5]
    res["median_lifetime_years_km"] = float(below[0]) if below.size else None
    closed = fb[fb["closed"] > 0]
    res["closed_lifetime_months_median"] = float(np.median(closed["lifetime"]) * 12)
    res["closed_lifetime_months_mean"] = float(np.mean(closed["lifetime"]) * 12)
    res["n_closed_with_launch"] = int(len(closed))
    # Cox on observable covariates (time to first breach, age time scale)
    X = _design(fb)
    cox = TimeToBreachModel(family="coxph", horizon=3.0).fit(X, survival_target(fb["time"], fb["event"]))
    res["cox"] = cox.summary().assign(hazard_ratio=lambda d: np.exp(d["coef"])).round(4)
    res["cox_concordance"] = float(cox.concordance_)
    res["cox_counts"] = {c: int(X[c].sum()) for c in X.columns}
    # piecewise-exponential on the yearly panel (recurrent breaches, time-varying recent breaches)
    panel = load_exchange_panel(freq="Y", incidents=inc, exchanges=ex)
    first = fb.set_index("exchange_id")
    P = _design(first.loc[panel["exchange_id"]].reset_index(drop=True))
    P["breached_prior_1y"] = (panel["prior_breaches_1y"].to_numpy() > 0).astype(float)
    y = survival_target(panel["age_stop"], panel["n_events"], entry=panel["age_start"])
    pwe = TimeToBreachModel(family="piecewise_exponential", breakpoints=(1.0, 3.0, 6.0), horizon=1.0).fit(P, y)
    res["pwe"] = pwe.summary().assign(rate_ratio=lambda d: np.exp(d["coef"])).round(4)
    res["pwe_rows"] = int(len(panel))
    res["pwe_events"] = int(panel["n_events"].sum())
    res["pwe_exchange_years"] = float((panel["age_stop"] - panel["age_start"]).sum())
    res["crude_annual_rate"] = res["pwe_events"] / res["pwe_exchange_years"]
    ref = pd.DataFrame([np.zeros(P.shape[1])], columns=P.columns)
    res["pwe_p_breach_year"] = {f"age {a:g}": float(pwe.predict_risk(ref, 1.0, start=a)[0]) for a in (0.0, 2.0, 5.0)}
    return res


def to_markdown(res: dict) -> str:
    lines = ["| quantity | value |", "| --- | --- |"]
    for k, v in res.items():
        if hasattr(v, "to_markdown"):
            continue
        lines.append(f"| {k} | {v} |")
    out = "\n".join(lines)
    for k in ("cox", "pwe"):
        df = res[k]
        out += f"\n\n{k}:\n\n| term | " + " | ".join(df.columns) + " |\n| --- |" + " ---: |" * df.shape[1] + "\n"
        for idx, row in df.iterrows():
            out += f"| {idx} | " + " | ".join(f"{v:.4f}" for v in row.to_numpy()) + " |\n"
    return out


if __name__ == "__main__":  # pragma: no cover
    print(to_markdown(analyse()))
