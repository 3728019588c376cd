"""Monotone properties of the quote through the one risk model (issue #13, items 5 and 8).

Every check goes through :func:`underwriting.quote.make.make_quote` (or ``underwriting.api.quote``),
so it covers the whole path: base model × experience × schedule → Λ and its interval → negative
binomial count → priced layer. Few hypothesis examples: each quote costs about half a second.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from underwriting.domain.submission import Incident, Vendor, load_submission
from underwriting.quote.make import make_quote

EXAMPLES = Path(__file__).resolve().parents[1] / "datasets" / "examples"
FEW = settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

#: (question, worse answer, better answer): adding or strengthening a control.
CONTROLS = [
    ("signing_screen_verification", "no", "yes"),
    ("signing_device_verification", "unknown", "yes"),
    ("withdrawal_allowlist", "no", "yes"),
    ("admin_mfa", "totp", "hardware_key"),
    ("admin_mfa", "none", "sms"),
    ("custody_architecture", "single_key", "mpc"),
    ("custody_architecture", "multisig", "mpc"),
    ("bug_bounty", "no", "yes"),
    ("privileged_access_management", "unknown", "yes"),
]


@pytest.fixture(scope="module")
def jp():
    return load_submission(str(EXAMPLES / "jp_small_exchange.json"))


@pytest.fixture(scope="module")
def large():
    return load_submission(str(EXAMPLES / "global_large_exchange.json"))


def _posture(sub, **answers):
    return sub.with_(posture=sub.posture.with_(**answers))


@FEW
@given(control=st.sampled_from(CONTROLS))
def test_adding_a_control_never_raises_p_breach_or_premium(jp, control):
    q, worse, better = control
    a = make_quote(_posture(jp, **{q: worse}))
    b = make_quote(_posture(jp, **{q: better}))
    assert b.p_breach_1y <= a.p_breach_1y
    assert b.frequency.expected_breaches <= a.frequency.expected_breaches
    assert b.premium <= a.premium
    assert b.expected_loss <= a.expected_loss


@FEW
@given(vector=st.sampled_from(["hot_wallet_key", "insider", "third_party_vendor", "unknown"]),
       days_before=st.integers(min_value=30, max_value=3000), amount=st.floats(1e5, 5e9),
       reimbursed=st.sampled_from(["full", "partial", "none", "unknown"]))
def test_adding_an_incident_never_lowers_p_breach_or_premium(jp, vector, days_before, amount, reimbursed):
    date = max(jp.as_of - dt.timedelta(days=days_before), jp.exchange.launch_date)
    inc = Incident(date=date, amount=amount, currency=jp.currency, custody_tier="hot", vector=vector,
                   customers_reimbursed=reimbursed)
    a = make_quote(jp)
    b = make_quote(jp.with_(incidents=[*jp.incidents, inc]))
    assert b.p_breach_1y >= a.p_breach_1y
    assert b.premium >= a.premium
    assert b.premium_range[1] >= a.premium_range[1]


@FEW
@given(n=st.integers(min_value=1, max_value=30),
       role=st.sampled_from(["wallet_software", "custody_technology", "cloud", "signing_ui", "other"]),
       registered=st.sampled_from(["yes", "no", "unknown"]))
def test_adding_vendors_never_lowers_the_premium(jp, n, role, registered):
    extra = [Vendor(name=f"Added vendor {i}", role=role, registered=registered) for i in range(n)]
    a = make_quote(jp)
    b = make_quote(jp.with_(vendors=[*jp.vendors, *extra]))
    assert b.premium >= a.premium
    assert b.p_breach_1y >= a.p_breach_1y


def test_many_vendors_no_longer_drive_the_premium_to_zero(large):
    """Issue #13: the large sample with 2, 100 and 1,000 vendors paid 7.1m, 38k and 0 USD."""
    base = [v for v in large.vendors]
    premiums = []
    for n in (2, 100, 1000):
        vs = [*base, *[Vendor(name=f"Vendor {i}", role="other", registered="no") for i in range(n - len(base))]]
        premiums.append(make_quote(large.with_(vendors=vs)).premium)
    assert premiums[0] > 0
    assert premiums[0] <= premiums[1] <= premiums[2]
    assert premiums[2] > premiums[0]  # 1,000 unregistered vendors push the schedule past its floor


