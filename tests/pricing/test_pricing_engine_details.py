"""Issue #31: engine details an actuary checks (atoms in VaR, P(exhaust) bounds, reinstatements
charged in full, the echo of a capped severity). Every reference is computed in the test."""

from __future__ import annotations

import json

from underwriting.cli.main import main


def run_cli(capsys, *argv):
    rc = main(["price", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_json_echo_of_a_capped_severity_keeps_its_base_family(capsys):
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.5,sigma=2",
                         "--deductible", "1e6", "--limit", "9e6", "--cap", "5e6", "--json")
    assert rc == 0
    echo = json.loads(out)["severity"]
    assert echo == {"family": "lognormal", "mu": 11.5, "sigma": 2.0, "cap": 5e6}
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:0.3", "--severity", "gamma:shape=0.5,scale=2e6",
                         "--deductible", "1e6", "--limit", "9e6", "--json")
    assert json.loads(out)["severity"] == {"family": "gamma", "shape": 0.5, "scale": 2e6}


# --- independent references: compound distributions of losses rounded down / up to a grid --------
import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import fft, stats  # noqa: E402

from underwriting.losses.aggregate import Peril, compound  # noqa: E402
from underwriting.losses.aggregate.results import _refined_var  # noqa: E402
from underwriting.losses.counts import make_frequency  # noqa: E402
from underwriting.losses.severity import make_severity  # noqa: E402
from underwriting.pricing.layers import Layer  # noqa: E402


def poisson_pgf(lam):
    return lambda z: np.exp(lam * (z - 1))


def negbin_pgf(mean, var_lambda):  # gamma-mixed Poisson: r = mean^2 / var_lambda, beta = var_lambda / mean
    r, beta = mean**2 / var_lambda, var_lambda / mean
    return lambda z: (1 - beta * (z - 1)) ** (-r)


def rounded_compounds(cdf, pgf, d, lim, h, n=2**19):
    """Distributions of S_down <= S <= S_up on the grid h (lim/h whole): every occurrence payment
    Y = min((X - d)+, lim) rounded down, resp. up, to the grid, compounded by FFT with the count's pgf."""
    m = int(round(lim / h))
    assert abs(m * h - lim) < 1e-9 * lim
    F = cdf(d + h * np.arange(m + 1))  # P(X <= d + kh)
    dn, up = np.zeros(n), np.zeros(n)
    dn[0] = F[1]
    dn[1:m] = np.diff(F)[1:]
    dn[m] = 1 - F[m]
    up[0] = F[0]
    up[1:m] = np.diff(F)[: m - 1]
    up[m] = 1 - F[m - 1]
    return [np.maximum(fft.irfft(pgf(fft.rfft(f)), n=n), 0.0) for f in (dn, up)]


def ge(g, h, a):  # P(S >= a) of a grid distribution
    return float(g[int(math.ceil(a / h - 1e-9)):].sum())


def gt(g, h, a):  # P(S > a)
    return float(g[int(math.floor(a / h + 1e-9)) + 1:].sum())


# --- 1. VaR on a point mass --------------------------------------------------------------------
def test_issue_repro_var_on_the_atom_is_exact(capsys):
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:0.35", "--severity", "gamma:shape=0.2229,scale=2.645e8",
                         "--deductible", "50000000.0", "--limit", "150000000.0", "--share", "0.2", "--level", "0.995",
                         "--json")
    assert rc == 0
    assert json.loads(out)["var"] == 30_000_000.0
    # why it must be: P(S < 150M) < 0.99 < 0.995 <= P(S <= 150M), bounded in the test
    lo, hi = rounded_compounds(stats.gamma(0.2229, scale=2.645e8).cdf, poisson_pgf(0.35), 5e7, 1.5e8, 1.5e8 / 4000)
    h = 1.5e8 / 4000
    f_below = 1 - ge(lo, h, 1.5e8)  # >= P(S < lim)  (S_down <= S)
    f_at = 1 - gt(hi, h, 1.5e8)  # <= P(S <= lim)  (S_up >= S)
    assert f_below < 0.99 and f_at >= 0.995
    assert f_below == pytest.approx(0.9695, abs=1e-4) and f_at == pytest.approx(0.9972, abs=1e-4)
    res = compound(Peril("all", make_frequency("poisson", lam=0.35), make_severity("gamma", shape=0.2229,
                                                                                   scale=2.645e8)),
                   deductible=5e7, limit=1.5e8, share=0.2)
    assert res.value_at_risk(0.99) == 30_000_000.0


