"""Exposure features: how much is at risk and where it sits (amounts in USD).

Features (direction: +1 = more never lowers risk, 0 = unconstrained):

``log_assets_{hot,warm,cold,total}`` (total +1, tiers 0)
    ``log10(1 + assets)`` per custody tier and in total: bigger books are bigger targets.
``hot_share`` (+1), ``warm_share`` (0)
    share of customer assets in hot (warm) wallets.
``log_volume`` (+1)
    ``log10(1 + trading_volume_12m)``: busier exchanges are bigger targets (Moore & Christin 2013).
``volume_to_assets`` (0)
    ``log10(1 + trading_volume_12m / assets_total)``: turnover of the book.
``own_funds_to_assets`` (0)
    ``own_funds / assets_total`` capped at 10: the firm's own cushion.
``log_age_years`` (0)
    ``ln`` of the exchange's age at ``as_of`` in years (at least one month): young exchanges have
    been found riskier (Fantazzini & Calabrese 2021), but the direction is left to the data.

Ratios divide by ``max(assets_total, 1 USD)`` so an exchange with no customer assets gets finite
features (shares 0) instead of a silent fill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from underwriting.domain.frames import EXPOSURE_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.features._base import FrameTransformer
from underwriting.features._common import as_amounts, as_timestamps

OWN_FUNDS_RATIO_CAP = 10.0
#: Smallest age used by ``log_age_years`` (years): one month.
MIN_AGE_YEARS = 1.0 / 12.0


def exposure_feature_directions() -> dict[str, int]:
    """Documented direction of each exposure feature (see the module docstring)."""
    return {
        "log_assets_hot": 0, "log_assets_warm": 0, "log_assets_cold": 0, "log_assets_total": 1,
        "hot_share": 1, "warm_share": 0, "log_volume": 1, "volume_to_assets": 0, "own_funds_to_assets": 0,
        "log_age_years": 0,
    }


class ExposureFeatures(FrameTransformer):
    """Exposure features of each exchange row (USD columns of the exchange frame)."""

    def _input_columns(self) -> list[str]:
        return [c for c in EXPOSURE_COLUMNS if c != "fixed_overheads_prior_year"] + ["launch_date", "as_of"]

    def _amount_columns(self) -> list[str]:
        return [c for c in EXPOSURE_COLUMNS if c != "fixed_overheads_prior_year"]

    def _age(self, X: pd.DataFrame) -> np.ndarray:
        launch = as_timestamps(X["launch_date"], field="launch_date")
        as_of = as_timestamps(X["as_of"], field="as_of")
        age = ((as_of - launch).dt.days / DAYS_PER_YEAR).to_numpy(dtype=float)
        if (age < 0).any():
            pos = int(np.flatnonzero(age < 0)[0])
            raise InputError(f"launch_date {launch.iloc[pos].date()} is after as_of {as_of.iloc[pos].date()}",
                             field="launch_date")
        return age

    def _output_names(self) -> list[str]:
        return list(exposure_feature_directions())

    def _check(self, X: pd.DataFrame) -> None:
        for c in self._amount_columns():
            as_amounts(X[c], field=c)
        self._age(X)

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        a = {c: as_amounts(X[c], field=c) for c in self._amount_columns()}
        denom = np.maximum(a["assets_total"], 1.0)
        out = {f"log_assets_{t}": np.log10(1.0 + a[f"assets_{t}"]) for t in ("hot", "warm", "cold", "total")}
        out["hot_share"] = np.minimum(a["assets_hot"] / denom, 1.0)
        out["warm_share"] = np.minimum(a["assets_warm"] / denom, 1.0)
        out["log_volume"] = np.log10(1.0 + a["trading_volume_12m"])
        out["volume_to_assets"] = np.log10(1.0 + a["trading_volume_12m"] / denom)
        out["own_funds_to_assets"] = np.minimum(a["own_funds"] / denom, OWN_FUNDS_RATIO_CAP)
        out["log_age_years"] = np.log(np.maximum(self._age(X), MIN_AGE_YEARS))
        return pd.DataFrame(out, index=X.index)
