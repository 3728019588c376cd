"""Every bad-input case of the foundation issue exits 2, names the field, and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES


def _write(tmp_path: Path, data: dict, name: str = "sub.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def _mutations():
    """(case id, mutation of the example submission, text expected in the error)."""

    def drop_own_funds(d):
        del d["exposure"]["own_funds"]

    def unknown_field(d):
        d["posture"]["admin_mfaa"] = "totp"

    def wrong_type(d):
        d["exposure"]["trading_volume_12m"] = "lots"

    def quoted_number(d):
        d["exposure"]["own_funds"] = "3000000000"

    def negative(d):
        d["exposure"]["customer_assets"]["hot"] = -1.0
        d["exposure"]["customer_assets"]["total"] = 28_500_000_000 - 1.0

    def tiers(d):
        d["exposure"]["customer_assets"]["total"] = 31_000_000_000

    def currency(d):
        d["exposure"]["currency"] = "XYZ"

    def future(d):
        d["as_of"] = "2999-01-01"

    def incident_before_launch(d):
        d["incidents"] = [{"date": "2017-01-01", "amount": 1.0, "currency": "JPY", "custody_tier": "hot",
                           "vector": "hot_wallet_key", "customers_reimbursed": "full"}]

    def incident_after_as_of(d):
        d["incidents"] = [{"date": "2026-10-15", "amount": 1.0, "currency": "JPY", "custody_tier": "hot",
                           "vector": "hot_wallet_key", "customers_reimbursed": "full"}]

    def bad_vocab(d):
        d["posture"]["custody_architecture"] = "vault"

    def missing_incident_date(d):
        d["incidents"] = [{"amount": 1.0, "currency": "JPY", "custody_tier": "hot",
                           "vector": "hot_wallet_key", "customers_reimbursed": "full"}]

    return [
        ("missing", drop_own_funds, "exposure.own_funds: required field is missing"),
        ("unknown-field", unknown_field, "posture.admin_mfaa: unknown field"),
        ("wrong-type", wrong_type, "exposure.trading_volume_12m"),
        ("quoted-number", quoted_number, "exposure.own_funds"),
        ("negative", negative, "exposure.customer_assets.hot: must not be negative"),
        ("tiers", tiers, "custody tiers add up to"),
        ("currency", currency, "unknown currency 'XYZ'"),
        ("future", future, "is in the future"),
        ("incident-before-launch", incident_before_launch, "before the exchange launched"),
        ("incident-after-as-of", incident_after_as_of, "is after as_of"),
        ("vocabulary", bad_vocab, "posture.custody_architecture"),
        ("incident-date", missing_incident_date, "incidents.0.date: required field is missing"),
    ]


@pytest.mark.parametrize("case,mutate,expected", _mutations(), ids=[m[0] for m in _mutations()])
@pytest.mark.parametrize("command", ["validate", "quote"])
def test_bad_submission_exits_2_and_names_field(tmp_path, cli, example_submission, case, mutate, expected, command):
    mutate(example_submission)
    path = _write(tmp_path, example_submission)
    out_file = tmp_path / "quote.json"
    args = [command, path] + (["--out", out_file] if command == "quote" else [])
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert expected in err
    assert "Traceback" not in err
    assert not out_file.exists(), "nothing may be written for invalid input"


def test_non_finite_amount_in_toml(tmp_path, cli):
    p = tmp_path / "policy.toml"
    text = (EXAMPLES / "policy_jp_primary.toml").read_text(encoding="utf-8")
    p.write_text(text.replace("limit = 5_000_000_000", "limit = inf"), encoding="utf-8")
    code, _, err = cli("validate", p)
    assert code == 2 and "limit: non-finite number (inf) is not allowed" in err


def test_non_finite_amount_in_json(tmp_path, cli):
    p = tmp_path / "sub.json"
    text = (EXAMPLES / "jp_small_exchange.json").read_text(encoding="utf-8")
    p.write_text(text.replace('"own_funds": 3000000000', '"own_funds": NaN'), encoding="utf-8")
    code, _, err = cli("validate", p)
    assert code == 2 and "exposure.own_funds: non-finite number (nan)" in err


@pytest.mark.parametrize(
    "edit,expected",
    [
        (("deductible = 100_000_000", "deductible = 6_000_000_000"), "must be below the per-occurrence limit"),
        (("expiry = 2027-10-01", "expiry = 2026-09-01"), "must be after inception"),
        (("currency = \"JPY\"", "currency = \"YEN\""), "unknown currency 'YEN'"),
        (("cancellation_notice_days = 90", "cancellation_notice_days = \"90\""), "cancellation_notice_days"),
        (("insurer_rating = \"A+\"", "insurer_rating = \"A++\""), "insurer_rating"),
        (("coinsurance = 1.0", "coinsurance = 1.5"), "coinsurance: must be a share between 0 and 1"),
    ],
)
def test_bad_policy(tmp_path, cli, edit, expected):
    p = tmp_path / "policy.toml"
    text = (EXAMPLES / "policy_jp_primary.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    p.write_text(text.replace(*edit), encoding="utf-8")
    code, _, err = cli("validate", p)
    assert code == 2, err
    assert expected in err


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "file is empty"),
        (b"   \n", "file is empty"),
        (b'{"exchange": ', "invalid JSON at line 1"),
        (b"\xff\xfe\x00garbage", "not valid UTF-8"),
        (b"[1, 2]", "top level must be an object"),
    ],
)
def test_bad_files(tmp_path, cli, content, expected):
    p = tmp_path / "sub.json"
    p.write_bytes(content)
    code, _, err = cli("validate", p)
    assert code == 2 and expected in err


def test_invalid_toml(tmp_path, cli):
    p = tmp_path / "policy.toml"
    p.write_text("insurer = \n", encoding="utf-8")
    code, _, err = cli("validate", p)
    assert code == 2 and "invalid TOML" in err


def test_directory_and_missing_path(tmp_path, cli):
    code, _, err = cli("validate", tmp_path)
    assert code == 2 and "is a directory" in err
    code, _, err = cli("validate", tmp_path / "nope.json")
    assert code == 2 and "no such file" in err


def test_file_over_size_limit(tmp_path, cli):
    from underwriting.fileio import MAX_DOCUMENT_BYTES

    p = tmp_path / "big.json"
    p.write_bytes(b"{" + b" " * (MAX_DOCUMENT_BYTES + 1) + b"}")
    code, _, err = cli("validate", p)
    assert code == 2 and "over the limit" in err


def test_no_traceback_in_a_real_process(tmp_path):
    """The installed entry point, run as a user would: one line, exit 2, no traceback."""
    p = tmp_path / "sub.json"
    p.write_text("{}", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "underwriting", "validate", str(p), "--kind", "submission"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "required field is missing" in proc.stderr and "Traceback" not in proc.stderr


def test_examples_are_valid(cli):
    for p in sorted(EXAMPLES.glob("*.*")):  # submissions and policies (books/ are checked by the portfolio tests)
        code, out, err = cli("validate", p)
        assert code == 0, (p, err)


# --------------------------------------------------------------------------- options out of range

SUB = EXAMPLES / "jp_small_exchange.json"
BOOK = EXAMPLES / "books" / "sample"
PRICE = ("price", "--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.5,sigma=2")


@pytest.mark.parametrize(
    "args,expected",
    [
        (("quote", SUB, "--seed", "-1"), "--seed"),
        (("quote", SUB, "--seed", "1.5"), "--seed"),
        (("quote", SUB, "--bogus"), "unrecognized arguments: --bogus"),
        (("portfolio", BOOK, "--n-jobs", "0"), "--n-jobs: must not be 0"),
        (("portfolio", BOOK, "--seed", "-1"), "--seed"),
        (("portfolio", BOOK, "--years", "-5"), "--years"),
        (("portfolio", BOOK, "--level", "1.5"), "--level"),
        (("portfolio", BOOK, "--years", "200", "--market-variance", "-1"), "--market-variance: must be a finite"),
        ((*PRICE, "--seed", "-1", "--method", "mc"), "--seed: must be a whole number"),
        ((*PRICE, "--seed", "-1"), "--seed: must be a whole number"),
        ((*PRICE, "--level", "1.5"), "--level: must be strictly between 0 and 1"),
        ((*PRICE, "--buckets", "100000000000"), "--buckets: at most"),
        ((*PRICE, "--method", "mc", "--sims", "100000000000"), "--sims: at most"),
        (("train", "--seed", "-1"), "--seed"),
        (("train", "--n-jobs", "0"), "--n-jobs: must not be 0"),
        (("evaluate", "default", "--seed", "-1"), "--seed"),
        (("compare", "default", "0.2.0", "--seed", "-1"), "--seed"),
        (("datasets", "describe", "--cutoff", "2999-01-01"), "--cutoff"),
        (("datasets", "describe", "--cutoff", "0001-01-01"), "--cutoff"),
        (("schema", "exchange"), "invalid choice"),
    ],
    ids=lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else None,
)
def test_options_out_of_range_exit_2_in_one_line(cli, args, expected):
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("command", [("quote", SUB), ("portfolio", BOOK, "--years", "200", "--quiet")])
def test_output_paths_that_cannot_be_written_exit_2(tmp_path, cli, command):
    a_file = tmp_path / "a_file.json"
    a_file.write_text("{}", encoding="utf-8")
    for out in (tmp_path, a_file / "q.json"):
        code, _, err = cli(*command, "--out", out)
        assert code == 2 and "--out" in err, err
    if command[0] == "portfolio":
        code, _, err = cli(*command, "--plot", a_file)
        assert code == 2 and "--plot: exists and is not a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.json"], "nothing may be written"


def test_plot_over_a_file_exits_2_before_any_work(tmp_path, cli):
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    quotes = ROOT_DIR / "underwriting" / "reserve" / "examples" / "quotes_jp_small.toml"
    code, _, err = cli("compare-reserve", SUB, "--regime", "jp-fsa-2026", "--horizon-years", "3", "--quotes", quotes,
                       "--plot", a_file)
    assert code == 2 and "--plot: exists and is not a directory" in err
    code, _, err = cli("score", SUB, "--plot", a_file)
    assert code == 2 and "--plot: exists and is not a directory" in err


ROOT_DIR = EXAMPLES.parents[1]
