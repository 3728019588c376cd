"""On the synthetic generator the scorer comes close to the oracle that knows the true hazard.

A fast version of benchmarks/bench_scoring.py (which uses 4,000 exchanges and asserts a 0.03 AUC
gap and ECE < 0.02): 800 exchanges over 10 years, so the tolerances are wider.
"""

from __future__ import annotations

import pytest

from underwriting.scoring.model import RiskScorer
from underwriting.scoring.shipped import DEFAULT_C, synthetic_training_set
from underwriting.scoring.validation import validate_scores


@pytest.fixture(scope="module")
def report():
    train = synthetic_training_set(800, 10, seed=101)
    test = synthetic_training_set(800, 10, seed=102)
    scorer = RiskScorer(C=DEFAULT_C, random_state=0).fit(train.features, train.y, groups=train.groups)
    return validate_scores(test.y, scorer.p_breach(test.features), oracle=test.oracle, groups=test.groups,
                           n_boot=200, seed=0)


def test_scorer_auc_close_to_oracle(report):
    print(report.table())
    assert report.auc.estimate >= report.oracle_auc.estimate - 0.04
    assert report.auc_gap.high > -0.03  # the paired interval reaches within the benchmark's tolerance


def test_scorer_is_calibrated(report):
    assert report.ece.estimate < 0.03
