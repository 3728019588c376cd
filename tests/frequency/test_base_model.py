"""The real-data base frequency model: exact identities, a second estimation method, recovery of a
known truth, out-of-time validation, persistence and the cohort CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from underwriting.errors import InputError
from underwriting.frequency.base_model import BaseFrequencyModel, fit_poisson, jurisdiction_group
from underwriting.frequency.base_panel import covariates_from_submission
from underwriting.frequency.base_survival import fit_shipped
from underwriting.frequency.base_validation import ever_breached, out_of_time, poisson_interval


@pytest.fixture(scope="module")
def shipped():
    return fit_shipped()


def test_fitted_counts_sum_to_the_observed_counts(shipped):
    model, panel = shipped
    assert model.events_ == int(panel["breaches"].sum()) > 0
    assert model.fitted_.sum() == pytest.approx(model.events_, rel=1e-9)
    # with an intercept and indicator terms, each indicator's fitted total equals its observed total too
    off = np.array([jurisdiction_group(c) == "offshore" for c in panel["country"]])
    assert model.fitted_[off].sum() == pytest.approx(panel["breaches"][off].sum(), rel=1e-7)


def test_newton_agrees_with_a_general_optimiser(shipped):
    from scipy.optimize import minimize

    from underwriting.frequency.base_model import design

    model, panel = shipped
    X = design(panel, model.reference_log_volume_, trend=False, volume_pct=panel["volume_pct"].to_numpy(),
               unknown_as_offshore=model.unknown_as_offshore)[:, model._columns(False)]
    y, e = panel["breaches"].to_numpy(float), panel["exposure_years"].to_numpy()

    def nll(b):
        eta = X @ b + np.log(e)
        return -(y @ eta - np.exp(eta).sum())

    def grad(b):
        return -(X.T @ (y - np.exp(X @ b + np.log(e))))

    res = minimize(nll, np.zeros(X.shape[1]), jac=grad, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
    assert np.allclose(res.x, model.coef_.to_numpy(), atol=2e-4)


def test_recovers_known_coefficients_from_simulated_counts():
    rng = np.random.default_rng(20261130)
    n = 20000
    X = np.column_stack([np.ones(n), rng.uniform(size=n), rng.integers(0, 2, n)])
    beta = np.array([-3.0, 1.2, 0.7])
    expo = rng.uniform(0.5, 2.0, n)
    y = rng.poisson(np.exp(X @ beta) * expo)
    b, cov, _, _ = fit_poisson(X, y.astype(float), expo)
    se = np.sqrt(np.diag(cov))
    assert np.all(np.abs(b - beta) < 3.5 * se)
    assert se[1] < 0.1


def test_every_effect_has_a_wald_interval(shipped):
    model, _ = shipped
    eff = model.effects_
    assert list(eff.index) == model.terms_
    assert (eff["lo"] < eff["rate_ratio"]).all() and (eff["rate_ratio"] < eff["hi"]).all()
    z = 1.6448536269514722
    assert np.allclose(np.log(eff["hi"]) - np.log(eff["rate_ratio"]), z * eff["se"])
    assert eff.loc["volume_pct", "coef"] > 0  # larger exchanges: more recorded breaches


def test_trend_is_tested_and_a_rejected_trend_is_not_carried(shipped):
    model, _ = shipped
    tt = model.trend_test_
    assert 0 <= tt["p"] <= 1 and tt["kept"] == (tt["p"] < 0.05)
    assert ("trend" in model.terms_) == tt["kept"]
    X = pd.DataFrame({"volume_24h_usd": [1e7], "country": ["JP"], "security_points": [np.nan]})
    forced = BaseFrequencyModel(trend=True, covariates=model.covariates).fit(shipped[1], shipped[1]["breaches"],
                                                reference_volume_usd=np.expm1(model.reference_log_volume_))
    # beyond the data end the trend is held at its last value, never extrapolated
    assert forced.predict(X, year=2030.0).iloc[0] == pytest.approx(forced.predict(X, year=forced.data_end_).iloc[0])


def test_out_of_time_observed_over_expected_is_inside_its_interval():
    oot = out_of_time()
    assert oot["fit_events"] == 6 and oot["observed"] == 20
    lo, hi = oot["oe_interval"]
    assert lo < 1.0 < hi
    assert oot["oe"] == pytest.approx(oot["observed"] / oot["expected"])


def test_poisson_interval_matches_published_table():
    # exact limits are defined by Poisson tail probabilities: P(N >= 20 | lo) = P(N <= 20 | hi) = 5%
    from scipy import stats

    lo, hi = poisson_interval(20, 0.9)
    assert stats.poisson.sf(19, lo) == pytest.approx(0.05, abs=1e-9)
    assert stats.poisson.cdf(20, hi) == pytest.approx(0.05, abs=1e-9)
    assert (round(lo, 2), round(hi, 2)) == (13.25, 29.06)
    assert poisson_interval(0, 0.9)[0] == 0.0


def test_implied_share_ever_breached_matches_the_cohort_and_sits_below_published(shipped):
    model, panel = shipped
    eb = ever_breached(model, panel)
    n = eb["exchanges"]
    se = math.sqrt(eb["observed_share"] * (1 - eb["observed_share"]) / n)
    assert abs(eb["implied_share"] - eb["observed_share"]) < 2 * se
    published = [d["share"] for d in eb["published"]]
    assert published == pytest.approx([0.225, 0.3125, 0.28])
    # whole cohorts of listed venues (many tiny) are breached less often than the papers' notable exchanges
    assert eb["implied_share_2020_cohort"] < eb["implied_share_2020_top_third"] < max(published)


def test_missing_volume_is_averaged_over_the_cohort_never_zero(shipped):
    model, _ = shipped
    X = pd.DataFrame({"volume_24h_usd": [np.nan, 0.0], "country": ["JP", "JP"], "security_points": [np.nan] * 2})
    r = model.predict(X)
    ref = pd.DataFrame({"volume_24h_usd": np.expm1(model.reference_log_volume_), "country": "JP",
                        "security_points": np.nan})
    assert r.iloc[0] == pytest.approx(model.predict(ref).mean(), rel=0.02)
    assert r.iloc[0] > r.iloc[1]


def test_delta_method_interval_agrees_with_parametric_draws(shipped):
    model, _ = shipped
    X = pd.DataFrame({"volume_24h_usd": [5e8, 1e4], "country": ["SC", None], "security_points": [7.1, np.nan]})
    iv = model.predict_interval(X, 0.9)
    rng = np.random.default_rng(7)
    draws = rng.multivariate_normal(model.coef_.to_numpy(), model.cov_.to_numpy(), 20000)
    from underwriting.frequency.base_model import design

    D = design(X.assign(year=2025.0), model.reference_log_volume_, trend=False,
               unknown_as_offshore=model.unknown_as_offshore)[:, model._columns(False)]
    sims = np.exp(draws @ D.T)
    q = np.quantile(sims, [0.05, 0.95], axis=0)
    assert np.allclose(iv["lo"], q[0], rtol=0.05) and np.allclose(iv["hi"], q[1], rtol=0.05)


def test_registry_copy_reproduces_the_fit_exactly(shipped):
    from underwriting.frequency.base_build import register
    from underwriting.registry import Registry

    register()
    stored = Registry().load("frequency")
    model, _ = shipped
    assert stored.fingerprint_ == model.fingerprint_
    X = pd.DataFrame({"volume_24h_usd": [1e3, 1e8, np.nan], "country": ["JP", "VG", None],
                      "security_points": [np.nan, 6.3, np.nan]})
    # the shipped registry copy was fitted on another CPU: equal to cross-CPU precision (docs/reproducibility.md)
    np.testing.assert_allclose(stored.predict(X).to_numpy(), model.predict(X).to_numpy(), rtol=1e-9, atol=0)
    assert stored.annual_rate(X).name == "annual_rate"


def test_covariates_from_submission_maps_fields_and_keeps_missing_missing():
    from underwriting.domain.submission import load_submission
    from underwriting.resources import example_path

    sub = load_submission(example_path("jp_small_exchange.json"))
    row = covariates_from_submission(sub).iloc[0]
    assert row["country"] == sub.exchange.jurisdiction
    assert row["age_years"] == pytest.approx((pd.Timestamp(sub.as_of) - pd.Timestamp(sub.exchange.launch_date)).days / 365.25)
    assert row["volume_24h_usd"] > 0 and math.isnan(row["security_points"])
    bare = covariates_from_submission({"as_of": "2025-01-01", "exchange": {"jurisdiction": "JP"}}).iloc[0]
    assert math.isnan(bare["volume_24h_usd"]) and math.isnan(bare["age_years"])
    usd = covariates_from_submission({"as_of": "2025-01-01", "exposure": {"currency": "USD", "trading_volume_12m": 365e6}})
    assert usd["volume_24h_usd"].iloc[0] == pytest.approx(1e6)


def test_bad_fit_inputs_are_input_errors(shipped):
    _, panel = shipped
    with pytest.raises(InputError, match="non-negative integer"):
        BaseFrequencyModel().fit(panel, -panel["breaches"])
    with pytest.raises(InputError, match="covariate group"):
        BaseFrequencyModel(covariates=("age",)).fit(panel, panel["breaches"])
    with pytest.raises(InputError, match="not fitted"):
        BaseFrequencyModel().predict(panel)


# --------------------------------------------------------------------------- CLI


def _main(monkeypatch, argv):
    from underwriting.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "frequency", ("underwriting.cli.frequency", "base breach frequency"))
    return cli_main.main(argv)


ROSTER = "name,country,year_established,volume_24h_usd,as_of\nA,JP,2014,5e8,2024-01-01\nB,SC,,2e4,2025-07-02\nC,,2019,,2024-01-01\n"


def test_cohort_command_json(tmp_path, monkeypatch, capsys):
    f = tmp_path / "r.csv"
    f.write_text(ROSTER, encoding="utf-8")
    assert _main(monkeypatch, ["frequency", "cohort", str(f), "--start", "2025-01-01", "--end", "2026-01-01", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rows = d["rows"]
    assert [r["name"] for r in rows] == ["A", "B", "C"]
    assert d["expected_total"] == pytest.approx(sum(r["expected_breaches"] for r in rows))
    assert d["interval"][0] < d["expected_total"] < d["interval"][1]
    # B's window starts at its as_of (2025-07-02): half a year of exposure
    assert rows[1]["years"] == pytest.approx(183 / 365.25)
    assert rows[1]["expected_breaches"] == pytest.approx(rows[1]["annual_rate"] * rows[1]["years"], rel=1e-6)
    assert rows[2]["volume_known"] is False and rows[2]["jurisdiction_group"] == "unknown"


@pytest.mark.parametrize(("cell", "column"), [
    ("A,Japan,2014,5e8,2024-01-01", "country"),
    ("A,JP,20x4,5e8,2024-01-01", "year_established"),
    ("A,JP,2014,-3,2024-01-01", "volume_24h_usd"),
    ("A,JP,2014,5e8,2024-13-01", "as_of"),
    (",JP,2014,5e8,2024-01-01", "name"),
])
def test_cohort_bad_cells_exit_2_naming_file_line_column(tmp_path, monkeypatch, capsys, cell, column):
    f = tmp_path / "r.csv"
    f.write_text(ROSTER + cell + "\n", encoding="utf-8")
    assert _main(monkeypatch, ["frequency", "cohort", str(f), "--start", "2025-01-01", "--end", "2026-01-01"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "line 5" in err and f"column {column!r}" in err and "Traceback" not in err


def test_cohort_window_must_be_ordered(tmp_path, monkeypatch, capsys):
    f = tmp_path / "r.csv"
    f.write_text(ROSTER, encoding="utf-8")
    assert _main(monkeypatch, ["frequency", "cohort", str(f), "--start", "2026-01-01", "--end", "2025-01-01"]) == 2
    assert "--end" in capsys.readouterr().err


def test_explain_prints_factor_table(monkeypatch, capsys):
    from underwriting.resources import example_path

    assert _main(monkeypatch, ["frequency", "explain", str(example_path("jp_small_exchange.json")), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert math.prod(f["factor"] for f in d["factors"]) == pytest.approx(d["annual_rate"], rel=1e-9)


def test_rebuild_reproduces_the_shipped_files(rebuilt_frequency):
    """Same text, every number within its cross-CPU tolerance (underwriting.lifecycle.rebuild_check)."""
    from underwriting.frequency.base_build import VERSION
    from underwriting.lifecycle.rebuild_check import compare_file
    from underwriting.registry import Registry

    root = Path(__file__).resolve().parents[2]
    for f in ("model.json", "training.json", "MODEL_CARD.md"):
        bad = compare_file(f, (root / f"models/frequency/{VERSION}" / f).read_bytes(),
                           (rebuilt_frequency / f"frequency/{VERSION}" / f).read_bytes())
        assert not bad, [str(m) for m in bad]
    assert Registry(rebuilt_frequency).default("frequency") == VERSION


def test_pooled_panel_exposure_and_breaches_add_up_from_the_cohorts(shipped):
    from underwriting.datasets.cohorts import cohort_followup
    from underwriting.frequency.base_panel import cohort_panel
    from underwriting.frequency.base_survival import recorded_mask

    panel = cohort_panel(exit_rule="none")
    cp, cc = cohort_followup("coinpaprika", exits=False), cohort_followup("cryptocompare", exits=False)
    cc_only = cc[~cc["exchange_id"].isin(cp["exchange_id"])]
    assert panel["exchange_id"].nunique() == len(cp) + len(cc_only)
    assert panel["breaches"].sum() == cp["breaches"].sum() + cc_only["breaches"].sum()
    days = ((cp["stop"] - cp["start"]).dt.days.sum() + (cc_only["stop"] - cc_only["start"]).dt.days.sum())
    assert panel["exposure_years"].sum() == pytest.approx(days / 365.25, rel=1e-12)
    # the shipped fit: the recorded rows of the panel with exits by evidence, and nothing else
    _, fitted = shipped
    ev = cohort_panel()
    rec = ev[recorded_mask(ev)]
    assert len(fitted) == len(rec) and fitted["breaches"].sum() == rec["breaches"].sum()
    assert fitted["exposure_years"].sum() == pytest.approx(rec["exposure_years"].sum(), rel=1e-12)
    assert ev["exposure_years"].sum() < panel["exposure_years"].sum()  # exits remove exposure
    assert all(isinstance(c, str) and c for c in fitted["country"])
