"""The portfolio model against its oracles: single-exchange pricing, accumulation, Euler additivity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from underwriting.losses.aggregate import Peril
from underwriting.losses.counts import Poisson
from underwriting.losses.severity import Lognormal, exposure_severity
from underwriting.portfolio import Book, Dependence, Insured, simulate_book
from underwriting.pricing.layers import Layer


def test_independent_book_reproduces_single_exchange_pricing(sample_book):
    from underwriting.domain.currency import FxTable
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.portfolio import read_book_entries
    from underwriting.pricing.premium import price_perils
    from underwriting.quote.losses import build_loss_model

    from .conftest import SAMPLE_BOOK

    fx = FxTable.bundled()
    entries, *_ = read_book_entries(SAMPLE_BOOK)
    els = []
    for e in entries:
        lm = build_loss_model(load_submission(str(e["submission"])), load_policy(str(e["policy"])), fx=fx)
        els.append(price_perils(list(lm.perils), lm.layer).expected_loss)
    book = sample_book.with_dependence(market_variance=0.0).with_independent_vendors()
    assert book.summary()["shared_vendors"] == 0
    res = simulate_book(book, 200_000, seed=11)
    assert abs(res.aal - sum(els)) < 3 * res.aal_se, (res.aal, sum(els), res.aal_se)
    z = (res.exchange_aal - np.array(els)) / res.exchange_aal_se
    assert np.all(np.abs(z) < 3.5), z


def test_vendor_calibration_keeps_each_exchange_frequency(synth):
    got = np.zeros(synth.n)
    np.add.at(got, synth.pair_client, synth.pair_q * synth.vendor_rate[synth._pair_vendor])
    np.testing.assert_allclose(got, synth.vendor_mean, rtol=1e-12)
    assert synth.pair_q.max() <= synth.dependence.vendor_loss_prob + 1e-12
    ind = synth.with_independent_vendors()
    got2 = np.zeros(ind.n)
    np.add.at(got2, ind.pair_client, ind.pair_q * ind.vendor_rate[ind._pair_vendor])
    np.testing.assert_allclose(got2, synth.vendor_mean, rtol=1e-12)


def _vendor_heavy_book(n: int = 30) -> Book:
    sev = Lognormal(math.log(2e6), 1.5)
    ins = []
    for i in range(n):
        perils = (Peril("hot_wallet_theft", Poisson(0.02), exposure_severity(sev, 5e7)),
                  Peril("third_party_vendor", Poisson(0.02), exposure_severity(sev, 5e7)))
        ins.append(Insured(f"x{i:02d}", perils, Layer(deductible=1e5, limit=2e7, agg_limit=4e7),
                           vendors=("Shared Wallet Vendor",)))
    return Book.from_insureds(ins, Dependence(market_variance=0.0, vendor_loss_prob=0.8))


def test_shared_vendor_raises_tail_not_mean():
    shared = _vendor_heavy_book()
    apart = shared.with_independent_vendors()
    assert shared.n_vendors == 1 and apart.n_vendors == shared.n
    a = simulate_book(shared, 100_000, seed=5)
    b = simulate_book(apart, 100_000, seed=6)
    assert abs(a.aal - b.aal) < 3 * math.hypot(a.aal_se, b.aal_se)
    assert a.tvar(0.99) > 1.5 * b.tvar(0.99)
    aep = {r["return_period"]: r["aep"] for r in a.ep_curves()}
    bep = {r["return_period"]: r["aep"] for r in b.ep_curves()}
    assert aep[100] > bep[100]
    # a compromise of the shared vendor is one event over all its clients
    assert a.ep_curves()[-1]["oep"] > 2 * b.ep_curves()[-1]["oep"]


def test_market_factor_keeps_mean_and_fattens_tail(synth):
    calm = simulate_book(synth.with_dependence(market_variance=0.0), 40_000, seed=2)
    wild = simulate_book(synth.with_dependence(market_variance=0.5), 40_000, seed=2)
    assert abs(calm.aal - wild.aal) < 3 * math.hypot(calm.aal_se, wild.aal_se)
    assert wild.totals.std() > calm.totals.std()


def test_allocation_adds_up_to_tvar(synth):
    res = simulate_book(synth, 20_000, seed=4, levels=(0.99, 0.995))
    for p in (0.99, 0.995):
        co = res.co_tvar(p)
        assert co.sum() == pytest.approx(res.tvar(p), rel=1e-10)
        assert res.tvar_from_tail(p) == pytest.approx(res.tvar(p), rel=1e-12)
        alloc = res.allocation(p)
        assert sum(r["capital"] for r in alloc) == pytest.approx(res.tvar(p) - res.aal, rel=1e-9)
        assert all(r["co_tvar"] >= 0 for r in alloc)


def test_vectorised_engine_matches_the_naive_loop():
    from underwriting.portfolio import synthetic_book
    from underwriting.portfolio.reference import simulate_naive

    book = synthetic_book(12, seed=8, n_vendors=3, dependence=Dependence(market_variance=0.3), rate_multiplier=5)
    fast = simulate_book(book, 60_000, seed=1)
    slow = simulate_naive(book, 6_000, seed=2)
    se = math.hypot(fast.aal_se, slow.std(ddof=1) / math.sqrt(slow.size))
    assert abs(fast.aal - slow.mean()) < 3 * se
    # P(loss-free year) agrees as well (frequency, including the market factor and vendor events)
    p0f, p0s = np.mean(fast.totals == 0), np.mean(slow == 0)
    assert abs(p0f - p0s) < 3 * math.sqrt(p0s * (1 - p0s) / slow.size)


def test_results_are_deterministic_and_years_need_not_fill_blocks(synth):
    a = simulate_book(synth, 2_500, seed=9, block_years=1000)
    b = simulate_book(synth, 2_500, seed=9, block_years=1000, chunk_blocks=2)
    assert a.totals.size == 2_500
    assert np.array_equal(a.totals, b.totals)
    c = simulate_book(synth, 2_500, seed=10, block_years=1000)
    assert not np.array_equal(a.totals, c.totals)


def test_by_vendor_and_scenarios(sample_book):
    from underwriting.portfolio import default_scenarios, exchange_breach_scenario, vendor_scenario

    res = simulate_book(sample_book, 20_000, seed=1)
    rows = {r["vendor"]: r for r in res.by_vendor()}
    sigil = rows["Sigil Custody Tech (fictional)"]
    assert sigil["clients"] == 2 and sigil["years_compromised"] > 0
    assert sigil["book_loss_if_compromised"] > res.aal
    sc = vendor_scenario(sample_book, "Sigil Custody Tech")
    assert sc["clients"] == 2
    assert 0 < sc["expected_loss"] <= sc["expected_loss_all_clients_hit"] <= sc["max_loss"]
    eb = exchange_breach_scenario(sample_book, "harbour-hk")
    assert eb["loss"] == pytest.approx(0.9 * 200e6)  # full hot tier >> 10M xs 200M: the 90% share of the limit
    d = default_scenarios(sample_book)
    assert d["vendor_compromise"] and d["exchange_breach"]


def test_capital_load_for_a_quote():
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.portfolio import loaded_premium, portfolio_capital_load

    from .conftest import ROOT, SAMPLE_BOOK

    ex = ROOT / "datasets" / "examples"
    sub = load_submission(str(ex / "jp_small_exchange.json"))
    terms = load_policy(str(ex / "policy_jp_primary.toml"))
    c = portfolio_capital_load(SAMPLE_BOOK, sub, terms, years=5_000, seed=3)
    assert c.exchange_id == "sakura-jp" and c.currency == "JPY"
    assert c.capital_load == pytest.approx(0.10 * c.capital)
    assert c.capital_load_quote_currency == pytest.approx(c.capital_load * c.quote_per_usd)
    assert loaded_premium(c.aal, c.capital_load) > c.aal
    d = c.to_dict()
    assert d["method"].startswith("co-TVaR")
