"""Held-out style suite: sixteen layers priced at the engine's DEFAULT settings.

Each case is checked against closed forms (mean and SD of the loss to 1e-4 where no aggregate
term applies) and against a high-precision reference computed once and stored in
``tests/pricing/data/heldout_references.json`` (VaR and TVaR at 99% and 99.5% to 1e-3; mean and
SD to 1e-4 where there are aggregate terms). How the references were made: see
``tests/pricing/make_heldout_references.py`` (the finest of 2**22, 2**21, 2**20-bucket FFTs whose own moment
check passes, each cross-checked with a seeded Monte Carlo of up to 4 million terms whose figures
are stored alongside; the compound geometric-exponential case uses its closed form).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from heldout_cases import CASES, LEVELS, build

from underwriting.losses.aggregate import compound

REFS = json.loads((Path(__file__).parent / "data" / "heldout_references.json").read_text())

#: Cases the engine does not yet meet at its defaults (strict: they fail the test if they pass).
KNOWN_GAPS = {
    "ln_sigma2p5_unlimited": "no high-precision reference yet: with escalation off, grids of 2^18 to 2^22 "
                             "buckets fail their own moment checks for a lognormal with sigma = 2.5, and "
                             "the stored Monte Carlo reference (4 million terms) is off by several per cent "
                             "in TVaR (its mean is 8% above the closed form); the default engine passes its "
                             "check here",
}


def _closed_form(peril, terms):
    d = terms.get("deductible", 0.0)
    lim = terms.get("limit", math.inf)
    share = terms.get("share", 1.0)
    e1 = peril.severity.layer_moment(d, lim, 1)
    e2 = peril.severity.layer_moment(d, lim, 2)
    en, vn = peril.frequency.mean(), peril.frequency.var()
    return share * en * e1, share * math.sqrt(en * e2 + (vn - en) * e1 * e1)


def test_there_are_at_least_fifteen_cases_covering_the_required_kinds():
    assert len(CASES) >= 15 and set(REFS) == set(CASES)
    kinds = " ".join(CASES)
    for word in ("unlimited", "negbin", "agg_limit", "agg_deductible", "share", "thin_high", "gamma"):
        assert word in kinds


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[n])) if n in KNOWN_GAPS else n
    for n in CASES])
def test_default_settings_meet_closed_forms_and_references(name):
    peril, terms = build(name)
    ref = REFS[name]
    r = compound(peril, **terms)
    assert r.moment_check
    if "agg_limit" in terms or "agg_deductible" in terms:
        assert r.mean == pytest.approx(ref["mean"], rel=1e-4)
        assert r.std == pytest.approx(ref["std"], rel=1e-4)
    else:
        mean, sd = _closed_form(peril, terms)
        assert r.mean == pytest.approx(mean, rel=1e-4)
        assert r.std == pytest.approx(sd, rel=1e-4)
    for p in LEVELS:
        assert r.value_at_risk(p) == pytest.approx(ref[f"var_{p}"], rel=1e-3)
        assert r.tvar(p) == pytest.approx(ref[f"tvar_{p}"], rel=1e-3)
        assert r.tvar(p) >= r.value_at_risk(p)


def test_references_agree_with_their_monte_carlo_cross_check():
    for name, ref in REFS.items():
        if ref.get("reference_is_mc"):
            continue
        # the Monte Carlo means sit within 5 standard errors of the reference means
        assert abs(ref["mc_mean"] - ref["mean"]) <= 5 * ref["mc_se_mean"] + 1e-9 * ref["mean"], name
        for p in LEVELS:
            se = ref[f"mc_se_tvar_{p}"]
            assert abs(ref[f"mc_tvar_{p}"] - ref[f"tvar_{p}"]) <= 5 * se + 1e-6 * ref[f"tvar_{p}"], (name, p)
