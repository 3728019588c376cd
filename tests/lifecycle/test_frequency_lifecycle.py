"""Issue #14 for the premium-setting frequency model: user cohort data in, honest evaluation,
compare with premium impact, the promotion gate, and the issue's "Done when" sequence end to end."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _doubled(src: Path, dst: Path) -> int:
    """Copy a cohort folder with every incident duplicated one day later (new id); returns rows added.

    A duplicate that would fall after the exchange's recorded closure is dated one day earlier instead
    (the roster check refuses incidents after closure), so every incident is still counted twice."""
    import datetime as dt

    shutil.copytree(src, dst)
    with open(src / "exchanges.csv", encoding="utf-8", newline="") as fh:
        closed = {r["exchange_id"]: r["closure_date"] for r in csv.DictReader(fh) if r["closure_date"]}
    with open(src / "incidents.csv", encoding="utf-8", newline="") as fh:
        rd = csv.DictReader(fh)
        fields, rows = rd.fieldnames, list(rd)
    extra = []
    for r in rows:
        d = dt.date.fromisoformat(r["incident_date"]) if len(r["incident_date"]) == 10 else None
        if d is None:
            continue
        new = d + dt.timedelta(days=1)
        c = closed.get(r["exchange_id"])
        if c and len(c) == 10 and new > dt.date.fromisoformat(c):
            new = d - dt.timedelta(days=1)
        extra.append({**r, "incident_id": r["incident_id"] + "-dup", "incident_date": new.isoformat()})
    with open(dst / "incidents.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows + extra)
    return len(extra)


def test_done_when_sequence(tmp_path, cli):
    reg = tmp_path / "REG"
    shutil.copytree(ROOT / "models", reg)
    d, d2 = tmp_path / "DIR", tmp_path / "DIR2"
    cfg = tmp_path / "fast.toml"
    cfg.write_text("[validation]\nn_boot = 20\n", encoding="utf-8")

    code, out, err = cli("datasets", "export-cohorts", d)
    assert code == 0, err
    assert {p.name for p in d.iterdir()} == {"cohorts.csv", "exchanges.csv", "incidents.csv", "exchange_aliases.csv"}
    from underwriting.frequency.base_panel import cohort_panel

    p = cohort_panel()  # follow-up to exit by evidence (docs/frequency_validation.md)
    assert f"{p['exchange_id'].nunique()} exchanges" in out and f"{int(p['breaches'].sum())} breaches" in out

    code, out, err = cli("train", "--name", "frequency", "--data", d, "--config", cfg, "--registry", reg,
                         "--version", "9.9.9")
    assert code == 0, err
    # the same data as the shipped model: the same coefficients, and the bounded cross-validated alpha that the
    # shipped version stores in its model.json (0.2.1; experience_fitted.json for 0.2.0, docs/frequency_validation.md)

    mine = json.loads((reg / "frequency" / "9.9.9" / "model.json").read_text())
    default = (ROOT / "models" / "frequency" / "DEFAULT").read_text().strip()
    shipped = json.loads((ROOT / "models" / "frequency" / default / "model.json").read_text())
    # the shipped model was fitted on another CPU: equal to cross-CPU precision (docs/reproducibility.md)
    from underwriting.lifecycle.rebuild_check import compare_json

    assert mine["terms"] == shipped["terms"] and compare_json(shipped["coef"], mine["coef"]) == []
    assert mine["experience_prior"]["method"] == shipped["experience_prior"]["method"]   # the trainer's and the build's
    assert compare_json(shipped["experience_prior"], mine["experience_prior"]) == []
    rows = json.loads((reg / "frequency" / "9.9.9" / "training_rows.json").read_text())["rows"]
    assert len(rows) == shipped["fit"]["n_obs"]
    man = json.loads((reg / "frequency" / "9.9.9" / "manifest.json").read_text())
    assert [r["segment"] for r in man["metrics"]["out_of_time"]["segments"]][:2] == ["all scored rows", "volume third 1"]

    code, out, err = cli("evaluate", "9.9.9", "--name", "frequency", "--data", d, "--registry", reg, "--json",
                         "--n-boot", "20")
    assert code == 0, err
    ev = json.loads(out)
    assert ev["in_sample"] is True
    assert ev["out_of_time"]["cutoff"] == "2023-01-01"
    assert ev["out_of_time"]["refit"]["calibration"]["observed"] + ev["out_of_time"]["fit_events"] == shipped["fit"]["events"]

    code, out, err = cli("compare", "default", "9.9.9", "--name", "frequency", "--data", d, "--registry", reg,
                         "--json", "--n-boot", "20")
    assert code == 0, err
    cmp_ = json.loads(out)
    assert cmp_["in_sample"] is True and cmp_["winner"] is None and "in-sample" in cmp_["verdict"]
    imp = cmp_["premium_impact"]
    n_examples = len(list((ROOT / "datasets" / "examples").glob("*.json")))   # the reference book: every example
    assert imp["summary"]["entries"] == n_examples and {"median_change", "p5_change", "p95_change", "largest_change"} <= set(imp["summary"])
    assert all(abs(r["change"]) < 1e-12 for r in imp["rows"])  # same coefficients, same premiums

    assert _doubled(d, d2) >= 27
    code, out, err = cli("train", "--name", "frequency", "--data", d2, "--config", cfg, "--registry", reg,
                         "--version", "9.9.10")
    assert code == 0, err
    code, out, err = cli("promote", "9.9.10", "--name", "frequency", "--registry", reg)
    assert code == 2
    assert "refused by the gate" in err and "median premium moves" in err and "%" in err
    assert (reg / "frequency" / "DEFAULT").read_text().strip() == default

    code, out, err = cli("promote", "9.9.10", "--name", "frequency", "--registry", reg, "--accept-impact")
    assert code == 2 and "--note" in err
    code, out, err = cli("promote", "9.9.10", "--name", "frequency", "--registry", reg, "--accept-impact",
                         "--note", "doubled incidents: stress test accepted")
    assert code == 0, err
    assert (reg / "frequency" / "DEFAULT").read_text().strip() == "9.9.10"
    code, out, err = cli("models", "history", "--name", "frequency", "--registry", reg)
    assert code == 0
    assert "doubled incidents: stress test accepted" in out and "IMPACT ACCEPTED" in out
    card = (reg / "frequency" / "9.9.10" / "MODEL_CARD.md").read_text()
    assert "doubled incidents: stress test accepted" in card
    code, out, err = cli("models", "verify", "--registry", reg)
    assert code == 0, out + err


def test_bad_cell_named(tmp_path, cli):
    reg = tmp_path / "REG"
    shutil.copytree(ROOT / "models", reg)
    d = tmp_path / "DIR"
    assert cli("datasets", "export-cohorts", d)[0] == 0
    lines = (d / "cohorts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = next(csv.reader([lines[4]]))
    cells[header.index("volume_24h_usd")] = "lots"
    buf = __import__("io").StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    lines[4] = buf.getvalue()
    (d / "cohorts.csv").write_text("".join(lines), encoding="utf-8")
    code, out, err = cli("train", "--name", "frequency", "--data", d, "--registry", reg, "--version", "9.9.9")
    assert code == 2
    assert "cohorts.csv" in err and "line 5" in err and "volume_24h_usd" in err
    assert not (reg / "frequency" / "9.9.9").exists()


def test_export_parquet_round_trip(tmp_path, cli):
    from underwriting.lifecycle.cohort_data import load_cohort_data

    code, out, err = cli("datasets", "export-cohorts", tmp_path / "pq", "--format", "parquet")
    assert code == 0, err
    a = load_cohort_data(tmp_path / "pq").panel()
    b = load_cohort_data(None).panel()
    assert a.equals(b)
    code, out, err = cli("datasets", "export-cohorts", tmp_path / "pq")
    assert code == 2 and "already exists" in err


def test_gate_thresholds_from_registry(tmp_path):
    from underwriting.errors import InputError
    from underwriting.lifecycle.gate import load_gate
    from underwriting.registry import Registry

    reg = Registry(tmp_path)
    assert load_gate(reg)["max_premium_change"] == 0.5
    (tmp_path / "gate.toml").write_text("[frequency]\nmax_median_change = 0.05\n", encoding="utf-8")
    g = load_gate(reg)
    assert g["max_median_change"] == 0.05 and g["max_premium_change"] == 0.5
    (tmp_path / "gate.toml").write_text("[frequency]\nmax_median = 0.05\n", encoding="utf-8")
    with pytest.raises(InputError, match="max_median"):
        load_gate(reg)


def test_oe_interval_and_deciles_against_exact_counts():
    import numpy as np
    import pandas as pd
    from scipy import stats

    from underwriting.lifecycle.frequency import concordance, deciles
    from underwriting.lifecycle.frequency_metrics import oe_block

    b = oe_block(14, 12.0, 0.9)
    assert b["interval"][0] == pytest.approx(stats.chi2.ppf(0.05, 28) / 2 / 12)
    assert b["interval"][1] == pytest.approx(stats.chi2.ppf(0.95, 30) / 2 / 12)
    t = pd.DataFrame({"rate": np.arange(1, 21) / 100, "expected": np.arange(1, 21) / 100,
                      "observed": [0] * 10 + [1] * 10, "exposure": np.ones(20),
                      "duration": np.r_[np.ones(10), np.linspace(0.9, 0.1, 10)], "event": [False] * 10 + [True] * 10})
    rows = deciles(t, 0.9)
    assert len(rows) == 10 and sum(r["observed"] for r in rows) == 10
    assert [r["observed"] for r in rows] == [0] * 5 + [2] * 5
    # higher rate, earlier breach everywhere: perfect concordance
    assert concordance(t) == pytest.approx(1.0)


def test_write_book_on_generator_output(tmp_path):
    from underwriting.datasets.synthetic import make_exchange_portfolio
    from underwriting.lifecycle.book_files import files_book
    from underwriting.lifecycle.data import write_book

    book = make_exchange_portfolio(40, years=3, seed=5)
    write_book(book, tmp_path / "b")
    back = files_book(tmp_path / "b")
    assert len(back.exchanges) == 40


def test_held_out_when_trained_before_the_cutoff(tmp_path):
    """A version fitted on follow-up to 2022-12-31 scored from 2023-01-01: not in-sample; compare then names
    a winner only where an interval of B - A excludes 0."""
    from underwriting.lifecycle.cohort_data import export_cohorts
    from underwriting.lifecycle.frequency import compare_frequency, evaluate_frequency
    from underwriting.lifecycle.training import train

    reg = tmp_path / "REG"
    shutil.copytree(ROOT / "models", reg)
    d = tmp_path / "DIR"
    export_cohorts(d)
    cfg = {"validation": {"n_boot": 10}, "frequency": {"end": "2022-12-31", "cutoff": "2021-01-01"}}
    # counts to 2022 show no over-dispersion (unbounded alpha = inf): the bounded, cross-validated prior still
    # trains, at its upper bound, and shows the infinite ends honestly
    train(d, cfg, registry=reg, name="frequency", version="0.4.0")
    prior = json.loads((reg / "frequency" / "0.4.0" / "model.json").read_text())["experience_prior"]
    assert prior["alpha"] == pytest.approx(5.0) and prior["at_bound"] and prior["bounds"] == [0.25, 5.0]
    assert (prior["mle_alpha"] is None or prior["mle_alpha"] > prior["bounds"][1]) and prior["interval"][1] is None \
        and prior["interval"][0] > 0
    cfg["frequency"]["prior_strength"] = 3.55
    train(d, cfg, registry=reg, name="frequency", version="0.5.0")
    prior = json.loads((reg / "frequency" / "0.5.0" / "model.json").read_text())["experience_prior"]
    assert prior["alpha"] == 3.55 and prior["estimated_alpha"] == pytest.approx(5.0)
    ev = evaluate_frequency("0.5.0", d, registry=reg, n_boot=10)
    assert ev["in_sample"] is False and ev["out_of_time"]["version"]["overlap_rows"] == 0
    c = compare_frequency(None, "0.5.0", d, registry=reg, n_boot=30)
    assert c["in_sample"] is True  # 0.1.0 was fitted on the shipped rows to 2025-11-30
    assert c["winner"] is None and "--allow-in-sample" in c["verdict"]
    c2 = compare_frequency(None, "0.5.0", d, registry=reg, n_boot=30, allow_in_sample=True)
    assert "IN-SAMPLE" in c2["verdict"] or c2["winner"] is None
    for m in c2["metrics"].values():
        lo, hi = m["B_minus_A"]["interval"]
        assert (m["better"] is None) == (lo <= 0 <= hi or m["lower_is_better"] is None)


def test_gate_refuses_an_out_of_time_interval_excluding_one(tmp_path, monkeypatch):
    from underwriting.lifecycle.gate import gate_check, gate_summary
    from underwriting.registry import Registry

    shutil.copytree(ROOT / "models", tmp_path / "REG")
    reg = Registry(tmp_path / "REG")
    real = reg.read_manifest

    def fake(name, version):
        doc = dict(real(name, version))
        doc["metrics"] = {"out_of_time": {"calibration": {"oe": 2.4, "interval": [1.6, 3.5], "level": 0.9}}}
        return doc

    monkeypatch.setattr(reg, "read_manifest", fake)
    check = gate_check(reg, reg.default("frequency"))  # the default itself: no premium impact to compute
    assert not check["passed"] and check["premium_impact"] is None
    assert "excludes 1" in check["reasons"][0] and "2.40" in check["reasons"][0]
    assert "O/E 2.40 [1.60, 3.50]" in gate_summary(check)
    (tmp_path / "REG" / "gate.toml").write_text("[frequency]\nrequire_calibration = false\nrequire_segments = false\n",
                                               encoding="utf-8")
    assert gate_check(reg, reg.default("frequency"))["passed"]


def test_gate_requires_every_out_of_time_segment_inside_its_band(tmp_path, monkeypatch):
    """Issue #24: the candidate's signed manifest carries the segment table, and every row's interval
    must contain 1; a version without the table (0.1.0) is refused."""
    from underwriting.lifecycle.gate import gate_check, gate_summary
    from underwriting.registry import Registry

    shutil.copytree(ROOT / "models", tmp_path / "REG")
    reg = Registry(tmp_path / "REG")
    default = reg.default("frequency")
    shipped = reg.read_manifest("frequency", default)["metrics"]["out_of_time"]["segments"]
    assert {r["segment"] for r in shipped} >= {"recorded population", "volume third 1 (smallest)", "volume third 2",
                                               "volume third 3 (largest)", "largest 100 of CryptoCompare 2020-12-10"}
    assert all(r["interval"][0] <= 1 <= r["interval"][1] for r in shipped)
    check = gate_check(reg, default)
    assert check["passed"], check["reasons"]
    assert "segments recorded population" in gate_summary(check)
    real = reg.read_manifest

    def fake(name, version):
        doc = json.loads(json.dumps(real(name, version)))
        doc["metrics"]["out_of_time"]["segments"][-1].update(oe=3.1, interval=[1.4, 5.9])
        return doc

    monkeypatch.setattr(reg, "read_manifest", fake)
    check = gate_check(reg, default)
    assert not check["passed"] and any("excludes 1" in r and "3.10" in r for r in check["reasons"])
    monkeypatch.setattr(reg, "read_manifest", real)
    old = [v for v in reg.versions("frequency") if v != default][0]
    reasons = gate_check(reg, old)["reasons"]
    assert any("no out-of-time segment table" in r for r in reasons)


def test_reference_book_adds_the_users_book(tmp_path):
    from underwriting.errors import InputError
    from underwriting.lifecycle.gate import reference_book

    ex = ROOT / "datasets" / "examples"
    book = tmp_path / "mybook"
    book.mkdir()
    shutil.copy(ex / "jp_small_exchange.json", book / "client_a.json")
    shutil.copy(ex / "policy_usd_excess.toml", book / "policy.toml")
    entries = reference_book(book)
    labels = [e[0] for e in entries]
    bundled = [f"examples/{p.name}" for p in sorted(ex.glob("*.json"))]
    assert len(bundled) >= 3 and "examples/jp_small_exchange.json" in bundled
    n = len(bundled)
    assert labels[:n] == bundled
    assert labels[n:] == ["mybook/client_a.json"]
    assert entries[n][2] != entries[0][2]  # the folder's policy.toml
    with pytest.raises(InputError, match="no such"):
        reference_book(tmp_path / "missing")


def test_survival_block_printed_as_a_table(capsys):
    from underwriting.cli.evaluate import _print_survival

    _print_survival({"version": "0.1.0", "auc_at_horizon": 0.71234, "skipped": None})
    out = capsys.readouterr().out
    assert "{" not in out and "auc_at_horizon" in out and "0.7123" in out


def test_train_promote_goes_through_the_gate(tmp_path, monkeypatch):
    from underwriting.errors import InputError
    from underwriting.lifecycle import gate
    from underwriting.lifecycle.cohort_data import export_cohorts
    from underwriting.lifecycle.training import train

    shutil.copytree(ROOT / "models", tmp_path / "REG")
    export_cohorts(tmp_path / "DIR")
    seen = []

    def refuse(reg, version, **kw):
        seen.append(version)
        raise InputError("promotion refused by the gate: median premium moves +99.0%", field="promote")

    monkeypatch.setattr(gate, "promote_frequency", refuse)
    with pytest.raises(InputError, match="published, not the default.*median premium moves"):
        train(tmp_path / "DIR", {"validation": {"n_boot": 5}}, registry=tmp_path / "REG", name="frequency",
              version="0.4.0", promote=True)
    assert seen == ["0.4.0"] and (tmp_path / "REG" / "frequency" / "0.4.0").is_dir()
    assert (tmp_path / "REG" / "frequency" / "DEFAULT").read_text().strip() == (ROOT / "models" / "frequency" / "DEFAULT").read_text().strip()
