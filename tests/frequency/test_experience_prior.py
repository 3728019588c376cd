"""The robust experience prior (experience_prior.py): bounded, chosen by cross-validated predictive
likelihood, finite for every data end, its profile interval shown in full; against independent computations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from underwriting.errors import InputError
from underwriting.frequency.experience_prior import (
    FITTED_FILE,
    METHOD,
    ExperienceSettings,
    fit_experience_prior,
    load_settings,
    prior_for_model,
    profile_interval,
)
from underwriting.lifecycle.rebuild_check import compare_json

SETTINGS = load_settings()


class _Flat:
    """A base model with one known rate per exchange (column ``rate``)."""

    def annual_rate(self, X):
        return pd.Series(X["rate"].to_numpy(float), index=X.index)


def _panel(rates, breach_years, years=range(2018, 2024)):
    """One calendar-year piece per exchange and year; ``breach_years[i]`` lists exchange i's breach years."""
    rows = []
    for i, r in enumerate(rates):
        for y in years:
            rows.append({"exchange_id": f"x{i}", "start": pd.Timestamp(y, 1, 1), "stop": pd.Timestamp(y + 1, 1, 1),
                         "exposure_years": 1.0, "breaches": breach_years[i].count(y), "rate": r})
    return pd.DataFrame(rows)


def _brute_pieces(panel, h):
    """Per origin ``t`` and exchange, what does not depend on ``α``: next year's count and rate, and the
    half-life-weighted past breaches and expected count (``α``-free, so computed once per panel)."""
    pieces = []
    for y in range(panel["start"].dt.year.min() + 1, panel["stop"].dt.year.max()):
        t = pd.Timestamp(y, 1, 1)
        for _, g in panel.groupby("exchange_id"):
            past, nxt = g[g["stop"] <= t], g[g["start"] == t]
            if nxt.empty:
                continue
            age = ((t - (past["start"] + (past["stop"] - past["start"]) / 2)).dt.days / 365.25).to_numpy()
            w = 0.5 ** (age / h)
            pieces.append((int(nxt["breaches"].iloc[0]), float(nxt["rate"].iloc[0]),
                           float((past["breaches"] * w).sum()), float((past["rate"] * past["exposure_years"] * w).sum())))
    return pieces


def _brute_predictive(panel, alpha, h, pieces=None):
    """The same criterion written out exchange by exchange with scipy's negative binomial (``pieces``:
    :func:`_brute_pieces` of ``panel`` and ``h``, when already computed)."""
    tot = 0.0
    for n, mu, past_breaches, past_expected in (_brute_pieces(panel, h) if pieces is None else pieces):
        shape = alpha + past_breaches
        rate = alpha + past_expected
        tot += stats.nbinom.logpmf(n, shape, rate / (rate + mu))
    return tot


def test_predictive_likelihood_matches_a_brute_force_computation():
    rng = np.random.default_rng(4)
    rates = rng.uniform(0.05, 0.4, 30)
    breaches = [[int(y) for y in rng.choice(range(2018, 2024), rng.integers(0, 3), replace=False)] for _ in rates]
    panel = _panel(rates, breaches)
    fit = fit_experience_prior(_Flat(), panel)
    pieces = _brute_pieces(panel, SETTINGS.half_life_years)
    assert fit["alpha"] == pytest.approx(max(
        (float(a) for a in np.exp(np.linspace(math.log(SETTINGS.alpha_min), math.log(SETTINGS.alpha_max),
                                              SETTINGS.grid_points))),
        key=lambda a: _brute_predictive(panel, a, SETTINGS.half_life_years, pieces)), rel=1e-12)
    assert fit["cv"]["loglik"] == pytest.approx(_brute_predictive(panel, fit["alpha"], SETTINGS.half_life_years),
                                                rel=1e-10)
    assert fit["cv"]["origins"] == 5  # 2019 .. 2023


def test_clustered_breaches_pull_alpha_down_and_poisson_counts_push_it_to_the_bound():
    rates = [0.1] * 60
    # a few exchanges breached every year, the rest never: strong spread -> the lower part of the grid
    clustered = _panel(rates, [list(range(2018, 2024)) if i < 4 else [] for i in range(60)])
    low = fit_experience_prior(_Flat(), clustered)
    # one breach each, spread evenly over exchanges and years: no spread -> the upper bound, never infinite
    even = _panel(rates, [[2018 + i % 6] if i % 2 == 0 else [] for i in range(60)])
    high = fit_experience_prior(_Flat(), even)
    assert low["alpha"] < 1.0
    assert high["alpha"] == pytest.approx(SETTINGS.alpha_max) and high["at_bound"]
    assert math.isfinite(high["alpha"]) and high["mle_alpha"] is None and high["interval"][1] is None


def test_profile_interval_against_scipy():
    rng = np.random.default_rng(7)
    mu = rng.uniform(0.5, 3.0, 400)
    n = rng.poisson(mu * rng.gamma(1.5, 1 / 1.5, mu.size))
    p = profile_interval(n, mu, 0.9)

    def ll(a):
        return stats.nbinom.logpmf(n, a, a / (a + mu)).sum()

    assert p["lo"] < p["mle"] < p["hi"] < math.inf
    drop = stats.chi2.ppf(0.9, 1) / 2
    for end in (p["lo"], p["hi"]):
        assert ll(end) == pytest.approx(ll(p["mle"]) - drop, abs=1e-6)
    assert ll(p["mle"]) >= max(ll(p["mle"] * 1.01), ll(p["mle"] / 1.01))
    # Poisson counts: the supremum is the Poisson limit and the upper end is infinite
    q = profile_interval(rng.poisson(mu), mu, 0.9)
    if math.isinf(q["mle"]):
        assert math.isinf(q["hi"]) and q["lo"] > 0


