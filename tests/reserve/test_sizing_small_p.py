"""Issue #26 (5): risk-based sizing that says something when P(any loss) < 1 − q.

Oracle: annual loss S = 0 with probability 1 − p, else exponential with mean m, so
VaR(u) = 0 for u ≤ 1 − p and m·ln(p / (1 − u)) above; TVaR(q) = VaR(q) + m for q ≥ 1 − p; the q quantile
of a loss year is m·ln(1 / (1 − q)); for q < 1 − p, TVaR(q) = p·m / (1 − q) (the whole loss mass over the tail).
"""

from __future__ import annotations

import math

import pytest

from tests.reserve.helpers import load_example, make_policy
from underwriting.reserve import assess
from underwriting.reserve.assessment import pct


class ZeroOrExponential:
    def __init__(self, p: float, m: float):
        self.p_any_loss, self.m = p, m

    def value_at_risk(self, u: float) -> float:
        return 0.0 if u <= 1 - self.p_any_loss else self.m * math.log(self.p_any_loss / (1 - u))

    def tail_value_at_risk(self, q: float) -> float:
        if q >= 1 - self.p_any_loss:
            return self.value_at_risk(q) + self.m
        return self.p_any_loss * self.m / (1 - q)


@pytest.mark.parametrize(("q", "label"), [(0.995, "99.5%"), (0.999, "99.9%"), (0.9999, "99.99%"), (0.99, "99%")])
def test_quantile_labels(q, label):
    assert pct(q) == label


def test_small_p_shows_tvar_and_the_loss_year_quantile(fx):
    p, m, q = 0.0035, 2e9, 0.995
    a = assess(load_example("jp_small_exchange.json"), [make_policy(limit=5e9)], "jp-fsa-2026", fx,
               annual_loss=ZeroOrExponential(p, m))
    rs = a.risk_sizing
    assert rs["amount"] == 0.0  # P(loss) < 1 - q: the quantile says nothing
    assert rs["tvar"] == pytest.approx(p * m / (1 - q))
    assert rs["conditional_quantile"] == pytest.approx(m * math.log(1 / (1 - q)), rel=1e-12)
    assert rs["tvar_credit"] <= 0.5 * rs["tvar"] + 1e-6 and rs["conditional_credit"] <= 0.5 * rs["conditional_quantile"]
    text = a.to_table()
    assert "TVaR at 99.5%" in text and "99.5% quantile of a year with a loss" in text and "is below 0.5%" in text


def test_the_9999_level_is_labelled_as_such(fx):
    a = assess(load_example("jp_small_exchange.json"), [make_policy()], "jp-fsa-2026", fx,
               overrides={"risk_sizing.quantile": 0.9999}, annual_loss=ZeroOrExponential(0.0035, 2e9))
    text = a.to_table()
    assert "99.99% quantile of annual ground-up" in text and "100.0% quantile" not in text
    assert a.risk_sizing["amount"] == pytest.approx(2e9 * math.log(0.0035 / 1e-4))
