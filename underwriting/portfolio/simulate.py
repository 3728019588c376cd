"""Run the blocks of a book locally (joblib) or on a Dask cluster, and merge them in bounded memory.

Work is cut into fixed **blocks** of years (``block_years``, default 1,000), each seeded on its own
(:func:`~underwriting.portfolio.engine.block_rng`). Blocks are grouped into **chunks** (tasks) for
the workers; a task returns its blocks' results unmerged and the driver merges them strictly in
block order, so every figure, down to the last bit, is the same for any ``chunk_blocks``,
``n_jobs`` or backend.

Memory: the driver keeps O(years) floats (each year's book total and largest event: needed for the
EP curves and TVaR), O(exchanges + vendors) accumulators, and the exchange-level losses (sparse) of
the years that can still be among the ``tail_k = round((1 - min level) * years)`` worst, which is
what the co-TVaR allocation needs. A block returns those losses for its ``tail_m`` worst years only;
a block found at the end to hold more of the final tail is re-simulated exactly for the missing
years (same seed, so the figures never depend on ``tail_m``). At most ``max_in_flight`` chunk
results wait in memory at a time; a worker holds one block's events.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from underwriting.errors import InputError
from underwriting.portfolio.book import Book
from underwriting.portfolio.engine import BlockModel, BlockResult, run_blocks, simulate_block

__all__ = ["simulate_book", "DEFAULT_BLOCK_YEARS", "DEFAULT_LEVELS", "run_chunk"]

DEFAULT_BLOCK_YEARS = 1000
#: TVaR / co-TVaR levels kept for allocation (the lowest one sets the stored tail).
DEFAULT_LEVELS = (0.99, 0.995)


def tail_count(level: float, years: int) -> int:
    """Number of worst years that make up TVaR at ``level``: ``max(1, round((1 - level) * years))``."""
    return max(1, int(round((1.0 - level) * years)))


def run_chunk(book: Book, seed: int, blocks: Sequence[int], block_years: int, years: int,
              tail_k: int) -> list[BlockResult]:
    """Simulate some blocks (one task); results are returned unmerged."""
    return [simulate_block(book, seed, b, block_years, years, tail_k) for b in blocks]


class _Merger:
    """Streaming, order-checked merge of block results.

    Cells (exchange-level losses) are kept only for years that can still be among the ``tail_k``
    worst: after each block, years below the running ``tail_k``-th largest total are dropped (a
    year's rank can only fall as more years arrive). ``have`` marks the years whose cells a block
    returned; :meth:`finish` re-simulates, exactly, any block whose final tail years were not
    returned (a block returns only its ``tail_m`` worst years).
    """

    def __init__(self, book: Book, years: int, tail_k: int):
        n, P, nv = book.n, book.limit.shape[1], book.n_vendors
        self.years, self.tail_k = years, tail_k
        self.totals = np.zeros(years)
        self.max_event = np.zeros(years)
        self.have = np.zeros(years, dtype=bool)
        self.filled = 0
        self.ex_sum = np.zeros(n)
        self.ex_sumsq = np.zeros(n)
        self.ex_years_hit = np.zeros(n, dtype=np.int64)
        self.peril_sum = np.zeros(P)
        self.v_events = np.zeros(nv, dtype=np.int64)
        self.v_years = np.zeros(nv, dtype=np.int64)
        self.v_cond_sum = np.zeros(nv)
        self.v_direct = np.zeros(nv)
        self.tail_years = np.zeros(0, dtype=np.int64)
        self.tail_totals = np.zeros(0)
        self.cells = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        self.n_events = 0
        self.next_block = 0
        self.reruns = 0

    def _add_cells(self, r: BlockResult) -> None:
        self.have[r.tail_years] = True
        self.cells = (np.concatenate([self.cells[0], r.tail_cell_year]),
                      np.concatenate([self.cells[1], r.tail_cell_ex]),
                      np.concatenate([self.cells[2], r.tail_cell_loss]))

    def add(self, r: BlockResult) -> None:
        if r.block != self.next_block:
            raise RuntimeError(f"blocks merged out of order ({r.block} after {self.next_block - 1})")
        self.next_block += 1
        Y = r.totals.size
        self.totals[r.start:r.start + Y] = r.totals
        self.max_event[r.start:r.start + Y] = r.max_event
        self.filled = r.start + Y
        self.ex_sum += r.ex_sum
        self.ex_sumsq += r.ex_sumsq
        self.ex_years_hit += r.ex_years_hit
        self.peril_sum += r.peril_sum
        self.v_events += r.v_events
        self.v_years += r.v_years
        self.v_cond_sum += r.v_cond_sum
        self.v_direct += r.v_direct
        self.n_events += r.n_events
        self._add_cells(r)
        if self.filled > self.tail_k:
            seen = self.totals[:self.filled]
            thr = np.partition(seen, self.filled - self.tail_k)[self.filled - self.tail_k]
            keep = self.totals[self.cells[0]] >= thr
            self.cells = tuple(c[keep] for c in self.cells)

    def finish(self, rerun) -> None:
        """Fix the tail years (total desc, year asc) and make sure their cells are all present."""
        order = np.lexsort((np.arange(self.years), -self.totals))[:self.tail_k]
        self.tail_years, self.tail_totals = order.astype(np.int64), self.totals[order]
        missing = self.tail_years[~self.have[self.tail_years]]
        for b in np.unique(missing // rerun.block_years):
            want = missing[missing // rerun.block_years == b]
            self._add_cells(rerun(int(b), want))
            self.reruns += 1
        keep = np.isin(self.cells[0], self.tail_years)
        cy, ce, cl = (c[keep] for c in self.cells)
        o = np.lexsort((ce, cy))
        self.cells = (cy[o], ce[o], cl[o])


def _chunks(n_blocks: int, chunk_blocks: int) -> list[list[int]]:
    return [list(range(s, min(s + chunk_blocks, n_blocks))) for s in range(0, n_blocks, chunk_blocks)]


def _progress(total: int, enabled: bool | None, desc: str):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is optional
        return None
    return tqdm(total=total, desc=desc, unit="block", file=sys.stderr, leave=False)


def _ordered(results: Iterable[tuple[int, list[BlockResult]]]) -> Iterator[list[BlockResult]]:
    """Yield chunk results in chunk order from an iterable of (chunk index, results) in any order."""
    buf: dict[int, list[BlockResult]] = {}
    nxt = 0
    for idx, res in results:
        buf[idx] = res
        while nxt in buf:
            yield buf.pop(nxt)
            nxt += 1


def _run_local(model, seed, chunks, block_years, years, tail_k, n_jobs, max_in_flight):
    if n_jobs == 1:
        for c in chunks:
            for b in c:
                yield [simulate_block(model, seed, b, block_years, years, tail_k)]
        return
    from joblib import Parallel, delayed

    # workers get the engine's BlockModel (arrays only) and engine.run_blocks: a worker imports numpy and
    # underwriting.portfolio.engine, not the loss models
    par = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator", pre_dispatch=str(max_in_flight))
    yield from par(delayed(run_blocks)(model, seed, c, block_years, years, tail_k) for c in chunks)


def _run_dask(model, seed, chunks, block_years, years, tail_k, scheduler, max_in_flight, n_jobs):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("the dask backend needs dask.distributed: pip install 'dask[distributed]'",
                         field="--backend") from None
    own_client = own_cluster = None
    if scheduler is None:
        own_cluster = LocalCluster(n_workers=max(int(n_jobs), 1), threads_per_worker=1, processes=False,
                                   dashboard_address=None)
        client = own_client = Client(own_cluster)
    elif isinstance(scheduler, str):
        try:
            client = own_client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}", field="--scheduler") from None
    else:
        client = scheduler  # a distributed.Client
    try:
        [model_f] = client.scatter([model], broadcast=True)

        def results():
            it = iter(enumerate(chunks))
            ac = as_completed()
            index: dict[str, int] = {}

            def submit(item):
                f = client.submit(run_blocks, model_f, seed, item[1], block_years, years, tail_k, pure=False)
                index[f.key] = item[0]
                ac.add(f)

            for item in (x for _, x in zip(range(max_in_flight), it, strict=False)):
                submit(item)
            for f in ac:
                res = f.result()
                idx = index.pop(f.key)
                f.release()
                item = next(it, None)
                if item is not None:
                    submit(item)
                yield idx, res

        yield from _ordered(results())
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


def simulate_book(book: Book, years: int = 10_000, seed: int = 0, *, block_years: int = DEFAULT_BLOCK_YEARS,
                  chunk_blocks: int | None = None, n_jobs: int = 1, backend: str = "loky",
                  scheduler: Any = None, levels: Sequence[float] = DEFAULT_LEVELS,
                  progress: bool | None = None, max_in_flight: int | None = None,
                  tail_per_block: int | None = None):
    """Simulate ``years`` policy terms of the book and return a :class:`~underwriting.portfolio.results.PortfolioResult`.

    Parameters
    ----------
    book : Book
    years : int
        Simulated years (policy terms), >= 100.
    seed : int
        Root seed; block ``b`` uses the ``b``-th child of ``SeedSequence(seed)``.
    block_years : int
        Years per seeded block. Results depend on it (it fixes the random streams); they do not
        depend on ``chunk_blocks``, ``n_jobs`` or ``backend``.
    chunk_blocks : int, optional
        Blocks per task (default: about four tasks per worker, at most 10 blocks).
    n_jobs : int
        Local worker processes (joblib loky; ``-1`` = all cores), or LocalCluster size for dask
        without a scheduler.
    backend : {"loky", "dask"}
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:8786``) or a client; none starts an in-process
        LocalCluster.
    levels : sequence of float
        TVaR levels whose co-TVaR allocation is kept exactly (the stored tail is for the lowest).
    progress : bool, optional
        tqdm progress bar on stderr (default: when stderr is a TTY).
    max_in_flight : int, optional
        Chunk results allowed to wait in memory (default ``2 * workers + 2``).
    tail_per_block : int, optional
        Worst years whose exchange-level losses each block returns (default
        ``max(64, 8 * tail_k * block_years / years)``); blocks that turn out to hold more of the
        final tail are re-simulated exactly, so this changes speed and memory, never the results.
    """
    from underwriting.portfolio.results import PortfolioResult

    for name, val, lo in (("years", years, 100), ("block_years", block_years, 1)):
        if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < lo:
            raise InputError(f"must be an integer >= {lo}, got {val!r}", field=name)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"must be a non-negative integer, got {seed!r}", field="seed")
    levels = tuple(sorted({float(p) for p in levels}))
    if not levels or any(not (0 < p < 1) for p in levels):
        raise InputError("levels must be in (0, 1)", field="levels")
    if backend not in ("loky", "dask"):
        raise InputError(f"unknown backend {backend!r}; choose loky or dask", field="--backend")
    years, block_years, seed = int(years), int(block_years), int(seed)
    n_jobs = int(n_jobs)
    workers = (os.cpu_count() or 1) if n_jobs < 0 else max(n_jobs, 1)
    n_blocks = math.ceil(years / block_years)
    if chunk_blocks is None:
        chunk_blocks = max(1, min(10, math.ceil(n_blocks / (4 * workers))))
    if int(chunk_blocks) < 1:
        raise InputError("must be >= 1", field="chunk_blocks")
    max_in_flight = int(max_in_flight or 2 * workers + 2)
    tail_k = tail_count(levels[0], years)
    # each block returns the losses of its tail_m worst years: enough, almost always, for the global
    # tail (about tail_k * block_years / years of them fall in a block); a block short of some is re-run
    tail_m = min(tail_k, int(tail_per_block) if tail_per_block else
                 max(64, math.ceil(8 * tail_k * block_years / years)))
    chunks = _chunks(n_blocks, int(chunk_blocks))
    model = BlockModel.from_book(book)
    merger = _Merger(book, years, tail_k)
    bar = _progress(n_blocks, progress, f"simulating {years:,} years")
    t0 = time.perf_counter()
    if backend == "dask":
        stream = _run_dask(model, seed, chunks, block_years, years, tail_m, scheduler, max_in_flight, workers)
    else:
        stream = _run_local(model, seed, chunks, block_years, years, tail_m, n_jobs, max_in_flight)
    try:
        for res in stream:
            for r in res:
                merger.add(r)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    def rerun(b, want):
        return simulate_block(model, seed, b, block_years, years, tail_k, want_years=want)

    rerun.block_years = block_years
    merger.finish(rerun)
    elapsed = time.perf_counter() - t0
    run = {"tail_years_kept": tail_k, "tail_years_per_block": tail_m, "blocks_rerun_for_tail": merger.reruns,
           "years": years, "seed": seed, "block_years": block_years, "blocks": n_blocks,
           "chunk_blocks": int(chunk_blocks), "backend": backend, "n_jobs": n_jobs,
           "seconds": elapsed, "events": merger.n_events,
           "exchange_years_per_second": book.n * years / elapsed if elapsed > 0 else math.inf}
    return PortfolioResult.from_merger(book, merger, levels, run)