@pytest.fixture(scope="module")
def fits_by_data_end():
    from underwriting.frequency.base_survival import fit_shipped

    out = {}
    for end in ("2025-06-30", "2025-07-31", "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-25", "2025-11-30"):
        model, panel = fit_shipped(end=end)
        out[end] = fit_experience_prior(model, panel)
    return out


def test_moving_the_data_end_never_makes_alpha_infinite(fits_by_data_end):
    """The unbounded estimate is infinite for every data end before Upbit's second breach (2025-11-27); the
    bounded, cross-validated prior stays finite and inside its bounds for all of them."""
    for end, f in fits_by_data_end.items():
        assert math.isfinite(f["alpha"]) and SETTINGS.alpha_min <= f["alpha"] <= SETTINGS.alpha_max, end
        assert f["data_end"] == end
        assert f["interval"][0] is not None and f["interval"][0] > 0
        assert f["interval"][1] is None  # the counts cannot exclude "no spread": shown as infinity
    # the unbounded estimator: infinite (None) or finite depending on the data end and the base model's rows
    # (frequency 0.1.0: infinite before 2025-11-27, 3.554 after; the 0.2.0 recipe's recorded population: finite)
    for f in fits_by_data_end.values():
        assert f["mle_alpha"] is None or f["mle_alpha"] > 0
    # one event moves the bounded choice, but only inside the bounds
    alphas = [f["alpha"] for f in fits_by_data_end.values()]
    assert max(alphas) / min(alphas) <= SETTINGS.alpha_max / SETTINGS.alpha_min


def test_shipped_fit_is_stored_and_used():
    from underwriting.frequency.base_build import register
    from underwriting.frequency.model import load_breach_frequency
    from underwriting.registry import load_model

    register()
    base = load_model("frequency")
    used = prior_for_model(base)
    assert used["method"].startswith("cross-validated")
    # the default (0.2.1) stores its own fit in model.json; experience_fitted.json holds it for 0.2.0, built
    # before the method on the same cohort rows (Bit Station, added since, is on no cohort list): the same fit
    assert used == base.experience_prior_ and used["method"] == METHOD
    stored = json.loads(FITTED_FILE.read_text(encoding="utf-8"))["0.2.0"]
    assert stored["fingerprint_sha256"] == base.fingerprint_
    assert compare_json(stored["experience_prior"], used) == []
    assert SETTINGS.alpha_min <= used["alpha"] <= SETTINGS.alpha_max
    bf = load_breach_frequency()
    assert bf.prior_strength_ == used["alpha"] and bf.prior_used_["interval"][1] is None


def test_legacy_alpha_is_clipped_and_a_given_alpha_kept():
    class M:
        fingerprint_ = "other"
        registry_ = {"version": "9.9.9"}

    m = M()
    m.experience_prior_ = {"alpha": None}
    assert prior_for_model(m)["alpha"] == SETTINGS.alpha_max
    m.experience_prior_ = {"alpha": 100.0}
    assert prior_for_model(m)["alpha"] == SETTINGS.alpha_max
    m.experience_prior_ = {"alpha": 0.01}
    assert prior_for_model(m)["alpha"] == SETTINGS.alpha_min
    m.experience_prior_ = {"alpha": 9.0, "method": "given in the configuration ([frequency] prior_strength); x"}
    assert prior_for_model(m)["alpha"] == 9.0


def test_settings_are_checked(tmp_path):
    from pathlib import Path

    text = Path(load_settings().path).read_text(encoding="utf-8")
    bad = tmp_path / "e.toml"
    bad.write_text(text.replace("alpha_max = 5.0", "alpha_max = 0.1"), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_settings(bad)
    assert e.value.field == "prior.alpha_min"
    bad.write_text(text.replace("half_life_years = 5.0", "half_life_years = -1"), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_settings(bad)
    assert e.value.field == "weights.half_life_years"
    assert isinstance(load_settings(), ExperienceSettings)


def test_a_panel_without_breaches_or_origins_is_refused():
    with pytest.raises(InputError):
        fit_experience_prior(_Flat(), _panel([0.1, 0.2], [[], []]))
    with pytest.raises(InputError):
        fit_experience_prior(_Flat(), _panel([0.1, 0.2], [[2018], []], years=[2018]))


def test_stored_fit_is_reproduced_by_the_function(fits_by_data_end):
    """What fit_experience_prior gives on the shipped cohorts (data end 2025-11-30) is what is stored: in
    experience_fitted.json for 0.2.0 (built before the method) and in the default version's model.json (0.2.1, the
    same recipe and cohorts rebuilt after Bit Station joined incidents.csv, which is on no cohort list)."""
    root = Path(__file__).resolve().parents[2] / "models/frequency"
    default = (root / "DEFAULT").read_text(encoding="utf-8").strip()
    own = json.loads((root / default / "model.json").read_text(encoding="utf-8"))["experience_prior"]
    assert own["method"] == METHOD                       # the default stores its own bounded, cross-validated fit
    fresh = fits_by_data_end["2025-11-30"]
    for stored in (json.loads(FITTED_FILE.read_text(encoding="utf-8"))["0.2.0"]["experience_prior"], own):
        assert fresh["alpha"] == pytest.approx(stored["alpha"], rel=1e-9)
        assert fresh["interval"][0] == pytest.approx(stored["interval"][0], rel=1e-6) and stored["interval"][1] is None
        assert {k: fresh[k] for k in ("bounds", "n_exchanges", "breaches", "data_end", "method")} == \
            {k: stored[k] for k in ("bounds", "n_exchanges", "breaches", "data_end", "method")}