ATOM_CASES = [
    # (frequency, pgf, severity, scipy cdf, d, lim, share, agg_limit, atom of S (100%))
    (("poisson", {"lam": 0.5}), poisson_pgf(0.5), ("lognormal", {"mu": 16.36, "sigma": 2.13}),
     stats.lognorm(2.13, scale=math.exp(16.36)).cdf, 1e7, 1.4e8, 1.0, None, 1.4e8),
    (("poisson", {"lam": 1.2}), poisson_pgf(1.2), ("weibull", {"shape": 0.4668, "scale": 2.836e7}),
     stats.weibull_min(0.4668, scale=2.836e7).cdf, 5e6, 5e7, 1.0, None, 5e7),
    (("negbin", {"mean": 2.0, "var_lambda": 3.0}), negbin_pgf(2.0, 3.0), ("lomax", {"alpha": 0.8198, "theta": 1.04e7}),
     stats.lomax(0.8198, scale=1.04e7).cdf, 2e7, 6e7, 1.0, None, 1.2e8),  # two exhausted limits
    (("poisson", {"lam": 0.35}), poisson_pgf(0.35), ("gamma", {"shape": 0.2229, "scale": 2.645e8}),
     stats.gamma(0.2229, scale=2.645e8).cdf, 5e7, 1.5e8, 0.8, None, 1.5e8),  # 0.8 share: 120M
]


@pytest.mark.parametrize("case", ATOM_CASES, ids=["lognormal-140M", "weibull-50M", "lomax-2x60M", "gamma-share"])
def test_var_inside_an_atom_is_the_atom(case):
    (ff, fp), pgf, (sf_, sp), cdf, d, lim, share, agg, atom = case
    h = lim / 2000
    lo, hi = rounded_compounds(cdf, pgf, d, lim, h)
    f_below, f_at = 1 - ge(lo, h, atom), 1 - gt(hi, h, atom)  # F(atom-) <= f_below, F(atom) >= f_at
    assert f_at - f_below > 1e-4  # a real point mass
    res = compound(Peril("all", make_frequency(ff, **fp), make_severity(sf_, **sp)), deductible=d, limit=lim,
                   share=share)
    for w in (0.1, 0.5, 0.9):
        p = f_below + w * (f_at - f_below)
        assert res.value_at_risk(p) == share * atom
    # just outside the atom the VaR leaves it, on the right side
    assert res.value_at_risk(f_below - 2e-3) < share * atom < res.value_at_risk(min(f_at + 2e-3, 0.9999))


def test_batch_rows_keep_the_atoms_too():
    from underwriting.losses.aggregate import compound_batch

    f, s = make_frequency("poisson", lam=0.35), make_severity("gamma", shape=0.2229, scale=2.645e8)
    f2, s2 = make_frequency("negbin", mean=2.5, var_lambda=5), make_severity("lomax", alpha=1.4, theta=2e6)
    b = compound_batch([f, f2], [s, s2], deductibles=[5e7, 1e6], limits=[1.5e8, 9e6], agg_limits=[math.inf, 36e6],
                       shares=[0.2, 1.0], level=0.995)
    assert b.var[0] == 30_000_000.0
    assert b.prob_exhaust[1] == pytest.approx(0.0034548055, abs=5e-9)


