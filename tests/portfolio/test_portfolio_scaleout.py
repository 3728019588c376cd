"""Seed, chunk and worker invariance, locally and on a Dask LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest

from underwriting.portfolio import simulate_book


def _same(a, b):
    assert np.array_equal(a.totals, b.totals)
    assert np.array_equal(a.max_event, b.max_event)
    assert np.array_equal(a.ex_sum, b.ex_sum)
    assert np.array_equal(a.co_tvar(0.99), b.co_tvar(0.99))
    assert np.array_equal(a.v_cond_sum, b.v_cond_sum)


def test_chunk_and_worker_invariance(synth):
    ref = simulate_book(synth, 6_000, seed=21, block_years=500, chunk_blocks=1)
    for chunk, jobs in ((5, 1), (12, 1), (2, 2)):
        _same(ref, simulate_book(synth, 6_000, seed=21, block_years=500, chunk_blocks=chunk, n_jobs=jobs))


def test_dask_local_cluster_equals_local(synth):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    ref = simulate_book(synth, 4_000, seed=5, block_years=500)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        got = simulate_book(synth, 4_000, seed=5, block_years=500, chunk_blocks=3, backend="dask", scheduler=client)
    _same(ref, got)
    assert got.run["backend"] == "dask"


def test_progress_bar_off_when_not_a_tty(synth, capsys):
    simulate_book(synth, 1_000, seed=1, block_years=250)
    assert capsys.readouterr().err == ""


def test_tail_kept_per_block_changes_nothing(synth):
    ref = simulate_book(synth, 4_000, seed=3, block_years=500)
    lean = simulate_book(synth, 4_000, seed=3, block_years=500, tail_per_block=1, n_jobs=2)
    assert lean.run["blocks_rerun_for_tail"] > 0
    _same(ref, lean)
    assert lean.co_tvar(0.99).sum() == pytest.approx(lean.tvar(0.99), rel=1e-10)


def test_a_worker_imports_numpy_and_the_engine_only(synth, tmp_path):
    """What a worker unpickles (the engine's BlockModel and run_blocks) imports no loss model, scipy or
    pricing code (start-up cost, not a timing), and a block run from it equals the book's."""
    import pickle
    import subprocess
    import sys

    from underwriting.portfolio.engine import BlockModel, run_blocks, simulate_block

    model = BlockModel.from_book(synth)
    path = tmp_path / "task.pkl"
    path.write_bytes(pickle.dumps((run_blocks, model)))
    code = ("import pickle, sys; fn, m = pickle.load(open(sys.argv[1], 'rb')); r = fn(m, 3, [0], 200, 200, 5); "
            "print(sorted({k.split('.')[0] + ('.' + k.split('.')[1] if k.startswith('underwriting.') else '') "
            "for k in sys.modules if k.startswith(('underwriting', 'scipy', 'pandas', 'sklearn'))})); "
            "print(float(r[0].totals.sum()).hex())")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         cwd=str(tmp_path)).stdout.splitlines()
    loaded = eval(out[0])  # noqa: S307 - our own printed list
    assert not [m for m in loaded if m.startswith(("scipy", "pandas", "sklearn", "underwriting.losses",
                                                    "underwriting.pricing", "underwriting.quote"))], loaded
    assert out[1] == float(simulate_block(synth, 3, 0, 200, 200, 5).totals.sum()).hex()
