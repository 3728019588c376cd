"""The posture schedule: the shipped table, user tables refused when they break monotonicity or the
cap (errors naming file, line and key), and factors recomputed by hand from the TOML."""

from __future__ import annotations

import json
import math
import tomllib

import pytest

from tests.conftest import EXAMPLES
from underwriting.domain.submission import Posture, Submission, load_submission
from underwriting.errors import InputError
from underwriting.frequency.schedule import (
    DEFAULT_SCHEDULE,
    load_schedule,
    parse_schedule,
    posture_vocabulary,
)

TEXT = DEFAULT_SCHEDULE.read_text(encoding="utf-8")


def test_shipped_table_loads_and_covers_every_question():
    t = load_schedule()
    assert set(t.questions) == set(Posture.model_fields)
    assert (t.cap.min, t.cap.max) == (0.5, 2.0)
    for name, q in t.questions.items():
        assert q.source.startswith("assumption"), name  # no posture effect is measured
        assert q.rationale
    assert posture_vocabulary()["admin_mfa"] == ("hardware_key", "totp", "sms", "none")


def _by_hand(sub: Submission, raw: dict) -> float:
    """The schedule factor recomputed from the parsed TOML, without the module's code."""
    q = raw["questions"]
    post = sub.posture.model_dump()
    logs = []
    for name, rule in q.items():
        a = post[name]
        if a == "unknown":
            lv = "unknown"
        elif name in ("last_penetration_test", "last_red_team"):
            lv = "never" if a == "never" else (
                "recent" if (sub.as_of - a).days <= rule["recent_months"] * 30.4375 else "older")
        elif name == "security_staff_share":
            lv = next(o for o, b in zip(rule["order"], rule["band_min"], strict=True) if a >= b)
        else:
            lv = a
        logs.append(math.log(rule["factors"][lv]))
    v = raw["vendors"]
    for vd in sub.vendors:
        if vd.role in v["custody_path"]["roles"]:
            logs.append(math.log(v["custody_path"]["factor"]))
        if vd.registered == "no":
            logs.append(math.log(v["unregistered"]["factor"]))
        if vd.registered == "unknown":
            logs.append(math.log(v["registration_unknown"]["factor"]))
    return min(max(math.exp(sum(logs)), raw["cap"]["min"]), raw["cap"]["max"])


@pytest.mark.parametrize("name", ["jp_small_exchange.json", "global_large_exchange.json",
                                  "hk_exchange_with_incident.json"])
def test_factor_recomputed_by_hand(name):
    sub = load_submission(str(EXAMPLES / name))
    r = load_schedule().rate(sub)
    assert r.factor == pytest.approx(_by_hand(sub, tomllib.loads(TEXT)), rel=1e-12)
    # the log contributions (plus the cap's) add up to the log factor
    assert math.fsum(r.contributions().values()) == pytest.approx(math.log(r.factor), abs=1e-12)
    assert 0.5 <= r.factor <= 2.0


def test_hk_sample_rows():
    sub = load_submission(str(EXAMPLES / "hk_exchange_with_incident.json"))
    r = load_schedule().rate(sub)
    rows = {f.key: f for f in r.factors}
    assert rows["posture.admin_mfa"].level == "sms" and rows["posture.admin_mfa"].kind == "debit"
    assert rows["posture.signing_screen_verification"].level == "unknown"
    assert rows["posture.last_penetration_test"].level == "older"  # 2024-11-01, as of 2026-09-30
    assert rows["vendors.Lantern Signing UI (fictional).unregistered"].factor == 1.10
    assert rows["vendors.Lantern Signing UI (fictional).custody_path"].factor == 1.05
    assert r.cap_log_contribution == 0.0


def test_compromised_vendor_is_a_debit():
    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    t = load_schedule()
    base = t.rate(sub)
    hit = t.rate(sub, compromised_vendors=[" nimbus cloud (FICTIONAL) "])
    assert hit.raw_factor == pytest.approx(base.raw_factor * 1.25, rel=1e-12)


# ---------------------------------------------------------------- user tables refused


def _write(tmp_path, text):
    p = tmp_path / "my_schedule.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _line(text, needle):
    return text.splitlines().index(needle) + 1


