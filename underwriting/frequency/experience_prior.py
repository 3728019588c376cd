"""The experience prior strength ``α``, chosen so that it never hinges on one event.

The experience rating (:mod:`underwriting.frequency.experience`) needs the gamma shape ``α`` of the
between-exchange spread of breach rates. The marginal likelihood of 27 cohort breaches barely identifies
it: its maximum is infinite (no spread, no experience rating) for any data end before Upbit's second breach
of 2025-11-27. So ``α`` is **bounded** (``[prior] alpha_min, alpha_max`` of ``experience.toml``: data with
a documented rationale) and **chosen by cross-validated predictive likelihood** inside the bounds:

* origins: every 1 January ``t`` after the first cohort year and before the data end;
* at each origin, each exchange's breaches before ``t`` (age-decayed with the ``[weights]`` half-life, as
  the quote does: weight ``0.5 ** (age / h)`` of each calendar piece's midpoint, and the same weight on the
  base model's expected count of the piece) give the gamma posterior of its relative rate
  ``θ | past ~ Gamma(α + Σ w N, α + Σ w μ)``;
* the next year's count (to ``t + 1`` year or the data end) is negative binomial with shape ``α + Σ w N``
  and probability ``(α + Σ w μ) / (α + Σ w μ + μ_next)``; its log-likelihood is summed over exchanges and
  origins;
* ``α`` is the maximiser over a log grid of ``grid_points`` values in the bounds (the lower end on ties).

This is exactly the forecast the quote makes (past breaches → next year's rate), scored out of sample at
every origin. Its interval is the **profile-likelihood** interval of the unbounded marginal likelihood
(:func:`profile_interval`), shown in full: its upper end is ``inf`` when the counts cannot exclude "no
spread". :func:`fit_experience_prior` is what a model build calls; its result is stored with the model
(``model.json`` ``experience_prior``); :func:`prior_for_model` reads it back for a quote, or, for a shipped
version built before this method, the fit stored in ``experience_fitted.json``.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.registry import load_model

#: The settings file (``[prior]``, ``[weights]``, ``[referral]``).
DEFAULT_SETTINGS = Path(__file__).with_name("experience.toml")
#: Fits of shipped model versions whose ``model.json`` predates :func:`fit_experience_prior`.
FITTED_FILE = Path(__file__).with_name("experience_fitted.json")
#: Name of the method, as stored with a model.
METHOD = "cross-validated predictive likelihood (rolling yearly origins), bounded"
#: 90% two-sided profile-likelihood drop: chi2_1(0.90) / 2.
PROFILE_DROP_90 = 0.5 * 2.705543454095404


@dataclass(frozen=True)
class ExperienceSettings:
    """The ``experience.toml`` settings (see that file for each rationale).

    Attributes
    ----------
    alpha_min, alpha_max : float
        Bounds of ``α`` (0 < min < max < ∞).
    grid_points : int
        Points of the log grid searched.
    half_life_years : float
        Age at which a breach counts half, years.
    loss_low, loss_high, weight_min, weight_max : float
        Size weight of a breach (:func:`underwriting.features.history.breach_size_weight`).
    referral_months : int
        A breach this recent before inception adds a referral warning.
    path : str
    """

    alpha_min: float
    alpha_max: float
    grid_points: int
    half_life_years: float
    loss_low: float
    loss_high: float
    weight_min: float
    weight_max: float
    referral_months: int
    path: str

    def weight_params(self) -> dict[str, float]:
        """Keyword arguments of :func:`underwriting.features.history.breach_weights`."""
        return {"half_life_years": self.half_life_years, "loss_low": self.loss_low, "loss_high": self.loss_high,
                "weight_min": self.weight_min, "weight_max": self.weight_max}


_SETTINGS_CACHE: dict[str, ExperienceSettings] = register_cache({}, "frequency.experience_prior._SETTINGS_CACHE",
                                                               static=True)


def load_settings(path: str | Path | None = None) -> ExperienceSettings:
    """Read and check ``experience.toml`` (the shipped one by default); errors name the key."""
    p = Path(path) if path is not None else DEFAULT_SETTINGS
    key = str(p.resolve())
    if key in _SETTINGS_CACHE:
        return _SETTINGS_CACHE[key]
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read the experience settings: {e.strerror}", source=str(p)) from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"not valid TOML: {e}", source=str(p)) from None

    def num(table: str, k: str) -> float:
        v = doc.get(table, {}).get(k)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise InputError(f"must be a positive finite number, got {v!r}", field=f"{table}.{k}", source=str(p))
        return float(v)

    for table in ("prior", "weights", "referral"):
        for k in ("rationale", "source"):
            if not str(doc.get(table, {}).get(k, "")).strip():
                raise InputError("every table documents its numbers (rationale and source)",
                                 field=f"{table}.{k}", source=str(p))
    s = ExperienceSettings(
        alpha_min=num("prior", "alpha_min"), alpha_max=num("prior", "alpha_max"),
        grid_points=int(num("prior", "grid_points")), half_life_years=num("weights", "half_life_years"),
        loss_low=num("weights", "loss_low_usd"), loss_high=num("weights", "loss_high_usd"),
        weight_min=num("weights", "weight_min"), weight_max=num("weights", "weight_max"),
        referral_months=int(num("referral", "months")), path=str(p))
    if not s.alpha_min < s.alpha_max:
        raise InputError("alpha_min must be below alpha_max", field="prior.alpha_min", source=str(p))
    if s.grid_points < 2:
        raise InputError("need at least 2 grid points", field="prior.grid_points", source=str(p))
    if not s.loss_low < s.loss_high:
        raise InputError("loss_low_usd must be below loss_high_usd", field="weights.loss_low_usd", source=str(p))
    if not s.weight_min <= s.weight_max:
        raise InputError("weight_min must not exceed weight_max", field="weights.weight_min", source=str(p))
    _SETTINGS_CACHE[key] = s
    return s


# --------------------------------------------------------------------------- cross-validated predictive likelihood


def _origins(panel: Any) -> list[Any]:
    import pandas as pd

    first, end = pd.Timestamp(panel["start"].min()), pd.Timestamp(panel["stop"].max())
    return [pd.Timestamp(y, 1, 1) for y in range(first.year + 1, end.year + 1) if pd.Timestamp(y, 1, 1) < end]


def _origin_arrays(panel: Any, half_life_years: float) -> list[tuple[Any, Any, Any, Any]]:
    """Per origin: ``(Σ w N before, Σ w μ before, N next year, μ next year)`` of each exchange at risk."""
    import numpy as np
    import pandas as pd

    from underwriting.features.history import breach_age_weight

    out = []
    mid = panel["start"] + (panel["stop"] - panel["start"]) / 2
    for t in _origins(panel):
        nxt = min(t + pd.DateOffset(years=1), pd.Timestamp(panel["stop"].max()))
        before = (panel["stop"] <= t).to_numpy()
        after = ((panel["start"] >= t) & (panel["start"] < nxt)).to_numpy()
        if not after.any():
            continue
        b = panel[before]
        age = ((t - mid[before]).dt.days / 365.25).to_numpy(float)
        w = breach_age_weight(np.maximum(age, 0.0), half_life_years)
        nb = pd.Series(b["breaches"].to_numpy(float) * w).groupby(b["exchange_id"].to_numpy()).sum()
        mb = pd.Series(b["mu"].to_numpy(float) * w).groupby(b["exchange_id"].to_numpy()).sum()
        a = panel[after]
        g = pd.DataFrame({"n": a["breaches"].to_numpy(float), "mu": a["mu"].to_numpy(float)}).groupby(
            a["exchange_id"].to_numpy()).sum()
        out.append((nb.reindex(g.index).fillna(0.0).to_numpy(), mb.reindex(g.index).fillna(0.0).to_numpy(),
                    g["n"].to_numpy(), g["mu"].to_numpy()))
    return out


def predictive_loglik(arrays: list[tuple[Any, Any, Any, Any]], alpha: float) -> float:
    """Sum over origins and exchanges of the negative binomial log-likelihood of next year's breaches
    given the decayed past (module docstring); ``alpha = inf`` gives the Poisson limit."""
    import numpy as np
    from scipy.special import gammaln

    tot = 0.0
    for nb, mb, n2, mu2 in arrays:
        if math.isinf(alpha):
            tot += float(np.sum(n2 * np.log(mu2) - mu2 - gammaln(n2 + 1)))
            continue
        shape, rate = alpha + nb, alpha + mb
        tot += float(np.sum(gammaln(n2 + shape) - gammaln(shape) - gammaln(n2 + 1)
                            + shape * np.log(rate / (rate + mu2)) + n2 * np.log(mu2 / (rate + mu2))))
    return tot


def with_expected(panel: Any, base_model: Any) -> Any:
    """The panel with ``mu`` = base model's annual rate × exposure years of each piece."""
    for c in ("exchange_id", "start", "stop", "breaches", "exposure_years"):
        if c not in panel.columns:
            raise InputError(f"the panel has no {c!r} column", field=f"panel.{c}")
    out = panel.copy()
    out["mu"] = base_model.annual_rate(panel).to_numpy(float) * panel["exposure_years"].to_numpy(float)
    return out


