"""Configuration and scoring metrics of the ``frequency`` model's lifecycle (:mod:`underwriting.lifecycle.frequency`).

The ``[frequency]`` configuration table and cut-off checks; predicted rates of panel rows,
observed/expected with exact Poisson intervals, deciles, Harrell's concordance, deviance, the
out-of-time score block and the paired exchange-bootstrap comparison of two versions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from underwriting.errors import InputError

DEFAULT_LEVEL = 0.9
#: Keys of the ``[frequency]`` configuration table.
CONFIG_KEYS = {"trend", "trend_alpha", "covariates", "cutoff", "end", "level", "prior_strength", "population"}
#: ``[frequency] population``: ``recorded`` (rows whose exchange has a country, the shipped recipe:
#: ``underwriting.frequency.base_survival.recorded_mask``) or ``all`` (every panel row).
POPULATIONS = ("recorded", "all")


# --------------------------------------------------------------------------- configuration


def frequency_config(cfg: dict[str, Any] | None, source: str | None = None) -> dict[str, Any]:
    """The ``[frequency]`` table with defaults; unknown keys and bad values are refused."""
    from underwriting.frequency.base_model import COVARIATE_TERMS

    user = dict((cfg or {}).get("frequency") or {})
    for k in user:
        if k not in CONFIG_KEYS:
            raise InputError(f"unknown key (known: {', '.join(sorted(CONFIG_KEYS))})", field=f"frequency.{k}",
                             source=source)
    out = {"trend": "auto", "trend_alpha": 0.05, "covariates": ["volume", "offshore"], "population": "recorded",
           "cutoff": None, "end": None, "level": DEFAULT_LEVEL, "prior_strength": None, **user}
    if out["population"] not in POPULATIONS:
        raise InputError(f"must be one of {', '.join(POPULATIONS)}", field="frequency.population", source=source)
    ps = out["prior_strength"]
    if ps is not None and (isinstance(ps, bool) or not isinstance(ps, int | float) or not 0 < ps < math.inf):
        raise InputError("must be a positive number (the experience prior strength alpha; omit it to estimate)",
                         field="frequency.prior_strength", source=source)
    if out["trend"] not in ("auto", True, False):
        raise InputError("must be \"auto\", true or false", field="frequency.trend", source=source)
    if not isinstance(out["covariates"], list) or any(c not in COVARIATE_TERMS for c in out["covariates"]):
        raise InputError(f"must be a list drawn from {', '.join(COVARIATE_TERMS)}", field="frequency.covariates",
                         source=source)
    for k in ("trend_alpha", "level"):
        if not isinstance(out[k], int | float) or not 0 < out[k] < 1:
            raise InputError("must be a number between 0 and 1", field=f"frequency.{k}", source=source)
    for k in ("cutoff", "end"):
        if out[k] is not None:
            out[k] = str(_date(out[k], f"frequency.{k}").date())
    return out


def _date(text: Any, field: str) -> Any:
    import pandas as pd

    try:
        return pd.Timestamp(str(text))
    except (ValueError, TypeError):
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field=field) from None


def default_cutoff(end: Any) -> Any:
    """1 January about three years before the data end (2023-01-01 for data to 2025-11-30)."""
    import pandas as pd

    return pd.Timestamp(int(end.year) - 2, 1, 1)


def check_cutoff(cutoff: Any, end: Any, field: str = "--cutoff") -> Any:
    """A 1 January strictly inside the data (pieces are calendar years, so a cut-off splits none)."""
    c = _date(cutoff, field)
    if (c.month, c.day) != (1, 1):
        raise InputError(f"{c.date()} is not a 1 January (follow-up pieces are calendar years)", field=field)
    if not c < end:
        raise InputError(f"{c.date()} is not before the data end {end.date()}", field=field)
    return c


# --------------------------------------------------------------------------- rates and metrics


def panel_rates(model: Any, panel: Any) -> np.ndarray:
    """Annual rate of each panel row under a fitted base model, with the row's ``volume_pct``."""
    from underwriting.frequency.base_model import design

    trend = "trend" in model.terms_
    D = design(panel, model.reference_log_volume_, trend=True, trend_cap=model.data_end_,
               volume_pct=panel["volume_pct"].to_numpy(dtype=float),
               unknown_as_offshore=model.unknown_as_offshore)[:, model._columns(trend)]
    return np.exp(D @ model.coef_.to_numpy())


def _garwood(observed: float, level: float) -> tuple[float, float]:
    from underwriting.frequency.base_validation import poisson_interval

    return poisson_interval(int(round(observed)), level)


def oe_block(observed: float, expected: float, level: float) -> dict[str, Any]:
    """Observed, expected, O/E and the exact Poisson interval of O/E at ``level``."""
    lo, hi = _garwood(observed, level)
    oe = observed / expected if expected > 0 else math.nan
    iv = [lo / expected, hi / expected] if expected > 0 else [math.nan, math.nan]
    return {"observed": int(round(observed)), "expected": float(expected), "oe": float(oe), "interval": iv,
            "level": level, "within": bool(iv[0] <= 1.0 <= iv[1])}


