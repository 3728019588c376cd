"""Cross-validation and the C search give identical results locally and on a Dask cluster."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def rows():
    from underwriting.lifecycle.data import synthetic_book, training_set

    return training_set(synthetic_book({"n_exchanges": 150, "years": 5, "seed": 8}))


def test_search_local_equals_local_parallel(rows):
    from underwriting.lifecycle.parallel import backend, search_C

    base = {"horizon_years": 1.0, "random_state": 3}
    with backend("local") as ctx:
        a = search_C(rows.features, rows.y, rows.groups, [0.02, 0.2], base, n_splits=3, seed=3, ctx=ctx)
    with backend("local", n_jobs=2) as ctx:
        b = search_C(rows.features, rows.y, rows.groups, [0.02, 0.2], base, n_splits=3, seed=3, ctx=ctx)
    assert a == b and a["best_C"] in (0.02, 0.2)


@pytest.mark.slow
def test_dask_local_cluster_matches_local(rows):
    distributed = pytest.importorskip("distributed")
    from underwriting.lifecycle.parallel import backend, out_of_fold

    params = {"horizon_years": 1.0, "random_state": 3, "C": 0.05}
    with backend("local") as ctx:
        local = out_of_fold(rows.features, rows.y, rows.groups, params, n_splits=3, seed=3, ctx=ctx)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        with backend("dask", scheduler=lc.scheduler_address) as ctx:
            remote = out_of_fold(rows.features, rows.y, rows.groups, params, n_splits=3, seed=3, ctx=ctx)
    np.testing.assert_array_equal(local, remote)


def test_dask_needs_a_scheduler():
    from underwriting.errors import InputError
    from underwriting.lifecycle.parallel import backend

    with pytest.raises(InputError, match="--scheduler"):
        with backend("dask"):
            pass
