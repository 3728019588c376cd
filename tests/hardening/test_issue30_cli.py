"""Issue #30 items 8-9, replayed: every hostile CLI input the red team measured is refused with exit 2
naming the field or option (no traceback, nothing written), warned about, or escaped."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import EXAMPLES

SUB = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"
PRICE = ["price", "--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.5,sigma=2"]


def _ok_2(code, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    for n in needles:
        assert n in err, (n, err)


def _sub(tmp_path, edit, name="sub.json"):
    d = json.loads(SUB.read_text(encoding="utf-8"))
    edit(d)
    p = tmp_path / name
    p.write_text(json.dumps(d), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- item 8: seven exit-1 inputs


@pytest.mark.parametrize("command", ["validate", "quote"])
def test_a_5001_digit_integer_is_exit_2_naming_the_field(tmp_path, cli, command):
    p = tmp_path / "big.json"
    p.write_text(SUB.read_text(encoding="utf-8").replace('"own_funds": 3000000000', '"own_funds": ' + "9" * 5001),
                 encoding="utf-8")
    code, _, err = cli(command, p)
    _ok_2(code, err, "exposure.own_funds", "non-finite")


def test_a_5001_digit_integer_in_toml_is_exit_2_with_its_line(tmp_path, cli):
    p = tmp_path / "big.toml"
    p.write_text("limit = " + "9" * 5001 + "\n", encoding="utf-8")
    code, _, err = cli("validate", p)
    _ok_2(code, err, "longer than 400 digits at line 1")


@pytest.mark.parametrize("command", ["validate", "quote"])
def test_a_5000_character_file_name_is_exit_2_and_not_echoed_whole(tmp_path, cli, command):
    code, _, err = cli(command, str(tmp_path / ("a" * 5000 + ".json")))
    _ok_2(code, err, "File name too long", "characters]")
    assert len(err) < 1000


def test_price_cap_and_limit_of_5e_324_are_exit_2(cli):
    code, _, err = cli(*PRICE, "--cap", "5e-324")
    _ok_2(code, err, "--cap", "at least 1 currency unit")
    code, _, err = cli(*PRICE, "--limit", "5e-324")
    _ok_2(code, err, "--limit", "too small to price")


def test_price_principle_expected_value_1e308_is_exit_2(cli):
    code, _, err = cli(*PRICE, "--principle", "expected_value:1e308")
    _ok_2(code, err, "--principle", "outside the accepted range 0 to 10")


def test_score_plot_into_proc_is_exit_2(cli):
    code, _, err = cli("score", SUB, "--plot", "/proc/nope")
    _ok_2(code, err, "/proc/nope")


def test_book_csv_with_a_200000_character_field_is_exit_2(tmp_path, cli):
    p = tmp_path / "book.csv"
    p.write_text("submission,policy\n" + "x" * 200_000 + ",p.toml\n", encoding="utf-8")
    code, _, err = cli("portfolio", p)
    _ok_2(code, err, "book.csv", "field larger than field limit")


def test_book_json_nested_100000_deep_is_exit_2(tmp_path, cli):
    p = tmp_path / "book.json"
    p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, _, err = cli("portfolio", p)
    _ok_2(code, err, "book.json", "nested more than 64 deep")


# --------------------------------------------------------------------------- item 8: limits up front


@pytest.mark.parametrize("n", [12, 20])
def test_compare_reserve_grid_is_refused_before_pricing(cli, n):
    deds = ",".join(f"{10 * i}M" for i in range(n))
    lims = ",".join(f"{100 * (i + 1)}M" for i in range(n))
    t0 = time.perf_counter()
    code, out, err = cli("compare-reserve", SUB, "--horizon-years", "3", "--template", POLICY,
                         "--deductibles", deds, "--limits", lims)
    _ok_2(code, err, "--deductibles/--limits", f"{n * n} candidate policies, over the limit of 64")
    assert out == "" and time.perf_counter() - t0 < 10  # refused before a cell is priced


def test_compare_reserve_programme_count_is_bounded():
    from underwriting.errors import InputError
    from underwriting.reserve.compare import MAX_PROGRAMMES, check_programme_count, programme_count

    assert programme_count(4, 3) == 1 + 4 + 6 + 4
    check_programme_count(16, 3)                       # 697 programmes
    with pytest.raises(InputError, match="programmes, over the limit"):
        check_programme_count(40, 3)                   # 10,701
    assert programme_count(40, 3) > MAX_PROGRAMMES


def test_validation_errors_are_linear_and_short(tmp_path, cli):
    def many(d):
        for i in range(50_000):
            d[f"unknown_key_{i:06d}"] = i
    p = _sub(tmp_path, many)
    t0 = time.perf_counter()
    code, _, err = cli("validate", p)
    _ok_2(code, err, "unknown_key_000000", "and 49,980 more problem(s)")
    assert len(err) < 5_000
    assert time.perf_counter() - t0 < 15  # was 21 s and 3.1 MB (quadratic); now well under a second of work


# --------------------------------------------------------------------------- item 9: absurd inputs


def test_wang_50_is_refused_and_bounds_are_data_next_to_each_principle(cli):
    from underwriting.pricing.premium import PRINCIPLE_BOUNDS, PRINCIPLES

    assert set(PRINCIPLE_BOUNDS) == set(PRINCIPLES) - {"pure"}
    code, _, err = cli("quote", SUB, "--principle", "wang:50")
    _ok_2(code, err, "principle", "wang parameter 50 is outside the accepted range 0 to 3")
    code, _, err = cli(*PRICE, "--principle", "wang:3")
    assert code == 0, err


def test_no_premium_above_the_largest_payable_loss():
    from underwriting.errors import InputError
    from underwriting.losses.counts import Poisson
    from underwriting.losses.severity import Lognormal
    from underwriting.pricing.layers import Layer
    from underwriting.pricing.premium import price_layer

    with pytest.raises(InputError, match="exceeds the largest loss the layer can pay"):
        price_layer(Poisson(20.0), Lognormal(15.0, 1.0), Layer(0.0, 1e6, agg_limit=1e6), principle="expected_value:5")


def test_expected_loss_above_what_the_policy_can_pay_is_refused(tmp_path):
    from underwriting.errors import InputError
    from underwriting.reserve.candidates import load_quotes

    quotes = tmp_path / "q.toml"
    body = POLICY.read_text(encoding="utf-8").replace("[sublimits]", "[defaults.sublimits]")
    quotes.write_text("[defaults]\n" + body + "\n[[quote]]\npremium = 1e7\nexpected_loss = 1e18\n"
                      "[[quote]]\npolicy_id = 'ok'\npremium = 1e7\nexpected_loss = 5e9\n", encoding="utf-8")
    with pytest.raises(InputError, match="exceeds the most the policy can pay") as exc:
        load_quotes(quotes)
    assert exc.value.field == "quote.0.expected_loss"
    quotes.write_text("[defaults]\n" + body + "\n[[quote]]\npremium = 1e7\nexpected_loss = 5e9\n", encoding="utf-8")
    assert load_quotes(quotes)[0].expected_recovery == 5e9   # the whole aggregate limit: still possible


def test_discount_rate_near_minus_one_is_refused():
    from underwriting.errors import InputError
    from underwriting.reserve.compare_types import CostAssumptions

    with pytest.raises(InputError, match="below -0.05") as exc:
        CostAssumptions.default(discount_rate=-0.999999)
    assert exc.value.field == "discount_rate"
    assert CostAssumptions.default(discount_rate=-0.0075).discount_rate == -0.0075


def test_a_term_wholly_before_as_of_is_refused(tmp_path, cli):
    pol = tmp_path / "old.toml"
    pol.write_text(POLICY.read_text(encoding="utf-8").replace("inception = 2026-10-01", "inception = 2019-10-01")
                   .replace("expiry = 2027-10-01", "expiry = 2020-10-01"), encoding="utf-8")
    code, _, err = cli("quote", SUB, "--terms", pol)
    _ok_2(code, err, "expiry", "lies wholly before the submission's as_of 2026-09-30")


@pytest.mark.parametrize("code_", ["ZZ", "XX", "XK", "EU"])
def test_unassigned_country_codes_are_refused(tmp_path, cli, code_):
    p = _sub(tmp_path, lambda d: d["exchange"].__setitem__("jurisdiction", code_))
    code, _, err = cli("validate", p)
    _ok_2(code, err, "exchange.jurisdiction", "not an assigned ISO 3166-1 alpha-2")


def test_249_assigned_country_codes():
    from underwriting.domain.vocabulary import ISO_3166_ALPHA2

    assert len(ISO_3166_ALPHA2) == 249 and {"JP", "HK", "US", "GB", "SS", "AE"} <= ISO_3166_ALPHA2


@pytest.mark.parametrize(("where", "value"), [(("as_of",), 0), (("as_of",), "0"), (("as_of",), 1.7e9),
                                              (("posture", "last_penetration_test"), 0),
                                              (("exchange", "launch_date"), 1514764800)])
def test_a_number_given_as_a_date_is_refused(tmp_path, cli, where, value):
    def edit(d):
        node = d
        for k in where[:-1]:
            node = node[k]
        node[where[-1]] = value
    code, _, err = cli("validate", _sub(tmp_path, edit))
    _ok_2(code, err, ".".join(where), "a date must be written as YYYY-MM-DD")


def test_numeric_date_in_a_policy_is_refused(tmp_path, cli):
    pol = tmp_path / "p.toml"
    pol.write_text(POLICY.read_text(encoding="utf-8").replace("inception = 2026-10-01", "inception = 0"),
                   encoding="utf-8")
    code, _, err = cli("validate", pol)
    _ok_2(code, err, "inception", "a date must be written as YYYY-MM-DD")


def test_panjer_switching_to_monte_carlo_is_said(cli):
    code, out, err = cli("price", "--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.5,sigma=2",
                         "--limit", "1e10", "--method", "panjer", "--json")
    assert code == 0, err
    d = json.loads(out)
    if d["method"] == "panjer":  # pragma: no cover - the grid passed on this CPU: nothing was switched
        assert "warnings" not in d
        return
    assert "--method panjer failed its moment check" in err and "computed by mc" in err
    assert d["warnings"] and "computed by mc" in d["warnings"][0]


# --------------------------------------------------------------------------- control characters

HOSTILE_NAME = "Evil \x1b[31mRED\x1b[0m \x00 \u202e gnp.exe \x9b2J \u2066x\u2069"
RAW = ("\x1b", "\x00", "\u202e", "\x9b", "\u2066")


def test_control_characters_in_an_exchange_name_are_escaped_in_text_and_json(tmp_path, cli):
    p = _sub(tmp_path, lambda d: d["exchange"].__setitem__("name", HOSTILE_NAME))
    for args in (("validate", p), ("quote", p), ("quote", p, "--json"), ("score", p)):
        code, out, err = cli(*args)
        assert code == 0, err
        for c in RAW:
            assert c not in out and c not in err, (args, repr(c))
    code, out, _ = cli("quote", p, "--json")
    assert json.loads(out)["exchange"] == HOSTILE_NAME  # the escape is a JSON escape: the value is kept
    assert "\\u001b[31mRED" in cli("quote", p)[1]


def test_control_characters_are_escaped_in_files_written(tmp_path, cli):
    p = _sub(tmp_path, lambda d: d["exchange"].__setitem__("name", HOSTILE_NAME))
    out = tmp_path / "q.json"
    code, _, err = cli("quote", p, "--out", out)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert not any(c in text for c in RAW) and json.loads(text)["exchange"] == HOSTILE_NAME


def test_control_characters_in_an_error_message_are_escaped(tmp_path, cli):
    code, _, err = cli("validate", str(tmp_path / "x\x1b[2Jy\u202e.json"))
    _ok_2(code, err, "\\u001b[2Jy\\u202e")
    assert "\x1b" not in err and "\u202e" not in err


def test_a_quote_whose_aggregate_went_to_monte_carlo_says_so(cli, monkeypatch):
    import underwriting.pricing.premium as premium

    real = premium.price_perils

    def via_mc(*args, **kwargs):  # what the engine's escalation returns when every grid fails its check
        kwargs.update(method="mc", n_sims=20_000)
        return real(*args, **kwargs)

    monkeypatch.setattr(premium, "price_perils", via_mc)
    code, out, err = cli("quote", SUB, "--terms", POLICY, "--json")
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert any("so the aggregate loss was computed by mc" in w for w in warnings), warnings
    assert "warning: " in err and "computed by mc" in err
