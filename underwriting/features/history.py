"""Incident-history features of an exchange AS OF a date, with no look-ahead.

The transformer holds the long ``incidents`` table (``INCIDENT_COLUMNS``: ``exchange_id, date,
amount_usd, custody_tier, vector, reimbursed``) as a constructor parameter, untouched, and reads
``exchange_id`` and ``as_of`` from each row of the exchange frame. The features of a row use only
incidents of that exchange dated **strictly before** its ``as_of``: an incident on or after the
as-of date, or of another exchange, changes nothing.

Features (direction: +1 = more of it never lowers risk, -1 = never raises it, 0 = unconstrained):

``incidents_{w}y`` (+1)
    number of incidents in the ``w`` years before ``as_of``, for ``w`` in ``windows``.
``loss_decayed_log`` (+1)
    ``log10(1 + Σ amount_usd · 0.5 ** (age / half_life))`` over all earlier incidents.
``months_since_last_incident`` (-1)
    months since the latest earlier incident, capped at ``cap_months`` (also the value when there is
    none: "no incident for at least the cap").
``vector_share_{group}`` (0)
    share of the earlier incidents by attack-path group (:data:`VECTOR_GROUPS`); all 0 without any.
``reimbursed_share`` (0), ``reimbursed_share_undefined`` (0)
    mean of full = 1, partial = 0.5, none = 0 over earlier incidents whose reimbursement is known;
    when there is no such incident the share is 0 and the ``_undefined`` indicator is 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from underwriting.domain.frames import INCIDENT_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR, VECTORS
from underwriting.errors import InputError
from underwriting.features._base import FrameTransformer
from underwriting.features._common import as_amounts, as_timestamps, check_vocabulary, require_frame

#: Attack-path groups of the vector mix.
VECTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "key": ("hot_wallet_key", "cold_wallet_key", "multisig_signing"),
    "vendor": ("third_party_vendor",),
    "insider": ("insider",),
    "account": ("api_or_account_takeover",),
    "other": ("exit_scam_or_fraud", "other", "unknown"),
}
REIMBURSED_VALUE = {"full": 1.0, "partial": 0.5, "none": 0.0}
REIMBURSED_VOCAB = ("full", "partial", "none", "unknown")
CUSTODY_TIERS = ("hot", "warm", "cold", "unknown")


def check_incidents(incidents: pd.DataFrame | None) -> pd.DataFrame:
    """Validate an incidents table (``INCIDENT_COLUMNS``; extra columns are kept) and return a
    working copy with parsed dates. Any bad value raises InputError naming ``incidents.<column>``."""
    if incidents is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in INCIDENT_COLUMNS}).astype(
            {"date": "datetime64[ns]", "amount_usd": float})
    inc = require_frame(incidents, INCIDENT_COLUMNS, what="incidents table", table="incidents")
    inc = inc.copy()
    if inc["exchange_id"].isna().any():
        raise InputError("exchange_id is missing", field="incidents.exchange_id")
    inc["date"] = as_timestamps(inc["date"], field="incidents.date")
    inc["amount_usd"] = as_amounts(inc["amount_usd"], field="incidents.amount_usd")
    check_vocabulary(inc["vector"], VECTORS, field="incidents.vector")
    check_vocabulary(inc["reimbursed"], REIMBURSED_VOCAB, field="incidents.reimbursed")
    check_vocabulary(inc["custody_tier"], CUSTODY_TIERS, field="incidents.custody_tier")
    return inc


def history_feature_directions(windows=(1, 3, 5)) -> dict[str, int]:
    """Documented direction of each incident-history feature (see the module docstring)."""
    d = {f"incidents_{_fmt(w)}y": 1 for w in windows}
    d["loss_decayed_log"] = 1
    d["months_since_last_incident"] = -1
    d.update({f"vector_share_{g}": 0 for g in VECTOR_GROUPS})
    d["reimbursed_share"] = 0
    d["reimbursed_share_undefined"] = 0
    return d


def _fmt(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else str(w)


class IncidentHistoryFeatures(FrameTransformer):
    """Incident-history features of each (exchange_id, as_of) row; see the module docstring.

    Parameters
    ----------
    incidents : DataFrame or None
        Long incidents table (``INCIDENT_COLUMNS``), stored untouched; ``None`` means no incidents.
    windows : tuple of float, default=(1, 3, 5)
        Count windows, in years before ``as_of``.
    half_life_years : float, default=2.0
        Age at which a past loss counts half in ``loss_decayed_log``.
    cap_months : float, default=120
        Cap of ``months_since_last_incident`` (and its value when there is no earlier incident).
    """

    def __init__(self, incidents: pd.DataFrame | None = None, windows=(1, 3, 5),
                 half_life_years: float = 2.0, cap_months: float = 120.0):
        self.incidents = incidents
        self.windows = windows
        self.half_life_years = half_life_years
        self.cap_months = cap_months

    def _input_columns(self) -> list[str]:
        return ["exchange_id", "as_of"]

    def _output_names(self) -> list[str]:
        return list(history_feature_directions(self.windows))

    def _check(self, X: pd.DataFrame) -> None:
        for name in ("half_life_years", "cap_months"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise InputError(f"must be a positive number, got {v!r}", field=name)
        if not self.windows or any(not (isinstance(w, int | float) and w > 0) for w in self.windows):
            raise InputError(f"must be positive numbers of years, got {self.windows!r}", field="windows")
        as_timestamps(X["as_of"], field="as_of")
        if X["exchange_id"].isna().any():
            raise InputError("exchange_id is missing", field="exchange_id")

    def fit(self, X, y=None):
        """Validate the incidents table and the exchange frame (nothing is learnt)."""
        check_incidents(self.incidents)
        return super().fit(X, y)

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        inc = check_incidents(self.incidents)
        rows = pd.DataFrame({"_row": np.arange(len(X)), "exchange_id": X["exchange_id"].to_numpy(),
                             "as_of": as_timestamps(X["as_of"], field="as_of").to_numpy()})
        n = len(X)
        m = rows.merge(inc[["exchange_id", "date", "amount_usd", "vector", "reimbursed"]],
                       on="exchange_id", how="inner")
        m = m[m["date"] < m["as_of"]]  # strictly before the as-of date: no look-ahead
        age_days = (m["as_of"] - m["date"]).dt.days.to_numpy(dtype=float)
        age_years = age_days / DAYS_PER_YEAR
        row = m["_row"].to_numpy()

        def per_row(weights: np.ndarray) -> np.ndarray:
            return np.bincount(row, weights=weights, minlength=n).astype(float)

        out: dict[str, np.ndarray] = {}
        for w in self.windows:
            out[f"incidents_{_fmt(w)}y"] = per_row((age_years <= w).astype(float))
        decayed = per_row(m["amount_usd"].to_numpy(dtype=float) * 0.5 ** (age_years / self.half_life_years))
        out["loss_decayed_log"] = np.log10(1.0 + decayed)
        months = np.full(n, float(self.cap_months))
        if len(m):
            youngest = pd.Series(age_days).groupby(row).min()
            months[youngest.index.to_numpy()] = np.minimum(
                youngest.to_numpy() / DAYS_PER_YEAR * 12.0, self.cap_months)
        out["months_since_last_incident"] = months
        total = per_row(np.ones(len(m)))
        vec = m["vector"].to_numpy()
        for g, members in VECTOR_GROUPS.items():
            cnt = per_row(np.isin(vec, members).astype(float))
            out[f"vector_share_{g}"] = np.divide(cnt, total, out=np.zeros(n), where=total > 0)
        reimb = m["reimbursed"].map(REIMBURSED_VALUE).to_numpy(dtype=float)
        known = ~np.isnan(reimb)
        n_known = per_row(known.astype(float))
        s_known = per_row(np.where(known, reimb, 0.0))
        out["reimbursed_share"] = np.divide(s_known, n_known, out=np.zeros(n), where=n_known > 0)
        out["reimbursed_share_undefined"] = (n_known == 0).astype(float)
        return pd.DataFrame(out, index=X.index)


# --------------------------------------------------------------------------- breach weights of experience rating
#
# The experience rating (underwriting.frequency.experience) counts each past breach with a weight: the size of
# its loss times its age decay. The numbers are computed here, the one place where incident
# history becomes numbers; the parameters are data (underwriting/frequency/experience.toml, [weights]).


def breach_size_weight(loss_usd, *, loss_low: float, loss_high: float, weight_min: float,
                       weight_max: float) -> np.ndarray:
    """Weight of a breach by the size of its loss, in USD.

    ``weight_min`` up to ``loss_low``, ``weight_max`` from ``loss_high``, log-linear in the loss between:
    non-decreasing in the loss and bounded by ``[weight_min, weight_max]`` by construction. An unknown loss
    (NaN) takes ``weight_max`` (unknown is never a credit). The loss is not divided by the exchange's
    declared customer assets: that would let a larger declared figure lower the weight, and so the price.

    Parameters
    ----------
    loss_usd : array-like of float
        Loss of each breach, USD (≥ 0; NaN = unknown).
    loss_low, loss_high : float
        Losses in USD (0 < low < high) where the weight reaches its lower and upper bound.
    weight_min, weight_max : float
        Bounds of the weight (0 < min ≤ max < ∞).

    Returns
    -------
    numpy.ndarray of float
    """
    if not (0 < loss_low < loss_high and np.isfinite(loss_high)):
        raise InputError(f"need 0 < loss_low < loss_high, got {loss_low!r}, {loss_high!r}",
                         field="experience.weights.loss_low_usd")
    if not (0 < weight_min <= weight_max and np.isfinite(weight_max)):
        raise InputError(f"need 0 < weight_min <= weight_max < inf, got {weight_min!r}, {weight_max!r}",
                         field="experience.weights.weight_min")
    s = np.asarray(loss_usd, dtype=float)
    if np.any(s < 0):
        raise InputError("a loss must not be negative", field="incidents.amount")
    with np.errstate(divide="ignore"):
        x = (np.log(np.maximum(s, 1e-300)) - np.log(loss_low)) / (np.log(loss_high) - np.log(loss_low))
    w = weight_min + (weight_max - weight_min) * np.clip(x, 0.0, 1.0)
    return np.where(np.isnan(s), weight_max, w)


def breach_age_weight(age_years, half_life_years: float) -> np.ndarray:
    """``0.5 ** (age / half_life)``: weight of a breach ``age`` years before the as-of date, in (0, 1].

    Non-increasing in the age; a breach dated after the as-of date (negative age) is refused.
    """
    h = float(half_life_years)
    if not (np.isfinite(h) and h > 0):
        raise InputError(f"half_life_years must be a positive number, got {half_life_years!r}",
                         field="experience.weights.half_life_years")
    a = np.asarray(age_years, dtype=float)
    if np.any(a < 0) or not np.all(np.isfinite(a)):
        raise InputError("a breach age must be a non-negative number of years", field="incidents.date")
    return 0.5 ** (a / h)


def decayed_exposure(years: float, half_life_years: float) -> float:
    """Exposure of a window of ``years`` before the as-of date with the age decay of
    :func:`breach_age_weight`: ``∫₀ᵀ 0.5^(t/h) dt = h / ln 2 · (1 − 0.5^(T/h))`` years.

    The same weights on counts and on exposure keep the weighted rate ``Σ w N / Σ w E`` unbiased for a
    constant rate (exponential smoothing of the breach rate)."""
    t = float(years)
    if not (np.isfinite(t) and t >= 0):
        raise InputError(f"years must be non-negative, got {years!r}", field="experience.exposure_years")
    breach_age_weight(0.0, half_life_years)  # checks the half-life
    h = float(half_life_years)
    return float(h / np.log(2.0) * -np.expm1(-np.log(2.0) * t / h))


def breach_weights(loss_usd, age_years, *, half_life_years: float, loss_low: float, loss_high: float,
                   weight_min: float, weight_max: float) -> np.ndarray:
    """Weight of each breach in the experience rating: size weight × age weight (see
    :func:`breach_size_weight` and :func:`breach_age_weight`); in ``(0, weight_max]``, non-decreasing in the
    loss and non-increasing in the age."""
    return breach_size_weight(loss_usd, loss_low=loss_low, loss_high=loss_high, weight_min=weight_min,
                              weight_max=weight_max) * breach_age_weight(age_years, half_life_years)
