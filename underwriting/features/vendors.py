"""Vendor features: third parties on the custody path, their registration and their record.

The transformer holds the long ``vendors`` table (``VENDOR_COLUMNS``: ``exchange_id, vendor, role,
registered``) and an optional ``compromises`` table (``vendor, date``: a known compromise of that
vendor at any client) as constructor parameters, untouched. Vendor names are matched
case-insensitively, ignoring surrounding spaces.

Features (direction: +1 = more never lowers risk, 0 = unconstrained):

``n_vendors`` (0)
    vendors listed by the exchange.
``vendors_unregistered`` (+1), ``vendors_registration_unknown`` (0)
    vendors answering ``registered = "no"`` / ``"unknown"``.
``vendors_custody_path`` (+1)
    vendors whose role reaches keys or signing (:data:`CUSTODY_PATH_ROLES`): a compromise of one
    of them can move customer assets (DMM Bitcoin 2024 via its wallet vendor, Bybit 2025 via the
    signing UI), unlike a cloud or other supplier.
``vendors_shared`` (+1)
    the exchange's vendors also used by at least one *other* exchange of the ``vendors`` table
    (concentration: one vendor breach reaches several exchanges). It is measured within the book
    the transformer is given, so a lone submission has 0.
``vendors_compromised`` (+1)
    the exchange's vendors with a compromise dated strictly before the row's ``as_of``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from underwriting.domain.frames import VENDOR_COLUMNS
from underwriting.domain.vocabulary import VENDOR_ROLES
from underwriting.errors import InputError
from underwriting.features._base import FrameTransformer
from underwriting.features._common import as_timestamps, check_vocabulary, require_frame

CUSTODY_PATH_ROLES = ("wallet_software", "custody_technology", "signing_ui")


def vendor_feature_directions() -> dict[str, int]:
    """Documented direction of each vendor feature (see the module docstring)."""
    return {"n_vendors": 0, "vendors_unregistered": 1, "vendors_registration_unknown": 0,
            "vendors_custody_path": 1, "vendors_shared": 1, "vendors_compromised": 1}


def _key(names: pd.Series) -> pd.Series:
    return names.astype(str).str.strip().str.casefold()


def check_vendors(vendors: pd.DataFrame | None) -> pd.DataFrame:
    """Validate a vendors table and return a working copy with a normalised ``_key`` column."""
    if vendors is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in (*VENDOR_COLUMNS, "_key")})
    v = require_frame(vendors, VENDOR_COLUMNS, what="vendors table", table="vendors").copy()
    for c in ("exchange_id", "vendor"):
        if v[c].isna().any():
            raise InputError(f"{c} is missing", field=f"vendors.{c}")
    check_vocabulary(v["role"], VENDOR_ROLES, field="vendors.role")
    check_vocabulary(v["registered"], ("yes", "no", "unknown"), field="vendors.registered")
    v["_key"] = _key(v["vendor"])
    return v


def check_compromises(compromises: pd.DataFrame | None) -> pd.DataFrame:
    """Validate a ``(vendor, date)`` compromises table; return a copy with ``_key`` and parsed dates."""
    if compromises is None:
        return pd.DataFrame({"vendor": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]"),
                             "_key": pd.Series(dtype=object)})
    c = require_frame(compromises, ("vendor", "date"), what="compromises table", table="compromises").copy()
    if c["vendor"].isna().any():
        raise InputError("vendor is missing", field="compromises.vendor")
    c["date"] = as_timestamps(c["date"], field="compromises.date")
    c["_key"] = _key(c["vendor"])
    return c


def compromises_from_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Vendor compromises recorded in an incidents table that carries a ``vendor`` column
    (rows with a vendor named): ``(vendor, date)``. Without that column, an empty table."""
    if "vendor" not in incidents.columns:
        return check_compromises(None)[["vendor", "date"]]
    rows = incidents[incidents["vendor"].notna() & (incidents["vendor"].astype(str).str.strip() != "")]
    return rows[["vendor", "date"]].reset_index(drop=True)


class VendorFeatures(FrameTransformer):
    """Vendor features of each (exchange_id, as_of) row; see the module docstring.

    Parameters
    ----------
    vendors : DataFrame or None
        Long vendors table (``VENDOR_COLUMNS``), stored untouched; ``None`` means no vendors.
    compromises : DataFrame or None
        ``vendor, date`` of known vendor compromises (e.g. :func:`compromises_from_incidents`).
    """

    def __init__(self, vendors: pd.DataFrame | None = None, compromises: pd.DataFrame | None = None):
        self.vendors = vendors
        self.compromises = compromises

    def _input_columns(self) -> list[str]:
        return ["exchange_id", "as_of"]

    def _output_names(self) -> list[str]:
        return list(vendor_feature_directions())

    def _check(self, X: pd.DataFrame) -> None:
        as_timestamps(X["as_of"], field="as_of")
        if X["exchange_id"].isna().any():
            raise InputError("exchange_id is missing", field="exchange_id")

    def fit(self, X, y=None):
        """Validate the long tables and the exchange frame (nothing is learnt)."""
        check_vendors(self.vendors)
        check_compromises(self.compromises)
        return super().fit(X, y)

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        v = check_vendors(self.vendors).drop_duplicates(["exchange_id", "_key"])
        comp = check_compromises(self.compromises)
        n = len(X)
        users = v.groupby("_key")["exchange_id"].nunique()
        v = v.assign(_shared=(v["_key"].map(users) > 1).astype(float),
                     _unreg=(v["registered"] == "no").astype(float),
                     _unk=(v["registered"] == "unknown").astype(float),
                     _path=v["role"].isin(CUSTODY_PATH_ROLES).astype(float))
        rows = pd.DataFrame({"_row": np.arange(n), "exchange_id": X["exchange_id"].to_numpy(),
                             "as_of": as_timestamps(X["as_of"], field="as_of").to_numpy()})
        m = rows.merge(v[["exchange_id", "_key", "_shared", "_unreg", "_unk", "_path"]], on="exchange_id", how="inner")
        row = m["_row"].to_numpy()

        def per_row(w) -> np.ndarray:
            return np.bincount(row, weights=np.asarray(w, dtype=float), minlength=n).astype(float)

        first = comp.groupby("_key")["date"].min()  # earliest compromise of each vendor
        first_date = m["_key"].map(first)
        compromised = (first_date.notna() & (first_date < m["as_of"])).to_numpy()  # no look-ahead
        out = {
            "n_vendors": per_row(np.ones(len(m))),
            "vendors_unregistered": per_row(m["_unreg"]),
            "vendors_registration_unknown": per_row(m["_unk"]),
            "vendors_custody_path": per_row(m["_path"]),
            "vendors_shared": per_row(m["_shared"]),
            "vendors_compromised": per_row(compromised),
        }
        return pd.DataFrame(out, index=X.index)
