"""Every case the red team measured in issue #17 is refused with exit 2 naming the field or option,
before any work and without writing anything; the registry cases are in test_signed_registry.py."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

SUB = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"
BOOK = EXAMPLES / "books" / "sample"


def _ok_2(code, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    for n in needles:
        assert n in err, (n, err)


# --------------------------------------------------------------------------- parse errors


@pytest.mark.parametrize("command", ["validate", "quote"])
def test_json_nested_5000_deep_is_exit_2_with_line_and_column(tmp_path, cli, command):
    p = tmp_path / "deep.json"
    p.write_text('{"exchange": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    assert 9_000 < p.stat().st_size < 11_000                      # the 10 kB document
    code, _, err = cli(command, p)
    _ok_2(code, err, "deep.json", "nested more than 64 deep at line 1, column")


@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000 + "1" + "}" * 3000,
                                  "a" + ".b" * 5000 + " = 1"], ids=["arrays", "inline-tables", "dotted-keys"])
def test_toml_nested_5000_deep_is_exit_2(tmp_path, cli, text):
    p = tmp_path / "deep.toml"
    p.write_text(text + "\n", encoding="utf-8")
    code, _, err = cli("validate", p)
    _ok_2(code, err, "deep.toml", "nested more than 64 deep")


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    from underwriting.fileio import parse_document

    doc = parse_document(json.dumps({"note": "[" * 500 + "{" * 500}), fmt="json", source="x.json")
    assert doc["note"].startswith("[[[")
    doc = parse_document('note = "' + "[" * 500 + '" # ' + "{" * 500 + "\n", fmt="toml", source="x.toml")
    assert doc["note"].startswith("[[[")


def test_duplicate_json_key_is_refused_naming_it(tmp_path, cli):
    text = SUB.read_text(encoding="utf-8")
    p = tmp_path / "dup.json"
    p.write_text(text.replace('"own_funds": 3000000000', '"own_funds": 3000000000, "own_funds": 1'), encoding="utf-8")
    assert p.read_text(encoding="utf-8") != text
    code, _, err = cli("validate", p)
    _ok_2(code, err, "dup.json", "own_funds: duplicate key", "second one at line 14, column")


def test_duplicate_toml_key_is_refused(tmp_path, cli):
    p = tmp_path / "dup.toml"
    p.write_text(POLICY.read_text(encoding="utf-8") .replace("limit = 5_000_000_000\n",
                                                            "limit = 5_000_000_000\nlimit = 1\n", 1),
                 encoding="utf-8")
    code, _, err = cli("validate", p)
    _ok_2(code, err, "dup.toml", "duplicate key")


@pytest.mark.parametrize("literal,shown", [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("1e999", "inf")])
def test_non_finite_json_number_names_the_field(tmp_path, cli, literal, shown):
    p = tmp_path / "sub.json"
    p.write_text(SUB.read_text(encoding="utf-8").replace('"own_funds": 3000000000', f'"own_funds": {literal}'),
                 encoding="utf-8")
    code, _, err = cli("quote", p)
    _ok_2(code, err, f"exposure.own_funds: non-finite number ({shown})")


# --------------------------------------------------------------------------- implausible and overflowing amounts


def test_incident_of_1e308_is_refused(tmp_path, cli):
    d = json.loads((EXAMPLES / "hk_exchange_with_incident.json").read_text(encoding="utf-8"))
    d["incidents"][0]["amount"] = 1e308
    p = tmp_path / "sub.json"
    p.write_text(json.dumps(d), encoding="utf-8")
    for command in ("validate", "quote", "score"):
        code, _, err = cli(command, p)
        _ok_2(code, err, "incidents.0.amount", "beyond any plausible amount")


def test_limit_1e308_through_reserve_json_is_exit_2(tmp_path, cli):
    p = tmp_path / "policy.toml"
    p.write_text(POLICY.read_text(encoding="utf-8").replace("5_000_000_000", "1e308"), encoding="utf-8")
    code, out, err = cli("reserve", SUB, "--regime", "jp-fsa-2026", "--policy", p, "--json")
    _ok_2(code, err, "limit", "beyond any plausible amount")
    assert out == ""


def test_the_amount_bound_is_above_the_whole_crypto_market_in_any_currency():
    from underwriting.domain.vocabulary import MAX_AMOUNT, MAX_AMOUNT_USD, MAX_UNITS_PER_USD

    assert MAX_AMOUNT_USD > 2 * 4.3e12          # all-time high of the total crypto market cap, USD
    assert MAX_UNITS_PER_USD >= 42_000          # the weakest currency's official rate (IRR)
    assert MAX_AMOUNT == MAX_AMOUNT_USD * MAX_UNITS_PER_USD
    assert MAX_AMOUNT * 1e6 < 1.7976931348623157e308   # sums and products of bounded amounts stay finite


def test_amount_just_under_the_bound_still_validates():
    from underwriting.domain.policy import PolicyTerms
    from underwriting.domain.vocabulary import MAX_AMOUNT
    from underwriting.fileio import read_document

    doc = read_document(POLICY)
    doc.update(limit=MAX_AMOUNT, aggregate_limit=MAX_AMOUNT)
    doc.pop("sublimits", None)
    assert PolicyTerms.model_validate(doc).limit == MAX_AMOUNT


# --------------------------------------------------------------------------- limits before work


@pytest.mark.parametrize("years,needle", [("1000000000", "--years: 1,000,000,000 is over the limit"),
                                          ("1e21", "--years"), ("99", "--years")])
def test_portfolio_years_refused_before_any_work(cli, years, needle):
    t0 = time.monotonic()
    code, _, err = cli("portfolio", BOOK, "--years", years)
    _ok_2(code, err, needle)
    assert time.monotonic() - t0 < 30   # generous: refusal happens before any book is read


def test_portfolio_block_years_cap(cli):
    code, _, err = cli("portfolio", BOOK, "--years", "200", "--block-years", "10000000")
    _ok_2(code, err, "--block-years")


def test_a_book_of_a_million_exchanges_is_refused_before_reading_them(tmp_path, cli):
    from underwriting.portfolio.io import MAX_BOOK_EXCHANGES

    rows = MAX_BOOK_EXCHANGES + 1
    p = tmp_path / "book.csv"
    p.write_text("submission,policy\n" + f"{SUB},{POLICY}\n" * rows, encoding="utf-8")
    code, _, err = cli("portfolio", p, "--years", "200")
    _ok_2(code, err, "book", f"{rows:,} exchanges, over the limit")
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8") as fh:
        fh.write("submission,policy\n")
        line = f"{SUB},{POLICY}\n"
        fh.write(line * (6 * 1024 * 1024 // len(line)))
    code, _, err = cli("portfolio", big, "--years", "200")
    _ok_2(code, err, "book", "over the limit")


def test_exchange_years_cap():
    from underwriting.errors import InputError
    from underwriting.portfolio.io import MAX_EXCHANGE_YEARS, check_simulation_limits

    check_simulation_limits(100_000, 1000, MAX_EXCHANGE_YEARS // 100_000)
    with pytest.raises(InputError, match="exchange-years"):
        check_simulation_limits(100_000, 1000, MAX_EXCHANGE_YEARS // 100_000 + 1)


# --------------------------------------------------------------------------- safe outputs


def test_out_onto_the_input_is_refused(tmp_path, cli):
    p = tmp_path / "in.json"
    p.write_bytes(SUB.read_bytes())
    code, _, err = cli("quote", p, "--out", p)
    _ok_2(code, err, "--out", "also an input")
    assert p.read_bytes() == SUB.read_bytes()
    link = tmp_path / "hard.json"
    os.link(p, link)                                               # same inode, other name
    code, _, err = cli("quote", p, "--out", link)
    _ok_2(code, err, "--out", "also an input")
    rel = Path(os.path.relpath(p))                                 # same file by another spelling
    code, _, err = cli("quote", rel, "--out", p.parent / "." / "in.json")
    _ok_2(code, err, "also an input")
    assert p.read_bytes() == SUB.read_bytes()


def test_out_onto_a_policy_input_of_portfolio_is_refused(tmp_path, cli):
    book = tmp_path / "book.csv"
    book.write_text(f"submission,policy\n{SUB},{POLICY}\n", encoding="utf-8")
    code, _, err = cli("portfolio", book, "--years", "200", "--out", book)
    _ok_2(code, err, "--out", "also an input")


def test_out_symlink_out_of_its_folder_is_refused_and_kept(tmp_path, cli):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    here = tmp_path / "here"
    here.mkdir()
    link = here / "q.json"
    link.symlink_to(victim)
    code, _, err = cli("quote", SUB, "--out", link)
    _ok_2(code, err, "--out", "symbolic link out of its folder")
    assert link.is_symlink() and victim.read_text(encoding="utf-8") == "keep me"


def test_out_symlink_inside_its_folder_is_written_through(tmp_path, cli):
    target = tmp_path / "quote-v1.json"
    link = tmp_path / "latest.json"
    link.symlink_to(target.name)
    code, _, err = cli("quote", SUB, "--out", link)
    assert code == 0, err
    assert link.is_symlink() and json.loads(target.read_text(encoding="utf-8"))["premium"]


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_out_onto_a_device_is_refused(cli, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    code, _, err = cli("quote", SUB, "--out", device)
    _ok_2(code, err, "--out", "not a regular file")
    assert stat.S_ISCHR(os.stat(device).st_mode)                   # still a device


def test_out_onto_a_fifo_is_refused(tmp_path, cli):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = cli("quote", SUB, "--out", fifo)
    _ok_2(code, err, "--out", "not a regular file")


def test_out_is_written_atomically_with_no_temp_file_left(tmp_path, cli):
    out = tmp_path / "q.json"
    out.write_text("old", encoding="utf-8")
    ino = out.stat().st_ino
    code, _, err = cli("quote", SUB, "--out", out)
    assert code == 0, err
    assert out.stat().st_ino != ino                                 # replaced by rename, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.json"]


def test_out_onto_a_submission_listed_in_a_portfolio_book_is_refused(tmp_path, cli):
    sub = tmp_path / "sub.json"
    sub.write_bytes(SUB.read_bytes())
    book = tmp_path / "book.csv"
    book.write_text(f"submission,policy\n{sub},{POLICY}\n", encoding="utf-8")
    code, _, err = cli("portfolio", book, "--years", "200", "--out", sub)
    _ok_2(code, err, "--out", "also an input")
    assert sub.read_bytes() == SUB.read_bytes()


@pytest.mark.parametrize("rate", ["1e-300", "1e300"])
def test_implausible_fx_rate_is_refused_before_it_overflows_a_conversion(cli, rate):
    code, _, err = cli("quote", SUB, "--fx", f"JPY={rate}")
    _ok_2(code, err, "--fx", "plausible range")
