"""The canonical quote (issue #23): rounding rules, comparison, and `reproduce` telling the truth.

Oracles: Python's ``decimal`` module (exact decimal rounding of a float's exact value) for the
rounding rules; hand-made quote dicts for the comparison; a golden quote file for ``reproduce``.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from underwriting.domain.canonical import (
    DECIMALS,
    MINOR_UNITS,
    SIGNIFICANT_DIGITS,
    canonicalise,
    compare,
    round_money,
    round_significant,
)
from underwriting.domain.currency import CURRENCIES

GOLDEN = Path(__file__).resolve().parent / "golden" / "quotes"
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)


def test_every_supported_currency_has_its_iso_minor_unit():
    assert set(MINOR_UNITS) == set(CURRENCIES)
    assert MINOR_UNITS["JPY"] == 0 and MINOR_UNITS["KRW"] == 0
    assert all(MINOR_UNITS[c] == 2 for c in ("USD", "EUR", "GBP", "HKD", "CHF"))


@settings(max_examples=300, deadline=None)
@given(finite)
def test_round_significant_is_exact_decimal_rounding(x):
    r = round_significant(x)
    if x == 0:
        assert r == 0.0
        return
    d = Decimal(x)  # the float's exact value
    q = Decimal(1).scaleb(d.adjusted() - SIGNIFICANT_DIGITS + 1)
    ref = float(d.quantize(q, rounding=ROUND_HALF_EVEN))
    ref = float(Decimal(ref).quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_EVEN)) if abs(ref) < 1 else ref
    assert r == pytest.approx(ref, rel=0, abs=max(abs(ref) * 1e-15, 1e-300))
    assert round_significant(r) == r  # idempotent


@settings(max_examples=300, deadline=None)
@given(finite, finite, st.sampled_from(sorted(CURRENCIES)))
def test_rounding_keeps_order_so_premium_stays_at_least_the_expected_loss(a, b, cur):
    lo, hi = sorted((abs(a), abs(b)))
    assert round_money(lo, cur) <= round_money(hi, cur)
    assert round_significant(lo) <= round_significant(hi)
    assert round_money(hi, cur) == round_money(round_money(hi, cur), cur)


def test_money_to_the_minor_unit_and_ratios_to_significant_digits():
    q = {"currency": "JPY", "premium": 12907784.508746933, "rate_on_line": 0.0021568987619027895,
         "premium_components": {"tax": 0.4, "risk_load": 10.5000001},
         "frequency": {"base": {"covariates": {"volume_24h_usd": 7323904.050997809, "age_years": 8.498288843258042}}},
         "p_exhaust": 1.4988495216125728e-12, "tiny": 4e-15, "count": 3, "flag": True,
         "inputs": {"fx_rates": {"JPY": 149.123456789}, "limit": 0.123456789}, "fx": [{"units_per_usd": 1.23456789}]}
    c = canonicalise(q)
    assert c["premium"] == 12907785.0 and c["premium_components"] == {"tax": 0.0, "risk_load": 11.0}
    assert c["rate_on_line"] == 0.00215690
    assert c["frequency"]["base"]["covariates"] == {"volume_24h_usd": 7323904.05, "age_years": 8.49829}
    assert c["p_exhaust"] == 1.5e-12 and c["tiny"] == 0.0
    assert c["count"] == 3 and c["flag"] is True
    assert c["inputs"] == q["inputs"] and c["fx"] == q["fx"]  # recorded inputs and data are kept exactly
    assert canonicalise(c) == c


def test_usd_quote_keeps_cents():
    assert canonicalise({"currency": "USD", "premium": 1234.5678})["premium"] == 1234.57


def _quote(**kw):
    return {"currency": "JPY", "premium": 1000.0, "rate_on_line": 0.00123456, "inputs": {"seed": 0}, **kw}


def test_compare_identical_within_and_different():
    assert compare(_quote(), _quote()).status == "identical"
    within = compare(_quote(), _quote(premium=1001.0, rate_on_line=0.00123457))
    assert within.status == "within" and within.ok and len(within.differences) == 2
    assert within.largest[0] == "premium" and within.largest[1] == pytest.approx(1 / 1001)
    two_yen = compare(_quote(), _quote(premium=1002.0))
    assert two_yen.status == "different" and not two_yen.ok
    assert two_yen.differences == [("premium", 1000.0, 1002.0, False)]
    assert compare(_quote(), _quote(rate_on_line=0.00123458)).status == "different"
    assert compare(_quote(), _quote(exchange="other")).status == "different"
    assert compare(_quote(), _quote(inputs={"seed": 1})).status == "different"  # inputs are exact


def test_a_one_cent_tie_on_a_large_amount_is_within():
    # found on a CPU without AVX-512: 2,365,977,628.81 against .82 USD differ by 0.0100002 in binary (a float's
    # spacing there is 4.8e-7), one cent all the same; two cents stay different
    usd = {"currency": "USD", "inputs": {"seed": 0}}
    assert compare({**usd, "tvar_995": 2365977628.81}, {**usd, "tvar_995": 2365977628.82}).status == "within"
    assert compare({**usd, "tvar_995": 2365977628.81}, {**usd, "tvar_995": 2365977628.83}).status == "different"


def test_compare_canonicalises_a_quote_recorded_with_full_floats():
    raw = _quote(premium=999.9999999, rate_on_line=0.001234561)
    assert compare(raw, _quote()).status == "identical"


def _cli(monkeypatch, argv):
    from underwriting.cli.main import main

    monkeypatch.setattr("sys.argv", ["underwriting", *argv])
    try:
        return main()
    except SystemExit as e:
        return e.code


@pytest.mark.slow
def test_reproduce_says_identical_within_or_different(monkeypatch, capsys, tmp_path):
    src = GOLDEN / "jp_small_exchange__policy_jp_primary__frequency.json"
    assert _cli(monkeypatch, ["reproduce", str(src)]) == 0
    assert capsys.readouterr().out.startswith("identical")

    doc = json.loads(src.read_text(encoding="utf-8"))
    doc["premium"] += 1.0  # one yen: a tie another CPU could flip
    f = tmp_path / "tie.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    assert _cli(monkeypatch, ["reproduce", str(f)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("equal within tolerance") and "premium" in out and "machine" in out

    doc["premium"] += 1.0  # two yen: beyond tolerance
    f.write_text(json.dumps(doc), encoding="utf-8")
    assert _cli(monkeypatch, ["reproduce", str(f), "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res["status"] == "different"
    bad = [d for d in res["differences"] if not d["within_tolerance"]]
    assert [d["key"] for d in bad] == ["premium"] and bad[0]["recomputed"] == bad[0]["recorded"] - 2.0


def test_quote_numbers_are_canonical():
    from underwriting.domain.quote import Quote

    q = Quote.model_validate_json((GOLDEN / "global_large_exchange__default__frequency.json").read_text("utf-8"))
    assert q.premium == round(q.premium, 2) and math.isfinite(q.premium)
    assert q.p_breach_1y == round_significant(q.p_breach_1y)


def test_reduced_numpy_dispatch_is_in_effect_when_asked():
    """`make test-portable` sets NPY_DISABLE_CPU_FEATURES; this proves numpy really runs without them
    (an unknown name is ignored by numpy, so a typo would otherwise simulate nothing)."""
    import os

    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    asked = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split()
    assert all(name in __cpu_dispatch__ for name in asked), (asked, __cpu_dispatch__)
    assert not any(__cpu_features__.get(name) for name in asked)
