"""Key figures of the real curated data (``underwriting datasets describe``)."""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from underwriting.datasets.calibration import calibration_targets
from underwriting.datasets.loaders import load_exchanges, load_incidents
from underwriting.datasets.schema import CUSTODY_TIER_VOCAB, REIMBURSED_VOCAB, VECTOR_VOCAB
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF, DAYS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_HORIZONS = (1, 3, 5)


def _num(x: float | None) -> float | None:
    if x is None or not math.isfinite(float(x)):
        return None
    return float(x)


def _km(durations, observed) -> dict[str, Any]:
    from lifelines import KaplanMeierFitter

    if len(durations) == 0:
        return {"n": 0, "events": 0, "median_years": None,
                **{f"p_by_{h}y": None for h in _HORIZONS}}
    km = KaplanMeierFitter().fit(durations, observed)
    s = km.survival_function_at_times(list(_HORIZONS)).to_numpy()
    return {
        "n": int(len(durations)), "events": int(sum(observed)),
        "median_years": _num(km.median_survival_time_),
        **{f"p_by_{h}y": float(1.0 - v) for h, v in zip(_HORIZONS, s, strict=True)},
    }


def describe(
    incidents: str | os.PathLike[str] | pd.DataFrame | None = None,
    exchanges: str | os.PathLike[str] | pd.DataFrame | None = None,
    *,
    cutoff: str | dt.date = DATA_CUTOFF,
    breach_types: Sequence[str] = BREACH_EVENT_TYPES,
) -> dict[str, Any]:
    """Key figures of the incident table and the roster, as plain data (JSON-ready).

    Returns a dict with ``counts``; ``by_year`` (incidents, breaches and known USD per year);
    ``breach_vector_share``, ``breach_custody_tier_share``, ``breach_reimbursed_share`` (shares of
    breaches; reimbursement also among breaches where it is known); ``time_to_first_breach``
    (Kaplan-Meier from launch, censored at closure or cut-off: median and probability of a breach
    within 1/3/5 years); ``roster`` (hacked share, closed share, closure reasons, Kaplan-Meier
    lifetime, lifetimes of closed exchanges); ``calibration_targets``; ``caveats``.
    """
    import numpy as np
    import pandas as pd

    ex = exchanges if isinstance(exchanges, pd.DataFrame) else load_exchanges(exchanges)
    inc = incidents if isinstance(incidents, pd.DataFrame) else load_incidents(incidents, exchanges=ex)
    cut = pd.Timestamp(cutoff)
    inc = inc[inc["incident_date"] <= cut]
    is_breach = inc["event_type"].astype(str).isin(list(breach_types))
    br = inc[is_breach]

    years = inc["incident_date"].dt.year
    by_year = []
    for y in range(int(years.min()), int(years.max()) + 1) if len(inc) else []:
        sel = years == y
        b = sel & is_breach
        by_year.append({
            "year": y, "incidents": int(sel.sum()), "breaches": int(b.sum()),
            "breach_usd": float(inc.loc[b, "amount_usd"].sum(skipna=True)),
            "breaches_with_amount": int(inc.loc[b, "amount_usd"].notna().sum()),
        })

    def shares(col: str, vocab: Sequence[str]) -> dict[str, float]:
        vc = br[col].astype(str).value_counts()
        n = max(len(br), 1)
        return {k: float(vc.get(k, 0)) / n for k in vocab}

    reimb = shares("reimbursed", REIMBURSED_VOCAB)
    known = br[br["reimbursed"].astype(str) != "unknown"]["reimbursed"].astype(str).value_counts(normalize=True)
    reimb_known = {k: float(known.get(k, 0.0)) for k in REIMBURSED_VOCAB if k != "unknown"}

    # roster: lifetimes and first breach
    launch = ex["launch_date"]
    closure = ex["closure_date"]
    closed = closure.notna() & (closure <= cut)
    end = closure.where(closed, cut)
    first = br.groupby("exchange_id")["incident_date"].min()
    first_b = ex["exchange_id"].map(first)
    end = pd.Series(np.where(closed & first_b.notna() & (first_b > end), first_b, end), index=ex.index)
    known_launch = launch.notna() & (end > launch)
    dur_life = (end - launch)[known_launch].dt.days / DAYS_PER_YEAR
    km_life = _km(dur_life.to_numpy(), closed[known_launch].to_numpy())
    hacked = first_b.notna()
    t_first = np.where(hacked, (first_b - launch).dt.days, (end - launch).dt.days) / DAYS_PER_YEAR
    t_first = pd.Series(t_first, index=ex.index)[known_launch]
    km_first = _km(np.maximum(t_first.to_numpy(), 0.0), hacked[known_launch].to_numpy())
    closed_life = ((closure - launch).dt.days / DAYS_PER_YEAR)[closed & launch.notna()]
    reasons = ex.loc[closed, "closure_reason"].astype(str).value_counts()
    try:
        targets = calibration_targets(inc, ex, cutoff=cutoff, breach_types=breach_types).as_dict()
        targets["source"] = "datasets" if incidents is None and exchanges is None else "user tables"
    except Exception as exc:  # noqa: BLE001 - describe must still print the rest
        targets = {"error": f"{type(exc).__name__}: {exc}"}

    return {
        "cutoff": str(cut.date()),
        "breach_types": list(breach_types),
        "counts": {
            "incidents": int(len(inc)), "breaches": int(len(br)),
            "breach_usd_total": float(br["amount_usd"].sum(skipna=True)),
            "breaches_with_amount": int(br["amount_usd"].notna().sum()),
            "exchanges": int(len(ex)), "exchanges_with_launch_date": int(launch.notna().sum()),
            "event_types": {k: int(v) for k, v in inc["event_type"].astype(str).value_counts().items()},
        },
        "by_year": by_year,
        "breach_vector_share": shares("vector", VECTOR_VOCAB),
        "breach_custody_tier_share": shares("custody_tier", CUSTODY_TIER_VOCAB),
        "breach_reimbursed_share": reimb,
        "breach_reimbursed_share_known": reimb_known,
        "time_to_first_breach": km_first,
        "roster": {
            "hacked_share": float(hacked.mean()) if len(ex) else None,
            "hacked_share_known_launch": float(hacked[known_launch].mean()) if known_launch.any() else None,
            "closed_share": float(closed.mean()) if len(ex) else None,
            "closure_reasons": {k: int(v) for k, v in reasons.items()},
            "lifetime_km": km_life,
            "closed_lifetime_median_years": _num(closed_life.median()) if len(closed_life) else None,
            "closed_after_breach": int((closed & hacked).sum()),
        },
        "calibration_targets": targets,
        "caveats": [
            "The roster is built largely from the incident sources, so it over-represents breached "
            "exchanges: hacked share, breach rate and time to first breach are upper-biased for the "
            "market as a whole.",
            "Exchanges without a stated launch date add no exposure to rates and survival figures.",
            "Amounts are nominal USD at the time of the incident, not inflation- or price-adjusted.",
        ],
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def format_describe(d: dict[str, Any]) -> str:
    """Human-readable text of :func:`describe`'s output."""
    c = d["counts"]
    out = [f"Curated data, cut-off {d['cutoff']} (breach = {', '.join(d['breach_types'])})", ""]
    out.append(f"Incidents {c['incidents']}, breaches {c['breaches']} "
               f"(${c['breach_usd_total'] / 1e9:,.2f}bn over {c['breaches_with_amount']} with a stated amount); "
               f"exchanges on the roster {c['exchanges']} ({c['exchanges_with_launch_date']} with a launch date)")
    out += ["", f"{'year':>6} {'incidents':>9} {'breaches':>8} {'breach USD':>16}"]
    for r in d["by_year"]:
        out.append(f"{r['year']:>6} {r['incidents']:>9} {r['breaches']:>8} {r['breach_usd']:>16,.0f}")
    for title, key in (("Breaches by vector", "breach_vector_share"),
                       ("Breaches by custody tier", "breach_custody_tier_share"),
                       ("Customers reimbursed (all breaches)", "breach_reimbursed_share"),
                       ("Customers reimbursed (where known)", "breach_reimbursed_share_known")):
        out += ["", title + ":"]
        out += [f"  {k:<26} {_pct(v):>7}" for k, v in sorted(d[key].items(), key=lambda kv: -kv[1]) if v > 0]
    k = d["time_to_first_breach"]
    med = "not reached" if k["median_years"] is None else f"{k['median_years']:.2f} years"
    out += ["", f"Time to first breach from launch (Kaplan-Meier, {k['n']} exchanges, {k['events']} breached):",
            f"  median {med}; P(breach within 1y) {_pct(k['p_by_1y'])}, 3y {_pct(k['p_by_3y'])}, "
            f"5y {_pct(k['p_by_5y'])}"]
    r = d["roster"]
    lk = r["lifetime_km"]
    lmed = "not reached" if lk["median_years"] is None else f"{lk['median_years']:.2f} years"
    out += ["", "Roster:",
            f"  hacked share {_pct(r['hacked_share'])} (with a launch date: {_pct(r['hacked_share_known_launch'])}); "
            f"closed share {_pct(r['closed_share'])}; closed after a breach {r['closed_after_breach']}",
            "  closure reasons: " + ", ".join(f"{k} {v}" for k, v in r["closure_reasons"].items()),
            f"  lifetime (Kaplan-Meier, closure as event): median {lmed}; "
            f"P(closed within 1y) {_pct(lk['p_by_1y'])}, 3y {_pct(lk['p_by_3y'])}, 5y {_pct(lk['p_by_5y'])}",
            "  median lifetime of closed exchanges: "
            + ("n/a" if r["closed_lifetime_median_years"] is None else f"{r['closed_lifetime_median_years']:.2f} years")]
    t = d["calibration_targets"]
    if "error" in t:
        out += ["", f"Calibration targets: not available ({t['error']})"]
    else:
        out += ["", "Synthetic generator calibration targets:",
                f"  breach rate {t['annual_breach_rate']:.4f} per exchange-year "
                f"({t['n_breaches']} breaches / {t['exchange_years']:.1f} exchange-years)",
                f"  ln(loss USD): mean {t['log_loss_mean']:.3f}, sd {t['log_loss_sd']:.3f} (n = {t['n_losses']})",
                f"  hot share (known tier) {_pct(t['hot_share'])}; vendor share {_pct(t['vendor_share'])}"]
    out += ["", "Caveats:"] + [f"  - {c}" for c in d["caveats"]]
    return "\n".join(out)
