"""The synthetic generator's assumptions and its ground truth (:class:`GroundTruth`).

The posture model (levels, marginal probabilities and log-hazard effects of each answer, each with
its reasoning), the jurisdiction and vendor mixes, and the truth object that encodes a book and
gives its true hazard: the oracle the scoring and survival tests compare fitted models with. The
generator itself is :func:`underwriting.datasets.synthetic.make_exchange_portfolio`.
"""

from __future__ import annotations

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


def _stub_truth(coefs: dict[str, float]) -> GroundTruth:
    """A truth object that can only encode (used before calibration)."""
    return GroundTruth(
        coefficients=coefs, rationale={}, weibull_shape=1.0, baseline_scale=0.0, vendor_pool=None,
        vendor_links=None, vendor_base_rate=0.0, unregistered_rate_factor=2.0, hot_share=0.0,
        vendor_hot_share=0.0, severity_beta={}, assets_log_mean=0.0, assets_log_sd=0.0,
        turnover_log_mean=0.0, turnover_log_sd=0.0, closure_rate=0.0, p_close_after_breach=0.0,
        unknown_rate=0.0, maturity_rho=0.0, reimbursed_probs={}, start=None, end=None,
        targets=None)  # type: ignore[arg-type]