def test_refined_var_on_point_masses():
    h, n = 1.0, 400
    x = h * np.arange(n)
    dens = np.exp(-x / 60.0)
    probs = dens / dens.sum() * 0.7
    probs[0] += 0.1  # no loss
    probs[200] += 0.2  # an exhausted limit
    atoms = np.zeros(n)
    atoms[0], atoms[200] = 0.1, 0.2
    cdf = np.cumsum(probs)
    cont = probs - atoms
    # the model's CDF just below 200: the continuous mass at 200 splits about half each way (exactly
    # half for a flat density; here within the point's continuous mass)
    f_below = cdf[199] + cont[200]
    f_at = cdf[200] - cont[200]
    for p in np.linspace(f_below + 1e-9, f_at, 7):
        assert _refined_var(x, probs, cdf, p, atoms) == 200.0
    # between two grid points away from the atom: linear between the mid-CDF points, as without atoms
    p = 0.5 * (cdf[50] - 0.5 * probs[50] + cdf[51] - 0.5 * probs[51])
    assert _refined_var(x, probs, cdf, p, atoms) == pytest.approx(50.5, abs=1e-9)
    assert _refined_var(x, probs, cdf, p, None) == pytest.approx(50.5, abs=1e-9)
    # without the atom information the old estimator interpolates into the atom (the bug of #31)
    assert _refined_var(x, probs, cdf, f_at - 0.01, None) != 200.0
    # monotone in p across the atom
    ps = np.linspace(cdf[190], cdf[210], 101)
    vs = [_refined_var(x, probs, cdf, q, atoms) for q in ps]
    assert all(b >= a for a, b in zip(vs, vs[1:], strict=False))
    # a level below the continuous CDF just above 0 keeps the zero atom
    assert _refined_var(x, probs, cdf, 0.05, atoms) == 0.0


# --- 2. P(exhaust) with an aggregate limit within its bounds ----------------------------------------
EXHAUST_CASES = [
    # issue repro: 3 reinstatements of 9M xs 1M, aggregate limit 36M
    (("negbin", {"mean": 2.5, "var_lambda": 5.0}), negbin_pgf(2.5, 5.0), ("lomax", {"alpha": 1.4, "theta": 2e6}),
     stats.lomax(1.4, scale=2e6).cdf, 1e6, 9e6, {"reinstatements": 3, "reinstatement_premium": 0.5}, 36e6),
    # an aggregate limit that is not a multiple of the occurrence limit
    (("poisson", {"lam": 0.8}), poisson_pgf(0.8), ("lognormal", {"mu": 14.0, "sigma": 1.5}),
     stats.lognorm(1.5, scale=math.exp(14.0)).cdf, 1e6, 4e6, {"agg_limit": 10e6}, 10e6),
    # an aggregate deductible and limit
    (("poisson", {"lam": 1.5}), poisson_pgf(1.5), ("gamma", {"shape": 0.5, "scale": 4e6}),
     stats.gamma(0.5, scale=4e6).cdf, 5e5, 5e6, {"agg_deductible": 2e6, "agg_limit": 8e6}, 10e6),
    # one reinstatement: aggregate limit twice the occurrence limit (an atom sits on it)
    (("negbin", {"mean": 1.0, "var_lambda": 2.0}), negbin_pgf(1.0, 2.0),
     ("weibull", {"shape": 0.4668, "scale": 2.836e7}), stats.weibull_min(0.4668, scale=2.836e7).cdf, 2e6, 3e7,
     {"reinstatements": 1}, 6e7),
]


@pytest.mark.parametrize("case", EXHAUST_CASES, ids=["issue-negbin-lomax", "poisson-lognormal", "agg-ded", "one-reinst"])
def test_prob_exhaust_lies_within_its_rounding_bounds(case):
    (ff, fp), pgf, (sf_, sp), cdf, d, lim, terms, a = case
    layer = Layer(deductible=d, limit=lim, **terms)
    res = layer.loss_distribution(Peril("all", make_frequency(ff, **fp), make_severity(sf_, **sp)))
    for m in (2000, 8000):
        h = lim / m
        lo, hi = rounded_compounds(cdf, pgf, d, lim, h)
        lower, upper = ge(lo, h, a), ge(hi, h, a)
        assert lower <= res.prob_exhaust <= upper, (m, lower, res.prob_exhaust, upper)


