"""Issue #26 (1): a policy earns no more credit than the insurer can pay on it, on every path.

The Hong Kong case of the issue: an HKD 2bn policy (aggregate 2bn) covering both custody tiers used to
earn 1bn on the hot component and 2bn on the cold one, 3bn in all.
"""

from __future__ import annotations

import json

import pytest

from tests.reserve.helpers import EXAMPLES, load_example, make_policy
from underwriting.reserve import assess

HK = "hk_exchange_with_incident.json"


def _two_tier(**kw):
    base = dict(policy_id="hk-2bn", currency="HKD", limit=2e9, aggregate_limit=2e9)
    base.update(kw)
    return make_policy(**base)


def test_two_tier_policy_is_held_to_its_aggregate(fx):
    a = assess(load_example(HK), [_two_tier()], "hk-sfc-vatp", fx)
    # hot 1,000m and cold 3,500m: the 2bn aggregate fills the hot component first, then 1bn of the cold one
    assert [k.amount for k in a.components] == pytest.approx([1e9, 3.5e9])
    assert a.credit == pytest.approx(2e9, rel=1e-12)
    assert a.component_credits == pytest.approx((1e9, 1e9), rel=1e-12)
    pc = a.policies[0]
    assert pc.payable == pytest.approx(2e9) and pc.credit_in_tower == pytest.approx(2e9, rel=1e-12)
    assert any(c.rule == "engine.payable" and "hot, cold" in c.reason for c in a.checks)


def test_reinstatements_and_share_set_the_bound(fx):
    # no aggregate stated: limit x (1 + reinstatements) = 1bn x 2; the insurer's 60% share of it
    p = _two_tier(limit=1e9, aggregate_limit=None, reinstatements=1, coinsurance=0.6)
    a = assess(load_example(HK), [p], "hk-sfc-vatp", fx)
    assert a.credit == pytest.approx(0.6 * 2e9, rel=1e-9)
    # without the bound each component would earn 0.6 x its band: 0.6bn hot + 0.6bn cold = the same 1.2bn;
    # with no reinstatement the limit is paid once: 0.6bn
    b = assess(load_example(HK), [p.model_copy(update={"reinstatements": 0})], "hk-sfc-vatp", fx)
    assert b.credit == pytest.approx(0.6e9, rel=1e-9)
    assert b.component_credits == pytest.approx((0.6e9, 0.0), abs=1.0)


def test_two_policies_share_the_components_optimally(fx):
    """A hot-only 1bn policy and a two-tier 1bn-aggregate policy: the two-tier one goes to the cold
    component, where the hot-only one cannot help (2bn in all, not 1bn)."""
    hot_only = make_policy(policy_id="hot", currency="HKD", limit=1e9, aggregate_limit=1e9, exclusions=["cold_wallet"])
    both = _two_tier(policy_id="both", limit=1e9, aggregate_limit=1e9)
    a = assess(load_example(HK), [hot_only, both], "hk-sfc-vatp", fx)
    assert a.credit == pytest.approx(2e9, rel=1e-9)
    assert a.component_credits == pytest.approx((1e9, 1e9), rel=1e-9)
    by = {p.policy_id: p.credit_in_tower for p in a.policies}
    assert by["hot"] == pytest.approx(1e9, rel=1e-9) and by["both"] == pytest.approx(1e9, rel=1e-9)


def test_the_service_and_the_quote_apply_the_same_bound():
    from underwriting.service.engine import reserve as service_reserve

    sub = json.loads((EXAMPLES / HK).read_text(encoding="utf-8"))
    pol = _two_tier().model_dump(mode="json")
    out = service_reserve({"submission": sub, "policies": [pol], "regime": "hk-sfc-vatp", "risk_sizing": False})
    assert out["credit"] == pytest.approx(2e9, rel=1e-9)
    assert out["policies"][0]["credit_in_tower"] == pytest.approx(2e9, rel=1e-9)

    from underwriting.quote.reserve import reserve_block
    from underwriting.reserve.assessment import default_fx

    block = reserve_block(load_example(HK), [_two_tier()], "hk-sfc-vatp", default_fx())
    assert block.credit == pytest.approx(2e9, rel=1e-9)
