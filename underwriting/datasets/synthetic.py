"""Synthetic book of exchanges with a known ground truth: :func:`make_exchange_portfolio`.

No public data joins security posture to outcomes, so posture effects are *assumptions*, put into
a seeded generator whose base rates are calibrated to the real curated tables. Models fitted on
its output can be checked against the truth (:class:`GroundTruth`): the scoring and survival tests
compare a fitted model's discrimination with the oracle's and check that confidence intervals
cover the true coefficients.

The generative model (every number is an attribute of :class:`GroundTruth`; the reasoning of each
coefficient is in ``truth.rationale`` and ``docs/datasets.md``):

1. **Exchanges.** Each exchange exists at ``start`` (age at start ~ ``0.25 + Gamma(2, 2)`` years)
   and is observed from ``start`` for ``years`` (left truncation). Posture answers are drawn from
   documented marginal probabilities, correlated through a latent security maturity (Gaussian
   copula, correlation ``maturity_rho``); each answer is then replaced by ``"unknown"`` with
   probability ``unknown_rate``. Customer assets: ``assets_total ~ LogNormal(mu_A, sigma_A)``
   (calibrated, see 5), hot share ``~ Beta(2, 18)``, warm share 0 for 60% of exchanges else
   ``Beta(1.5, 20)``, cold the rest. ``trading_volume_12m = assets_total x LogNormal(ln 20, 0.7)``.
   Posture, exposure and vendors are as of ``start`` and held fixed.
2. **Own breaches**: a non-homogeneous Poisson process in age ``a`` (recurrent events)::

       lambda_i(a) = b * k * a**(k - 1) * exp(x_i . beta)        Lambda_0(a) = b * a**k

   Weibull baseline (shape ``k`` = ``weibull_shape`` < 1: young exchanges are riskier), ``x_i``
   the numeric encoding of :meth:`GroundTruth.design_matrix` (indicators against a best-practice
   reference level; ln(volume / $1bn); security staff share minus 6%), ``b`` calibrated (see 5).
3. **Vendor compromises**: each vendor of a pool (few vendors serve many exchanges: popularity
   ~ rank^-0.8; the pool has ``n_exchanges // 10`` vendors by default) is compromised at its own annual rate (Poisson in calendar time; twice the base
   rate if the vendor is not registered with a regulator). A compromise hits every exchange then
   using the vendor, each independently with probability ``p_loss`` of the vendor's role.
4. **Severity** (exposure-aware): the custody tier hit is hot with probability ``hot_share``
   (else cold; vendor compromises: ``vendor_hot_share``); the loss is a ``Beta`` fraction of
   what the exchange holds in that tier: hot ``Beta(2, 3)``, cold ``Beta(1, 9)``: never more
   than is held.
5. **Calibration** to :func:`~underwriting.datasets.calibration.calibration_targets`: the
   vendor base rate (on the drawn pool) so that vendor-caused breaches are ``vendor_share`` of
   all breaches; ``b`` so
   that the expected breaches per exchange-year equal ``annual_breach_rate``; ``mu_A, sigma_A`` so
   that ln(loss) of the generated breaches has the real mean and standard deviation (allowing for
   the size bias of the volume effect and the log-moments of the tier share and Beta fraction).
   ``b``, ``mu_A`` and ``sigma_A`` use a fixed internal pilot sample, so they do not depend on
   ``seed``.
6. **Closure**: business closures at a constant annual hazard ``closure_rate``; after each breach
   the exchange closes with probability ``p_close_after_breach``. Follow-up ends at closure or at
   ``start + years``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from underwriting.caches import register_cache
from underwriting.datasets.calibration import CalibrationTargets, default_targets
from underwriting.datasets.panel import build_exchange_panel
from underwriting.datasets.synthetic_draws import (
    _draw_book,
    _severity_log_moments,
)
from underwriting.datasets.synthetic_truth import (  # noqa: F401 (re-exported: the generator's assumptions)
    PILOT_SEED,
    PILOT_SIZE,
    RATIONALE,
    GroundTruth,
    _coefficients,
)
from underwriting.domain.frames import VENDOR_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


# --------------------------------------------------------------------------- result object


@dataclass(frozen=True)
class SyntheticPortfolio:
    """Output of :func:`make_exchange_portfolio`.

    Attributes
    ----------
    exchanges : DataFrame
        Exactly ``frames.EXCHANGE_COLUMNS`` (posture as of ``start``; ``as_of = start``).
    vendors : DataFrame
        Exactly ``frames.VENDOR_COLUMNS`` (``registered`` may be "unknown").
    incidents : DataFrame
        ``frames.INCIDENT_COLUMNS`` + ``cause`` ("own"/"vendor") + ``vendor`` (name or None),
        sorted by date; every breach in the window.
    panel : DataFrame
        Exchange x period panel, layout of :func:`~underwriting.datasets.load_exchange_panel`
        (entry at ``start``: left-truncated at the exchange's age).
    lifetimes : DataFrame
        ``exchange_id, launch_date, entry_date, closure_date, closure_reason, exit_date``
        (``closure_date`` NaT if open at the end of the window; ``exit_date`` = closure or end).
    truth : GroundTruth
    """

    exchanges: Any
    vendors: Any
    incidents: Any
    panel: Any
    lifetimes: Any
    truth: GroundTruth

    @property
    def exchange_years(self) -> float:
        """Total follow-up in years."""
        return float((self.panel["age_stop"] - self.panel["age_start"]).sum())


def _calibrate(targets: CalibrationTargets, *, years: float, start, n_vendors: int, unknown_rate: float,
               rho: float, k: float, closure_rate: float, p_close: float, hot_share: float, vendor_hot_share: float,
               sev: dict[str, tuple[float, float]], coefs: dict[str, float]) -> dict[str, float]:
    """Vendor base rate, baseline scale b, assets log-mean/sd from a fixed pilot sample."""
    import numpy as np
    from scipy.optimize import brentq

    share = min(max(targets.vendor_share, 0.0), 0.9)
    # severity: log L = ln A + Z; own breaches are size-biased by the volume effect (tilt beta_v s^2)
    srng = np.random.default_rng(PILOT_SEED + 1)
    m_o, v_o = _severity_log_moments(srng, 100_000, hot_share, sev["hot"], sev["cold"])
    m_v, v_v = _severity_log_moments(srng, 100_000, vendor_hot_share, sev["hot"], sev["cold"])
    bv = coefs["log_volume"]
    target_var = targets.log_loss_sd ** 2

    def var_for(s2: float) -> float:
        d = bv * s2 + m_o - m_v
        return s2 + (1 - share) * v_o + share * v_v + share * (1 - share) * d * d - target_var

    lo, hi = 0.01, 25.0
    if var_for(lo) > 0:
        s2 = lo
    else:
        s2 = brentq(var_for, lo, hi)
    base_mu = targets.log_loss_mean - (1 - share) * m_o - share * m_v
    tilt = bv * s2                      # normal-theory size bias of own breaches, refined below
    x, w = np.polynomial.legendre.leggauss(32)
    t = 0.5 * years * (x + 1.0)
    wt = 0.5 * years * w
    rate = targets.annual_breach_rate
    for _ in range(2):
        mu = base_mu - (1 - share) * tilt
        book = _draw_book(np.random.default_rng(PILOT_SEED), PILOT_SIZE, start, 20, unknown_rate, rho, mu,
                          math.sqrt(s2), coefs, None)
        a = book.age0[:, None] + t[None, :]
        a0k = book.age0[:, None] ** k
        e_eta = np.exp(book.eta)[:, None]
        # exit hazard = closure_rate + p_close x breach hazard (own / (1 - share)): fixed point in b
        b = (1 - share) * rate / float(np.mean(e_eta * k * a ** (k - 1)))
        for _ in range(6):
            cum_breach = b * e_eta * (a ** k - a0k) / (1 - share)
            surv = np.exp(-closure_rate * t[None, :] - p_close * cum_breach)
            exposure = float((surv @ wt).mean())
            own_i = (e_eta * k * a ** (k - 1) * surv) @ wt
            b = (1 - share) * rate * exposure / float(own_i.mean())
        # exact size bias in the pilot: breach-weighted minus plain mean of ln(assets_total)
        la = np.log(book.frame["assets_total"].to_numpy(float))
        tilt = float((own_i * la).sum() / own_i.sum() - la.mean())
    return {"baseline_scale": b, "assets_log_mean": mu,
            "assets_log_sd": math.sqrt(s2)}


_CAL_CACHE: dict[tuple, dict[str, float]] = register_cache({}, "datasets.synthetic._CAL_CACHE")


def _calibrate_cached(targets: CalibrationTargets, **kw: Any) -> dict[str, float]:
    """:func:`_calibrate`, memoised on every input (it is deterministic)."""
    key = (targets.annual_breach_rate, targets.log_loss_mean, targets.log_loss_sd, targets.vendor_share,
           tuple(sorted((k, v if not isinstance(v, dict) else tuple(sorted(v.items()))) for k, v in kw.items()
                        if k != "coefs")), tuple(sorted(kw["coefs"].items())), str(kw["start"]))
    if key not in _CAL_CACHE:
        if len(_CAL_CACHE) > 32:
            _CAL_CACHE.clear()
        _CAL_CACHE[key] = _calibrate(targets, **kw)
    return dict(_CAL_CACHE[key])


# --------------------------------------------------------------------------- public generator


def make_exchange_portfolio(
    n_exchanges: int = 1000,
    years: float = 10,
    seed: int | np.random.SeedSequence | None = None,
    start: str | dt.date = "2016-01-01",
    *,
    freq: str = "Q",
    n_vendors: int | None = None,
    unknown_rate: float = 0.05,
    maturity_rho: float = 0.5,
    weibull_shape: float = 0.8,
    closure_rate: float = 0.03,
    p_close_after_breach: float = 0.10,
    targets: CalibrationTargets | None = None,
) -> SyntheticPortfolio:
    """Generate a synthetic book of exchanges, their vendors and breaches from a known truth.

    Parameters
    ----------
    n_exchanges : int
        Exchanges in the book (``n_exchanges * years`` exchange-years, less closures).
    years : float
        Length of the observation window from ``start``.
    seed : int, SeedSequence or None
        Seed of ``numpy.random.default_rng``; the same seed gives identical frames.
    start : date or str
        Start of the window; every exchange exists then and its posture is as of that date.
    freq : {"Q", "M", "Y"}
        Period of the panel.
    n_vendors : int, optional
        Size of the third-party vendor pool; default ``max(10, n_exchanges // 10)``.
    unknown_rate : float
        Probability that each posture answer (and each vendor's ``registered``) is "unknown",
        and that an incident's custody tier is reported as "unknown".
    maturity_rho : float
        Correlation of each posture answer's copula with the latent security maturity.
    weibull_shape : float
        Shape of the Weibull baseline in age (< 1: hazard decreasing with age).
    closure_rate : float
        Annual hazard of closure for business reasons.
    p_close_after_breach : float
        Probability that an exchange closes right after a breach.
    targets : CalibrationTargets, optional
        Calibration targets; :func:`~underwriting.datasets.calibration.default_targets` (the real
        tables) if omitted.

    Returns
    -------
    SyntheticPortfolio
        Frozen result with ``exchanges``, ``vendors``, ``incidents``, ``panel``, ``lifetimes``,
        ``truth``.

    Examples
    --------
    >>> book = make_exchange_portfolio(200, years=5, seed=1)   # doctest: +SKIP
    >>> book.truth.breach_probability(book.exchanges, horizon=1.0)[:3]   # doctest: +SKIP
    """
    import numpy as np
    import pandas as pd

    if not (isinstance(n_exchanges, int | np.integer) and n_exchanges >= 1):
        raise InputError("must be a positive integer", field="n_exchanges")
    if not (years > 0 and math.isfinite(years)):
        raise InputError("must be a positive number of years", field="years")
    for name, v in (("unknown_rate", unknown_rate), ("p_close_after_breach", p_close_after_breach)):
        if not 0 <= v < 1:
            raise InputError("must be in [0, 1)", field=name)
    if not 0 <= maturity_rho < 1:
        raise InputError("must be in [0, 1)", field="maturity_rho")
    if n_vendors is None:
        n_vendors = max(10, int(n_exchanges) // 10)
    if closure_rate < 0 or weibull_shape <= 0 or n_vendors < 1:
        raise InputError("closure_rate >= 0, weibull_shape > 0 and n_vendors >= 1 are required", field="closure_rate")
    try:
        t0 = pd.Timestamp(start).normalize()
    except (ValueError, TypeError):
        raise InputError(f"{start!r} is not a date", field="start") from None
    if targets is None:
        targets = default_targets()
    if not (targets.annual_breach_rate > 0 and targets.log_loss_sd > 0):
        raise InputError("calibration targets need a positive breach rate and log-loss sd", field="targets")

    coefs = _coefficients()
    hot_share = float(targets.hot_share)
    vendor_hot_share = 0.5
    sev = {"hot": (2.0, 3.0), "cold": (1.0, 9.0)}
    cal = _calibrate_cached(targets, years=float(years), start=t0, n_vendors=n_vendors, unknown_rate=unknown_rate,
                     rho=maturity_rho, k=weibull_shape, closure_rate=closure_rate,
                     p_close=p_close_after_breach, hot_share=hot_share,
                     vendor_hot_share=vendor_hot_share, sev=sev, coefs=coefs)

    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    s_book, s_own, s_vendor, s_sev, s_close, s_misc = ss.spawn(6)
    book = _draw_book(np.random.default_rng(s_book), n_exchanges, t0, n_vendors, unknown_rate, maturity_rho,
                      cal["assets_log_mean"], cal["assets_log_sd"], coefs, None)
    end = t0 + pd.Timedelta(days=round(years * DAYS_PER_YEAR))
    # vendor base rate: vendor-caused breaches are `vendor_share` of all breaches, in expectation
    share = min(max(float(targets.vendor_share), 0.0), 0.9)
    unit = float(book.vendor_rate_unit.mean())
    cal["vendor_base_rate"] = share * targets.annual_breach_rate / unit if unit > 0 else 0.0
    span = (end - t0).days / DAYS_PER_YEAR
    pool = book.pool.assign(annual_rate=book.pool["rate_factor"] * cal["vendor_base_rate"])
    reimb = {k: v for k, v in targets.reimbursed_shares.items() if v > 0} or {"unknown": 1.0}
    tot = sum(reimb.values())
    reimb = {k: v / tot for k, v in reimb.items()}
    truth = GroundTruth(
        coefficients=coefs, rationale=dict(RATIONALE), weibull_shape=weibull_shape,
        baseline_scale=cal["baseline_scale"],
        vendor_pool=pool[["vendor", "role", "registered", "annual_rate", "p_loss", "popularity"]],
        vendor_links=book.links, vendor_base_rate=cal["vendor_base_rate"], unregistered_rate_factor=2.0,
        hot_share=hot_share, vendor_hot_share=vendor_hot_share, severity_beta=sev,
        assets_log_mean=cal["assets_log_mean"], assets_log_sd=cal["assets_log_sd"],
        turnover_log_mean=math.log(20.0), turnover_log_sd=0.7, closure_rate=closure_rate,
        p_close_after_breach=p_close_after_breach, unknown_rate=unknown_rate, maturity_rho=maturity_rho,
        reimbursed_probs=reimb, start=t0, end=end, targets=targets,
    )

    n = n_exchanges
    # --- own breaches: NHPP in age over [a0, a0 + span]
    rng = np.random.default_rng(s_own)
    a0 = book.age0
    a1 = a0 + span
    k = weibull_shape
    lam = cal["baseline_scale"] * np.exp(book.eta) * (a1 ** k - a0 ** k)
    cnt = rng.poisson(lam)
    own_ex = np.repeat(np.arange(n), cnt)
    u = rng.random(own_ex.size)
    ages = (a0[own_ex] ** k + u * (a1[own_ex] ** k - a0[own_ex] ** k)) ** (1.0 / k)
    own_t = ages - a0[own_ex]                                   # years since start
    # --- vendor compromises
    rng = np.random.default_rng(s_vendor)
    n_comp = rng.poisson(pool["annual_rate"].to_numpy() * span)
    comp_v = np.repeat(np.arange(len(pool)), n_comp)
    comp_t = rng.uniform(0.0, span, comp_v.size)
    vname_to_i = {v: i for i, v in enumerate(pool["vendor"])}
    link_v = book.links["vendor"].map(vname_to_i).to_numpy(int)
    link_ex = pd.Index(book.frame["exchange_id"]).get_indexer(book.links["exchange_id"])
    order = np.argsort(link_v, kind="stable")
    link_v_s, link_ex_s = link_v[order], link_ex[order]
    lo = np.searchsorted(link_v_s, comp_v, "left")
    hi_ = np.searchsorted(link_v_s, comp_v, "right")
    nl = hi_ - lo
    rep = np.repeat(np.arange(comp_v.size), nl)
    pos = lo[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(nl) - nl, nl))
    hit_ex = link_ex_s[pos]
    hit_v = comp_v[rep]
    hit_t = comp_t[rep]
    keep = rng.random(hit_ex.size) < pool["p_loss"].to_numpy()[hit_v]
    hit_ex, hit_v, hit_t = hit_ex[keep], hit_v[keep], hit_t[keep]
    # --- combine, closure
    ex_all = np.r_[own_ex, hit_ex]
    t_all = np.r_[own_t, hit_t]
    cause = np.r_[np.zeros(own_ex.size, int), np.ones(hit_ex.size, int)]
    vend = np.r_[np.full(own_ex.size, -1), hit_v]
    o = np.lexsort((t_all, ex_all))
    ex_all, t_all, cause, vend = ex_all[o], t_all[o], cause[o], vend[o]
    rng = np.random.default_rng(s_close)
    t_bus = rng.exponential(1.0 / closure_rate, n) if closure_rate > 0 else np.full(n, np.inf)
    closes = rng.random(ex_all.size) < p_close_after_breach
    first_close = np.full(n, np.inf)
    np.minimum.at(first_close, ex_all[closes], t_all[closes])
    t_exit = np.minimum(np.minimum(t_bus, first_close), span)
    alive = t_all <= t_exit[ex_all]
    ex_all, t_all, cause, vend = ex_all[alive], t_all[alive], cause[alive], vend[alive]
    # --- severity
    rng = np.random.default_rng(s_sev)
    m = ex_all.size
    p_hot = np.where(cause == 0, hot_share, vendor_hot_share)
    is_hot = rng.random(m) < p_hot
    frac = np.where(is_hot, rng.beta(*sev["hot"], m), rng.beta(*sev["cold"], m))
    fr = book.frame
    held = np.where(is_hot, fr["assets_hot"].to_numpy()[ex_all], fr["assets_cold"].to_numpy()[ex_all])
    amount = frac * held
    tier = np.where(is_hot, "hot", "cold").astype(object)
    rng = np.random.default_rng(s_misc)
    reported_tier = np.where(rng.random(m) < unknown_rate, "unknown", tier).astype(object)
    arch = fr["custody_architecture"].to_numpy(object)[ex_all]
    hot_vec = np.array(["hot_wallet_key", "api_or_account_takeover", "insider", "other"], dtype=object)
    hv = hot_vec[rng.choice(4, m, p=[0.65, 0.15, 0.12, 0.08])]
    cold_vec = np.where((arch == "multisig") & (rng.random(m) < 0.5), "multisig_signing",
                        np.where(rng.random(m) < 0.15, "insider", "cold_wallet_key"))
    vector = np.where(cause == 1, "third_party_vendor", np.where(is_hot, hv, cold_vec)).astype(object)
    rk = list(reimb)
    reimbursed = np.array(rk, dtype=object)[rng.choice(len(rk), m, p=[reimb[x] for x in rk])]
    ids = fr["exchange_id"].to_numpy(object)
    date = t0 + pd.to_timedelta(np.floor(t_all * DAYS_PER_YEAR), unit="D")
    vnames = pool["vendor"].to_numpy(object)
    incidents = pd.DataFrame({
        "exchange_id": ids[ex_all], "date": pd.DatetimeIndex(date), "amount_usd": amount,
        "custody_tier": reported_tier, "vector": vector, "reimbursed": reimbursed,
        "cause": np.where(cause == 1, "vendor", "own").astype(object),
        "vendor": np.where(vend >= 0, vnames[np.maximum(vend, 0)], None).astype(object),
    })
    incidents = incidents.sort_values(["date", "exchange_id"], kind="stable").reset_index(drop=True)

    # --- vendors frame (contract): registered masked to "unknown" at unknown_rate
    links = book.links.copy()
    links["registered"] = np.where(rng.random(len(links)) < unknown_rate, "unknown", links["registered"]).astype(object)

    vendors = links[list(VENDOR_COLUMNS)].reset_index(drop=True)

    # --- lifetimes and panel
    exit_date = t0 + pd.to_timedelta(np.floor(t_exit * DAYS_PER_YEAR), unit="D")
    closed = t_exit < span
    reason = np.where(~closed, None, np.where(first_close <= t_bus, "hack", "business")).astype(object)
    lifetimes = pd.DataFrame({
        "exchange_id": ids, "launch_date": fr["launch_date"],
        "entry_date": pd.DatetimeIndex(np.full(n, t0.to_datetime64())),
        "closure_date": pd.DatetimeIndex(np.where(closed, exit_date.to_numpy("datetime64[ns]"),
                                                  np.datetime64("NaT", "ns"))),
        "closure_reason": reason, "exit_date": pd.DatetimeIndex(exit_date),
    })
    roster = lifetimes[["exchange_id", "launch_date", "closure_date", "entry_date"]].assign(
        jurisdiction=fr["jurisdiction"].to_numpy(object))
    events = incidents[["exchange_id", "date", "amount_usd"]]
    panel = build_exchange_panel(roster, events, freq=freq, cutoff=end, breach_types=None)
    return SyntheticPortfolio(exchanges=fr, vendors=vendors, incidents=incidents, panel=panel,
                              lifetimes=lifetimes, truth=truth)
