"""Fixtures of the quote-document tests: a real quote of the bundled demo, with and without the defence block."""

from __future__ import annotations

import copy

import pytest


@pytest.fixture(scope="session")
def demo_quote() -> dict:
    """The bundled demo's quote (``underwriting demo --json``) as a plain dict."""
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote
    from underwriting.resources import DEMO_REGIME, DEMO_SUBMISSION, DEMO_TERMS, example_path

    sub = load_submission(str(example_path(DEMO_SUBMISSION)))
    terms = load_policy(str(example_path(DEMO_TERMS)))
    return make_quote(sub, terms, regime=DEMO_REGIME, seed=0).to_dict()


def with_defence(q: dict) -> dict:
    """``q`` plus the defence block of issue #16 item 3 (keys other branches are adding), with test values.

    EP points of 10-50 years are zero (below the attachment); 100-250 years fall inside the layer.
    """
    q = copy.deepcopy(q)
    q["frequency"]["factors"] = [
        {"factor": "custody_architecture", "answer": "multisig", "multiplier": 0.8, "reason": "multisig custody"},
        {"factor": "bug_bounty", "answer": "no", "multiplier": 1.25, "reason": "no bug bounty"},
        {"factor": "admin_mfa", "answer": "totp", "multiplier": 1.1, "reason": "TOTP, not hardware keys"},
    ]
    q["frequency"]["interval"] = [0.012, 0.055]
    q["severity"] = {"family": "weibull", "parameters": {"shape": 0.42, "scale": 21_000_000.0}, "n": 86,
                     "gof": {"statistic": "anderson_darling", "value": 0.61, "p_value": 0.84}}
    q["perils"] = [
        {"name": "hot_wallet_theft", "expected_count": 0.0187, "expected_loss": 18_300_000.0},
        {"name": "cold_wallet_theft", "expected_count": 0.0008, "expected_loss": 1_100_000.0},
        {"name": "insider", "expected_count": 0.0024, "expected_loss": 2_300_000.0},
    ]
    q["p_attach"] = 0.0121
    q["p_exhaust"] = 0.0009
    q["ep_points"] = [{"return_period": rp, "oep": v, "aep": v * 1.05} for rp, v in
                      [(10, 0.0), (25, 0.0), (50, 0.0), (100, 410_000_000.0), (200, 1_200_000_000.0),
                       (250, 1_600_000_000.0)]]
    q["premium_range"] = [31_000_000.0, 130_000_000.0]
    q["warnings"] = ["portfolio load from a book of 3 exchanges: thin book & <b>not</b> credible"]
    return q


@pytest.fixture(scope="session")
def full_quote(demo_quote) -> dict:
    return with_defence(demo_quote)


@pytest.fixture(scope="session")
def full_figures(full_quote) -> dict:
    from underwriting.quote.document import build_quote_figures

    return build_quote_figures(full_quote)
