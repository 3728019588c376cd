"""Golden table, JSON keys and the CLI happy path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from underwriting.reserve import assess

GOLDEN = Path(__file__).resolve().parent / "golden"
JP = "datasets/examples/jp_small_exchange.json"
POL = "datasets/examples/policy_jp_primary.toml"


def test_golden_table_jp_small_primary():
    """Regenerate deliberately with UPDATE_GOLDEN=1 after checking the diff by eye."""
    table = assess(JP, [POL], "jp-fsa-2026").to_table()
    path = GOLDEN / "jp_small_exchange__policy_jp_primary__jp-fsa-2026.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(table, encoding="utf-8")
    assert table == path.read_text(encoding="utf-8")


def test_example_figures():
    a = assess(JP, [POL], "jp-fsa-2026")
    assert a.requirement.amount == pytest.approx(400e6)
    # band 100m..400m x (1 - 5% payment haircut) = 285m before the 50% cap
    assert a.credit_before_cap == pytest.approx(300e6 * 0.95)
    assert a.credit == pytest.approx(200e6)
    assert a.residual_cash == pytest.approx(200e6)


def test_cli_json_keys(reserve_cli):
    code, out, err = reserve_cli("reserve", JP, "--policy", POL, "--policy", "datasets/examples/policy_usd_excess.toml",
                                 "--regime", "eu-mica-art67", "--fx", "USD=1", "--fx", "JPY=150", "--fx", "EUR=0.92",
                                 "--json")
    assert code == 0, err
    d = json.loads(out)
    for k in ("regime", "requirement", "credit", "credit_share", "residual_cash", "currency", "checks",
              "regime_version", "requirement_detail", "fx", "policies", "tower"):
        assert k in d
    assert d["regime"] == "eu-mica-art67" and d["currency"] == "JPY"
    for c in d["checks"]:
        assert set(c) >= {"rule", "outcome", "haircut", "reason", "source"}
        assert c["outcome"] in ("pass", "fail", "haircut", "info")
    usd = [c for c in d["checks"] if c["policy"] == "usd-hot-only-2026"]
    assert any(c["outcome"] == "fail" and c["rule"] == "mica.cancellation_notice" for c in usd)
    assert any(u["from_currency"] == "EUR" for u in d["fx"]) and any(u["from_currency"] == "USD" for u in d["fx"])


def test_cli_table(reserve_cli):
    code, out, err = reserve_cli("reserve", JP, "--policy", POL, "--regime", "jp-fsa-2026",
                                 "--param", "credit.cap_share=0.2", "--no-risk-sizing")
    assert code == 0, err
    assert "residual cash reserve" in out and "cap (20% of requirement)" in out


def test_user_regime_file(reserve_cli, tmp_path):
    src = Path("underwriting/reserve/regimes/hk-sfc-vatp.toml").read_text(encoding="utf-8")
    p = tmp_path / "my-regime.toml"
    p.write_text(src.replace('id = "hk-sfc-vatp"', 'id = "my-regime"').replace("cold_share = { value = 0.5",
                                                                             "cold_share = { value = 1.0"),
                 encoding="utf-8")
    code, out, err = reserve_cli("reserve", "datasets/examples/hk_exchange_with_incident.json", "--regime", str(p),
                                 "--json")
    assert code == 0, err
    assert json.loads(out)["requirement"] == pytest.approx(8e9)