def exchange_totals(panel: Any, base_model: Any, *, id_column: str = "exchange_id") -> Any:
    """Breaches, exposure and base-model expected count per exchange, from a follow-up panel.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per exchange and follow-up piece (e.g. calendar years), with ``id_column``,
        ``breaches`` and ``exposure_years``, plus the base model's covariates (a piece's own
        ``year`` lets a trended base model use its calendar time).
    base_model : object
        Fitted, with ``annual_rate(panel) -> Series`` (per year).
    id_column : str
        Column naming the exchange.

    Returns
    -------
    pandas.DataFrame
        Indexed by exchange: ``breaches``, ``exposure_years``, ``expected`` (Σ rate × exposure),
        ready for :meth:`BreachFrequency.fit` (``y=`` the counts, ``exposure_years=``, ``expected=``).
    """
    import pandas as pd

    for c in (id_column, "breaches", "exposure_years"):
        if c not in panel.columns:
            raise InputError(f"the panel has no {c!r} column", field=f"panel.{c}")
    e = panel["exposure_years"].to_numpy(float)
    mu = base_model.annual_rate(panel).to_numpy(float) * e
    df = pd.DataFrame({"id": panel[id_column].to_numpy(), "breaches": panel["breaches"].to_numpy(),
                       "exposure_years": e, "expected": mu})
    out = df.groupby("id", sort=True)[["breaches", "exposure_years", "expected"]].sum()
    out.index.name = id_column
    return out


