"""Bad policy, regime, quotes and arguments → InputError naming the field; CLI exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from underwriting.errors import InputError
from underwriting.reserve import load_regime

REGIMES = Path(__file__).resolve().parents[2] / "underwriting" / "reserve" / "regimes"
JP = "datasets/examples/jp_small_exchange.json"
POL = "datasets/examples/policy_jp_primary.toml"


def _regime_file(tmp_path, old: str, new: str, base: str = "eu-mica-art67") -> Path:
    text = (REGIMES / f"{base}.toml").read_text(encoding="utf-8")
    assert old in text, old
    p = tmp_path / "custom.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


@pytest.mark.parametrize("old,new,field", [
    ('kind = "cancellation_notice"', 'kind = "cancelation_notice"', "rules.1.kind"),
    ("params = { min_days = 90 }", "params = { min_days = -5 }", "rules.mica.cancellation_notice.params.min_days"),
    ("params = { min_days = 90 }", "params = { min_dayz = 90 }", "rules.mica.cancellation_notice.params.min_dayz"),
    ('overheads_fraction = { value = 0.25, status = "confirmed"', 'overheads_fraction = { value = 0.25, status = "sure"',
     "requirement.params.overheads_fraction.status"),
    ('cap_share = { value = 1.0', 'cap_share = { value = 1.5', "credit.cap_share.value"),
    ('method = "mica_art67"', 'method = "mica"', "requirement.method"),
    ('currency = "EUR"', 'currency = "EURO"', "currency"),
    ('tier_weights = "customer_assets"', 'tier_weightz = "customer_assets"', "coverage"),
    ("social_engineering = 0.05 }", "social_engineering = 0.50 }", "cause_weights"),
    ('casp_class = { value = 3,', 'casp_class = { value = 4,', "requirement.params.casp_class"),
])
def test_bad_regime_file_names_the_field(tmp_path, old, new, field):
    p = _regime_file(tmp_path, old, new)
    with pytest.raises(InputError) as exc:
        load_regime(str(p))
    assert field in str(exc.value)
    assert str(p) in str(exc.value)


def test_unknown_regime_id_lists_bundled():
    with pytest.raises(InputError) as exc:
        load_regime("jp-fsa-2099")
    assert exc.value.field == "--regime" and "eu-mica-art67" in str(exc.value)


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("id = \n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid TOML"):
        load_regime(str(bad))
    with pytest.raises(InputError, match="no such file"):
        load_regime(str(tmp_path / "missing.toml"))


def test_unknown_override_path_named():
    reg = load_regime("jp-fsa-2026")
    with pytest.raises(InputError) as exc:
        reg.with_overrides({"requirement.base_rat": 0.1})
    assert exc.value.field == "--param requirement.base_rat"
    with pytest.raises(InputError) as exc:
        reg.with_overrides({"credit.cap_share": 2})
    assert "credit.cap_share" in str(exc.value)


@pytest.mark.parametrize("args,needle", [
    (["--regime", "nope"], "--regime"),
    (["--regime", "jp-fsa-2026", "--fx", "JPY150"], "--fx"),
    (["--regime", "jp-fsa-2026", "--fx", "XXX=2"], "fx.XXX"),
    (["--regime", "jp-fsa-2026", "--param", "credit.cap=0.2"], "--param credit.cap"),
    (["--regime", "jp-fsa-2026", "--as-of", "2026-13-01"], "--as-of"),
])
def test_cli_bad_arguments_exit_2(reserve_cli, args, needle):
    code, out, err = reserve_cli("reserve", JP, "--policy", POL, *args)
    assert code == 2, err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize("old,new,field", [
    ('insurer_rating = "A+"', 'insurer_rating = "A++"', "insurer_rating"),
    ("cancellation_notice_days = 90", 'cancellation_notice_days = "ninety"', "cancellation_notice_days"),
    ("limit = 5_000_000_000", "limitt = 5_000_000_000", "limitt"),
    ('perils = ["hot_wallet_theft",', 'perils = ["hot_wallet_thef",', "perils"),
])
def test_cli_bad_policy_file_exit_2(reserve_cli, tmp_path, old, new, field):
    text = Path(POL).read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "policy.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, out, err = reserve_cli("reserve", JP, "--policy", str(p), "--regime", "jp-fsa-2026")
    assert code == 2 and field in err and "Traceback" not in err


def test_cli_bad_regime_file_exit_2(reserve_cli, tmp_path):
    p = _regime_file(tmp_path, "params = { min_days = 365 }", 'params = { min_days = "a year" }')
    code, out, err = reserve_cli("reserve", JP, "--policy", POL, "--regime", str(p))
    assert code == 2 and "rules.mica.initial_term.params.min_days" in err and "Traceback" not in err


def test_cli_missing_fx_rate_exit_2(reserve_cli, monkeypatch):
    from underwriting.domain.currency import FxTable

    monkeypatch.setattr(FxTable, "bundled", classmethod(lambda cls: FxTable()))
    code, out, err = reserve_cli("reserve", JP, "--policy", "datasets/examples/policy_usd_excess.toml",
                                 "--regime", "jp-fsa-2026")
    assert code == 2 and "--fx" in err and "Traceback" not in err


@pytest.mark.parametrize("body,field", [
    ("[[quote]]\npolicy_id='a'\nlimit=1e8\n", "quote.0.premium"),
    ("[defaults]\ninsurer='x'\n[[quote]]\npremium=1.0\nlimit=1e8\n", "quote.0"),
    ("[[quote]]\npremium=-1.0\n", "quote.0.premium"),
    ("[default]\nx=1\n", "default"),
    ("[defaults]\nx=1\n", "quote"),
])
def test_bad_quotes_file(tmp_path, body, field):
    from underwriting.reserve.compare import load_quotes

    p = tmp_path / "q.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_quotes(p)
    assert field in str(exc.value)


def test_compare_cli_needs_candidates(reserve_cli):
    code, out, err = reserve_cli("compare-reserve", JP, "--regime", "jp-fsa-2026", "--horizon-years", "3")
    assert code == 2 and "--quotes" in err
    code, out, err = reserve_cli("compare-reserve", JP, "--regime", "jp-fsa-2026", "--horizon-years", "0",
                                 "--quotes", "underwriting/reserve/examples/quotes_jp_small.toml")
    assert code == 2 and "--horizon-years" in err
