"""End to end: train -> evaluate -> compare -> promote -> quote -> reproduce, on a synthetic book
spec and on the user's own frames (CSV and Parquet); schema errors name the column."""

from __future__ import annotations

import json
import shutil

import pytest

from underwriting.models_build import SHIPPED as _SHIPPED
from underwriting.registry import Registry as _Registry

from .conftest import ROOT

#: the shipped scorer's default version, its published versions and the targets of its history
CUR = _SHIPPED["risk_scorer"][0]
SHIPPED_VERSIONS = _Registry(ROOT / "models").versions("risk_scorer")
HISTORY_TO = [h["to"] for h in _Registry(ROOT / "models").history("risk_scorer")]


def test_train_on_user_frames_csv_and_parquet(tmp_path, lc_cli):
    from underwriting.lifecycle.data import synthetic_book, write_book
    from underwriting.registry import Registry

    book = synthetic_book({"n_exchanges": 200, "years": 5, "seed": 4})
    reg_root = tmp_path / "reg"
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[validation]\nn_boot = 30\n[model]\nC = [0.02, 0.1]\n", encoding="utf-8")
    for fmt in ("csv", "parquet"):
        d = write_book(book, tmp_path / fmt, fmt)
        code, out, err = lc_cli("train", "--data", d, "--config", cfg, "--registry", reg_root, "--seed", "5")
        assert code == 0, err
    reg = Registry(reg_root)
    assert reg.versions("risk_scorer") == ["0.1.0", "0.2.0"]
    a, b = (reg.verify("risk_scorer", v) for v in ("0.1.0", "0.2.0"))
    assert a["data"]["source"]["kind"] == "files" and set(a["data"]["source"]["files"]) == {
        "exchanges.csv", "incidents.csv", "vendors.csv"}
    assert a["training"]["search"]["results"] and a["training"]["C"] in (0.02, 0.1)
    # the same data in two formats gives the same model
    sa, sb = (json.loads((reg_root / f"risk_scorer/{v}/scorer.json").read_text())["model"] for v in ("0.1.0", "0.2.0"))
    assert sa == sb
    card = (reg_root / "risk_scorer/0.1.0/MODEL_CARD.md").read_text(encoding="utf-8")
    for section in ("Intended use", "Data", "Validation", "Limitations", "["):
        assert section in card


def test_schema_errors_name_file_line_and_column(tmp_path, lc_cli):
    from underwriting.lifecycle.data import synthetic_book, write_book

    d = write_book(synthetic_book({"n_exchanges": 40, "years": 3, "seed": 2}), tmp_path / "bad")
    ex = (d / "exchanges.csv").read_text(encoding="utf-8").splitlines()
    header = ex[0].split(",")
    col = header.index("admin_mfa")
    row = ex[3].split(",")
    row[col] = "carrier_pigeon"
    ex[3] = ",".join(row)
    (d / "exchanges.csv").write_text("\n".join(ex) + "\n", encoding="utf-8")
    code, _, err = lc_cli("train", "--data", d, "--registry", tmp_path / "reg")
    assert code == 2 and "exchanges.csv" in err and "line 4" in err and "admin_mfa" in err and "carrier_pigeon" in err
    (d / "exchanges.csv").write_text("\n".join([",".join(h for h in header if h != "soc2_type2")]) + "\n",
                                     encoding="utf-8")
    code, _, err = lc_cli("train", "--data", d, "--registry", tmp_path / "reg")
    assert code == 2 and "soc2_type2" in err
    code, _, err = lc_cli("train", "--data", tmp_path / "nothing", "--registry", tmp_path / "reg")
    assert code == 2 and "no such file" in err


