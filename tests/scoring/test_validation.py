"""Validation metrics against scikit-learn and hand computations; seeded bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from underwriting.errors import InputError
from underwriting.scoring.validation import (
    bootstrap,
    brier_score,
    calibration_curve,
    expected_calibration_error,
    roc_auc,
    validate_scores,
)


@pytest.fixture(scope="module")
def yp():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 0.3, 3000)
    y = (rng.random(3000) < p).astype(int)
    return y, p


def test_auc_and_brier_match_sklearn(yp):
    y, p = yp
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert roc_auc(y, np.round(p, 1)) == pytest.approx(roc_auc_score(y, np.round(p, 1)), abs=1e-12)  # ties
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-15)
    assert np.isnan(roc_auc(np.zeros(5), np.linspace(0, 1, 5)))


def test_ece_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.9])
    # two equal-count bins: {0.1, 0.2} -> mean 0.15 vs 0; {0.6, 0.9} -> mean 0.75 vs 1
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.5 * 0.15 + 0.5 * 0.25)
    c = calibration_curve(y, p, n_bins=2)
    assert list(c["n"]) == [2, 2] and list(c["y_rate"]) == [0.0, 1.0]
    u = calibration_curve(y, p, n_bins=2, strategy="uniform")
    assert list(u["n"]) == [2, 2]


def test_perfectly_calibrated_scores_have_small_ece(yp):
    y, p = yp
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p + 0.1, 0, 1)) > 0.08


def test_bootstrap_is_seeded_and_grouped(yp):
    y, p = yp
    a = bootstrap(roc_auc, y, p, n_boot=100, seed=1)
    assert a == bootstrap(roc_auc, y, p, n_boot=100, seed=1)
    assert a != bootstrap(roc_auc, y, p, n_boot=100, seed=2)
    assert a.low < a.estimate < a.high
    groups = np.arange(len(y)) // 10
    g = bootstrap(roc_auc, y, p, groups=groups, n_boot=100, seed=1)
    assert g.low < g.estimate < g.high


def test_report_pairs_scorer_and_oracle(yp):
    y, p = yp
    noisy = np.clip(p + np.random.default_rng(1).normal(0, 0.05, len(p)), 0, 1)
    rep = validate_scores(y, noisy, oracle=p, n_boot=100, seed=0)
    assert rep.auc_gap.estimate == pytest.approx(rep.auc.estimate - rep.oracle_auc.estimate)
    assert rep.auc_gap.high < 0  # noise costs discrimination, and the paired interval sees it
    assert "AUC − oracle AUC" in rep.table()
    assert set(rep.to_dict()) >= {"auc", "oracle_auc", "ece", "brier", "calibration", "auc_gap"}


def test_bad_input():
    with pytest.raises(InputError):
        roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(InputError):
        brier_score([0, 1], [0.1, 1.2])
    with pytest.raises(InputError):
        calibration_curve([0, 1], [0.1, 0.2], strategy="odd")