def test_a_3m_eur_hot_wallet_hack_in_2022_raises_p_breach(jp):
    """Issue #13: the old model *lowered* P(breach) for this incident (2.71% → 2.45%)."""
    inc = Incident(date=dt.date(2022, 6, 1), amount=3_000_000, currency="EUR", custody_tier="hot",
                   vector="hot_wallet_key", customers_reimbursed="full")
    a = make_quote(jp)
    b = make_quote(jp.with_(incidents=[inc]))
    assert b.p_breach_1y > a.p_breach_1y
    assert b.premium > a.premium
    assert b.frequency.experience["breaches"] == a.frequency.experience["breaches"] + 1


@pytest.mark.slow
def test_score_quote_and_api_give_one_p_breach():
    sub = str(EXAMPLES / "hk_exchange_with_incident.json")
    run = [sys.executable, "-m", "underwriting"]
    s = json.loads(subprocess.run([*run, "score", sub, "--json"], capture_output=True, text=True, check=True).stdout)
    q = json.loads(subprocess.run([*run, "quote", sub, "--json"], capture_output=True, text=True, check=True).stdout)
    from underwriting import api

    a = api.quote(sub)
    assert s["p_breach"] == q["p_breach_1y"] == q["score"]["p_breach"] == a.p_breach_1y
    assert s["band"] == q["risk_band"] and s["risk_score"] == q["risk_score"]
    assert [r["factor"] for r in s["reasons"]] == [r["factor"] for r in q["reasons"]]


def test_a_user_schedule_changes_the_quote_is_recorded_and_reproduces(jp, tmp_path):
    """``schedule=`` (``--schedule FILE``): a harsher TOTP factor raises the JP sample's P(breach); the
    quote records the table's hash and content, and ``reproduce`` recomputes it bit for bit without
    the file."""
    from underwriting.frequency.schedule import DEFAULT_SCHEDULE
    from underwriting.lifecycle.reproduction import reproduce

    text = DEFAULT_SCHEDULE.read_text(encoding="utf-8")
    old = "factors = { hardware_key = 0.82, totp = 0.90, sms = 1.03, none = 1.22, unknown = 1.04 }"
    assert old in text and jp.posture.admin_mfa == "totp"
    path = tmp_path / "harsh.toml"
    path.write_text(text.replace(old, old.replace("totp = 0.90", "totp = 1.0")), encoding="utf-8")
    a = make_quote(jp)
    b = make_quote(jp, schedule=str(path))
    assert b.p_breach_1y > a.p_breach_1y
    assert b.versions["schedule"] != a.versions["schedule"] and "schedule" in b.inputs
    assert "schedule" not in a.inputs
    path.unlink()
    res = reproduce(json.loads(b.to_json()))
    assert res.identical, res.differences


def test_comparison_frequencies_keep_the_one_p_breach_and_reproduce(jp):
    """``--frequency-model baseline``/``survival`` change only the loss model's count: P(breach),
    score, band and reasons stay the one risk model's, and the quote records and reproduces both."""
    from underwriting.lifecycle.reproduction import reproduce

    ref = make_quote(jp)
    for model in ("baseline", "survival"):
        q = make_quote(jp, frequency_model=model)
        assert q.frequency.method == model
        assert q.p_breach_1y == ref.p_breach_1y == q.score.p_breach and q.risk_band == ref.risk_band
        assert q.versions["frequency"] == ref.versions["frequency"]
        assert reproduce(json.loads(q.to_json())).identical
