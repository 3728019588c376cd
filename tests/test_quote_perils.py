"""Hot-wallet assets and the war/state-actor exclusion through the whole quote (issue #24, item 5).

Every check prices a quote with :func:`underwriting.quote.make.make_quote`: hot-wallet assets raise the
premium and padding cannot lower it; the exclusion lowers the price by the per-peril state-attributed
share of the incident table and never raises it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from underwriting.domain.policy import load_policy
from underwriting.domain.submission import load_submission
from underwriting.losses.perils import state_actor_split
from underwriting.quote.make import make_quote

EXAMPLES = Path(__file__).resolve().parents[1] / "datasets" / "examples"
FEW = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def jp():
    return load_submission(str(EXAMPLES / "jp_small_exchange.json"))


@pytest.fixture(scope="module")
def jp_terms():
    return load_policy(str(EXAMPLES / "policy_jp_primary.toml"))


def _assets(sub, total, hot, warm=0.0):
    a = sub.exposure.customer_assets.with_(hot=hot, warm=warm, cold=total - hot - warm, total=total)
    return sub.with_(exposure=sub.exposure.with_(customer_assets=a))


def _terms(terms, exclusions):
    return terms.with_(exclusions=exclusions)


def test_cold_storage_share_rates_for_a_300bn_yen_exchange(jp, jp_terms):
    """The issue's case: 70%, 80%, 90%, 95% cold storage gave one premium for a JPY 300bn exchange."""
    prem = [make_quote(_assets(jp, 300e9, 300e9 * (1 - c)), jp_terms).premium for c in (0.95, 0.90, 0.80, 0.70)]
    assert all(b > a for a, b in zip(prem[:-1], prem[1:], strict=True)), prem
    assert prem[-1] / prem[0] < 2.0  # bounded: a layer of JPY 5bn cannot grow without limit


@FEW
@given(total=st.floats(1e9, 1e12), hot1=st.floats(0.0, 0.6), dh=st.floats(0.01, 0.4))
def test_premium_is_non_decreasing_in_the_hot_share(jp, jp_terms, total, hot1, dh):
    a = make_quote(_assets(jp, total, total * hot1), jp_terms)
    b = make_quote(_assets(jp, total, total * min(hot1 + dh, 1.0)), jp_terms)
    assert b.premium >= a.premium * (1 - 1e-9)
    assert b.expected_loss >= a.expected_loss * (1 - 1e-9)


@pytest.mark.slow
@FEW
@given(total=st.floats(1e9, 1e12), hot=st.floats(0.0, 0.5), pad=st.floats(0.1, 10.0))
def test_padding_custodied_assets_never_lowers_the_premium(jp, jp_terms, total, hot, pad):
    """Adding cold assets (or hot ones) to the same exchange cannot lower its price."""
    base = make_quote(_assets(jp, total, total * hot), jp_terms)
    more_cold = make_quote(_assets(jp, total * (1 + pad), total * hot), jp_terms)
    more_hot = make_quote(_assets(jp, total * (1 + pad), total * hot + total * pad), jp_terms)
    assert more_cold.premium >= base.premium * (1 - 1e-9)
    assert more_hot.premium >= base.premium * (1 - 1e-9)


@pytest.mark.parametrize("sample,terms", [
    ("jp_small_exchange.json", "policy_jp_primary.toml"),
    ("global_large_exchange.json", "policy_usd_excess.toml"),
    ("hk_exchange_with_incident.json", None),
])
def test_state_actor_exclusion_lowers_never_raises(sample, terms):
    sub = load_submission(str(EXAMPLES / sample))
    t = load_policy(str(EXAMPLES / terms)) if terms else None
    if t is None:
        from underwriting.quote.losses import default_terms

        t = default_terms(sub)
    base = [e for e in t.exclusions if e != "war_and_state_actor"]
    covered = make_quote(sub, _terms(t, base))
    excluded = make_quote(sub, _terms(t, [*base, "war_and_state_actor"]))
    assert excluded.premium < covered.premium and excluded.expected_loss < covered.expected_loss
    assert "state_actor_exclusion" in excluded.methods and "state_actor_exclusion" not in covered.methods


def test_exclusion_removes_exactly_the_attributed_share_of_each_peril(jp, jp_terms):
    from underwriting.domain.currency import FxTable
    from underwriting.quote.losses import build_loss_model

    fx = FxTable.bundled()
    base = [e for e in jp_terms.exclusions if e != "war_and_state_actor"]
    lm_all = build_loss_model(jp, _terms(jp_terms, base), fx=fx)
    lm_ex = build_loss_model(jp, _terms(jp_terms, [*base, "war_and_state_actor"]), fx=fx)
    split = state_actor_split()
    by_name = {p.name: p for p in lm_ex.perils}
    for p in lm_all.perils:
        expected = p.frequency.mean() * (1 - split[p.name].share)
        got = by_name[p.name].frequency.mean() if p.name in by_name else 0.0
        assert got == pytest.approx(expected, rel=1e-12)
        assert by_name[p.name].severity == p.severity  # the severity is untouched
    # the removed share of the expected loss lies inside the per-peril shares' range
    q_all = make_quote(jp, _terms(jp_terms, base))
    q_ex = make_quote(jp, _terms(jp_terms, [*base, "war_and_state_actor"]))
    cut = 1 - q_ex.expected_loss / q_all.expected_loss
    shares = [split[p.name].share for p in lm_all.perils]
    assert min(shares) - 0.005 <= cut <= max(shares) + 0.005  # a weighted mean of the shares (aggregate cap aside)
