"""Baseline frequency: missing or degenerate inputs raise InputError naming the field."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.frequency.baseline import BaseRate, base_rate_from_roster, baseline_frequency

INC = pd.DataFrame({"exchange_id": ["a", "b"], "incident_date": pd.to_datetime(["2021-01-01", "2021-06-01"]),
                    "event_type": ["hack", "hack"]})


def test_undated_exchange_is_refused_not_counted_without_exposure():
    # before: b's breach counted in the numerator while its exposure silently counted 0 years
    ex = pd.DataFrame({"exchange_id": ["a", "b"], "launch_date": pd.to_datetime(["2020-01-01", None]),
                       "closure_date": pd.to_datetime([None, None])})
    with pytest.raises(InputError, match="'b'") as err:
        base_rate_from_roster(ex, INC, cutoff=dt.date(2022, 1, 1))
    assert err.value.field == "exchanges.launch_date"
    dated = base_rate_from_roster(ex.iloc[:1], INC, cutoff=dt.date(2022, 1, 1))
    assert dated.events == 1


def test_no_exposure_is_an_input_error_not_a_division_by_zero():
    ex = pd.DataFrame({"exchange_id": ["a"], "launch_date": pd.to_datetime(["2023-01-01"]),
                       "closure_date": pd.to_datetime([None])})
    with pytest.raises(InputError) as err:
        base_rate_from_roster(ex, INC, cutoff=dt.date(2022, 1, 1))
    assert err.value.field == "exchanges"


@pytest.mark.parametrize("term", [0.0, -1.0, float("nan")])
def test_term_must_be_positive(example_submission, term):
    sub = Submission.model_validate(example_submission)
    base = BaseRate(rate=0.05, variance=1e-4, events=5, exchange_years=100.0, source="test")
    with pytest.raises(InputError) as err:
        baseline_frequency(sub, base, term)
    assert err.value.field == "term_years"
