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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from underwriting.datasets.calibration import CalibrationTargets
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Seed of the internal pilot sample used for calibration (independent of the user's seed).
PILOT_SEED = 20251130
PILOT_SIZE = 10_000

# --------------------------------------------------------------------------- posture model
#: Categorical posture answers: levels from best to worst (copula order), marginal probability of
#: each level among known answers, log-hazard effect against the first (reference) level.
#: ``"unknown"`` gets UNKNOWN_FACTOR x the worst level's effect.
POSTURE_LEVELS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "custody_architecture": (("mpc", 0.30, 0.0), ("multisig", 0.35, 0.10), ("hsm", 0.15, 0.20),
                             ("single_key", 0.20, 0.70)),
    "signing_device_verification": (("yes", 0.60, 0.0), ("no", 0.40, 0.25)),
    "signing_screen_verification": (("yes", 0.35, 0.0), ("no", 0.65, 0.40)),
    "withdrawal_allowlist": (("yes", 0.55, 0.0), ("no", 0.45, 0.20)),
    "withdrawal_velocity_limits": (("yes", 0.60, 0.0), ("no", 0.40, 0.25)),
    "key_ceremony": (("yes", 0.50, 0.0), ("no", 0.50, 0.15)),
    "geographic_key_split": (("yes", 0.45, 0.0), ("no", 0.55, 0.10)),
    "admin_mfa": (("hardware_key", 0.35, 0.0), ("totp", 0.40, 0.20), ("sms", 0.15, 0.45), ("none", 0.10, 0.80)),
    "privileged_access_management": (("yes", 0.55, 0.0), ("no", 0.45, 0.30)),
    "last_penetration_test": (("within_1y", 0.55, 0.0), ("older", 0.25, 0.15), ("never", 0.20, 0.35)),
    "last_red_team": (("within_2y", 0.30, 0.0), ("older", 0.15, 0.05), ("never", 0.55, 0.15)),
    "bug_bounty": (("yes", 0.50, 0.0), ("no", 0.50, 0.15)),
    "soc2_type2": (("yes", 0.30, 0.0), ("no", 0.70, 0.10)),
    "iso27001": (("yes", 0.35, 0.0), ("no", 0.65, 0.10)),
    "proof_of_reserves": (("realtime", 0.10, 0.0), ("monthly", 0.20, 0.0), ("quarterly", 0.20, 0.0),
                          ("annual", 0.15, 0.0), ("none", 0.35, 0.0)),
    "incident_response_plan_tested": (("yes", 0.45, 0.0), ("no", 0.55, 0.05)),
}
#: Effect of an "unknown" answer, as a fraction of the worst answer's effect.
UNKNOWN_FACTOR = 0.6
#: Security staff share: Beta(a, b) marginal, reference value, effect per unit of share.
STAFF_SHARE_BETA = (2.0, 30.0)
STAFF_SHARE_REF = 0.06
STAFF_SHARE_BETA_COEF = -4.0
STAFF_SHARE_UNKNOWN_COEF = 0.15
#: Effect per unit of ln(trading_volume_12m / VOLUME_REF).
VOLUME_REF = 1e9
LOG_VOLUME_COEF = 0.30