# --------------------------------------------------------------------------- the marginal likelihood's interval


def profile_interval(counts: Any, expected: Any, level: float = 0.9) -> dict[str, float]:
    """Maximum and profile-likelihood interval of ``α`` from the marginal negative binomial likelihood
    of each exchange's count around its expected count, unbounded.

    Returns
    -------
    dict
        ``mle`` (``inf`` when the supremum is the Poisson limit), ``lo``, ``hi`` (``inf`` when the
        likelihood never falls by ``chi2_1(level) / 2`` as ``α`` grows: the counts cannot exclude "no
        spread"), ``loglik_max``, ``loglik_poisson``.
    """
    import numpy as np
    from scipy.optimize import brentq, minimize_scalar
    from scipy.special import gammaln
    from scipy.stats import chi2

    n, mu = np.asarray(counts, float), np.asarray(expected, float)

    def ll(log_a: float) -> float:
        a = math.exp(log_a)
        return float(np.sum(gammaln(n + a) - gammaln(a) - gammaln(n + 1) + a * np.log(a / (a + mu))
                            + n * np.log(mu / (a + mu))))

    ll_pois = float(np.sum(n * np.log(mu) - mu - gammaln(n + 1)))
    lo_b, hi_b = math.log(1e-4), math.log(1e8)
    res = minimize_scalar(lambda x: -ll(x), bounds=(lo_b, hi_b), method="bounded", options={"xatol": 1e-9})
    top = max(-float(res.fun), ll_pois)
    # a maximum within 1e-6 of the Poisson limit is that limit (the likelihood is flat out to infinity)
    mle = math.exp(float(res.x)) if -float(res.fun) > ll_pois + 1e-6 and hi_b - float(res.x) > 1e-3 else math.inf
    drop = 0.5 * float(chi2.ppf(level, 1))
    f = lambda x: ll(x) - (top - drop)  # noqa: E731
    x_mle = float(res.x) if math.isfinite(mle) else hi_b
    lo = math.exp(brentq(f, lo_b, x_mle, xtol=1e-10)) if f(lo_b) < 0 < f(x_mle) else 0.0
    hi = math.exp(brentq(f, x_mle, hi_b, xtol=1e-10)) if math.isfinite(mle) and ll_pois < top - drop else math.inf
    return {"mle": mle, "lo": lo, "hi": hi, "loglik_max": top, "loglik_poisson": ll_pois}


