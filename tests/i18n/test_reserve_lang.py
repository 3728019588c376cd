"""``reserve`` and ``compare-reserve`` in Japanese: the same figures as the English table, in 円 with 億円 headlines."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUB = ROOT / "datasets/examples/jp_small_exchange.json"
POLICY = ROOT / "datasets/examples/policy_jp_primary.toml"
QUOTES = ROOT / "underwriting/reserve/examples/quotes_jp_small.toml"


def test_reserve_in_japanese_carries_the_english_figures(cli):
    args = ("reserve", SUB, "--policy", POLICY, "--regime", "jp-fsa-2026", "--no-risk-sizing")
    code, ja, err = cli(*args, "--lang", "ja")
    assert code == 0, err
    code, en, _ = cli(*args, "--lang", "en")
    code, js, _ = cli(*args, "--json")
    d = json.loads(js)
    assert "Reserve assessment" in en and "責任準備金の評価" in ja and "Reserve assessment" not in ja
    for key in ("requirement", "credit", "residual_cash"):
        assert f"{d[key]:,.0f}円" in ja, key
    assert "所要額" in ja and "4億円" in ja and "2027年4月1日" in ja
    for c in d["checks"]:  # every check is listed, with its rule and source
        assert c["rule"] in ja and c["source"] in ja


def test_compare_reserve_in_japanese(cli):
    args = ("compare-reserve", SUB, "--regime", "jp-fsa-2026", "--horizon-years", "3", "--quotes", QUOTES)
    code, ja, err = cli(*args, "--lang", "ja")
    assert code == 0, err
    code, js, _ = cli(*args, "--json")
    d = json.loads(js)
    assert "保険と現金の比較" in ja and "要件を満たす最安のプログラム" in ja
    for p in d["programmes"]:
        label = p["label"] if p["policies"] else "現金のみ"  # "cash only" is translated
        assert label in ja and f"{p['npv']:,.0f}円" in ja
    assert f"{d['saving_vs_cash']:,.0f}円" in ja
