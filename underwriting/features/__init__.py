"""Feature pipelines: exchange frames (``underwriting.domain.frames``) → numeric model features.

Four scikit-learn transformers, each a pandas frame in and out, selecting their input columns by
name (column order never matters):

* :class:`PostureEncoder` — questionnaire answers, "unknown" as explicit indicators;
* :class:`ExposureFeatures` — assets by tier, hot share, turnover, own funds;
* :class:`IncidentHistoryFeatures` — incident counts, decayed loss, recency, vector mix and
  reimbursement *as of* each row's ``as_of`` (holds the long ``incidents`` table);
* :class:`VendorFeatures` — shared, unregistered and compromised vendors (holds the long
  ``vendors`` and ``compromises`` tables).

:func:`exchange_features` combines them in one ``ColumnTransformer``. Each feature has a
documented direction (:func:`feature_directions`): -1 = a higher value never raises risk, +1 = never
lowers it, 0 = unconstrained. The risk scorer enforces these directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from underwriting.features.exposure import ExposureFeatures, exposure_feature_directions
from underwriting.features.history import IncidentHistoryFeatures, history_feature_directions
from underwriting.features.posture import (
    POSTURE_INPUT_COLUMNS,
    PostureEncoder,
    posture_feature_directions,
)
from underwriting.features.vendors import (
    VendorFeatures,
    compromises_from_incidents,
    vendor_feature_directions,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from sklearn.compose import ColumnTransformer

__all__ = [
    "PostureEncoder", "ExposureFeatures", "IncidentHistoryFeatures", "VendorFeatures",
    "exchange_features", "submission_features", "feature_params", "DEFAULT_FEATURE_PARAMS", "feature_directions", "feature_group", "compromises_from_incidents", "POSTURE_INPUT_COLUMNS",
]


#: Parameters of :func:`exchange_features` used when none are given (the shipped models use these).
DEFAULT_FEATURE_PARAMS: dict[str, object] = {"windows": (1, 3, 5), "half_life_years": 2.0, "cap_months": 120.0,
                                             "freshness_half_life_years": 1.0}


def feature_params(**params) -> dict[str, object]:
    """The full parameter set of :func:`exchange_features` for ``params`` (defaults filled in, windows a tuple).

    Two parameter sets give the same features exactly when their ``feature_params`` are equal.
    """
    unknown = sorted(set(params) - set(DEFAULT_FEATURE_PARAMS))
    if unknown:
        from underwriting.errors import InputError

        raise InputError(f"unknown feature parameter(s) {unknown}", field="feature_params")
    out = {**DEFAULT_FEATURE_PARAMS, **params}
    out["windows"] = tuple(out["windows"])
    return out


def submission_features(submission, fx=None, **params) -> pd.DataFrame:
    """The feature row of one submission as of its ``as_of`` date (one-row frame, pandas out).

    Parameters
    ----------
    submission : Submission
    fx : FxTable, optional
        Rates for non-USD amounts (the bundled table by default).
    **params
        Parameters of :func:`exchange_features` (defaults: :data:`DEFAULT_FEATURE_PARAMS`).
    """
    from underwriting.domain.frames import submission_frames

    exchanges, vendors, incidents = submission_frames([submission], fx)
    return exchange_features(incidents, vendors, **params).fit_transform(exchanges)


def feature_directions(windows=(1, 3, 5)) -> dict[str, int]:
    """Documented direction of every feature :func:`exchange_features` produces, in output order."""
    return {**posture_feature_directions(), **exposure_feature_directions(),
            **history_feature_directions(windows), **vendor_feature_directions()}


def feature_group(name: str) -> str:
    """The questionnaire item or exposure/history/vendor factor a feature comes from.

    Reason codes add up the contributions of one group, so that e.g. ``custody_mpc`` and
    ``custody_multisig`` read as one "custody_architecture" reason and an "unknown" indicator is
    netted with its level column.
    """
    from underwriting.features.posture import DATE_POSTURE_COLUMNS, ORDINAL_FEATURE

    if name.startswith("custody_"):
        return "custody_architecture"
    for q, f in ORDINAL_FEATURE.items():
        if name in (f, f"{q}_unknown"):
            return q
    for q in DATE_POSTURE_COLUMNS:
        if name.startswith(q):
            return q
    if name.startswith("log_assets_"):
        return "customer_assets"
    fixed = {
        "hot_share": "hot_warm_share", "warm_share": "hot_warm_share", "log_volume": "trading_volume",
        "volume_to_assets": "trading_volume", "own_funds_to_assets": "own_funds",
        "log_age_years": "exchange_age", "loss_decayed_log": "incident_history",
        "months_since_last_incident": "incident_history", "reimbursed_share": "reimbursement",
        "reimbursed_share_undefined": "reimbursement", "n_vendors": "vendor_footprint",
        "vendors_custody_path": "vendor_footprint", "vendors_shared": "vendor_footprint",
        "vendors_unregistered": "vendor_registration", "vendors_registration_unknown": "vendor_registration",
        "vendors_compromised": "vendor_compromises",
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("incidents_") and name.endswith("y"):
        return "incident_history"
    if name.startswith("vector_share_"):
        return "incident_vectors"
    if name.endswith("_unknown"):
        return name[: -len("_unknown")]
    return name


def exchange_features(
    incidents: pd.DataFrame | None = None,
    vendors: pd.DataFrame | None = None,
    compromises: pd.DataFrame | None = None,
    *,
    windows=(1, 3, 5),
    half_life_years: float = 2.0,
    cap_months: float = 120.0,
    freshness_half_life_years: float = 1.0,
) -> ColumnTransformer:
    """One ``ColumnTransformer`` producing every feature of an exchange frame, pandas output.

    Parameters
    ----------
    incidents, vendors : DataFrame, optional
        Long tables (``INCIDENT_COLUMNS``, ``VENDOR_COLUMNS``) keyed by ``exchange_id``.
    compromises : DataFrame, optional
        ``vendor, date`` of vendor compromises; by default taken from ``incidents`` when it has a
        ``vendor`` column (:func:`compromises_from_incidents`).
    windows, half_life_years, cap_months : see :class:`IncidentHistoryFeatures`.
    freshness_half_life_years : see :class:`PostureEncoder`.

    The exchange frame passed to ``fit``/``transform`` needs ``exchange_id``, ``as_of``, the
    exposure columns and the posture columns; features of a row use only incidents and vendor
    compromises dated before its ``as_of``.
    """
    from sklearn.compose import ColumnTransformer

    from underwriting.domain.frames import EXPOSURE_COLUMNS

    if compromises is None and incidents is not None:
        compromises = compromises_from_incidents(incidents)
    ct = ColumnTransformer(
        [
            ("posture", PostureEncoder(freshness_half_life_years), list(POSTURE_INPUT_COLUMNS)),
            ("exposure", ExposureFeatures(),
             [c for c in EXPOSURE_COLUMNS if c != "fixed_overheads_prior_year"] + ["launch_date", "as_of"]),
            ("history", IncidentHistoryFeatures(incidents, windows, half_life_years, cap_months),
             ["exchange_id", "as_of"]),
            ("vendors", VendorFeatures(vendors, compromises), ["exchange_id", "as_of"]),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return ct.set_output(transform="pandas")
