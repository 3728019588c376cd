"""The regime facts the issue pins (MiCA, Basel, Hong Kong, Japan)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.reserve.helpers import DECLARED, make_policy, with_exposure
from underwriting.reserve import assess
from underwriting.reserve.rules import residual_term_haircut


def test_mica_credit_can_reach_100_percent(global_sub, fx):
    a = assess(global_sub, [make_policy(currency="USD", limit=1e10)], "eu-mica-art67", fx)
    assert a.credit == pytest.approx(a.requirement.amount)
    assert a.credit_share == pytest.approx(1.0)
    assert a.residual_cash == pytest.approx(0.0)


@pytest.mark.parametrize("change", [{"cancellation_notice_days": 60}, {"insurer_authorised": False},
                                    {"captive": True, "reinsured_out": True},
                                    {"expiry": dt.date(2027, 6, 1)}, {"exclusions": ["gross_negligence"]}])
def test_mica_credit_zero_when_a_67_5_test_fails(global_sub, fx, change):
    a = assess(global_sub, [make_policy(currency="USD", limit=1e10, **change)], "eu-mica-art67", fx)
    assert a.credit == 0.0
    assert any(c.outcome == "fail" and c.policy == "p" for c in a.checks)


def test_mica_hack_theft_only_policy_earns_nothing_and_lists_the_undeclared_risks(global_sub, fx):
    pol = make_policy(currency="USD", limit=1e10, declared_coverage={})
    a = assess(global_sub, [pol], "eu-mica-art67", fx)
    assert a.credit == 0.0
    chk = next(c for c in a.checks if c.rule == "mica.risk_list_declared")
    assert chk.outcome == "fail"
    for item in ("(a) loss of documents", "(b) misrepresentations", "(c) acts, errors or omissions",
                 "(d) failure to establish", "(e) losses from business disruption", "(f) gross negligence"):
        assert item in chk.reason
    assert "6 of 6" in chk.reason
    # declaring five of six still fails, naming the one left
    part = make_policy(currency="USD", limit=1e10,
                       declared_coverage={k: k != "business_disruption" for k in DECLARED})
    b = assess(global_sub, [part], "eu-mica-art67", fx)
    chk = next(c for c in b.checks if c.rule == "mica.risk_list_declared")
    assert b.credit == 0.0 and "1 of 6" in chk.reason and "(e) losses from business disruption" in chk.reason
    # the same policy declaring them earns the credit
    full = assess(global_sub, [make_policy(currency="USD", limit=1e10)], "eu-mica-art67", fx)
    assert full.credit == pytest.approx(full.requirement.amount)


def test_mica_coverage_mismatch_haircut(global_sub, fx):
    pol = make_policy(currency="USD", limit=1e10, perils=["hot_wallet_theft", "cold_wallet_theft"])
    a = assess(global_sub, [pol], "eu-mica-art67", fx)
    # vendor 30%, insider 10%, social 5% not covered
    assert a.credit == pytest.approx(0.55 * a.requirement.amount)


def test_basel_credit_never_exceeds_20_percent(global_sub_gi):
    a = assess(global_sub_gi, [make_policy(currency="USD", limit=1e12)], "basel2-ama")
    assert a.credit == pytest.approx(0.2 * a.requirement.amount)
    assert a.credit_before_cap > a.credit


def test_basel_zero_at_residual_term_90_days(global_sub_gi):
    pol = make_policy(currency="USD", limit=1e12, inception=dt.date(2026, 1, 1), expiry=dt.date(2027, 1, 1))
    a = assess(global_sub_gi, [pol], "basel2-ama", as_of=pol.expiry - dt.timedelta(days=90))
    assert a.credit == 0.0
    a = assess(global_sub_gi, [pol], "basel2-ama", as_of=pol.expiry - dt.timedelta(days=91))
    assert a.credit > 0.0


def test_residual_term_shape():
    assert residual_term_haircut(365, 365, 90) == 0.0
    assert residual_term_haircut(400, 365, 90) == 0.0
    assert residual_term_haircut(90, 365, 90) == 1.0
    assert residual_term_haircut(10, 365, 90) == 1.0
    assert residual_term_haircut(255, 365, 90) == pytest.approx(110 / 275)


@pytest.mark.parametrize("change", [{"insurer_rating": "BBB+"}, {"exclusions": ["supervisory_action"]},
                                    {"exclusions": ["insolvency_of_insured"]}, {"captive": True},
                                    {"cancellation_notice_days": 89}])
def test_basel_eligibility_fails(global_sub_gi, change):
    a = assess(global_sub_gi, [make_policy(currency="USD", limit=1e12, **change)], "basel2-ama")
    assert a.credit == 0.0


def test_basel_reinsured_captive_is_accepted(global_sub_gi):
    a = assess(global_sub_gi, [make_policy(currency="USD", limit=1e12, captive=True, reinsured_out=True)], "basel2-ama")
    assert a.credit > 0.0


def test_hong_kong_requirement_is_100_hot_plus_50_cold(hk_sub):
    sub = with_exposure(hk_sub, hot=600e6, warm=0.0, cold=7e9)
    assert assess(sub, [], "hk-sfc-vatp").requirement.amount == pytest.approx(600e6 + 0.5 * 7e9)
    a = assess(hk_sub, [], "hk-sfc-vatp")  # warm storage counted with hot
    assert a.requirement.amount == pytest.approx(600e6 + 400e6 + 3.5e9)
    assert a.requirement.tier_amounts == {"hot": pytest.approx(1e9), "cold": pytest.approx(3.5e9)}


def test_hong_kong_cold_exclusion_loses_the_cold_part(hk_sub):
    a = assess(hk_sub, [make_policy(currency="HKD", limit=1e11, exclusions=["cold_wallet"])], "hk-sfc-vatp")
    assert a.credit == pytest.approx(1e9)


def test_excluded_cold_wallet_peril_cuts_the_japanese_credit(jp_sub):
    full = assess(jp_sub, [make_policy(limit=1e10)], "jp-fsa-2026", overrides={"credit.cap_share": 1.0})
    # the default JP scenario requires cover of both tiers: a cold-wallet exclusion earns nothing, with the reason
    cut = assess(jp_sub, [make_policy(limit=1e10, exclusions=["cold_wallet"])], "jp-fsa-2026",
                 overrides={"credit.cap_share": 1.0})
    assert cut.credit == 0.0
    chk = next(c for c in cut.checks if c.rule == "jp.required_perils")
    assert chk.outcome == "fail" and "cold_wallet_theft" in chk.reason
    # relaxed scenario (hot cover suffices): the cold share of the mixture is lost, per cell
    relaxed = assess(jp_sub, [make_policy(limit=1e10, exclusions=["cold_wallet"])], "jp-fsa-2026",
                     overrides={"credit.cap_share": 1.0, "rules.jp.required_perils.perils": ["hot_wallet_theft"]})
    cold_share = 28.5e9 / 30e9
    assert relaxed.credit == pytest.approx(full.credit * (1 - cold_share))
    chk = next(c for c in relaxed.checks if c.rule == "jp.coverage")
    assert chk.outcome == "haircut" and "cold" in chk.reason


@pytest.mark.parametrize("excl", ["management_crime", "credential_theft"])
def test_jp_precedent_exclusions_fail_as_a_scenario(jp_sub, excl):
    pol = make_policy(limit=1e10, exclusions=[excl])
    a = assess(jp_sub, [pol], "jp-fsa-2026")
    assert a.credit == 0.0
    assert any(c.rule == "jp.precedent_exclusions" and c.outcome == "fail" and excl in c.reason for c in a.checks)
    off = assess(jp_sub, [pol], "jp-fsa-2026", overrides={"rules.jp.precedent_exclusions.exclusions": []})
    assert off.credit == pytest.approx(assess(jp_sub, [make_policy(limit=1e10)], "jp-fsa-2026").credit)


def test_jp_before_effective_date_warns(jp_sub):
    a = assess(jp_sub, [], "jp-fsa-2026")  # as of 2026-09-30 < 2027-04-01
    assert [c.rule for c in a.warnings] == ["engine.effective_date"]
    assert "2027-04-01" in a.to_table().splitlines()[2] and a.to_table().splitlines()[2].startswith("WARNING")
    assert a.to_dict()["warnings"]
    b = assess(jp_sub, [], "jp-fsa-2026", as_of=dt.date(2027, 4, 1))
    assert b.warnings == ()


def test_jp_reported_facts_have_sources():
    from underwriting.reserve import load_regime

    reg = load_regime("jp-fsa-2026")
    facts = {f.fact: f for f in reg.facts}
    # reported, except the statutes in force (issue #26: the 履行保証暗号資産 duty and the 5% hot-wallet limit)
    assert all(f.status in ("reported", "confirmed") and f.source for f in reg.facts)
    assert {f.source.split(" (")[0] for f in reg.facts if f.status == "confirmed"} == {
        "Payment Services Act", "Cabinet Office Ordinance on Crypto-Asset Exchange Service Providers"}
    # issue #26: the cabinet-approval row rested on an automated summary alone and was dropped; the Council's
    # approval is reported without a day we could confirm; the precedent row now cites the 2016 policy
    assert not any("cabinet approved" in f.fact for f in reg.facts)
    council = next(f for f in reg.facts if "formally approved" in f.fact)
    assert council.status == "reported" and council.date is None
    for needle in ("Cold-wallet", "spring 2027", "past outflows", "part of it",
                   "without case-by-case approval", "Mitsui Sumitomo x bitFlyer", "credential theft was covered",
                   "履行保証暗号資産"):
        assert any(needle in k for k in facts), needle
    # open parameters stay assumptions, with scenarios for the share
    assert reg.credit.cap_share.status == "assumption"
    assert reg.credit.scenarios == {"none": 0.0, "low": 0.2, "mid": 0.5, "full": 1.0}
    assert all(p.status == "assumption" for k, p in reg.requirement.params.items())


def test_deductible_stays_in_reserve(jp_sub):
    a = assess(jp_sub, [make_policy(deductible=1e8, limit=1e10)], "jp-fsa-2026",
               overrides={"credit.cap_share": 1.0})
    assert a.credit == pytest.approx(a.requirement.amount - 1e8)
    assert any(c.rule == "engine.retention" for c in a.checks)


def test_tower_counts_overlap_once(jp_sub):
    p1 = make_policy(policy_id="a", deductible=0.0, limit=3e8)
    p2 = make_policy(policy_id="b", deductible=1e8, limit=3e8)  # overlaps a on 1e8..3e8
    a = assess(jp_sub, [p1, p2], "jp-fsa-2026", overrides={"credit.cap_share": 1.0})
    assert a.credit == pytest.approx(4e8)  # requirement 4e8 fully covered once, not 6e8
    assert any(c.rule == "engine.tower_overlap" for c in a.checks)


def test_expired_policy_earns_nothing(jp_sub):
    pol = make_policy(inception=dt.date(2025, 1, 1), expiry=dt.date(2026, 1, 1))
    assert assess(jp_sub, [pol], "jp-fsa-2026").credit == 0.0


def test_fx_conversion_recorded(jp_sub, fx):
    pol = make_policy(currency="USD", deductible=0.0, limit=1e6)  # 1m USD = 150m JPY
    a = assess(jp_sub, [pol], "jp-fsa-2026", fx, overrides={"credit.cap_share": 1.0})
    assert a.credit == pytest.approx(150e6 * (1 - 0.0))
    use = next(u for u in a.fx if u.from_currency == "USD")
    assert use.rate == pytest.approx(150.0)
    d = a.to_dict()
    assert d["fx"][0]["rate"] == pytest.approx(150.0)


# ---- issue #26 (4): Japan's facts and the hot/cold scope as a scenario choice ------------------------

def test_jp_facts_cite_the_sources_of_issue_26():
    from underwriting.reserve import load_regime

    reg = load_regime("jp-fsa-2026")
    srcs = " ".join(f.source for f in reg.facts)
    facts = " ".join(f.fact for f in reg.facts)
    for bad in ("AInvest", "AIBC", "novaist"):  # machine-generated or only relaying them
        assert bad not in srcs
    assert "2025-12-10" in facts and "Art. 63-11-2" in srcs and "bitFlyer" in srcs
    assert "minutes" in srcs and "case-by-case approval" in facts
    assert all(f.source for f in reg.facts) and len({f.fact for f in reg.facts}) == len(reg.facts)


def test_default_scope_option_leaves_the_file_as_it_is():
    from underwriting.reserve import load_regime
    from underwriting.reserve.regime import typed_rule_params

    reg = load_regime("jp-fsa-2026")
    ch = next(c for c in reg.choices if c.name == "reserve_scope")
    same = reg.with_overrides({"choices.reserve_scope": ch.default})
    assert same.coverage.tier_weights == reg.coverage.tier_weights
    for a, b in zip(reg.rules, same.rules, strict=True):
        assert typed_rule_params(reg, a) == typed_rule_params(same, b)


def test_cold_only_scope_changes_what_the_reserve_answers_for(fx):
    from tests.reserve.helpers import load_example, make_policy
    from underwriting.reserve import assess

    sub = load_example("jp_small_exchange.json")
    cold_only_policy = make_policy(perils=["cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"],
                                   limit=4e8)
    both = assess(sub, [cold_only_policy], "jp-fsa-2026", fx)
    cold = assess(sub, [cold_only_policy], "jp-fsa-2026", fx, overrides={"choices.reserve_scope": "cold_only"})
    assert both.credit == 0.0 and any(c.rule == "jp.required_perils" and c.outcome == "fail" for c in both.checks)
    assert cold.credit > 0.0
    assert cold.components[0].tier_mix == {"hot": 0.0, "cold": 1.0}
    assert both.components[0].tier_mix["hot"] == pytest.approx(0.05)
    d = cold.to_dict()
    assert d["choices"][0]["in_effect"] == "cold_only" and "Scenario choice reserve_scope" in cold.to_table()


def test_japan_cites_its_sources_and_drops_machine_generated_ones():
    """Issue #26 item 4: the working group's minutes, the 2016 Mitsui Sumitomo x bitFlyer policy, the WG report
    of 2025-12-10 and the Council's approval are cited; facts resting only on machine-generated or automated
    summaries (AInvest, ClusterWire) are not."""
    from underwriting.reserve.regime import load_regime

    reg = load_regime("jp-fsa-2026")
    text = " ".join(f"{f.fact} {f.source}" for f in reg.facts)
    for needle in ("angoshisanseido_wg/gijiroku/20251022.html", "Security NEXT, 2016-12-12", "2025-12-10",
                   "nri.com/jp/media/column/osaki/20251218.html", "答申", "Mitsui Sumitomo x bitFlyer"):
        assert needle in text, needle
    for gone in ("ClusterWire", "AInvest", "issue #18 of this project only"):
        assert gone not in " ".join(f.source for f in reg.facts), gone
    assert all(f.source for f in reg.facts)


@pytest.mark.parametrize("excl", ["management_crime", "credential_theft"])
def test_japanese_precedent_exclusions_are_a_scenario_choice(jp_sub, excl):
    """Reports disagree on what the precedents excluded: forbidden by default, switchable to no test."""
    pol = make_policy(limit=1e10, exclusions=[excl])
    a = assess(jp_sub, [pol], "jp-fsa-2026")
    chk = next(c for c in a.checks if c.rule == "jp.precedent_exclusions")
    assert a.credit == 0.0 and chk.outcome == "fail" and excl in chk.reason
    b = assess(jp_sub, [pol], "jp-fsa-2026", overrides={"choices.precedent_exclusions": "not_required"})
    assert b.credit > 0.0
    assert next(c for c in b.checks if c.rule == "jp.precedent_exclusions").outcome == "pass"
    assert b.credit == assess(jp_sub, [make_policy(limit=1e10)], "jp-fsa-2026").credit
