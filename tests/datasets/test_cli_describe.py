"""`underwriting datasets describe|validate` and the describe() figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from underwriting.datasets import describe

FIX = Path(__file__).parent / "fixtures"


def test_describe_fixture_figures():
    d = describe(FIX / "incidents_ok.csv", FIX / "exchanges_ok.csv")
    assert d["counts"]["breaches"] == 5 and d["counts"]["incidents"] == 6
    assert d["roster"]["hacked_share"] == pytest.approx(0.5)        # alpha and beta of four
    assert d["breach_custody_tier_share"]["hot"] == pytest.approx(3 / 5)
    km = d["time_to_first_breach"]
    assert km["n"] == 4 and km["events"] == 2 and 0 < km["p_by_1y"] <= km["p_by_3y"] <= km["p_by_5y"] < 1
    json.dumps(d, allow_nan=False)


def test_cli_describe_json_and_text_on_user_files(cli):
    code, out, err = cli("datasets", "describe", "--json", "--incidents", FIX / "incidents_ok.csv",
                          "--exchanges", FIX / "exchanges_ok.csv")
    assert code == 0, err
    assert json.loads(out)["counts"]["incidents"] == 6
    code, out, _ = cli("datasets", "describe", "--incidents", FIX / "incidents_ok.csv",
                        "--exchanges", FIX / "exchanges_ok.csv")
    assert code == 0 and "Time to first breach" in out and "Kaplan-Meier" in out


def test_cli_validate_reports_line_and_column(cli, tmp_path):
    bad = tmp_path / "inc.csv"
    text = (FIX / "incidents_ok.csv").read_text(encoding="utf-8").replace(",hot_wallet_key,hot,full,hack,yes,", ",hot_wallet_key,lukewarm,full,hack,yes,")
    bad.write_text(text, encoding="utf-8")
    code, out, err = cli("datasets", "validate", "--incidents", bad, "--exchanges", FIX / "exchanges_ok.csv",
                          "--fx", FIX / "fx_ok.csv")
    assert code == 2 and "line 3, column 'custody_tier'" in err and "Traceback" not in err
    code, out, err = cli("datasets", "validate", "--incidents", FIX / "incidents_ok.csv", "--exchanges",
                          FIX / "exchanges_ok.csv", "--fx", FIX / "fx_ok.csv")
    assert code == 0 and out.startswith("ok:")


def test_cli_describe_real_data(cli):
    code, out, err = cli("datasets", "describe", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["counts"]["incidents"] > 50 and d["calibration_targets"]["annual_breach_rate"] > 0


def test_cli_module_imports_only_stdlib():
    import ast

    src = Path(__file__).parents[2] / "underwriting" / "cli" / "datasets.py"
    tree = ast.parse(src.read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name).split(".")[0] for n in top}
    assert names <= {"__future__", "argparse", "json"}