@pytest.mark.parametrize("old, new, field, message", [
    ("factors = { yes = 0.96, no = 1.04, unknown = 1.01 }\nrationale = \"Outside",
     "factors = { yes = 1.10, no = 1.20, unknown = 1.01 }\nrationale = \"Outside",
     "questions.bug_bounty.factors.yes", "control present must never raise"),
    ("factors = { hardware_key = 0.82, totp = 0.90, sms = 1.03, none = 1.22, unknown = 1.04 }",
     "factors = { hardware_key = 0.82, totp = 0.90, sms = 0.85, none = 1.22, unknown = 1.04 }",
     "questions.admin_mfa.factors.sms", "better answer must never cost more"),
    ("factors = { yes = 0.96, no = 1.04, unknown = 1.01 }\nrationale = \"Outside",
     "factors = { yes = 0.96, no = 0.99, unknown = 0.99 }\nrationale = \"Outside",
     "questions.bug_bounty.factors.no", "known-bad answer must never lower"),
    ("factors = { yes = 0.96, no = 1.04, unknown = 1.01 }\nrationale = \"Outside",
     "factors = { yes = 0.96, no = 1.04, unknown = 0.97 }\nrationale = \"Outside",
     "questions.bug_bounty.factors.unknown", "between 1 and the worst"),
    ("min = 0.5", "min = 0.0", "cap.min", "positive finite"),
    ("max = 2.0", "max = inf", "cap.max", "non-finite"),
    ("min = 0.5", "min = 1.5", "cap.min", "must be <= 1"),
    ("[vendors.unregistered]\nfactor = 1.10", "[vendors.unregistered]\nfactor = 0.90",
     "vendors.unregistered.factor", "never be a credit"),
    ("order = [\"mpc\", \"multisig\", \"hsm\", \"single_key\"]", "order = [\"mpc\", \"multisig\", \"hsm\"]",
     "questions.custody_architecture.order", "must list exactly"),
    ("quiet_floor = 0.7", "quiet_floor = 1.2", "experience.quiet_floor", "(0, 1]"),
    ("[questions.iso27001]", "[questions.iso_27001]", "questions", "missing question"),
    ("recent_months = 12", "recent_months = 0", "questions.last_penetration_test.recent_months", "positive"),
    ("band_min = [0.12, 0.08, 0.04, 0.0]", "band_min = [0.12, 0.14, 0.04, 0.0]",
     "questions.security_staff_share.band_min", "must fall strictly"),
])
def test_bad_user_tables_are_refused_naming_file_line_and_key(tmp_path, old, new, field, message):
    assert old in TEXT, old
    text = TEXT.replace(old, new, 1)
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_schedule(p)
    err = exc.value
    assert err.field == field
    assert message in err.message
    assert str(p) in err.source and ", line " in err.source
    # the line named is where the offending key is written
    line = int(err.source.rsplit("line ", 1)[1])
    assert field.split(".")[-1] in text.splitlines()[line - 1] or field == "questions"


def test_unknown_key_and_bad_toml(tmp_path):
    text = TEXT.replace("[cap]\n", "[cap]\nmaximum = 3\n", 1)
    with pytest.raises(InputError) as exc:
        load_schedule(_write(tmp_path, text))
    assert exc.value.field == "cap.maximum" and "line" in exc.value.source
    assert exc.value.source.endswith(f"line {_line(text, 'maximum = 3')}")
    with pytest.raises(InputError) as exc:
        parse_schedule("[cap\nmin = 1", source="x.toml")
    assert "invalid TOML" in exc.value.message and exc.value.source == "x.toml"
    with pytest.raises(InputError) as exc:
        load_schedule(tmp_path / "missing.toml")
    assert "no such file" in exc.value.message


def test_a_valid_user_table_is_used(tmp_path):
    text = TEXT.replace("min = 0.5", "min = 0.8", 1).replace("max = 2.0", "max = 1.25", 1)
    t = load_schedule(_write(tmp_path, text))
    sub = load_submission(str(EXAMPLES / "global_large_exchange.json"))
    r = t.rate(sub)
    assert r.factor == 0.8 and r.raw_factor < 0.8 and r.cap == (0.8, 1.25)
    assert r.cap_log_contribution == pytest.approx(math.log(0.8 / r.raw_factor))


def test_neutral_vendors_change_nothing():
    doc = json.loads((EXAMPLES / "jp_small_exchange.json").read_text())
    doc["vendors"] = [{"name": f"cloud {i}", "role": "cloud", "registered": "yes"} for i in range(200)]
    sub = Submission.model_validate(doc)
    doc["vendors"] = []
    r0 = load_schedule().rate(Submission.model_validate(doc))
    assert load_schedule().rate(sub).factor == r0.factor