def test_issue_repro_prob_exhaust(capsys):
    rc, out, _ = run_cli(capsys, "--frequency", "negbin:mean=2.5,var_lambda=5", "--severity",
                         "lomax:alpha=1.4,theta=2e6", "--deductible", "1000000.0", "--limit", "9000000.0",
                         "--reinstatements", "3", "--reinstatement-premium", "0.5", "--level", "0.995", "--json")
    assert rc == 0
    pe = json.loads(out)["prob_exhaust"]
    # the issue's strict upper bound and its reference (aggregate at 2^21 buckets, Monte Carlo)
    assert pe < 0.0034555886
    assert pe == pytest.approx(0.0034548055, abs=5e-9)


# --- 3. reinstatements charged in full ----------------------------------------------------------------
def sundt_in_full(prob_above, limit, premiums):
    """Sundt's expected reinstatement premium (fraction of the upfront premium) when each
    reinstatement is charged in full: sum_i c_i P(S > (i - 1) lim)."""
    return sum(c * prob_above((i - 1) * limit) for i, c in enumerate(premiums, start=1))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_in_full_factor_is_sundt_on_the_simulated_distribution(k):
    peril = Peril("all", make_frequency("negbin", mean=2.5, var_lambda=5), make_severity("lomax", alpha=1.4,
                                                                                          theta=2e6))
    cs = [0.5, 1.0, 0.75, 0.25, 1.0][:k]
    layer = Layer(deductible=1e6, limit=9e6, reinstatements=k, reinstatement_premium=tuple(cs),
                  pro_rata_amount=False)
    res = layer.loss_distribution(peril, method="mc", n_sims=100_000, random_state=3)
    s = np.asarray(res.diagnostics["samples_in_order"])  # min(S, (k+1) lim) per simulated term
    ref = sundt_in_full(lambda x: float(np.mean(s > x + 1e-6)), 9e6, cs)
    assert layer.reinstatement_factor(res) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_in_full_factor_is_sundt_on_the_grid(k):
    """FFT: equal to Sundt's formula on the test's own compound distributions (losses rounded down and
    up to grids of 4000 and 16000 buckets per limit, each extrapolated to h -> 0, O(h^2))."""
    peril = Peril("all", make_frequency("negbin", mean=2.5, var_lambda=5), make_severity("lomax", alpha=1.4,
                                                                                          theta=2e6))
    cs = [0.5] * k
    layer = Layer(deductible=1e6, limit=9e6, reinstatements=k, reinstatement_premium=0.5, pro_rata_amount=False)
    got = layer.reinstatement_factor(layer.loss_distribution(peril))
    refs = []
    for m in (4000, 16000):
        h = 9e6 / m
        lo, hi = rounded_compounds(stats.lomax(1.4, scale=2e6).cdf, negbin_pgf(2.5, 5.0), 1e6, 9e6, h, n=2**20)
        refs.append([sundt_in_full(lambda x, g=g, h=h: gt(g, h, x), 9e6, cs) for g in (lo, hi)])
        assert refs[-1][0] <= got <= refs[-1][1]
    extrapolated = [(4 * refs[1][j] - refs[0][j]) / 3 for j in (0, 1)]
    assert extrapolated[1] - extrapolated[0] < 2e-7
    assert got == pytest.approx(0.5 * sum(extrapolated), abs=3e-7)
    if k == 3:  # the issue's figure (Sundt's formula on aggregate at 2^21 buckets)
        assert got == pytest.approx(0.4261255, abs=1e-7)


