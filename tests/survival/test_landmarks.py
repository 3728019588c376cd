"""Landmark rows of the shipped survival model: no breach is lost between history and outcome."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from underwriting.datasets import make_exchange_portfolio
from underwriting.survival.landmarks import landmark_survival_rows


def test_every_first_breach_after_a_landmark_is_an_outcome_even_on_the_landmark_day():
    book = make_exchange_portfolio(300, 5, seed=3)
    # move one exchange's first breach onto a landmark date (the window start + 1 year)
    inc = book.incidents.sort_values("date").reset_index(drop=True)
    start = pd.Timestamp(book.exchanges["as_of"].min())
    landmark = start + pd.Timedelta(days=round(365.25))
    eid = inc.loc[inc["date"] > landmark, "exchange_id"].iloc[0]
    mine = inc["exchange_id"] == eid
    inc.loc[mine & (inc["date"] >= landmark), "date"] = landmark
    inc = inc[~mine | (inc["date"] >= landmark)]
    book = dataclasses.replace(book, incidents=inc)
    rows, y = landmark_survival_rows(book, horizon=3.0)
    at = (rows["exchange_id"] == eid).to_numpy() & (pd.to_datetime(rows["as_of"]) == landmark).to_numpy()
    assert at.sum() == 1
    assert y["event"][at][0] == 1
    assert np.isclose(y["time"][at][0], 0.5 / 365.25)
    assert (y["time"] > 0).all()
