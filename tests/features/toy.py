"""A tiny, seeded book of exchanges in the ``submission_frames`` layout, with a known hazard.

Used by the feature and scoring tests so they do not depend on the full synthetic generator.
Posture is static; incidents arrive yearly (one draw per exchange-year from Poisson(λ)) with
λ = base · exp(Σ effects) · 2 if there was an incident in the previous two years. The true
P(breach in the year from a landmark) is therefore known exactly (:func:`toy_oracle`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from underwriting.domain.frames import EXCHANGE_COLUMNS, INCIDENT_COLUMNS, VENDOR_COLUMNS
from underwriting.domain.vocabulary import VECTORS

#: log relative hazard per control present (yes) — the toy's truth.
TOY_EFFECTS = {"signing_screen_verification": -0.6, "withdrawal_allowlist": -0.4,
               "privileged_access_management": -0.3, "admin_mfa_strength": -0.8, "hot_share": 4.0}
TOY_BASE = 0.06
TOY_SELF_EXCITE = 2.0
YES_NO = ("signing_device_verification", "signing_screen_verification", "withdrawal_allowlist",
          "withdrawal_velocity_limits", "key_ceremony", "geographic_key_split",
          "privileged_access_management", "bug_bounty", "soc2_type2", "iso27001",
          "incident_response_plan_tested")


@dataclass(frozen=True)
class ToyBook:
    exchanges: pd.DataFrame
    vendors: pd.DataFrame
    incidents: pd.DataFrame
    log_rate: pd.Series  # static log λ per exchange_id (before self-excitation)


def toy_book(n: int = 200, seed: int = 0, first_year: int = 2012, last_year: int = 2025,
             unknown_share: float = 0.1) -> ToyBook:
    rng = np.random.default_rng(seed)
    ids = [f"ex-{i:04d}" for i in range(n)]
    rows = []
    log_rate = {}
    for eid in ids:
        launch = pd.Timestamp(int(rng.integers(first_year, first_year + 4)), 1, 1)
        truth = {q: rng.random() < 0.5 for q in YES_NO}
        mfa = rng.choice(["none", "sms", "totp", "hardware_key"])
        total = float(10 ** rng.uniform(6, 10))
        hot = total * rng.uniform(0.0, 0.2)
        cold = total - hot
        row = {"exchange_id": eid, "name": eid, "jurisdiction": "JP", "launch_date": launch,
               "as_of": pd.Timestamp(last_year, 12, 31), "currency": "USD", "fx_units_per_usd": 1.0,
               "assets_hot": hot, "assets_warm": 0.0, "assets_cold": cold, "assets_total": total,
               "trading_volume_12m": total * rng.uniform(1, 50), "own_funds": total * rng.uniform(0.01, 0.3),
               "fixed_overheads_prior_year": total * 0.01,
               "custody_architecture": rng.choice(["mpc", "multisig", "hsm", "single_key"]),
               "admin_mfa": mfa, "proof_of_reserves": rng.choice(["none", "annual", "monthly"]),
               "last_penetration_test": pd.NaT, "last_penetration_test_status": "never",
               "last_red_team": pd.NaT, "last_red_team_status": "never",
               "security_staff_share": float(rng.uniform(0, 0.2))}
        for q in YES_NO:
            row[q] = "unknown" if rng.random() < unknown_share else ("yes" if truth[q] else "no")
        lr = np.log(TOY_BASE) + TOY_EFFECTS["hot_share"] * hot / total
        lr += TOY_EFFECTS["admin_mfa_strength"] * ["none", "sms", "totp", "hardware_key"].index(mfa) / 3
        for q in ("signing_screen_verification", "withdrawal_allowlist", "privileged_access_management"):
            lr += TOY_EFFECTS[q] * truth[q]
        log_rate[eid] = lr
        rows.append(row)
    ex = pd.DataFrame(rows, columns=list(EXCHANGE_COLUMNS))
    pool = [f"Vendor {k}" for k in range(15)]
    v_rows = [{"exchange_id": eid, "vendor": name, "role": "wallet_software",
               "registered": rng.choice(["yes", "no", "unknown"])}
              for eid in ids for name in rng.choice(pool, size=int(rng.integers(0, 3)), replace=False)]
    vendors = pd.DataFrame(v_rows, columns=list(VENDOR_COLUMNS))
    i_rows = []
    for eid, launch in zip(ids, ex["launch_date"], strict=True):
        last = None
        for year in range(launch.year, last_year + 1):
            lam = np.exp(log_rate[eid]) * (TOY_SELF_EXCITE if last is not None and year - last <= 2 else 1.0)
            for _ in range(rng.poisson(lam)):
                i_rows.append({"exchange_id": eid,
                               "date": pd.Timestamp(year, 1, 1) + pd.Timedelta(days=int(rng.integers(0, 365))),
                               "amount_usd": float(10 ** rng.uniform(4, 8)), "custody_tier": "hot",
                               "vector": rng.choice(VECTORS), "reimbursed": rng.choice(["full", "none", "unknown"])})
                last = year
    incidents = pd.DataFrame(i_rows, columns=list(INCIDENT_COLUMNS))
    incidents["date"] = pd.to_datetime(incidents["date"])
    return ToyBook(ex, vendors, incidents.sort_values(["exchange_id", "date"]).reset_index(drop=True),
                   pd.Series(log_rate))


def toy_panel(book: ToyBook, years=range(2016, 2025)) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Landmark rows (as_of = 1 Jan of each year), label = breach in that year, and the oracle P."""
    parts = []
    for year in years:
        live = book.exchanges[book.exchanges["launch_date"] <= pd.Timestamp(year, 1, 1)].copy()
        live["as_of"] = pd.Timestamp(year, 1, 1)
        parts.append(live)
    rows = pd.concat(parts, ignore_index=True)
    inc = book.incidents[["exchange_id", "date"]]
    m = rows[["exchange_id", "as_of"]].reset_index().merge(inc, on="exchange_id")
    in_year = m[(m["date"] >= m["as_of"]) & (m["date"].dt.year == m["as_of"].dt.year)]["index"].unique()
    recent = m[(m["date"] < m["as_of"]) & (m["date"].dt.year >= m["as_of"].dt.year - 2)]["index"].unique()
    y = np.zeros(len(rows), dtype=int)
    y[in_year] = 1
    excite = np.ones(len(rows))
    excite[recent] = TOY_SELF_EXCITE
    lam = np.exp(rows["exchange_id"].map(book.log_rate).to_numpy()) * excite
    return rows, y, 1.0 - np.exp(-lam)