@pytest.mark.slow
def test_end_to_end(small_registry, tmp_path, lc_cli, monkeypatch):
    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    book = small_registry[1]
    monkeypatch.setenv("UNDERWRITING_REGISTRY", str(root))
    # evaluate with plots and an out-of-time backtest
    code, out, err = lc_cli("evaluate", "0.2.0", "--data", book, "--plot", tmp_path / "plots", "--n-boot", "50", "--json")
    assert code == 0, err
    ev = json.loads(out)
    assert 0.5 < ev["metrics"]["auc"]["estimate"] < 1 and ev["metrics"]["auc"]["low"] <= ev["metrics"]["auc"]["estimate"]
    assert "cutoff" in ev["backtest"] and ev["backtest"]["test_rows"] > 0
    assert {p.name for p in (tmp_path / "plots").iterdir()} >= {"calibration.png", "roc.png"}
    # compare champion (default 0.1.0) with the challenger; reference book quoted with each
    code, out, err = lc_cli("compare", "default", "0.2.0", "--data", book, "--n-boot", "50", "--n-synthetic", "3", "--json")
    assert code == 0, err
    cmp_ = json.loads(out)
    d = cmp_["metrics"]["auc"]["B_minus_A"]
    assert d["low"] <= d["estimate"] <= d["high"]
    rows = cmp_["premium_impact"]["rows"]
    n_examples = len(list((ROOT / "datasets" / "examples").glob("*.json")))   # every bundled example, 3 synthetic
    assert len(rows) == n_examples + 3 and any(r["entry"].startswith("examples/") for r in rows)
    # the posture-only scorer left the quote path (issue #13): retraining it changes no quote
    assert all(r["p_score_A"] == r["p_score_B"] for r in rows)
    # promote, quote with the new default, reproduce (pins 0.2.0 even after rolling back)
    code, out, err = lc_cli("promote", "0.2.0")
    assert code == 0 and f"{CUR} -> 0.2.0" in out
    qpath = tmp_path / "quote.json"
    code, out, err = lc_cli("quote", ROOT / "datasets/examples/jp_small_exchange.json", "--terms",
                            ROOT / "datasets/examples/policy_jp_primary.toml", "--out", qpath, "--json")
    assert code == 0, err
    q = json.loads(qpath.read_text())
    assert "risk_scorer" not in q["versions"] and q["versions"]["frequency"].startswith(
        _Registry(ROOT / "models").default("frequency") + "@")
    code, out, err = lc_cli("promote", "--rollback")
    assert code == 0 and f"-> {CUR}" in out
    code, out, err = lc_cli("reproduce", qpath)
    assert code == 0 and "identical" in out and f"frequency {_Registry(ROOT / 'models').default('frequency')}" in out
    # a changed result is reported with the differing keys
    q2 = dict(q, premium=q["premium"] * 1.01)
    (tmp_path / "q2.json").write_text(json.dumps(q2), encoding="utf-8")
    code, out, err = lc_cli("reproduce", tmp_path / "q2.json")
    assert code == 1 and "premium" in out and "DIFFERENT" in out
    # a recorded version missing from the registry: say so, exit non-zero
    q3 = json.loads(json.dumps(q))
    q3["versions"]["frequency"] = "7.7.7@000000000000"
    (tmp_path / "q3.json").write_text(json.dumps(q3), encoding="utf-8")
    code, out, err = lc_cli("reproduce", tmp_path / "q3.json")
    assert code == 2 and "7.7.7" in err and "not in the registry" in err


def test_reproduce_a_shipped_default_quote(lc_cli, tmp_path):
    qpath = tmp_path / "q.json"
    code, _, err = lc_cli("quote", ROOT / "datasets/examples/global_large_exchange.json", "--out", qpath, "--json")
    assert code == 0, err
    code, out, err = lc_cli("reproduce", qpath)
    assert code == 0, out + err


def test_reproduce_refuses_a_frequency_model_that_is_not_the_one_recorded(lc_cli, tmp_path):
    qpath = tmp_path / "q.json"
    code, _, err = lc_cli("quote", ROOT / "datasets/examples/jp_small_exchange.json", "--out", qpath, "--json")
    assert code == 0, err
    q = json.loads(qpath.read_text(encoding="utf-8"))
    version, _, sha = q["versions"]["frequency"].partition("@")
    assert len(sha) == 12
    q["versions"]["frequency"] = f"{version}@{'0' * 12}"
    qpath.write_text(json.dumps(q), encoding="utf-8")
    code, out, err = lc_cli("reproduce", qpath)
    assert code == 2 and "frequency" in err and "not the model that made the quote" in err


@pytest.mark.parametrize(
    "spec,field",
    [
        ({"n_exchanges": 1.5, "years": 3, "seed": 1}, "data.synthetic.n_exchanges"),
        ({"n_exchanges": True, "years": 3, "seed": 1}, "data.synthetic.n_exchanges"),
        ({"n_exchanges": 50, "years": -3, "seed": 1}, "data.synthetic.years"),
        ({"n_exchanges": 50, "years": 3, "seed": -1}, "data.synthetic.seed"),
        ({"n_exchanges": 50, "years": 3, "seed": 2.0}, "data.synthetic.seed"),
        ({"n_exchanges": 50, "years": 3}, "data.synthetic.seed"),
    ],
)
def test_synthetic_spec_numbers_are_checked_not_truncated(spec, field):
    from underwriting.errors import InputError
    from underwriting.lifecycle.data import synthetic_book

    with pytest.raises(InputError) as exc:
        synthetic_book(spec)
    assert exc.value.field == field


def test_lifecycle_arguments_out_of_range_are_input_errors(small_registry, tmp_path):
    from underwriting.errors import InputError
    from underwriting.lifecycle.evaluation import compare, evaluate
    from underwriting.lifecycle.parallel import backend
    from underwriting.lifecycle.training import load_config, train

    root, book = small_registry
    for kw, field in (({"n_boot": 0}, "--n-boot"), ({"seed": -1}, "--seed"), ({"backtest_date": "xx"}, "--backtest-date")):
        with pytest.raises(InputError) as exc:
            evaluate("0.2.0", book, registry=root, **kw)
        assert exc.value.field == field
    with pytest.raises(InputError, match="--n-boot"):
        compare(None, "0.2.0", book, registry=root, n_boot=-5)
    with pytest.raises(InputError, match="seed"):
        load_config({"seed": -4})
    with pytest.raises(InputError, match="--seed"):
        train(book, registry=tmp_path / "reg", seed=2**32)
    with pytest.raises(InputError, match="--n-jobs"):
        with backend("local", n_jobs=0):
            pass
    assert not (tmp_path / "reg").exists()


def test_compare_refuses_a_negative_reference_book(small_registry, lc_cli):
    code, _, err = lc_cli("compare", "default", "0.2.0", "--data", small_registry[1], "--registry",
                          small_registry[0], "--n-synthetic", "-1")
    assert code == 2 and "--n-synthetic" in err
