"""Flat, tabular form of submissions: the contract between data, features, models and quotes.

A book of submissions (or a synthetic portfolio) is three long tables keyed by ``exchange_id``:

``exchanges``
    one row per exchange: identity, ``as_of``, exposure in USD (``assets_hot``, ``assets_warm``,
    ``assets_cold``, ``assets_total``, ``trading_volume_12m``, ``own_funds``,
    ``fixed_overheads_prior_year``) and every posture answer under its questionnaire name
    (see :data:`POSTURE_COLUMNS`), with the questionnaire's vocabulary unchanged ("yes" / "no" /
    "unknown", dates as ``datetime64`` with "never"/"unknown" kept in ``<name>_status``).
``vendors``
    ``exchange_id, vendor, role, registered``.
``incidents``
    ``exchange_id, date, amount_usd, custody_tier, vector, reimbursed``.

Amounts in the tables are in USD; :func:`submission_frames` converts with an explicit
:class:`~underwriting.domain.currency.FxTable` and records the rate used in ``fx_units_per_usd``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from underwriting.domain.currency import FxTable
from underwriting.domain.submission import Posture, Submission

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Posture questionnaire columns, in questionnaire order.
POSTURE_COLUMNS: tuple[str, ...] = tuple(Posture.model_fields)
#: Posture answers that are dates (or "never"/"unknown").
DATE_POSTURE_COLUMNS: tuple[str, ...] = ("last_penetration_test", "last_red_team")
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "assets_hot", "assets_warm", "assets_cold", "assets_total",
    "trading_volume_12m", "own_funds", "fixed_overheads_prior_year",
)
EXCHANGE_COLUMNS: tuple[str, ...] = (
    ("exchange_id", "name", "jurisdiction", "launch_date", "as_of", "currency", "fx_units_per_usd")
    + EXPOSURE_COLUMNS
    + tuple(c for c in POSTURE_COLUMNS if c not in DATE_POSTURE_COLUMNS)
    + tuple(x for c in DATE_POSTURE_COLUMNS for x in (c, f"{c}_status"))
)
VENDOR_COLUMNS: tuple[str, ...] = ("exchange_id", "vendor", "role", "registered")
INCIDENT_COLUMNS: tuple[str, ...] = ("exchange_id", "date", "amount_usd", "custody_tier", "vector", "reimbursed")


def _slug(name: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in name)
    return "-".join(p for p in out.split("-") if p)


def submission_frames(
    submissions: Iterable[Submission], fx: FxTable | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Flatten submissions into ``(exchanges, vendors, incidents)`` frames (amounts in USD).

    Parameters
    ----------
    submissions : iterable of Submission
    fx : FxTable, optional
        Rates for non-USD amounts; the bundled yearly table by default. The as-of year's rate is
        used for exposure, the incident year's rate for each incident.
    """
    import pandas as pd

    subs = list(submissions)
    if fx is None and any(s.currency != "USD" or any(i.currency != "USD" for i in s.incidents) for s in subs):
        fx = FxTable.bundled()
    ex_rows, v_rows, i_rows = [], [], []
    for s in subs:
        eid = _slug(s.exchange.name)
        rate = 1.0 if s.currency == "USD" else fx.rate(s.currency, s.as_of.year).units_per_usd
        e = s.exposure
        row: dict[str, object] = {
            "exchange_id": eid, "name": s.exchange.name, "jurisdiction": s.exchange.jurisdiction,
            "launch_date": pd.Timestamp(s.exchange.launch_date), "as_of": pd.Timestamp(s.as_of),
            "currency": s.currency, "fx_units_per_usd": rate,
            "assets_hot": e.customer_assets.hot / rate, "assets_warm": e.customer_assets.warm / rate,
            "assets_cold": e.customer_assets.cold / rate, "assets_total": e.customer_assets.total / rate,
            "trading_volume_12m": e.trading_volume_12m / rate, "own_funds": e.own_funds / rate,
            "fixed_overheads_prior_year": e.fixed_overheads_prior_year / rate,
        }
        for c in POSTURE_COLUMNS:
            v = getattr(s.posture, c)
            if c in DATE_POSTURE_COLUMNS:
                is_date = isinstance(v, dt.date)
                row[c] = pd.Timestamp(v) if is_date else pd.NaT
                row[f"{c}_status"] = "date" if is_date else v
            else:
                row[c] = v
        ex_rows.append(row)
        for vd in s.vendors:
            v_rows.append({"exchange_id": eid, "vendor": vd.name, "role": vd.role, "registered": vd.registered})
        for inc in s.incidents:
            r = 1.0 if inc.currency == "USD" else fx.rate(inc.currency, inc.date.year).units_per_usd
            i_rows.append({"exchange_id": eid, "date": pd.Timestamp(inc.date), "amount_usd": inc.amount / r,
                           "custody_tier": inc.custody_tier, "vector": inc.vector,
                           "reimbursed": inc.customers_reimbursed})
    exchanges = pd.DataFrame(ex_rows, columns=list(EXCHANGE_COLUMNS))
    vendors = pd.DataFrame(v_rows, columns=list(VENDOR_COLUMNS))
    incidents = pd.DataFrame(i_rows, columns=list(INCIDENT_COLUMNS))
    incidents["date"] = pd.to_datetime(incidents["date"])
    return exchanges, vendors, incidents