# --------------------------------------------------------------------------- the fit a model build calls


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def fit_experience_prior(base_model: Any, panel: Any, settings: ExperienceSettings | None = None,
                         *, level: float = 0.9) -> dict[str, Any]:
    """Choose ``α`` for a fitted base model on its cohort panel (module docstring); JSON-ready.

    Parameters
    ----------
    base_model : object
        Fitted, ``annual_rate(panel) -> Series`` (breaches per year).
    panel : pandas.DataFrame
        Exchange × calendar-piece rows: ``exchange_id``, ``start``, ``stop``, ``breaches``,
        ``exposure_years`` and the model's covariates (:func:`~.base_panel.cohort_panel`).
    settings : ExperienceSettings, optional
        The shipped ``experience.toml`` by default.
    level : float
        Coverage of the profile interval.

    Returns
    -------
    dict
        ``alpha`` (finite, inside the bounds, always), ``bounds``, ``at_bound``, ``interval`` (profile
        likelihood, ``None`` for an infinite end), ``mle_alpha`` (``None`` = infinite), ``cv`` (the
        predictive log-likelihood at the chosen ``α``, at each bound and at ``α = ∞``), ``origins``,
        ``half_life_years``, ``data_end``, counts; stored as ``model.json`` ``experience_prior``.

    Raises
    ------
    InputError
        A panel without breaches, with a single exchange, or with no origin (less than two calendar years).
    """
    import numpy as np
    import pandas as pd

    s = settings or load_settings()
    p = with_expected(panel, base_model)
    tot = p.groupby("exchange_id")[["breaches", "exposure_years", "mu"]].sum()
    if len(tot) < 2 or tot["breaches"].sum() == 0:
        raise InputError("the experience prior needs at least two exchanges and one breach", field="panel.breaches")
    if not np.all(tot["mu"].to_numpy() > 0):
        raise InputError("every exchange needs a positive expected count", field="panel.exposure_years")
    arrays = _origin_arrays(p, s.half_life_years)
    if not arrays:
        raise InputError("the panel spans no 1 January with follow-up after it: no origin to cross-validate",
                         field="panel.start")
    grid = np.exp(np.linspace(math.log(s.alpha_min), math.log(s.alpha_max), s.grid_points))
    cv = np.array([predictive_loglik(arrays, float(a)) for a in grid])
    j = int(np.argmax(cv))  # first maximum: the lower alpha (more weight to experience) on ties
    alpha = float(grid[j])
    prof = profile_interval(tot["breaches"].to_numpy(float), tot["mu"].to_numpy(float), level)
    return {
        "alpha": alpha, "bounds": [s.alpha_min, s.alpha_max], "at_bound": bool(j in (0, len(grid) - 1)),
        "method": METHOD, "level": level,
        "interval": [_num(prof["lo"]), _num(prof["hi"])],
        "interval_method": "profile likelihood of the marginal negative binomial (unbounded alpha)",
        "mle_alpha": _num(prof["mle"]),
        "cv": {"loglik": float(cv[j]), "loglik_alpha_min": float(cv[0]), "loglik_alpha_max": float(cv[-1]),
               "loglik_poisson": predictive_loglik(arrays, math.inf), "grid_points": int(s.grid_points),
               "origins": len(arrays),
               "scored_breaches": float(sum(a[2].sum() for a in arrays))},
        "half_life_years": s.half_life_years,
        "data_end": str(pd.Timestamp(p["stop"].max()).date()),
        "n_exchanges": int(len(tot)), "breaches": float(tot["breaches"].sum()), "expected": float(tot["mu"].sum()),
    }


