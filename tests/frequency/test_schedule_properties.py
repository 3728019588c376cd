"""Property tests (hypothesis) of the breach frequency base × experience × schedule.

For random submissions, and for random tables that pass the schedule's checks:
adding a security control never raises P(breach); adding an incident never lowers it; adding
vendors never lowers the annual rate; no input moves the schedule outside its cap.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from tests.frequency._schedule_base import covariates, fitted_base
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import VECTORS
from underwriting.frequency.model import BreachFrequency
from underwriting.frequency.schedule import (
    DATE_QUESTIONS,
    DEFAULT_SCHEDULE,
    SHARE_QUESTIONS,
    VENDOR_CONDITIONS,
    load_schedule,
    posture_vocabulary,
    schedule_from_mapping,
)

BASE = fitted_base()
DOC = json.loads((EXAMPLES / "jp_small_exchange.json").read_text())
LAUNCH = dt.date.fromisoformat(DOC["exchange"]["launch_date"])
AS_OF = dt.date.fromisoformat(DOC["as_of"])
VOCAB = posture_vocabulary()
SHIPPED = tomllib.loads(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
ROLES = ("wallet_software", "custody_technology", "cloud", "signing_ui", "other")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

dates = st.dates(min_value=LAUNCH, max_value=AS_OF)


def _answer(name):
    if name in DATE_QUESTIONS:
        return st.one_of(st.sampled_from(["never", "unknown"]), dates.map(dt.date.isoformat))
    if name in SHARE_QUESTIONS:
        return st.one_of(st.just("unknown"), st.floats(0.0, 1.0))
    return st.sampled_from([*VOCAB[name], "unknown"])


postures = st.fixed_dictionaries({name: _answer(name) for name in VOCAB})
vendor = st.fixed_dictionaries({"role": st.sampled_from(ROLES), "registered": st.sampled_from(["yes", "no", "unknown"])})
incident = st.fixed_dictionaries({
    "date": dates.map(dt.date.isoformat), "amount": st.floats(0.0, 1e10), "currency": st.just("EUR"),
    "custody_tier": st.sampled_from(["hot", "warm", "cold", "unknown"]), "vector": st.sampled_from(VECTORS),
    "customers_reimbursed": st.sampled_from(["full", "partial", "none", "unknown"]),
})


@st.composite
def submissions(draw):
    doc = copy.deepcopy(DOC)
    doc["posture"] = draw(postures)
    doc["vendors"] = [dict(v, name=f"vendor {i}") for i, v in enumerate(draw(st.lists(vendor, max_size=6)))]
    doc["incidents"] = draw(st.lists(incident, max_size=4))
    return doc


@st.composite
def valid_tables(draw):
    """Random schedule tables that obey the rules (the shipped one's shape, random numbers)."""
    t = copy.deepcopy(SHIPPED)
    lo = draw(st.floats(0.05, 1.0))
    hi = draw(st.floats(1.0, 20.0))
    t["cap"].update(min=lo, max=hi)
    t["experience"]["quiet_floor"] = draw(st.floats(0.05, 1.0))
    t["experience"]["look_back_years"] = draw(st.floats(0.5, 30.0))
    for q in t["questions"].values():
        k = len(q["order"])
        best = draw(st.floats(0.2, 1.0))
        worst = draw(st.floats(1.0, 3.0))
        mid = sorted(draw(st.lists(st.floats(best, worst), min_size=k - 2, max_size=k - 2)))
        q["factors"] = dict(zip(q["order"], [best, *mid, worst], strict=True))
        q["factors"]["unknown"] = draw(st.floats(1.0, worst))
    for cond in VENDOR_CONDITIONS:
        t["vendors"][cond]["factor"] = draw(st.floats(1.0, 2.0))
    reg = t["vendors"]
    reg["registration_unknown"]["factor"] = min(reg["registration_unknown"]["factor"], reg["unregistered"]["factor"])
    return schedule_from_mapping(t, source="hypothesis")


def _p(doc, table=None, prior_strength=0.8):
    sub = Submission.model_validate(doc)
    model = BreachFrequency(BASE, schedule=table, prior_strength=prior_strength).fit()
    return model.explain(covariates([sub]), [sub], years=1.0)[0]


def _improve(draw, name, answer):
    """A strictly better answer to question ``name`` (a control added or strengthened)."""
    if name in DATE_QUESTIONS:
        if answer == "unknown":
            return (AS_OF - dt.timedelta(days=draw(st.integers(0, 300)))).isoformat()
        if answer == "never":
            return draw(dates).isoformat()
        old = dt.date.fromisoformat(answer)
        assume(old < AS_OF)
        return draw(st.dates(min_value=old + dt.timedelta(days=1), max_value=AS_OF)).isoformat()
    if name in SHARE_QUESTIONS:
        if answer == "unknown":
            return 1.0
        return draw(st.floats(answer, 1.0))
    order = tuple(SHIPPED["questions"][name]["order"])
    if answer == "unknown":
        return order[0]
    i = order.index(answer)
    assume(i > 0)
    return order[draw(st.integers(0, i - 1))]


@FAST
@given(doc=submissions(), data=st.data(), custom=st.booleans())
def test_adding_a_control_never_raises_p_breach(doc, data, custom):
    table = data.draw(valid_tables()) if custom else None
    name = data.draw(st.sampled_from(sorted(VOCAB)))
    better = copy.deepcopy(doc)
    better["posture"][name] = _improve(data.draw, name, doc["posture"][name])
    before, after = _p(doc, table), _p(better, table)
    assert after.p_breach <= before.p_breach
    assert after.schedule.raw_factor <= before.schedule.raw_factor * (1 + 1e-12)


@FAST
@given(doc=submissions(), new=incident, data=st.data(), custom=st.booleans(),
       alpha=st.one_of(st.floats(0.05, 100.0), st.just(float("inf"))))
def test_adding_an_incident_never_lowers_p_breach(doc, new, data, custom, alpha):
    table = data.draw(valid_tables()) if custom else None
    more = copy.deepcopy(doc)
    more["incidents"].append(new)
    before, after = _p(doc, table, alpha), _p(more, table, alpha)
    assert after.p_breach >= before.p_breach
    assert after.annual_rate_interval[0] >= before.annual_rate_interval[0]
    assert after.annual_rate_interval[1] >= before.annual_rate_interval[1]
    if after.experience.breaches >= 1:  # a breach in the window: never below the base rate
        assert after.experience.posterior_rate >= after.base_rate


@FAST
@given(doc=submissions(), extra=st.lists(vendor, min_size=1, max_size=40), data=st.data(), custom=st.booleans())
def test_adding_vendors_never_lowers_the_rate(doc, extra, data, custom):
    table = data.draw(valid_tables()) if custom else None
    more = copy.deepcopy(doc)
    more["vendors"] += [dict(v, name=f"extra {i}") for i, v in enumerate(extra)]
    before, after = _p(doc, table), _p(more, table)
    assert after.annual_rate >= before.annual_rate
    assert after.expected_breaches >= before.expected_breaches and after.p_breach >= before.p_breach


@FAST
@given(doc=submissions(), extra=st.lists(vendor, max_size=60), bad=st.sets(st.integers(0, 59)), data=st.data(),
       custom=st.booleans())
def test_no_input_moves_the_schedule_outside_its_cap(doc, extra, bad, data, custom):
    table = data.draw(valid_tables()) if custom else load_schedule()
    doc = copy.deepcopy(doc)
    doc["vendors"] = [dict(v, name=f"v{i}") for i, v in enumerate(extra)]
    r = table.rate(Submission.model_validate(doc), compromised_vendors=[f"V{i}" for i in bad])
    assert table.cap.min <= r.factor <= table.cap.max
    assert (r.factor == r.raw_factor) == (table.cap.min <= r.raw_factor <= table.cap.max)
