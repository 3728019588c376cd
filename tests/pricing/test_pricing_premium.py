"""Premium principles (DOMAIN.md oracles), loads, price_layer and the price CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from underwriting.errors import InputError
from underwriting.losses.aggregate import Peril
from underwriting.losses.counts import NegativeBinomial, Poisson
from underwriting.losses.severity import Lognormal, cap_at_exposure
from underwriting.pricing.layers import Layer
from underwriting.pricing.premium import (
    DEFAULT_PRINCIPLE,
    Loadings,
    Principle,
    distortion_premium,
    parse_principle,
    price_layer,
    price_perils,
    wang_distortion,
)

LN = Lognormal(math.log(1e5), 2.0)
FREQ = Poisson(0.3)
LAYER = Layer(1e6, 9e6)


@pytest.fixture(scope="module")
def base():
    return price_layer(FREQ, LN, LAYER, principle="pure")


def test_pure_premium_oracle(base):
    assert base.premium == pytest.approx(87_807.56, rel=1e-6)
    assert base.expected_loss == pytest.approx(87_807.56, rel=1e-6)
    assert base.std == pytest.approx(698_262.16, rel=1e-6)
    assert base.moment_check is True


def test_expected_value_principle_oracle():
    r = price_layer(FREQ, LN, LAYER, principle="expected_value:0.3")
    assert r.premium == pytest.approx(114_149.83, rel=1e-6)


def test_standard_deviation_principle_oracle():
    r = price_layer(FREQ, LN, LAYER, principle="std:0.5")
    assert r.premium == pytest.approx(436_938.64, rel=1e-6)


def test_other_principles(base):
    dist = base.distribution
    el, var, tvar = dist.mean, dist.variance, dist.tvar(0.995)
    assert Principle("variance", 1e-7).technical_premium(dist) == pytest.approx(el + 1e-7 * var)
    assert parse_principle("cost_of_capital:0.1").technical_premium(dist, 0.995) == pytest.approx(el + 0.1 * (tvar - el))
    # distortions: identity distortion gives the mean; Wang/PH load the tail monotonically
    assert distortion_premium(dist, lambda u: u) == pytest.approx(el, rel=1e-9)
    assert parse_principle("ph:1").technical_premium(dist) == pytest.approx(el, rel=1e-9)
    w1 = parse_principle("wang:0.1").technical_premium(dist)
    w2 = parse_principle("wang:0.3").technical_premium(dist)
    p1 = parse_principle("ph:0.9").technical_premium(dist)
    p2 = parse_principle("ph:0.6").technical_premium(dist)
    assert el < w1 < w2 and el < p1 < p2
    assert p2 <= 9e6  # never above the maximum loss


def test_wang_on_a_two_point_distribution():
    # Bernoulli(q) loss of 1: Wang premium = Phi(Phi^-1(q) + lam)
    from scipy import stats

    from underwriting.losses.aggregate import AggregateResult, MomentCheck
    mc = MomentCheck(0.1, 0.1, 0.09, 0.09, 1e-6, 1e-3, True)
    d = AggregateResult("fft", np.array([0.0, 1.0]), np.array([0.9, 0.1]), mc, 0.1, 0.1, 0.1, bucket=1.0)
    assert distortion_premium(d, wang_distortion(0.25)) == pytest.approx(stats.norm.cdf(stats.norm.ppf(0.1) + 0.25))


def test_loads_minimum_and_components(base):
    ld = Loadings(expense=0.1, commission=0.15, tax=0.03)
    r = price_layer(FREQ, LN, LAYER, principle="expected_value:0.3", loadings=ld)
    assert r.premium == pytest.approx(114_149.83 / 0.75 * 1.03, rel=1e-6)
    c = r.components
    total = c.expected_loss + c.risk_load + c.expense + c.commission + c.tax + c.reinstatement_credit + c.minimum_uplift
    assert total == pytest.approx(r.premium, rel=1e-12)
    m = price_layer(FREQ, LN, LAYER, principle="pure", loadings=Loadings(minimum_premium=250_000))
    assert m.premium == 250_000 and m.components.minimum_uplift == pytest.approx(250_000 - base.premium)
    assert r.rate_on_line == pytest.approx(r.premium / 9e6)
    assert r.loss_ratio == pytest.approx(r.expected_loss / r.premium)


def test_reinstatement_premium_split():
    layer = Layer(1e6, 9e6, reinstatements=1, reinstatement_premium=1.0)
    r = price_layer(FREQ, LN, layer, principle="expected_value:0.3")
    target = 1.3 * r.expected_loss
    assert r.premium + r.expected_reinstatement_premium == pytest.approx(target, rel=1e-9)
    assert 0 < r.expected_reinstatement_premium < r.premium


def test_result_fields(base):
    assert base.prob_attach == pytest.approx(1 - math.exp(-0.3 * LN.sf(1e6)), rel=1e-9)
    assert base.var <= base.tvar
    assert [row["limit"] for row in base.ilf_table][:3] == [1e6, 2e6, 5e6]
    ilf = [row["ilf"] for row in base.ilf_table]
    assert ilf[0] == 1.0 and all(a <= b for a, b in zip(ilf, ilf[1:], strict=False))
    nine = next(row for row in base.ilf_table if row["limit"] == 9e6)
    assert nine["expected_loss"] == pytest.approx(87_807.56, rel=1e-6)
    losses = [p["loss"] for p in base.ep_curve]
    assert losses == sorted(losses)
    json.dumps(base.to_dict(), allow_nan=False)


def test_mc_and_panjer_agree_with_fft(base):
    mc = price_layer(FREQ, LN, LAYER, principle="pure", method="mc", n_sims=300_000, random_state=42)
    assert abs(mc.expected_loss - base.expected_loss) <= 3 * mc.se_mean
    again = price_layer(FREQ, LN, LAYER, principle="pure", method="mc", n_sims=300_000, random_state=42)
    assert again.expected_loss == mc.expected_loss and again.seed == 42
    pj = price_layer(FREQ, LN, LAYER, principle="pure", method="panjer", n_buckets=2**14)
    assert pj.expected_loss == pytest.approx(base.expected_loss, rel=1e-6)


def test_multi_peril_exposure_capped_quote():
    own = Peril("hot_wallet_theft", NegativeBinomial(0.2, 0.04), cap_at_exposure(LN, 3e6))
    vendor = Peril("third_party_vendor", Poisson(0.05), cap_at_exposure(Lognormal(14.0, 1.8), 5e7))
    layer = Layer(1e6, 9e6, sublimits={"third_party_vendor": 5e6}, share=0.5)
    r = price_perils([own, vendor], layer, principle="cost_of_capital:0.1")
    el = 0.5 * (0.2 * float(LN.layer_mean(1e6, 2e6)) + 0.05 * float(Lognormal(14.0, 1.8).layer_mean(1e6, 5e6)))
    assert r.expected_loss == pytest.approx(el, rel=1e-6)
    assert r.moment_check
    assert r.var <= 0.5 * 9e6 * 50


@pytest.mark.parametrize("spec", ["magic:1", "wang:x", "ph:2", "std:-1", "variance", ""])
def test_bad_principles(spec):
    with pytest.raises(InputError):
        parse_principle(spec)


def test_bad_level():
    with pytest.raises(InputError) as e:
        price_layer(FREQ, LN, LAYER, level=1.0)
    assert e.value.field == "level"


# --- CLI ------------------------------------------------------------------------------------
def run_cli(capsys, *argv):
    from underwriting.cli.main import main

    rc = main(["price", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


BASE = ["--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.512925465,sigma=2"]


def test_cli_json(capsys):
    rc, out, _ = run_cli(capsys, *BASE, "--deductible", "1e6", "--limit", "9e6", "--json")
    assert rc == 0
    d = json.loads(out)
    for key in ("expected_loss", "std", "var", "tvar", "level", "premium", "method", "moment_check"):
        assert key in d
    assert d["expected_loss"] == pytest.approx(87_807.56, rel=1e-6)
    assert d["std"] == pytest.approx(698_262.16, rel=1e-6)
    assert d["tvar"] == pytest.approx(8.474e6, rel=1e-3)
    assert d["level"] == 0.995 and d["method"] == "fft" and d["moment_check"] is True
    # the one default principle of every entry point
    lib = price_layer(FREQ, LN, LAYER)
    assert d["principle"] == str(parse_principle(DEFAULT_PRINCIPLE)) == lib.principle
    assert d["premium"] == pytest.approx(lib.premium, rel=1e-9)
    wang = price_layer(FREQ, LN, LAYER, principle="wang:0.25")
    assert lib.premium == wang.premium


def test_cli_mc_table_and_suffixes(capsys):
    rc, out, _ = run_cli(capsys, *BASE, "--deductible", "1M", "--limit", "9M", "--method", "mc", "--seed", "7",
                         "--sims", "50000", "--principle", "expected_value:0.3")
    assert rc == 0 and "expected loss" in out and "9M xs 1M" in out


@pytest.mark.parametrize("extra,option", [
    (["--deductible", "1e7", "--limit", "1e6"], "--deductible"),
    (["--share", "-0.5"], "--share"),
    (["--level", "1.5"], "--level"),
    (["--level", "0"], "--level"),
    (["--severity", "gamma:a=1"], "--severity"),
    (["--severity", "lognormal:mu=1,sgma=2"], "--severity"),
    (["--severity", "lognormal:mu=1;sigma=2"], "--severity"),
    (["--severity", "lognormal:mu=1,sigma=-2"], "--severity"),
    (["--frequency", "poison:0.3"], "--frequency"),
    (["--frequency", "poisson:"], "--frequency"),
    (["--principle", "wang:x"], "--principle"),
    (["--method", "exact"], "--method"),
    (["--limit", "lots"], "--limit"),
    (["--reinstatements", "1.5"], "--reinstatements"),
])
def test_cli_bad_input_exits_2_naming_the_option(capsys, extra, option):
    args = list(BASE) + ["--deductible", "1e6", "--limit", "9e6"]
    for i in range(0, len(extra), 2):
        if extra[i] in args:
            j = args.index(extra[i])
            args[j + 1] = extra[i + 1]
        else:
            args += extra[i:i + 2]
    rc, _, err = run_cli(capsys, *args)
    assert rc == 2
    assert err.startswith("error: ") and option in err
    assert "Traceback" not in err


def test_cli_high_layer_flag(capsys):
    rc, out, _ = run_cli(capsys, *BASE, "--deductible", "1e7", "--limit", "1e6", "--high-layer", "--json")
    assert rc == 0
    assert json.loads(out)["expected_loss"] == pytest.approx(0.3 * float(LN.layer_mean(1e7, 1e6)), rel=1e-6)


def test_severity_beyond_any_plausible_loss_is_an_input_error(capsys):
    from underwriting.cli.main import main

    code = main(["price", "--frequency", "poisson:0.3", "--severity", "lognormal:mu=500,sigma=2",
                 "--deductible", "1e6", "--limit", "9e6", "--json"])
    err = capsys.readouterr().err
    assert code == 2 and "severity" in err and "99.9% quantile" in err


# --- never silently wrong (#15 items 3 and 4) -------------------------------------------------
def test_issue_examples_are_now_correct_with_a_check_that_means_something(capsys):
    from underwriting.losses.severity import Lomax

    # geometric(0.3) x lognormal(30, 10), 1e12 xs 1e6: the stop-loss form cancelled to 0 before
    rc, out, _ = run_cli(capsys, "--frequency", "geometric:beta=0.3", "--severity", "lognormal:mu=30,sigma=10",
                         "--deductible", "1e6", "--limit", "1e12", "--json")
    d = json.loads(out)
    sev = Lognormal(30.0, 10.0)
    q1, _ = sev.layer_moments_by_quadrature(1e6, 1e12)
    assert rc == 0 and d["moment_check"] is True
    assert d["expected_loss"] == pytest.approx(0.3 * q1, rel=1e-6) and d["expected_loss"] > 1e11
    # poisson(5) x lomax(1.0001, 1e7), 1 xs 0: cannot exceed 5 x 1
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:5", "--severity", "lomax:alpha=1.0001,theta=1e7",
                         "--deductible", "0", "--limit", "1", "--json")
    d = json.loads(out)
    assert rc == 0 and d["moment_check"] is True
    assert d["expected_loss"] == pytest.approx(5 * float(Lomax(1.0001, 1e7).lev(1.0)), rel=1e-9)
    assert d["expected_loss"] <= 5.0


@pytest.mark.parametrize("extra,option", [
    (["--buckets", "33554432"], "--buckets"),
    (["--buckets", "8"], "--buckets"),
    (["--method", "mc", "--sims", "50000000"], "--sims"),
    (["--frequency", "poisson:1e4", "--method", "mc"], "--sims"),
    (["--frequency", "poisson:1e6"], "--frequency"),
    (["--reinstatements", "1000000"], "--reinstatements"),
])
def test_limits_are_checked_before_work_and_name_the_option(capsys, extra, option):
    args = list(BASE) + ["--deductible", "1e6", "--limit", "9e6"]
    for i in range(0, len(extra), 2):
        if extra[i] in args:
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i:i + 2]
    rc, _, err = run_cli(capsys, *args)
    assert rc == 2 and err.startswith("error: ") and option in err, err


def test_the_library_refuses_rather_than_returning_a_failed_check():
    from underwriting.losses.aggregate import PricingRefused
    from underwriting.losses.severity import Lomax

    with pytest.raises(PricingRefused) as e:
        price_layer(Poisson(5.0), Lomax(1.2, 1e6), Layer(), n_buckets=256, eps=1e-3)
    assert "refused" in str(e.value) and isinstance(e.value, InputError)
