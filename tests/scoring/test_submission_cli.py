"""score_submission and ``underwriting score``: keys, unknown answers, monotone answers, plots, errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from underwriting.domain.currency import FxTable
from underwriting.domain.submission import Submission
from underwriting.features.posture import ORDINAL_QUESTIONS, YES_NO_QUESTIONS
from underwriting.models_build import SHIPPED
from underwriting.scoring import default_model_path, load_scorer, score_submission

FX = FxTable().with_user_rates({"JPY": 150.0, "HKD": 7.8})
KEYS = {"risk_score", "band", "p_breach", "horizon_years", "reasons"}


def _score(d):
    return score_submission(Submission.model_validate(d), FX)


def test_shipped_model_is_plain_data_and_says_it_is_synthetic():
    path = default_model_path()
    doc = json.loads(path.read_text())
    assert doc["format"] == "underwriting.scoring.RiskScorer"
    assert "SYNTHETIC" in doc["metadata"]["trained_on"]
    assert (path.parent / "MODEL_CARD.md").is_file()
    v = doc["metadata"]["validation"]
    assert v["auc"]["estimate"] >= v["oracle_auc"]["estimate"] - 0.03 and v["ece"]["estimate"] < 0.02


def test_result_keys_and_ranges(example_submission):
    r = _score(example_submission)
    d = r.to_dict()
    assert KEYS <= set(d)
    assert 0 < d["p_breach"] < 1 and d["band"] in "ABCDE" and 0 <= d["risk_score"] <= 100
    assert d["horizon_years"] == 1.0 and 1 <= len(d["reasons"]) <= 5
    assert len(d["model"]["sha256"]) == 64 and d["model"]["version"] == SHIPPED["risk_scorer"][0]
    with pytest.raises(AttributeError):
        r.band = "A"  # frozen


def test_unknown_answers_are_reported_and_scored(example_submission):
    base = _score(example_submission)
    d = json.loads(json.dumps(example_submission))
    d["posture"]["signing_screen_verification"] = "unknown"
    d["posture"]["security_staff_share"] = "unknown"
    r = _score(d)
    assert r.unknown_answers == ("signing_screen_verification", "security_staff_share")
    assert r.p_breach != base.p_breach


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.sampled_from(YES_NO_QUESTIONS), others=st.lists(st.sampled_from(["yes", "no", "unknown"]),
                                                                   min_size=len(YES_NO_QUESTIONS),
                                                                   max_size=len(YES_NO_QUESTIONS)))
def test_yes_never_scores_worse_than_no(example_submission, question, others):
    d = json.loads(json.dumps(example_submission))
    d["posture"].update(dict(zip(YES_NO_QUESTIONS, others, strict=True)))
    yes, no = json.loads(json.dumps(d)), json.loads(json.dumps(d))
    yes["posture"][question], no["posture"][question] = "yes", "no"
    assert _score(yes).p_breach <= _score(no).p_breach


@pytest.mark.parametrize("question", list(ORDINAL_QUESTIONS))
def test_stronger_ordinal_answers_never_score_worse(example_submission, question):
    ps = []
    for answer in ORDINAL_QUESTIONS[question]:  # weakest first
        d = json.loads(json.dumps(example_submission))
        d["posture"][question] = answer
        ps.append(_score(d).p_breach)
    assert ps == sorted(ps, reverse=True)


def test_custody_architectures_never_worse_than_single_key(example_submission):
    def p(arch):
        d = json.loads(json.dumps(example_submission))
        d["posture"]["custody_architecture"] = arch
        return _score(d).p_breach

    worst = p("single_key")
    assert all(p(a) <= worst for a in ("mpc", "multisig", "hsm"))


def test_cli_json(cli):
    code, out, err = cli("score", EXAMPLES / "jp_small_exchange.json", "--json", "--fx", "JPY=150")
    assert code == 0, err
    d = json.loads(out)
    assert KEYS <= set(d)


def test_cli_text_and_plots(cli, tmp_path):
    code, out, err = cli("score", EXAMPLES / "hk_exchange_with_incident.json", "--fx", "HKD=7.8",
                         "--plot", tmp_path / "plots")
    assert code == 0, err
    assert "band" in out and "unknown" in out
    for name in ("reason_codes.png",):
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(b"\x89PNG")
    assert not list((tmp_path / "plots").glob(".*.tmp"))


@pytest.mark.parametrize("args,needle", [
    (["--fx", "JPY150"], "--fx"),
    (["--schedule", "nowhere.toml"], "nowhere.toml"),
    (["--reasons", "-1"], "--reasons"),
])
def test_cli_bad_arguments_exit_2(cli, args, needle):
    code, _, err = cli("score", EXAMPLES / "jp_small_exchange.json", *args)
    assert code == 2 and needle in err


def test_cli_bad_submission_names_the_field(cli, tmp_path, example_submission):
    d = json.loads(json.dumps(example_submission))
    d["posture"]["admin_mfa"] = "yubikey"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    code, _, err = cli("score", bad, "--fx", "JPY=150")
    assert code == 2 and "posture.admin_mfa" in err


def test_load_scorer_is_cached():
    assert load_scorer() is load_scorer()
