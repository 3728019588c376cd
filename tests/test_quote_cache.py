"""The quote's caches (compound results, discretised severities, layer means, the per-quote scope)
never carry one quote's numbers into another: a different schedule after a cached quote gives the
other answer, exactly what a process with empty caches gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from underwriting.domain.policy import load_policy
from underwriting.domain.submission import load_submission
from underwriting.errors import InputError
from underwriting.quote.frequency import _QUOTE_SCOPE
from underwriting.quote.make import make_quote

ROOT = Path(__file__).resolve().parent.parent


def _clear_caches():
    from underwriting.losses.aggregate import discretisation, engines
    from underwriting.pricing import layers, premium

    engines._compound_cached.cache_clear()
    discretisation._discretize_cached.cache_clear()
    discretisation._occurrence_cap_cached.cache_clear()
    discretisation._severity_top_cached.cache_clear()
    layers._layer_mean_cached.cache_clear()
    premium._ilf_rows_cached.cache_clear()


def test_a_cached_quote_never_answers_for_another_schedule(tmp_path):
    from underwriting.frequency.schedule import DEFAULT_SCHEDULE

    jp = load_submission(ROOT / "datasets/examples/jp_small_exchange.json")
    terms = load_policy(ROOT / "datasets/examples/policy_jp_primary.toml")
    text = DEFAULT_SCHEDULE.read_text(encoding="utf-8")
    old = "totp = 0.90"
    assert old in text
    harsh = tmp_path / "harsh.toml"
    harsh.write_text(text.replace(old, "totp = 1.0"), encoding="utf-8")

    a = make_quote(jp, terms)
    b = make_quote(jp, terms, schedule=str(harsh))  # after a cached quote of the same exchange
    assert b.premium > a.premium and b.p_breach_1y > a.p_breach_1y
    a2 = make_quote(jp, terms)
    assert a2.to_json() == a.to_json()
    _clear_caches()
    assert make_quote(jp, terms, schedule=str(harsh)).to_json() == b.to_json()
    _clear_caches()
    assert make_quote(jp, terms).to_json() == a.to_json()
    assert _QUOTE_SCOPE.get() is None


def test_the_quote_scope_ends_with_the_quote_even_when_it_fails():
    jp = load_submission(ROOT / "datasets/examples/jp_small_exchange.json")
    terms = load_policy(ROOT / "datasets/examples/policy_jp_primary.toml")
    bad = terms.model_copy(update={"limit": 0.5})
    with pytest.raises(InputError):
        make_quote(jp, bad)
    assert _QUOTE_SCOPE.get() is None
