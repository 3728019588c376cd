"""Issue #30 item 10: the bundled FX table reaches back to the incident table's early years, each row
sourced; a missing (year, currency) is refused with exit 2 naming both and ``--fx`` (never borrowed)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES
from underwriting.domain.currency import FxTable
from underwriting.errors import InputError


def _jp_with_incident(tmp_path, date, currency="JPY"):
    sub = json.loads((EXAMPLES / "jp_small_exchange.json").read_text(encoding="utf-8"))
    sub["exchange"]["launch_date"] = "2014-01-06"
    sub["incidents"] = [{"date": date, "amount": 7_000_000_000, "currency": currency, "custody_tier": "hot",
                         "vector": "hot_wallet_key", "customers_reimbursed": "full"}]
    p = tmp_path / "sub.json"
    p.write_text(json.dumps(sub), encoding="utf-8")
    return p


def test_japanese_exchange_with_2018_jpy_incident_quotes_without_fx(tmp_path, cli):
    code, out, err = cli("quote", _jp_with_incident(tmp_path, "2018-09-14"), "--json")
    assert code == 0, err
    q = json.loads(out)
    assert q["premium"] >= q["expected_loss"] > 0


def test_2018_jpy_rate_is_the_federal_reserve_annual_average_with_its_source():
    r = FxTable.bundled().rate("JPY", 2018)
    assert r.units_per_usd == pytest.approx(110.3974)
    assert "federalreserve.gov/releases/g5a/20210104" in r.source


def test_asterisked_g5a_currencies_are_stored_as_units_per_usd():
    eur = FxTable.bundled().rate("EUR", 2015).units_per_usd        # G.5A: 1.1096 USD per EUR
    assert eur == pytest.approx(1 / 1.1096, abs=1e-6)
    assert FxTable.bundled().rate("GBP", 2014).units_per_usd == pytest.approx(1 / 1.6484, abs=1e-6)


@pytest.mark.parametrize(("year", "cur"), [(2016, "JPY"), (2011, "JPY"), (2017, "TRY"), (2005, "EUR")])
def test_a_year_without_a_sourced_rate_is_refused_not_borrowed(year, cur):
    with pytest.raises(InputError) as exc:
        FxTable.bundled().rate(cur, year)
    assert f"({year}, {cur})" in str(exc.value) and f"--fx {cur}=RATE" in str(exc.value)


def test_a_quote_needing_a_missing_rate_is_exit_2_naming_year_currency_and_fx(tmp_path, cli):
    code, _, err = cli("quote", _jp_with_incident(tmp_path, "2016-05-01"))
    assert code == 2, err
    assert "(2016, JPY)" in err and "--fx JPY=RATE" in err and "Traceback" not in err
    code, _, err = cli("quote", _jp_with_incident(tmp_path, "2016-05-01"), "--fx", "JPY=108.8")
    assert code == 0, err


def test_after_the_last_year_the_last_average_is_used_and_said():
    r = FxTable.bundled().rate("JPY", 2026)
    assert "latest available for 2026" in r.basis