RATIONALE: dict[str, str] = {
    "custody_architecture": "single_key: one stolen key empties the wallet (Coincheck 2018, many hot-wallet "
    "thefts) - large effect (+0.70, HR 2.0); multisig/HSM slightly above MPC (signers or one HSM policy "
    "can still be subverted: Bybit 2025 multisig) - small (+0.10/+0.20).",
    "signing_device_verification": "no: signers approve what the hot UI shows; +0.25 (HR 1.28).",
    "signing_screen_verification": "no: the Bybit 2025 loss came through a faked signing screen; +0.40 "
    "(HR 1.49), the largest of the signing controls.",
    "withdrawal_allowlist": "no: stolen credentials can send funds anywhere; +0.20.",
    "withdrawal_velocity_limits": "no: a compromise can drain the wallet before detection, so more "
    "attempts become recorded losses; +0.25.",
    "key_ceremony": "no: key material of unknown provenance; +0.15.",
    "geographic_key_split": "no: one site compromise reaches all shares; +0.10 (mostly a severity control).",
    "admin_mfa": "hardware keys resist phishing; TOTP +0.20, SMS (SIM swap) +0.45, none +0.80 (HR 2.2): "
    "account takeover of administrators is a recurring entry point.",
    "privileged_access_management": "no: insiders and lateral movement go unchecked; +0.30.",
    "last_penetration_test": "older than a year +0.15, never +0.35: untested systems keep known holes.",
    "last_red_team": "older than two years +0.05, never +0.15: weaker than a pentest effect "
    "(red teams are rarer and overlap with pentests).",
    "bug_bounty": "no: fewer external reports of vulnerabilities; +0.15.",
    "soc2_type2": "no: +0.10; audits check controls exist, weakly linked to breaches.",
    "iso27001": "no: +0.10; as SOC 2.",
    "proof_of_reserves": "0 for every level: proof of reserves detects insolvency and fraud, not "
    "theft. A placebo feature: a model should find no effect.",
    "incident_response_plan_tested": "no: +0.05; a tested plan mostly limits severity, which this "
    "generator does not model, so the frequency effect is small.",
    "security_staff_share": "-4.0 per unit share (-0.4 per 10 points, centred at 6%); 'unknown' +0.15.",
    "log_volume": "+0.30 per ln-unit of 12-month volume over $1bn (doubling volume: HR 1.23): bigger "
    "exchanges are bigger targets (Moore & Christin 2013: breach probability rose from 0.2 to 0.7 "
    "between 275 and 5,570 BTC/day).",
    "unknown": "an 'unknown' answer carries 0.6 x the worst answer's effect: an exchange that does not "
    "know the state of a control probably does not manage it.",
    "jurisdiction": "no effect (0): nothing public separates jurisdictions' breach rates once posture "
    "is known.",
    "baseline": "Weibull in age with shape 0.8 (< 1: hazard falls with age; exchange age is a "
    "significant predictor in Fantazzini & Calabrese 2021); scale calibrated to the real breach rate.",
}

JURISDICTIONS: tuple[tuple[str, float], ...] = (
    ("US", 0.18), ("JP", 0.12), ("KR", 0.10), ("SG", 0.08), ("HK", 0.08), ("GB", 0.07), ("SC", 0.07),
    ("KY", 0.05), ("CH", 0.04), ("DE", 0.04), ("TR", 0.04), ("IN", 0.04), ("AU", 0.03), ("CA", 0.03),
    ("BR", 0.03),
)
#: Vendor popularity ~ rank ** -VENDOR_POPULARITY_EXPONENT (a few vendors serve many exchanges).
VENDOR_POPULARITY_EXPONENT = 0.8
VENDOR_ROLES: tuple[tuple[str, float, float], ...] = (
    # role, share of the pool, probability that a compromise of the vendor causes a loss at a client
    ("wallet_software", 0.30, 0.50), ("custody_technology", 0.20, 0.50), ("signing_ui", 0.15, 0.50),
    ("cloud", 0.20, 0.05), ("other", 0.15, 0.10),
)


def _feature_names() -> list[str]:
    names = []
    for col, levels in POSTURE_LEVELS.items():
        names += [f"{col}={lv}" for lv, _, _ in levels[1:]]
        names.append(f"{col}=unknown")
    names += ["security_staff_share", "security_staff_share=unknown", "log_volume"]
    return names


def _coefficients() -> dict[str, float]:
    out: dict[str, float] = {}
    for col, levels in POSTURE_LEVELS.items():
        for lv, _, b in levels[1:]:
            out[f"{col}={lv}"] = b
        out[f"{col}=unknown"] = round(UNKNOWN_FACTOR * max(b for _, _, b in levels), 6)
    out["security_staff_share"] = STAFF_SHARE_BETA_COEF
    out["security_staff_share=unknown"] = STAFF_SHARE_UNKNOWN_COEF
    out["log_volume"] = LOG_VOLUME_COEF
    return out


# --------------------------------------------------------------------------- truth object


