"""Random draws of the synthetic generator: posture answers (Gaussian copula), exposure, vendors.

Pieces of :func:`underwriting.datasets.synthetic.make_exchange_portfolio`; every draw takes the
caller's seeded generator (never numpy's global state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from underwriting.datasets.synthetic_truth import (
    JURISDICTIONS,
    POSTURE_LEVELS,
    STAFF_SHARE_BETA,
    VENDOR_POPULARITY_EXPONENT,
    VENDOR_ROLES,
    GroundTruth,
    _stub_truth,
)
from underwriting.domain.frames import EXCHANGE_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR


def _copula_uniforms(rng, z, rho: float, shape: tuple[int, ...]):
    from scipy.special import ndtr

    eps = rng.standard_normal(shape)
    return ndtr(rho * z[:, None] + math.sqrt(1 - rho * rho) * eps)


def _draw_posture(rng, n: int, rho: float, unknown_rate: float, as_of) -> dict[str, Any]:
    """Posture answers: Gaussian copula on a latent maturity (higher = better answers)."""
    import numpy as np
    import pandas as pd
    from scipy.stats import beta as beta_dist

    z = rng.standard_normal(n)
    cols = list(POSTURE_LEVELS)
    u = _copula_uniforms(rng, z, rho, (n, len(cols) + 1))
    # a high uniform means a better answer: level index = number of cumulative cut points below 1-u
    unknown = rng.random((n, len(cols) + 1)) < unknown_rate
    out: dict[str, Any] = {}
    for j, col in enumerate(cols):
        levels = POSTURE_LEVELS[col]
        names = np.array([lv for lv, _, _ in levels] + ["unknown"], dtype=object)
        cum = np.cumsum([p for _, p, _ in levels])
        cum[-1] = 1.0
        k = np.searchsorted(cum, 1.0 - u[:, j], side="right")
        k = np.minimum(k, len(levels) - 1)
        k = np.where(unknown[:, j], len(levels), k)
        out[col] = names[k]
    # security staff share
    a, b = STAFF_SHARE_BETA
    share = beta_dist.ppf(u[:, -1], a, b)
    out["security_staff_share"] = np.array(
        ["unknown" if unk else float(v) for unk, v in zip(unknown[:, -1], np.round(share, 4), strict=True)], dtype=object)
    # dates of the last tests
    as_of = pd.Timestamp(as_of)
    for col, lo, hi in (("last_penetration_test", 1.0, 4.0), ("last_red_team", 2.0, 5.0)):
        bucket = out.pop(col)
        back = np.where(bucket == ("within_1y" if col == "last_penetration_test" else "within_2y"),
                        rng.uniform(0.02, lo - 0.02, n), rng.uniform(lo + 0.02, hi, n))
        dates = as_of - pd.to_timedelta(np.round(back * DAYS_PER_YEAR), unit="D")
        is_date = np.isin(bucket, ["within_1y", "within_2y", "older"])
        out[col] = pd.DatetimeIndex(np.where(is_date, dates.to_numpy("datetime64[ns]"), np.datetime64("NaT", "ns")))
        out[f"{col}_status"] = np.where(is_date, "date", bucket).astype(object)
    return out


def _severity_log_moments(rng, n: int, hot_share: float, hot_p: tuple, cold_p: tuple):
    """Mean and variance of ln(tier share) + ln(fraction) (independent of assets_total)."""
    import numpy as np

    h = rng.beta(2.0, 18.0, n)
    w = np.where(rng.random(n) < 0.6, 0.0, rng.beta(1.5, 20.0, n) * (1 - h))
    c = 1.0 - h - w
    hot = rng.random(n) < hot_share
    frac = np.where(hot, rng.beta(*hot_p, n), rng.beta(*cold_p, n))
    zz = np.log(np.where(hot, h, c)) + np.log(frac)
    return float(zz.mean()), float(zz.var())


@dataclass(frozen=True)
class _DrawnBook:
    """Exchanges' static draws (shared by the pilot and the real draw)."""

    age0: Any
    eta: Any
    vendor_rate_unit: Any  # sum over links of (rate factor x p_loss), per unit base rate
    frame: Any
    links: Any
    pool: Any


