"""Seeded fuzz of the ``price`` command: every input ends in exit 0 with finite numbers, or exit 2.

Exit 1 (an internal error), a traceback, NaN or infinity in the JSON would each fail. The inputs
span extreme frequencies, heavy and wide severities, unlimited and remote layers, aggregate
terms, shares, reinstatements and the three methods, on small grids so the test stays fast.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest


def _reject_constant(name):
    raise AssertionError(f"non-finite JSON constant {name}")


def _amount(rng, lo, hi, p_inf=0.0):
    if rng.random() < p_inf:
        return "inf"
    return f"{10 ** rng.uniform(lo, hi):.6g}"


def fuzz_args(seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    fam = rng.choice(["poisson", "negbin", "geometric"])
    mean = 10 ** rng.uniform(-4, 4.5)
    if fam == "poisson":
        freq = f"poisson:{mean:.6g}"
    elif fam == "negbin":
        freq = f"negbin:mean={mean:.6g},var_lambda={10 ** rng.uniform(-3, 3):.6g}"
    else:
        freq = f"geometric:beta={mean:.6g}"
    sev_fam = rng.choice(["lognormal", "lomax", "weibull", "gamma"])
    if sev_fam == "lognormal":
        sev = f"lognormal:mu={rng.uniform(-5, 35):.6g},sigma={10 ** rng.uniform(-2, 1.1):.6g}"
    elif sev_fam == "lomax":
        sev = f"lomax:alpha={10 ** rng.uniform(-0.3, 1):.6g},theta={10 ** rng.uniform(-2, 12):.6g}"
    elif sev_fam == "weibull":
        sev = f"weibull:shape={10 ** rng.uniform(-1, 0.7):.6g},scale={10 ** rng.uniform(-2, 12):.6g}"
    else:
        sev = f"gamma:shape={10 ** rng.uniform(-2, 2):.6g},scale={10 ** rng.uniform(-2, 12):.6g}"
    args = ["--frequency", freq, "--severity", sev, "--deductible", _amount(rng, -2, 12),
            "--limit", _amount(rng, -6, 13, p_inf=0.3), "--high-layer", "--json"]
    if rng.random() < 0.3:
        args += ["--agg-deductible", _amount(rng, 0, 12)]
    if rng.random() < 0.3:
        args += ["--agg-limit", _amount(rng, -3, 13)]
    if rng.random() < 0.3:
        args += ["--share", f"{rng.uniform(0.01, 1):.4g}"]
    if rng.random() < 0.2:
        args += ["--reinstatements", str(int(rng.integers(0, 5)))]
    method = rng.choice(["fft", "fft", "fft", "mc", "panjer"])
    args += ["--method", str(method)]
    if method == "mc":
        args += ["--sims", str(int(rng.integers(100, 5000))), "--seed", str(seed)]
    else:
        args += ["--buckets", str(int(2 ** rng.integers(6, 13)))]
    if rng.random() < 0.3:
        args += ["--principle", str(rng.choice(["pure", "std:0.5", "wang:0.25", "ph:0.8", "cost_of_capital:0.1"]))]
    return args


@pytest.mark.parametrize("seed", range(40))
def test_price_exits_0_with_finite_numbers_or_2(capsys, seed):
    from underwriting.cli.main import main

    args = fuzz_args(seed)
    rc = main(["price", *args])
    out, err = capsys.readouterr()
    assert rc in (0, 2), (args, err)
    assert "Traceback" not in err
    if rc == 2:
        assert err.startswith("error: ") and "--" in err, err
        return
    d = json.loads(out, parse_constant=_reject_constant)
    for key in ("expected_loss", "std", "var", "tvar", "premium", "technical_premium"):
        assert isinstance(d[key], float | int) and math.isfinite(d[key]), (key, d[key], args)
    assert d["moment_check"] is True
    assert d["tvar"] >= d["var"] * (1 - 1e-12) - 1e-9
    assert 0 <= d["expected_loss"] <= d["tvar"] * (1 + 1e-9) + 1e-9 or d["method"] == "mc"