def _fitted_file() -> dict[str, Any]:
    try:
        return json.loads(FITTED_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def prior_for_model(base_model: Any, settings: ExperienceSettings | None = None) -> dict[str, Any]:
    """The experience prior a quote uses with a loaded base model.

    In order: the model's own ``experience_prior`` when it was fitted by :func:`fit_experience_prior`
    (``method`` is :data:`METHOD`) or given in the training configuration; else the fit stored in ``experience_fitted.json`` for the model's
    version when the model's data fingerprint matches; else the model's legacy ``α`` clipped to the
    bounds (``method`` says so). The returned ``alpha`` is always finite and inside the bounds.
    """
    s = settings or load_settings()
    own = dict(getattr(base_model, "experience_prior_", None) or {})
    given = str(own.get("method", "")).startswith("given in the configuration")  # the trainer's explicit choice
    if (own.get("method") == METHOD or given) and own.get("alpha") is not None:
        return own
    version = str((getattr(base_model, "registry_", None) or {}).get("version", ""))
    stored = _fitted_file().get(version)
    if stored and stored.get("fingerprint_sha256") == getattr(base_model, "fingerprint_", None):
        return dict(stored["experience_prior"])
    a = own.get("alpha")
    a = s.alpha_max if a is None else min(max(float(a), s.alpha_min), s.alpha_max)
    return {**own, "alpha": a, "bounds": [s.alpha_min, s.alpha_max], "legacy_alpha": own.get("alpha"),
            "method": "the model's stored alpha clipped to the bounds of experience.toml (no robust fit stored)"}


def write_shipped_fit(path: str | Path | None = None) -> dict[str, Any]:
    """Refit the shipped base model on the shipped cohorts, choose ``α`` and store it in
    ``experience_fitted.json`` under the default model's version (with its data fingerprint)."""
    from underwriting.frequency.base_survival import fit_shipped

    shipped = load_model("frequency")
    model, panel = fit_shipped()
    if model.fingerprint_ != shipped.fingerprint_:
        raise RuntimeError("the refitted base model's data fingerprint differs from the shipped model's")
    fit = fit_experience_prior(shipped, panel)
    p = Path(path) if path is not None else FITTED_FILE
    doc = _fitted_file() if path is None else {}
    doc[str(shipped.registry_["version"])] = {"fingerprint_sha256": shipped.fingerprint_, "experience_prior": fit,
                                              "made_by": "python -m underwriting.frequency.experience_prior"}
    p.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return fit


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(write_shipped_fit(), indent=1, sort_keys=True))


__all__ = ["DEFAULT_SETTINGS", "ExperienceSettings", "FITTED_FILE", "METHOD", "exchange_totals", "fit_experience_prior", "load_settings",
           "predictive_loglik", "prior_for_model", "profile_interval", "with_expected", "write_shipped_fit"]
