"""save/load: plain data (JSON + Parquet), bitwise-identical predictions, integrity checks."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from underwriting.errors import InputError, ModelIntegrityError
from underwriting.survival import TimeToBreachModel, frequency_for_term, load, save, survival_target

from ._sim import panel, weibull_ph

FAMILIES = ["coxph", "weibull_aft", "lognormal_aft", "loglogistic_aft", "piecewise_exponential"]


@pytest.mark.parametrize("family", FAMILIES)
def test_roundtrip_is_bitwise(tmp_path, family):
    X, y, _ = weibull_ph(300, seed=5)
    m = TimeToBreachModel(family=family, horizon=2.0, penalizer=0.01).fit(X, y)
    save(m, tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == (["baseline_hazard.parquet", "model.json"] if family == "coxph" else ["model.json"])
    got = load(tmp_path / "m")
    assert got.lifelines_model_ is None  # predictions come from the plain data, not a refit
    assert got.get_params() == m.get_params()
    times = np.linspace(0.0, 5.0, 23)
    assert np.array_equal(got.predict_survival(X, times), m.predict_survival(X, times))
    assert np.array_equal(got.predict_cumulative_hazard(X, 0.7, 1.9), m.predict_cumulative_hazard(X, 0.7, 1.9))
    assert np.array_equal(got.predict_risk(X, 2.0), m.predict_risk(X, 2.0))
    assert got.score(X, y) == m.score(X, y)
    assert got.concordance_ == m.concordance_
    assert np.array_equal(got.coef_.to_numpy(), m.coef_.to_numpy())
    a, b = frequency_for_term(m, X.iloc[[0]], (1.0, 2.0)), frequency_for_term(got, X.iloc[[0]], (1.0, 2.0))
    assert a == b


def test_stratified_and_panel_roundtrip(tmp_path):
    X, y, _ = weibull_ph(300, seed=6)
    X = X.assign(region=(X["x0"] > 0).astype(int))
    m = TimeToBreachModel(strata=["region"], horizon=2.0).fit(X, y)
    save(m, tmp_path / "s")
    got = load(tmp_path / "s")
    assert np.array_equal(got.predict_survival(X, [0.5, 1.5]), m.predict_survival(X, [0.5, 1.5]))
    df, *_ = panel(200, 24, seed=1)
    mp = TimeToBreachModel(family="piecewise_exponential", breakpoints=(1.0, 2.0), extrapolation="tail").fit(
        df[["posture", "recent"]], survival_target(df["stop"], df["n_events"], entry=df["start"]))
    save(mp, tmp_path / "p")
    gp = load(tmp_path / "p")
    Xp = df[["posture", "recent"]].iloc[:50]
    assert np.array_equal(gp.predict_cumulative_hazard(Xp, 3.0, 9.0), mp.predict_cumulative_hazard(Xp, 3.0, 9.0))


def test_manifest_contents(tmp_path):
    X, y, _ = weibull_ph(200, seed=7)
    m = TimeToBreachModel(horizon=2.0).fit(X, y)
    save(m, tmp_path)
    man = json.loads((tmp_path / "model.json").read_text())
    assert man["format"] == "underwriting.survival.TimeToBreachModel"
    assert man["state"]["feature_names"] == ["x0", "x1", "x2"]
    assert len(man["state"]["center"]) == 3 and man["state"]["family"] == "coxph"
    assert {"numpy", "lifelines", "pandas", "scikit-learn", "underwriting"} <= set(man["versions"])
    assert list(man["files"]) == ["baseline_hazard.parquet"]
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporaries


def test_load_needs_no_lifelines(tmp_path):
    import subprocess

    X, y, _ = weibull_ph(200, seed=8)
    save(TimeToBreachModel(horizon=2.0).fit(X, y), tmp_path)
    code = ("import sys; sys.modules['lifelines'] = None\n"
            "import numpy as np, pandas as pd\n"
            "from underwriting.survival import load\n"
            f"m = load({str(tmp_path)!r})\n"
            "print(m.predict_risk(pd.DataFrame(np.zeros((1, 3)), columns=['x0','x1','x2']), 1.0)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 0 < float(out.stdout) < 1


def test_integrity_errors(tmp_path):
    X, y, _ = weibull_ph(200, seed=9)
    m = TimeToBreachModel(horizon=2.0).fit(X, y)
    d = tmp_path / "m"
    save(m, d)
    with pytest.raises(InputError, match="does not exist"):
        load(tmp_path / "nope")
    with pytest.raises(InputError, match="fitted"):
        save(TimeToBreachModel(), tmp_path / "unfitted")
    raw = (d / "baseline_hazard.parquet").read_bytes()
    (d / "baseline_hazard.parquet").write_bytes(raw[:-9] + b"123456789")
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load(d)
    (d / "baseline_hazard.parquet").unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        load(d)
    save(m, d)
    man = json.loads((d / "model.json").read_text())
    man["format_version"] = 99
    (d / "model.json").write_text(json.dumps(man))
    with pytest.raises(ModelIntegrityError, match="format_version"):
        load(d)
    (d / "model.json").unlink()
    with pytest.raises(ModelIntegrityError, match="manifest"):
        load(d)
