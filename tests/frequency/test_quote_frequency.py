"""The quote's one risk model: the shipped α, the interval, the negative binomial count, the premium range."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from underwriting.domain.currency import FxTable
from underwriting.domain.submission import load_submission

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "datasets" / "examples"


def test_shipped_model_stores_the_marginal_likelihood_alpha_and_its_interval():
    doc = json.loads((ROOT / "models/frequency/0.1.0/model.json").read_text(encoding="utf-8"))
    prior = doc["experience_prior"]
    assert prior["alpha"] == pytest.approx(3.554, abs=5e-4)
    lo, hi = prior["interval"]
    assert lo < prior["alpha"] < hi and lo == pytest.approx(0.0223, abs=1e-4) and round(hi) == 567
    assert prior["breaches"] == 27 and prior["n_exchanges"] == 398
    card = (ROOT / "models/frequency/0.1.0/MODEL_CARD.md").read_text(encoding="utf-8")
    assert "α = 3.554" in card and "ASSUMPTION" in card
    # the legacy estimate stays in the signed 0.1.0 files; the quote uses the bounded, cross-validated alpha
    # (experience_prior.py: experience_fitted.json for 0.2.0, the default 0.2.1's own model.json), which
    # docs/schedule.md reports; 0.2.1 is 0.2.0's recipe on the same cohorts, so the alpha is the same
    from underwriting.frequency.experience_prior import FITTED_FILE, METHOD
    from underwriting.frequency.model import load_breach_frequency

    default = (ROOT / "models/frequency/DEFAULT").read_text(encoding="utf-8").strip()
    own = json.loads((ROOT / f"models/frequency/{default}/model.json").read_text(encoding="utf-8"))["experience_prior"]
    fitted = json.loads(FITTED_FILE.read_text(encoding="utf-8"))["0.2.0"]["experience_prior"]
    bf = load_breach_frequency()
    assert own["method"] == METHOD and bf.prior_used_ == own
    assert bf.prior_strength_ == own["alpha"] == fitted["alpha"] and bf.prior_used_["interval"][1] is None


def test_quote_frequency_equals_breach_frequency_and_carries_the_interval():
    from underwriting.frequency.base_panel import covariates_from_submission
    from underwriting.frequency.model import load_breach_frequency
    from underwriting.quote.make import make_quote

    sub = load_submission(str(EXAMPLES / "hk_exchange_with_incident.json"))
    q = make_quote(sub)
    bf = load_breach_frequency()
    res = bf.explain(covariates_from_submission(sub, fx=FxTable.bundled()), [sub], years=q.terms["term_years"])[0]
    f = q.frequency
    # the quote is canonical (docs/reproducibility.md): the same numbers to 6 significant digits
    from underwriting.domain.canonical import round_significant as r6

    assert f.method == "frequency" and f.annual_rate == r6(res.annual_rate)
    assert f.expected_breaches == r6(res.expected_breaches)
    assert q.p_breach_1y == r6(-math.expm1(-res.annual_rate))
    assert f.experience["prior_strength"] == r6(bf.prior_strength_) and f.experience["breaches"] == 1
    lo, hi = f.expected_breaches_interval
    assert lo < f.expected_breaches < hi
    # gamma mixing: CV² = exp(s²) − 1 with s from the 90% interval read as lognormal
    s = math.log(hi / lo) / (2 * 1.6448536269514722)
    assert f.variance_of_lambda == pytest.approx(f.expected_breaches ** 2 * math.expm1(s * s), rel=3e-5)  # 6 digits
    assert q.premium_range[0] < q.premium < q.premium_range[1]
    from underwriting.frequency.model import rate_band

    assert q.score.p_breach == q.p_breach_1y and q.risk_band == rate_band(res.annual_rate) == "D"  # 0.2.0: was C


def test_loss_model_counts_are_negative_binomial_with_the_mixing_variance():
    from underwriting.losses.counts import NegativeBinomial
    from underwriting.quote.losses import build_loss_model, default_terms

    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    lm = build_loss_model(sub, default_terms(sub), fx=FxTable.bundled())
    assert lm.perils and all(isinstance(p.frequency, NegativeBinomial) for p in lm.perils)
    total = sum(p.frequency.mean() for p in lm.perils)
    assert total == pytest.approx(lm.frequency.expected_breaches, rel=1e-12)
    assert sum(p.frequency.var() for p in lm.perils) > total  # over-dispersed