def test_in_full_basis_in_policy_terms_cli_and_api(capsys, tmp_path):
    import tomllib
    from pathlib import Path

    import underwriting.api as uw
    from underwriting.domain.policy import PolicyTerms, load_policy
    from underwriting.quote.losses import default_terms
    from underwriting.quote.make import make_quote

    root = Path(__file__).resolve().parents[2]
    # policy terms (TOML): the basis reaches the pricing layer; the default is pro rata and is not dumped
    text = (root / "datasets/examples/policy_jp_primary.toml").read_text(encoding="utf-8")
    pol = load_policy(str(root / "datasets/examples/policy_jp_primary.toml"))
    assert pol.reinstatement_premium_basis == "pro_rata_amount" and pol.to_layer().pro_rata_amount
    assert "reinstatement_premium_basis" not in pol.model_dump()
    f = tmp_path / "in_full.toml"
    f.write_text('reinstatement_premium_basis = "in_full"\n' + text, encoding="utf-8")
    full = load_policy(str(f))
    assert tomllib.loads(f.read_text())["reinstatement_premium_basis"] == "in_full"
    assert full.to_layer().pro_rata_amount is False
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        PolicyTerms.model_validate({**pol.model_dump(), "reinstatement_premium_basis": "sometimes"})
    # CLI: the in-full factor of the library
    argv = ["--frequency", "negbin:mean=2.5,var_lambda=5", "--severity", "lomax:alpha=1.4,theta=2e6",
            "--deductible", "1e6", "--limit", "9e6", "--reinstatements", "3", "--reinstatement-premium", "0.5",
            "--json"]
    rc, out, _ = run_cli(capsys, *argv, "--reinstatement-basis", "in-full")
    d = json.loads(out)
    assert rc == 0 and d["layer"]["pro_rata_amount"] is False
    assert d["expected_reinstatement_premium"] / d["premium"] == pytest.approx(0.4261255, abs=1e-7)
    rc, out, _ = run_cli(capsys, *argv)
    assert json.loads(out)["layer"]["pro_rata_amount"] is True  # pro rata stays the default
    rc, _, err = run_cli(capsys, *argv, "--reinstatement-basis", "sometimes")
    assert rc == 2 and "--reinstatement-basis" in err
    # API: a custom layer charged in full is the quote of the same terms
    sub = uw.load_submission(root / "datasets/examples/jp_small_exchange.json")
    layer = uw.Layer(deductible=20e6, limit=200e6, reinstatements=2, pro_rata_amount=False)
    a = uw.price_layer(sub, layer, regime="jp-fsa-2026")
    terms = default_terms(sub).with_(policy_id="custom-layer", deductible=20e6, limit=200e6, reinstatements=2,
                                     aggregate_limit=600e6, reinstatement_premium_basis="in_full")
    assert a.to_json() == make_quote(sub, terms, regime="jp-fsa-2026").to_json()
    pro = uw.price_layer(sub, layer.with_(pro_rata_amount=True), regime="jp-fsa-2026")
    assert a.reinstatement_factor > pro.reinstatement_factor  # in full charges at least the pro rata amount