def exchange_table(panel: Any, rates: np.ndarray, breach_dates: dict[str, list]) -> Any:
    """One row per exchange of the scored rows: exposure, expected, observed, predicted rate, and the
    time to the first breach in the window (years; censored at the end of its follow-up)."""
    import pandas as pd

    from underwriting.domain.vocabulary import DAYS_PER_YEAR

    df = pd.DataFrame({"exchange_id": panel["exchange_id"].astype(str).to_numpy(),
                       "start": panel["start"].to_numpy(), "stop": panel["stop"].to_numpy(),
                       "exposure": panel["exposure_years"].to_numpy(float), "observed": panel["breaches"].to_numpy(float),
                       "expected": rates * panel["exposure_years"].to_numpy(float)})
    g = df.groupby("exchange_id", sort=True).agg(start=("start", "min"), stop=("stop", "max"), exposure=("exposure", "sum"),
                                                 observed=("observed", "sum"), expected=("expected", "sum"))
    g["rate"] = g["expected"] / g["exposure"]
    dur, ev = [], []
    for eid, s, t in zip(g.index, g["start"], g["stop"], strict=True):
        first = next((d for d in breach_dates.get(eid, []) if s < d <= t), None)
        dur.append(((first if first is not None else t) - s).days / DAYS_PER_YEAR)
        ev.append(first is not None)
    g["duration"] = np.maximum(np.asarray(dur, float), 1e-6)
    g["event"] = np.asarray(ev, bool)
    return g


def concordance(table: Any) -> float:
    """Harrell's C of the predicted rate against the time to first breach (higher rate, earlier breach)."""
    from lifelines.utils import concordance_index

    if not table["event"].any():
        return math.nan
    return float(concordance_index(table["duration"], -table["rate"], table["event"]))


def deviance(table: Any) -> float:
    """Poisson deviance per exchange-year of the exchanges' counts (lower is better)."""
    y, mu = table["observed"].to_numpy(float), table["expected"].to_numpy(float)
    term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0) - (y - mu)
    return float(2 * term.sum() / table["exposure"].sum())


def deciles(table: Any, level: float, n: int = 10) -> list[dict[str, Any]]:
    """Observed/expected by decile of predicted rate (exchanges ranked, ties by id)."""
    k = int(min(n, len(table)))
    order = np.argsort(table["rate"].to_numpy(), kind="stable")
    out = []
    for i, idx in enumerate(np.array_split(order, k)):
        t = table.iloc[idx]
        e, o, x = float(t["expected"].sum()), float(t["observed"].sum()), float(t["exposure"].sum())
        lo, hi = _garwood(o, level)
        out.append({"decile": i + 1, "exchanges": int(len(t)), "exposure_years": x,
                    "predicted_rate": e / x, "observed_rate": o / x, "expected": e, "observed": int(o),
                    "oe": o / e if e > 0 else math.nan, "observed_interval": [lo, hi],
                    "observed_rate_interval": [lo / x, hi / x]})
    return out


def score_block(table: Any, level: float, *, n_boot: int, seed: int) -> dict[str, Any]:
    """O/E with its interval, deciles, concordance with an exchange-bootstrap interval, deviance."""
    c = concordance(table)
    rng = np.random.default_rng(seed)
    boots = []
    n = len(table)
    for _ in range(n_boot):
        s = table.iloc[rng.integers(0, n, n)]
        boots.append(concordance(s))
    b = np.asarray([x for x in boots if np.isfinite(x)])
    a = (1 - level) / 2
    civ = [float(np.quantile(b, a)), float(np.quantile(b, 1 - a))] if len(b) else [math.nan, math.nan]
    return {"exchanges": int(n), "exposure_years": float(table["exposure"].sum()),
            "calibration": oe_block(float(table["observed"].sum()), float(table["expected"].sum()), level),
            "deciles": deciles(table, level),
            "concordance": {"estimate": c, "interval": civ, "n_boot": n_boot},
            "deviance_per_year": deviance(table)}


def paired_metrics(ta: Any, tb: Any, *, level: float, n_boot: int, seed: int) -> dict[str, Any]:
    """O/E, |ln O/E|, deviance per exchange-year and concordance for A and B, and B − A, with
    intervals from the same exchange resamples."""
    fns = {
        "oe": lambda t: float(t["observed"].sum() / t["expected"].sum()),
        "abs_log_oe": lambda t: abs(math.log(max(t["observed"].sum(), 0.5) / t["expected"].sum())),
        "deviance_per_year": deviance,
        "concordance": concordance,
    }
    lower_better = {"abs_log_oe": True, "deviance_per_year": True, "concordance": False, "oe": None}
    rng = np.random.default_rng(seed)
    n = len(ta)
    draws = [rng.integers(0, n, n) for _ in range(n_boot)]
    q = (1 - level) / 2
    out = {}
    for k, f in fns.items():
        ea, eb = f(ta), f(tb)
        ba = np.array([f(ta.iloc[i]) for i in draws])
        bb = np.array([f(tb.iloc[i]) for i in draws])
        ok = np.isfinite(ba) & np.isfinite(bb)

        def iv(x, ok=ok):
            return [float(np.quantile(x[ok], q)), float(np.quantile(x[ok], 1 - q))] if ok.any() else [math.nan, math.nan]

        d = bb - ba
        div = iv(d)
        better = None
        if lower_better[k] is not None and np.isfinite(div).all() and (div[0] > 0 or div[1] < 0):
            b_lower = div[1] < 0
            better = "B" if b_lower == lower_better[k] else "A"
        out[k] = {"A": {"estimate": ea, "interval": iv(ba)}, "B": {"estimate": eb, "interval": iv(bb)},
                  "B_minus_A": {"estimate": eb - ea, "interval": div}, "better": better,
                  "lower_is_better": lower_better[k]}
    return out