@dataclass(frozen=True)
class GroundTruth:
    """Every parameter of a synthetic book, and the true hazard (the oracle).

    Attributes
    ----------
    coefficients : dict[str, float]
        Log-hazard effect of each feature of :meth:`design_matrix` (indicator names
        ``"<column>=<level>"`` against the first level of :data:`POSTURE_LEVELS`;
        ``security_staff_share`` per unit share centred at 6%; ``log_volume`` per ln-unit of
        ``trading_volume_12m / 1e9``). Jurisdiction, prior incidents and calendar time have no
        effect (true coefficient 0).
    rationale : dict[str, str]
        Direction, size and reasoning of each assumption.
    weibull_shape, baseline_scale : float
        Baseline cumulative hazard of own breaches ``Lambda_0(a) = baseline_scale * a**weibull_shape``
        (``a`` = age in years).
    vendor_pool : DataFrame
        ``vendor, role, registered, annual_rate, p_loss, popularity``.
    vendor_links : DataFrame
        The book's ``exchange_id, vendor, role, registered`` (truth, before any "unknown" masking).
    vendor_base_rate : float
        Annual compromise rate of a registered vendor (x ``unregistered_rate_factor`` if not).
    hot_share, vendor_hot_share : float
        Probability that an own / vendor-caused breach hits the hot tier (else cold).
    severity_beta : dict[str, tuple[float, float]]
        Beta(a, b) of the fraction of the tier's assets lost, by tier.
    assets_log_mean, assets_log_sd : float
        ``ln(assets_total)`` ~ Normal(assets_log_mean, assets_log_sd) (USD).
    closure_rate, p_close_after_breach : float
    unknown_rate, maturity_rho : float
    start, end : pandas.Timestamp
        Observation window.
    targets : CalibrationTargets
        What the book was calibrated to.
    """

    coefficients: dict[str, float]
    rationale: dict[str, str]
    weibull_shape: float
    baseline_scale: float
    vendor_pool: Any
    vendor_links: Any
    vendor_base_rate: float
    unregistered_rate_factor: float
    hot_share: float
    vendor_hot_share: float
    severity_beta: dict[str, tuple[float, float]]
    assets_log_mean: float
    assets_log_sd: float
    turnover_log_mean: float
    turnover_log_sd: float
    closure_rate: float
    p_close_after_breach: float
    unknown_rate: float
    maturity_rho: float
    reimbursed_probs: dict[str, float]
    start: Any
    end: Any
    targets: CalibrationTargets
    posture_levels: dict[str, tuple[tuple[str, float, float], ...]] = field(default_factory=lambda: dict(POSTURE_LEVELS))

    # ----- encoding
    @property
    def feature_names(self) -> list[str]:
        """Names of the columns of :meth:`design_matrix`, in order."""
        return list(self.coefficients)

    def design_matrix(self, exchanges: pd.DataFrame) -> pd.DataFrame:
        """Numeric encoding of an ``exchanges`` frame (contract columns) used by the hazard.

        Indicator ``"<col>=<level>"`` per non-reference level and per "unknown";
        ``last_penetration_test``/``last_red_team`` are bucketed by the date's age at ``as_of``
        (within 1 / 2 years, older, never); ``security_staff_share`` minus 0.06 (0 if unknown);
        ``log_volume`` = ln(trading_volume_12m / 1e9).
        """
        import numpy as np
        import pandas as pd

        n = len(exchanges)
        out = {}
        for col, levels in self.posture_levels.items():
            vals = _posture_bucket(exchanges, col)
            for lv, _, _ in levels[1:]:
                out[f"{col}={lv}"] = (vals == lv).astype(float)
            out[f"{col}=unknown"] = (vals == "unknown").astype(float)
        share = exchanges["security_staff_share"].to_numpy(object)
        unk = np.array([isinstance(s, str) for s in share])
        num = np.array([STAFF_SHARE_REF if isinstance(s, str) or s is None else float(s) for s in share])
        out["security_staff_share"] = num - STAFF_SHARE_REF
        out["security_staff_share=unknown"] = unk.astype(float)
        vol = exchanges["trading_volume_12m"].to_numpy(float)
        out["log_volume"] = np.log(np.maximum(vol, 1.0) / VOLUME_REF)
        frame = pd.DataFrame(out, index=exchanges.index)
        assert n == len(frame)
        return frame[self.feature_names]

    def linear_predictor(self, exchanges: pd.DataFrame) -> np.ndarray:
        """``x . beta`` of each exchange (log relative hazard of own breaches)."""
        import numpy as np

        beta = np.array([self.coefficients[f] for f in self.feature_names])
        return self.design_matrix(exchanges).to_numpy(float) @ beta

    # ----- hazard
    def baseline_hazard(self, age: Any) -> np.ndarray:
        """``lambda_0(a) = b k a^(k-1)`` per year."""
        import numpy as np

        a = np.maximum(np.asarray(age, float), 1e-9)
        return self.baseline_scale * self.weibull_shape * a ** (self.weibull_shape - 1)

    def baseline_cumulative_hazard(self, age: Any) -> np.ndarray:
        """``Lambda_0(a) = b a^k``."""
        import numpy as np

        return self.baseline_scale * np.maximum(np.asarray(age, float), 0.0) ** self.weibull_shape

    def vendor_hazard(self, exchanges: pd.DataFrame, vendors: pd.DataFrame | None = None) -> np.ndarray:
        """Annual rate of vendor-caused breaches of each exchange: sum over its vendors of the
        vendor's compromise rate x the role's loss probability. ``vendors`` (exchange_id, vendor,
        role, registered) defaults to the book's own links; a vendor outside the pool gets the
        base rate (x2 if ``registered == "no"``)."""
        import numpy as np

        links = self.vendor_links if vendors is None else vendors
        pool = self.vendor_pool.set_index("vendor")
        p_role = {r: p for r, _, p in VENDOR_ROLES}
        rate = links["vendor"].map(pool["annual_rate"])
        fallback = np.where(links["registered"].astype(str) == "no",
                            self.vendor_base_rate * self.unregistered_rate_factor, self.vendor_base_rate)
        rate = rate.fillna(_series(fallback, links.index)).to_numpy(float)
        p = links["role"].astype(str).map(p_role).fillna(p_role["other"]).to_numpy(float)
        per_exchange = _series(rate * p, links.index).groupby(links["exchange_id"].to_numpy()).sum()
        return exchanges["exchange_id"].map(per_exchange).fillna(0.0).to_numpy(float)

    def _age(self, exchanges: pd.DataFrame, age: Any) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if age is None:
            d = (pd.to_datetime(exchanges["as_of"]) - pd.to_datetime(exchanges["launch_date"])).dt.days
            return d.to_numpy(float) / DAYS_PER_YEAR
        return np.broadcast_to(np.asarray(age, float), (len(exchanges),)).astype(float)

    def hazard(self, exchanges: pd.DataFrame, age: Any = None, *, component: str = "total",
               vendors: pd.DataFrame | None = None) -> np.ndarray:
        """True breach intensity (per year) of each exchange at ``age`` (years since launch).

        Parameters
        ----------
        exchanges : DataFrame
            Contract columns (``frames.EXCHANGE_COLUMNS``).
        age : float or array, optional
            Scalar or one value per exchange; default: age at ``as_of``.
        component : {"total", "own", "vendor"}
        vendors : DataFrame, optional
            Vendor links for the vendor component (default: the book's).
        """
        import numpy as np

        a = self._age(exchanges, age)
        own = self.baseline_hazard(a) * np.exp(self.linear_predictor(exchanges))
        return self._combine(exchanges, own, 1.0, component, vendors)

    def cumulative_hazard(self, exchanges: pd.DataFrame, start: Any = None, stop: Any = None, *,
                          horizon: float | None = None, component: str = "total",
                          vendors: pd.DataFrame | None = None) -> np.ndarray:
        """True expected number of breaches between ages ``start`` and ``stop`` (years).

        Give ``start``/``stop`` (scalars or one per exchange, e.g. a panel's ``age_start``/``age_stop``
        after aligning rows) or ``horizon`` (from ``start``, default the age at ``as_of``).
        ``P(at least one breach) = 1 - exp(-cumulative_hazard)``.
        """
        import numpy as np

        a0 = self._age(exchanges, start)
        if stop is None:
            if horizon is None:
                raise InputError("give stop or horizon", field="stop")
            a1 = a0 + float(horizon)
        else:
            a1 = self._age(exchanges, stop)
        if np.any(a1 < a0):
            raise InputError("stop is before start", field="stop")
        own = (self.baseline_cumulative_hazard(a1) - self.baseline_cumulative_hazard(a0)) * np.exp(
            self.linear_predictor(exchanges))
        return self._combine(exchanges, own, a1 - a0, component, vendors)

    def breach_probability(self, exchanges: pd.DataFrame, horizon: float = 1.0, age: Any = None, *,
                           component: str = "total", vendors: pd.DataFrame | None = None) -> np.ndarray:
        """True probability of at least one breach within ``horizon`` years from ``age``."""
        import numpy as np

        return 1.0 - np.exp(-self.cumulative_hazard(exchanges, age, horizon=horizon, component=component,
                                                    vendors=vendors))

    def _combine(self, exchanges, own, dt_years, component, vendors):
        if component == "own":
            return own
        v = self.vendor_hazard(exchanges, vendors) * dt_years
        if component == "vendor":
            return v
        if component != "total":
            raise InputError(f"unknown component {component!r}; use total, own or vendor", field="component")
        return own + v

    def coefficient_table(self) -> pd.DataFrame:
        """``feature, coefficient, hazard_ratio, rationale`` for every feature."""
        import numpy as np
        import pandas as pd

        rows = []
        for f, b in self.coefficients.items():
            col = f.split("=")[0]
            key = "unknown" if f.endswith("=unknown") and col in self.posture_levels else col
            rows.append({"feature": f, "coefficient": b, "hazard_ratio": float(np.exp(b)),
                         "rationale": self.rationale.get(key, self.rationale.get(col, ""))})
        return pd.DataFrame(rows)


