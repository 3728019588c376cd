"""Security-posture questionnaire → numeric features with a documented direction.

Every answer becomes a *level* column in which a higher value means a stronger control (so its
documented effect on risk is "lower or equal"), and every question that may be answered
``"unknown"`` also gets an ``<name>_unknown`` indicator. An unknown answer sets the level to the
weakest value (0) **and** the indicator to 1: the model sees that the answer is missing and learns
its own effect for it (the indicator's direction is not constrained). Nothing is imputed silently.

Encodings (level columns, all in [0, 1]):

* yes/no questions: 1 for ``"yes"``, 0 for ``"no"``.
* ``custody_architecture``: one column per architecture (``custody_mpc``, ``custody_multisig``,
  ``custody_hsm``), with ``single_key`` as the reference (all zeros).
* ``admin_mfa``: strength ``none`` 0 < ``sms`` 1/3 < ``totp`` 2/3 < ``hardware_key`` 1.
* ``proof_of_reserves``: frequency ``none`` 0 < ``annual`` 1/4 < ``quarterly`` 2/4 < ``monthly`` 3/4
  < ``realtime`` 1.
* ``last_penetration_test``, ``last_red_team``: freshness ``0.5 ** (years since / half-life)`` at
  the row's ``as_of``; ``"never"`` is 0 (the limit of an infinitely old test) and also sets the
  ``<name>_never`` indicator (direction +1: never tested is not better than tested long ago). A date
  after ``as_of`` is an error (it would be look-ahead).
* ``security_staff_share``: the share itself (0 to 1).

A value outside the questionnaire's vocabulary raises :class:`~underwriting.errors.InputError`
naming the column and the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from underwriting.domain.frames import DATE_POSTURE_COLUMNS, POSTURE_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.features._base import FrameTransformer
from underwriting.features._common import as_timestamps, check_vocabulary

#: Yes/no/unknown questions, in questionnaire order.
YES_NO_QUESTIONS: tuple[str, ...] = (
    "signing_device_verification", "signing_screen_verification", "withdrawal_allowlist",
    "withdrawal_velocity_limits", "key_ceremony", "geographic_key_split",
    "privileged_access_management", "bug_bounty", "soc2_type2", "iso27001",
    "incident_response_plan_tested",
)
#: Custody architectures with their own column; ``single_key`` is the reference level.
CUSTODY_LEVELS: tuple[str, ...] = ("mpc", "multisig", "hsm")
CUSTODY_REFERENCE = "single_key"
#: Ordered answers (weakest first) of the ordinal questions; level = position / (len - 1).
ORDINAL_QUESTIONS: dict[str, tuple[str, ...]] = {
    "admin_mfa": ("none", "sms", "totp", "hardware_key"),
    "proof_of_reserves": ("none", "annual", "quarterly", "monthly", "realtime"),
}
ORDINAL_FEATURE = {"admin_mfa": "admin_mfa_strength", "proof_of_reserves": "proof_of_reserves_frequency"}
#: Status values of the date questions besides an actual date.
DATE_STATUSES = ("date", "never", "unknown")

#: Input columns the encoder reads (exchange-frame names).
POSTURE_INPUT_COLUMNS: tuple[str, ...] = (
    tuple(c for c in POSTURE_COLUMNS if c not in DATE_POSTURE_COLUMNS)
    + tuple(x for c in DATE_POSTURE_COLUMNS for x in (c, f"{c}_status"))
    + ("as_of",)
)


def posture_feature_directions() -> dict[str, int]:
    """Documented direction of each posture feature: -1 = a higher value never raises risk,
    0 = not constrained (the "unknown" indicators)."""
    d: dict[str, int] = {}
    for q in YES_NO_QUESTIONS:
        d[q] = -1
        d[f"{q}_unknown"] = 0
    for lv in CUSTODY_LEVELS:
        d[f"custody_{lv}"] = -1
    d["custody_architecture_unknown"] = 0
    for q, name in ORDINAL_FEATURE.items():
        d[name] = -1
        d[f"{q}_unknown"] = 0
    for q in DATE_POSTURE_COLUMNS:
        d[f"{q}_freshness"] = -1
        d[f"{q}_never"] = 1
        d[f"{q}_unknown"] = 0
    d["security_staff_share"] = -1
    d["security_staff_share_unknown"] = 0
    return d


class PostureEncoder(FrameTransformer):
    """Encode the security questionnaire as numeric features (see the module docstring).

    Parameters
    ----------
    freshness_half_life_years : float, default=1.0
        Age (years) at which a penetration test or red-team exercise counts half.

    Examples
    --------
    >>> enc = PostureEncoder().fit(exchanges)          # doctest: +SKIP
    >>> enc.transform(exchanges)["admin_mfa_strength"]  # doctest: +SKIP
    """

    def __init__(self, freshness_half_life_years: float = 1.0):
        self.freshness_half_life_years = freshness_half_life_years

    def _input_columns(self) -> list[str]:
        return list(POSTURE_INPUT_COLUMNS)

    def _output_names(self) -> list[str]:
        return list(posture_feature_directions())

    def _check(self, X: pd.DataFrame) -> None:
        hl = self.freshness_half_life_years
        if not (isinstance(hl, int | float) and np.isfinite(hl) and hl > 0):
            raise InputError(f"must be a positive number, got {hl!r}", field="freshness_half_life_years")
        for q in YES_NO_QUESTIONS:
            check_vocabulary(X[q], ("yes", "no", "unknown"), field=q)
        check_vocabulary(X["custody_architecture"], (*CUSTODY_LEVELS, CUSTODY_REFERENCE, "unknown"),
                         field="custody_architecture")
        for q, order in ORDINAL_QUESTIONS.items():
            check_vocabulary(X[q], (*order, "unknown"), field=q)
        for q in DATE_POSTURE_COLUMNS:
            check_vocabulary(X[f"{q}_status"], DATE_STATUSES, field=f"{q}_status")
        as_timestamps(X["as_of"], field="as_of")
        _staff_share(X["security_staff_share"])

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, np.ndarray] = {}
        for q in YES_NO_QUESTIONS:
            v = X[q].to_numpy()
            out[q] = (v == "yes").astype(float)
            out[f"{q}_unknown"] = (v == "unknown").astype(float)
        ca = X["custody_architecture"].to_numpy()
        for lv in CUSTODY_LEVELS:
            out[f"custody_{lv}"] = (ca == lv).astype(float)
        out["custody_architecture_unknown"] = (ca == "unknown").astype(float)
        for q, order in ORDINAL_QUESTIONS.items():
            v = X[q].to_numpy()
            level = {a: i / (len(order) - 1) for i, a in enumerate(order)}
            out[ORDINAL_FEATURE[q]] = np.array([level.get(a, 0.0) for a in v], dtype=float)
            out[f"{q}_unknown"] = (v == "unknown").astype(float)
        as_of = as_timestamps(X["as_of"], field="as_of")
        for q in DATE_POSTURE_COLUMNS:
            status = X[f"{q}_status"].to_numpy()
            is_date = status == "date"
            when = as_timestamps(X[q], field=q, allow_missing=True)
            if (is_date & when.isna().to_numpy()).any():
                raise InputError("status says 'date' but the date is missing", field=q)
            age = ((as_of - when).dt.days / DAYS_PER_YEAR).to_numpy(dtype=float)
            if (is_date & (age < 0)).any():
                pos = int(np.flatnonzero(is_date & (age < 0))[0])
                raise InputError(f"date {when.iloc[pos].date()} is after as_of {as_of.iloc[pos].date()}", field=q)
            fresh = np.where(is_date, 0.5 ** (np.where(is_date, age, 0.0) / self.freshness_half_life_years), 0.0)
            out[f"{q}_freshness"] = fresh
            out[f"{q}_never"] = (status == "never").astype(float)
            out[f"{q}_unknown"] = (status == "unknown").astype(float)
        share, unknown = _staff_share(X["security_staff_share"])
        out["security_staff_share"] = share
        out["security_staff_share_unknown"] = unknown
        return pd.DataFrame(out, index=X.index)


def _staff_share(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(share, unknown indicator)``; "unknown" → (0, 1); anything else must be a share in [0, 1]."""
    raw = values.to_numpy(dtype=object)
    unknown = np.array([isinstance(v, str) and v == "unknown" for v in raw])
    share = np.zeros(len(raw))
    for i, v in enumerate(raw):
        if unknown[i]:
            continue
        if isinstance(v, str | bool) or v is None:
            raise InputError(f"unknown value {v!r}; expected a share in [0, 1] or 'unknown'",
                             field="security_staff_share")
        f = float(v)
        if not (0.0 <= f <= 1.0):  # also rejects NaN
            raise InputError(f"unknown value {v!r}; expected a share in [0, 1] or 'unknown'",
                             field="security_staff_share")
        share[i] = f
    return share, unknown.astype(float)
