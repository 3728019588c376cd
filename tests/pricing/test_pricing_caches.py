"""The pricing stage's per-process caches (ILF tables, the bundled FX table) give exactly what an
uncached computation gives, and a caller cannot spoil them."""

from __future__ import annotations

import dataclasses

from underwriting.domain.currency import FxTable
from underwriting.losses.aggregate import Peril
from underwriting.losses.counts import Poisson
from underwriting.losses.severity import Lognormal
from underwriting.pricing import premium
from underwriting.pricing.layers import Layer
from underwriting.resources import dataset_path


def _perils(lam=0.05, sev=None):
    sev = sev or Lognormal(mu=13.0, sigma=2.0)
    return [Peril("hot_wallet_theft", Poisson(lam), sev), Peril("insider", Poisson(lam / 3), sev)]


LAYER = Layer(deductible=1e5, limit=2e7, sublimits={"insider": 5e6})
LIMITS = [1e6, 5e6, 1e7]


def test_ilf_table_cached_equals_uncached_and_is_the_callers_own():
    premium._ilf_rows_cached.cache_clear()
    ref = premium._ilf_rows(_perils(), 1e5, 1.0, {"insider": 5e6}, (1e6, 5e6, 1e7, 2e7))
    a = premium._ilf_table(_perils(), LAYER, LIMITS)
    assert premium._ilf_rows_cached.cache_info().currsize == 1
    a[0]["ilf"] = -1.0
    b = premium._ilf_table(_perils(), LAYER, LIMITS)  # a hit, from equal (not identical) perils
    assert premium._ilf_rows_cached.cache_info().hits == 1
    assert b == ref and b[0]["ilf"] == 1.0
    assert premium._ilf_table(_perils(0.06), LAYER, LIMITS)[-1]["expected_loss"] > b[-1]["expected_loss"]


def test_a_user_severity_never_enters_the_ilf_cache():
    @dataclasses.dataclass(frozen=True, repr=False)
    class MyLognormal(Lognormal):
        pass

    premium._ilf_rows_cached.cache_clear()
    premium._ilf_table(_perils(sev=MyLognormal(mu=13.0, sigma=2.0)), LAYER, LIMITS)
    assert premium._ilf_rows_cached.cache_info().currsize == 0


def test_the_bundled_fx_table_is_read_once_and_each_caller_gets_its_own_mapping():
    a = FxTable.bundled()
    a.rates.clear()
    b = FxTable.bundled()
    assert b.rates and b.rates == FxTable.from_csv(dataset_path("fx_rates.csv")).rates