def _series(values, index):
    import pandas as pd

    return pd.Series(values, index=index)


def _posture_bucket(exchanges: pd.DataFrame, col: str) -> np.ndarray:
    """Posture answers as the levels of POSTURE_LEVELS (dates bucketed by recency)."""
    import numpy as np
    import pandas as pd

    if col in ("last_penetration_test", "last_red_team"):
        status = exchanges[f"{col}_status"].astype(str).to_numpy(object)
        d = pd.to_datetime(exchanges[col])
        as_of = pd.to_datetime(exchanges["as_of"])
        yrs = ((as_of - d).dt.days / DAYS_PER_YEAR).to_numpy(float)
        limit, recent = (1.0, "within_1y") if col == "last_penetration_test" else (2.0, "within_2y")
        out = np.where(status == "date", np.where(yrs <= limit, recent, "older"), status)
        return out.astype(object)
    return exchanges[col].astype(str).to_numpy(object)


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


# --------------------------------------------------------------------------- generator pieces


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
class _Book:
    """Exchanges' static draws (shared by the pilot and the real draw)."""

    age0: Any
    eta: Any
    vendor_rate_unit: Any  # sum over links of (rate factor x p_loss), per unit base rate
    frame: Any
    links: Any
    pool: Any


def _draw_book(rng, n: int, start, n_vendors: int, unknown_rate: float, rho: float,
               assets_log_mean: float, assets_log_sd: float, coefs: dict[str, float],
               truth_stub: GroundTruth | None) -> _Book:
    import numpy as np
    import pandas as pd

    from underwriting.domain.frames import EXCHANGE_COLUMNS

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
    return _Book(age0=age0, eta=eta, vendor_rate_unit=unit, frame=frame, links=links, pool=pool)


def _stub_truth(coefs: dict[str, float]) -> GroundTruth:
    """A truth object that can only encode (used before calibration)."""
    return GroundTruth(
        coefficients=coefs, rationale={}, weibull_shape=1.0, baseline_scale=0.0, vendor_pool=None,
        vendor_links=None, vendor_base_rate=0.0, unregistered_rate_factor=2.0, hot_share=0.0,
        vendor_hot_share=0.0, severity_beta={}, assets_log_mean=0.0, assets_log_sd=0.0,
        turnover_log_mean=0.0, turnover_log_sd=0.0, closure_rate=0.0, p_close_after_breach=0.0,
        unknown_rate=0.0, maturity_rho=0.0, reimbursed_probs={}, start=None, end=None,
        targets=None)  # type: ignore[arg-type]


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


_CAL_CACHE: dict[tuple, dict[str, float]] = {}


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

    from underwriting.datasets.calibration import default_targets
    from underwriting.datasets.panel import build_exchange_panel

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
    from underwriting.domain.frames import VENDOR_COLUMNS

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