def _draw_book(rng, n: int, start, n_vendors: int, unknown_rate: float, rho: float,
               assets_log_mean: float, assets_log_sd: float, coefs: dict[str, float],
               truth_stub: GroundTruth | None) -> _DrawnBook:
    import numpy as np
    import pandas as pd

    start = pd.Timestamp(start)
    age0 = 0.25 + rng.gamma(2.0, 2.0, n)
    launch = start - pd.to_timedelta(np.round(age0 * DAYS_PER_YEAR), unit="D")
    age0 = ((start - launch).days.to_numpy(float)) / DAYS_PER_YEAR
    posture = _draw_posture(rng, n, rho, unknown_rate, start)
    codes = np.array([c for c, _ in JURISDICTIONS], dtype=object)
    pj = np.array([p for _, p in JURISDICTIONS])
    juris = codes[rng.choice(len(codes), n, p=pj / pj.sum())]
    total = np.exp(rng.normal(assets_log_mean, assets_log_sd, n))
    h = rng.beta(2.0, 18.0, n)
    w = np.where(rng.random(n) < 0.6, 0.0, rng.beta(1.5, 20.0, n) * (1 - h))
    hot, warm = total * h, total * w
    cold = total - hot - warm
    volume = total * np.exp(rng.normal(math.log(20.0), 0.7, n))
    own_funds = total * np.exp(rng.normal(math.log(0.08), 0.5, n))
    overheads = np.maximum(volume * 2e-4 * np.exp(rng.normal(0.0, 0.5, n)), 1e5)
    width = max(5, len(str(n)))
    ids = np.array([f"syn-{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    data = {
        "exchange_id": ids, "name": np.array([f"Synthetic exchange {i}" for i in ids], dtype=object),
        "jurisdiction": juris, "launch_date": pd.DatetimeIndex(launch),
        "as_of": pd.DatetimeIndex(np.full(n, start.to_datetime64())),
        "currency": np.full(n, "USD", dtype=object), "fx_units_per_usd": np.ones(n),
        "assets_hot": hot, "assets_warm": warm, "assets_cold": cold, "assets_total": hot + warm + cold,
        "trading_volume_12m": volume, "own_funds": own_funds, "fixed_overheads_prior_year": overheads,
    }
    data.update(posture)
    frame = pd.DataFrame(data)[list(EXCHANGE_COLUMNS)]

    # vendor pool and links
    roles = np.array([r for r, _, _ in VENDOR_ROLES], dtype=object)
    pr = np.array([s for _, s, _ in VENDOR_ROLES])
    p_loss_role = {r: p for r, _, p in VENDOR_ROLES}
    v_role = roles[rng.choice(len(roles), n_vendors, p=pr / pr.sum())]
    v_reg = np.where(rng.random(n_vendors) < 0.6, "yes", "no").astype(object)
    popularity = 1.0 / np.arange(1, n_vendors + 1) ** VENDOR_POPULARITY_EXPONENT
    popularity /= popularity.sum()
    v_names = np.array([f"vendor-{i:02d}" for i in range(1, n_vendors + 1)], dtype=object)
    k = np.minimum(1 + rng.poisson(1.0, n), n_vendors)
    keys = np.log(popularity)[None, :] + rng.gumbel(size=(n, n_vendors))   # Gumbel top-k sampling
    kmax = int(k.max())
    top = np.argpartition(-keys, kmax - 1, axis=1)[:, :kmax] if kmax < n_vendors else np.argsort(-keys, axis=1)
    order = np.take_along_axis(top, np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1), axis=1)
    mask = np.arange(order.shape[1])[None, :] < k[:, None]
    ex_idx = np.nonzero(mask)[0]
    v_idx = order[mask]
    factor = np.where(v_reg == "no", 2.0, 1.0)
    pool = pd.DataFrame({"vendor": v_names, "role": v_role, "registered": v_reg, "rate_factor": factor,
                         "p_loss": np.array([p_loss_role[r] for r in v_role]), "popularity": popularity})
    links = pd.DataFrame({"exchange_id": ids[ex_idx], "vendor": v_names[v_idx], "role": v_role[v_idx],
                          "registered": v_reg[v_idx]})
    unit = np.bincount(ex_idx, weights=(factor * pool["p_loss"].to_numpy())[v_idx], minlength=n)
    stub = truth_stub or _stub_truth(coefs)
    eta = stub.linear_predictor(frame)
    return _DrawnBook(age0=age0, eta=eta, vendor_rate_unit=unit, frame=frame, links=links, pool=pool)
