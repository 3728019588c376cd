"""The per-process caches of the aggregate engine return exactly what an uncached computation does,
never a stale or shared-mutable result, and never cache what they cannot key by value."""

from __future__ import annotations

import dataclasses

import numpy as np

from underwriting.losses.aggregate import Peril, compound, discretize_layer, engines
from underwriting.losses.aggregate.discretisation import _discretize_impl, cacheable_severity
from underwriting.losses.counts import NegativeBinomial, Poisson
from underwriting.losses.severity import Lognormal, exposure_severity


def _perils(lam: float = 0.05):
    ground = Lognormal(mu=13.0, sigma=2.0)
    return [Peril("hot_wallet_theft", Poisson(lam), exposure_severity(ground, 5e7)),
            Peril("insider", NegativeBinomial(lam / 2, lam * lam / 8),
                  exposure_severity(ground, [5e7, 4e8], [0.8, 0.2]))]


KW = dict(deductible=1e5, limit=2e7, sublimits={"insider": 5e6}, agg_limit=4e7, n_buckets=2**12)


def test_cached_compound_equals_the_uncached_computation_bit_for_bit():
    a = compound(_perils(), **KW)
    b = compound(_perils(), **KW)  # a hit: built from equal (not identical) objects
    ref = engines._compound(_perils(), 1e5, 2e7, {"insider": 5e6}, 0.0, 4e7, 1.0, "fft", 2**12, 1, "dispersal",
                            200_000, None, 1e-9, 1e-6, 1e-3, True)
    for r in (a, b):
        assert r.values.tobytes() == ref.values.tobytes() and r.probs.tobytes() == ref.probs.tobytes()
        assert (r.mean, r.std, r.tvar(0.99), r.prob_attach) == (ref.mean, ref.std, ref.tvar(0.99), ref.prob_attach)


def test_a_changed_input_is_a_different_result_and_a_caller_cannot_spoil_the_cache():
    a = compound(_perils(0.05), **KW)
    a.diagnostics["n_buckets"] = -1
    a.diagnostics["two_scale"]["used"] = "spoiled"
    b = compound(_perils(0.05), **KW)
    assert b.diagnostics["n_buckets"] == 2**12 and b.diagnostics["two_scale"]["used"] != "spoiled"
    c = compound(_perils(0.06), **KW)
    assert c.mean > b.mean
    d = compound(_perils(0.05), **{**KW, "sublimits": {"insider": 4e6}})
    assert d.mean < b.mean


def test_user_severities_and_generators_are_never_cached():
    @dataclasses.dataclass(frozen=True, repr=False)
    class MyLognormal(Lognormal):  # a user subclass: may behave differently under equal parameters
        pass

    sev = MyLognormal(mu=13.0, sigma=2.0)
    assert not cacheable_severity(sev) and cacheable_severity(Lognormal(mu=13.0, sigma=2.0))
    assert engines._cache_key([Peril("p", Poisson(0.1), sev)], *([0.0] * 16)) is None
    ok = [Peril("p", Poisson(0.1), Lognormal(mu=13.0, sigma=2.0))]
    args = [0.0, np.inf, None, 0.0, np.inf, 1.0, "fft", 2**12, 1, "dispersal", 1000, None, 1e-9, 1e-6, 1e-3, True]
    assert engines._cache_key(ok, *args) is not None
    args[11] = np.random.default_rng(0)
    assert engines._cache_key(ok, *args) is None
    args[11], args[6] = 0, "mc"
    assert engines._cache_key(ok, *args) is None


def test_discretised_severity_is_a_private_copy():
    sev = exposure_severity(Lognormal(mu=13.0, sigma=2.0), [5e7, 4e8], [0.8, 0.2])
    f = discretize_layer(sev, 1e5, 2e7, 1e5, 512)
    ref = _discretize_impl(sev, 1e5, 2e7, 1e5, 512, "dispersal")
    assert f.tobytes() == ref.tobytes()
    f[:] = 0.0
    assert discretize_layer(sev, 1e5, 2e7, 1e5, 512).tobytes() == ref.tobytes()


def test_a_grid_result_is_shared_across_seeds_and_a_monte_carlo_fallback_is_not(monkeypatch):
    engines._compound_cached.cache_clear()
    a = compound(_perils(), **KW, random_state=1)
    assert len(engines._compound_cached) == 1
    b = compound(_perils(), **KW, random_state=2)  # the seed never reaches a grid: the same result
    assert len(engines._compound_cached) == 1
    assert a.probs.tobytes() == b.probs.tobytes() and (a.mean, a.std) == (b.mean, b.std)

    calls = []

    def fallback(perils, *args):  # every grid failed: the result is Monte Carlo with this seed
        seed = args[11]
        calls.append(seed)
        return engines._compound_mc(perils, engines._terms(*args[:6]), 1000, seed, 1.0, 1.0)

    monkeypatch.setattr(engines, "_compound", fallback)
    kw = {**KW, "deductible": 2e5}
    m1 = compound(_perils(), **kw, random_state=1)
    m2 = compound(_perils(), **kw, random_state=2)
    m1b = compound(_perils(), **kw, random_state=1)
    assert calls == [1, 2] and m1.method == "mc"
    assert m1.values.tobytes() == m1b.values.tobytes() and m1.values.tobytes() != m2.values.tobytes()


def test_the_cache_keeps_at_most_its_size():
    engines._compound_cached.cache_clear()
    for i in range(engines.COMPOUND_CACHE_SIZE + 3):
        compound(_perils(0.01 + 0.001 * i), **KW)
    assert len(engines._compound_cached) == engines.COMPOUND_CACHE_SIZE