def test_atoms_of_two_perils_with_a_sub_limit():
    """A 45M limit and a 10M sub-limit: the atom at 90M is two exhausted limits of the first peril or
    nine of the second (Poisson counts: closed form); P(exhaust) of a 90M aggregate limit lies
    within its rounding bounds (both perils rounded on a grid dividing both limits)."""
    la, lb = 0.6, 1.5
    sa, sb = make_severity("lomax", alpha=0.8198, theta=1.04e7), make_severity("lognormal", mu=15.0, sigma=1.5)
    perils = [Peril("cold_wallet_theft", make_frequency("poisson", lam=la), sa),
              Peril("social_engineering", make_frequency("poisson", lam=lb), sb)]
    d, lim, sub = 5e6, 45e6, 10e6
    layer = Layer(deductible=d, limit=lim, reinstatements=1, sublimits={"social_engineering": sub})
    res = layer.loss_distribution(perils)
    cdf_a, cdf_b = stats.lomax(0.8198, scale=1.04e7).cdf, stats.lognorm(1.5, scale=math.exp(15.0)).cdf
    p0a, pfa, p0b, pfb = cdf_a(d), 1 - cdf_a(d + lim), cdf_b(d), 1 - cdf_b(d + sub)
    ea, eb = math.exp(-la * (1 - p0a)), math.exp(-lb * (1 - p0b))
    s = res.values  # no share, no aggregate deductible: S itself up to 90M
    on_grid = 0
    for amount, exact in [
        (0.0, ea * eb),
        (10e6, ea * eb * lb * pfb),
        (45e6, ea * eb * la * pfa),  # 4.5 sub-limits is no whole number
        (55e6, ea * eb * la * pfa * lb * pfb),
        (90e6, ea * eb * ((la * pfa) ** 2 / 2 + (lb * pfb) ** 9 / math.factorial(9))),
    ]:
        k = np.flatnonzero(np.abs(s - amount) <= 1e-9 * 45e6)
        if k.size:  # the grid holds 45M and its multiples; a sub-limit's atoms only where they fall on it
            on_grid += 1
            assert res.atoms[k[0]] == pytest.approx(exact, rel=1e-9, abs=1e-18), amount
        else:
            near = np.abs(s - amount) < res.bucket
            assert not np.any(res.atoms[near] > 0)
    assert on_grid >= 3
    # P(exhaust): bounds from both perils' losses rounded down / up to a grid dividing 10M and 45M
    h, n = 5e6 / 2000, 2**19
    gs = []
    for rounding in (0, 1):
        acc = np.ones(n // 2 + 1, dtype=complex)
        for cdf, lam, cap in ((cdf_a, la, lim), (cdf_b, lb, sub)):
            f = rounded_compounds(cdf, lambda z: z, d, cap, h, n)[rounding]  # identity pgf: one loss
            acc *= np.exp(lam * (fft.rfft(f) - 1))
        gs.append(np.maximum(fft.irfft(acc, n=n), 0.0))
    assert ge(gs[0], h, 90e6) <= res.prob_exhaust <= ge(gs[1], h, 90e6)


def test_var_on_an_exhausted_aggregate_limit(capsys):
    """VaR at the top of an aggregate limit (100M of 40M xs 0 with two reinstatements' worth of cover):
    the quantile of the point mass P(S >= 100M), kept exactly, on the CLI too."""
    cdf = stats.lomax(0.8198, scale=1.04e7).cdf
    lo, hi = rounded_compounds(cdf, poisson_pgf(2.0), 0.0, 4e7, 4e7 / 4000)
    h = 4e7 / 4000
    f_below = 1 - ge(lo, h, 1e8)  # >= P(S < 100M)
    assert f_below < 0.99
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:2", "--severity", "lomax:alpha=0.8198,theta=1.04e7",
                         "--limit", "40M", "--agg-limit", "100M", "--level", "0.99", "--json")
    assert rc == 0 and json.loads(out)["var"] == 100_000_000.0
    res = compound(Peril("all", make_frequency("poisson", lam=2.0), make_severity("lomax", alpha=0.8198,
                                                                                  theta=1.04e7)),
                   limit=4e7, agg_limit=1e8)
    for p in (f_below + 1e-3, 0.995, 0.9999):
        assert res.value_at_risk(p) == 100_000_000.0
    assert res.value_at_risk(f_below - 5e-3) < 100_000_000.0


def test_in_full_with_an_aggregate_deductible_within_its_bounds():
    """With an aggregate deductible every reinstatement, the first too, is P(S > D_a + (i-1) lim) of the
    model: within the rounding bounds, and P(attach) too."""
    cdf = stats.gamma(0.5, scale=4e6).cdf
    peril = Peril("all", make_frequency("poisson", lam=1.5), make_severity("gamma", shape=0.5, scale=4e6))
    layer = Layer(deductible=5e5, limit=5e6, agg_deductible=2e6, reinstatements=2, reinstatement_premium=(1.0, 0.5),
                  pro_rata_amount=False)
    res = layer.loss_distribution(peril)
    got = layer.reinstatement_factor(res)
    for m in (2000, 8000):
        h = 5e6 / m
        lo, hi = rounded_compounds(cdf, poisson_pgf(1.5), 5e5, 5e6, h)
        assert gt(lo, h, 2e6) <= res.prob_attach <= gt(hi, h, 2e6)
        bounds = [sundt_in_full(lambda x, g=g, h=h: gt(g, h, 2e6 + x), 5e6, (1.0, 0.5)) for g in (lo, hi)]
        assert bounds[0] <= got <= bounds[1], (m, bounds, got)
