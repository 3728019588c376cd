"""A small load over loopback through the benchmark's own client (`benchmarks/bench_service.py`,
whose full 8 x 1,000 load is run by hand): nothing lost, nothing duplicated, the ledger verifies,
one Idempotency-Key sent by two clients at once makes one record. Plus the benchmark's pure parts,
without a server: the paced schedule, latency from the scheduled time (checked against a simulated
queue and Little's law), the PASS/FAIL reading of the targets, the new-exchange submission pool
(distinct, valid, deterministic) and the refusal of nonsensical arguments. No timed assertions."""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import importlib.util
import math
import sys
import threading

import httpx
import pytest

from tests.service.conftest import ROOT, LiveServer, Service, quote_body

CLIENTS, PER_CLIENT = 4, 25


@pytest.fixture(scope="module")
def bench():
    name = "bench_service_under_test"
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "bench_service.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop(name, None)


# ------------------------------------------------------------------------------------ the small load

@pytest.mark.slow
def test_concurrent_quotes_are_all_stored_once(db_url, bench):
    """4 clients x 25 quotes, alternately the Japanese sample (seed varies) and new exchanges of the
    benchmark's pool, sent by the benchmark's client (closed loop), with two same-key requests racing."""
    svc = Service(db_url, rate_limit_per_minute=0)
    server = LiveServer(svc.app)
    n = CLIENTS * PER_CLIENT
    resubmit, fresh = bench.resubmit_bodies(n), bench.new_exchange_bodies(n, seed=7)
    bodies = [resubmit[k] if k % 2 == 0 else fresh[k] for k in range(n)]
    same_key: list[tuple[int, str, float]] = []
    lock = threading.Lock()

    def twice() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            r = http.post("/v1/quotes", json=quote_body(options={"seed": 999}),
                          headers=svc.auth("actuary", **{"Idempotency-Key": "twice"}))
            with lock:
                same_key.append((r.status_code, r.json().get("id", ""), r.json().get("premium")))

    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:  # one cold quote loads the models, not five at once
            warm = http.post("/v1/quotes", json=quote_body(options={"seed": 10**6}),
                             headers=svc.auth("underwriter", **{"Idempotency-Key": "warm-up"}))
        assert warm.status_code == 201, warm.text
        racers = [threading.Thread(target=twice) for _ in range(2)]
        for t in racers:
            t.start()
        records = bench.send_load(server.url, svc.auth("underwriter"), bench.encode(bodies), CLIENTS, PER_CLIENT,
                                  "closed")
        for t in racers:
            t.join()
        assert [r["error"] for r in records if not r["ok"]] == []
        assert sorted((r["client"], r["index"]) for r in records) == [(c, i) for c in range(CLIENTS)
                                                                     for i in range(PER_CLIENT)]
        assert [s for s in same_key if s[0] != 201] == []
        assert same_key[0][1] == same_key[1][1]  # one key, one record
        answered = ({r["id"]: r["premium"] for r in records} | {same_key[0][1]: same_key[0][2]}
                    | {warm.json()["id"]: warm.json()["premium"]})
        assert len({r["id"] for r in records}) == n  # no id answered to two requests
        with httpx.Client(base_url=server.url, timeout=120) as http:
            stored = http.get("/v1/quotes", params={"limit": 1000}, headers=svc.auth("auditor")).json()["quotes"]
            verdict = http.get("/v1/ledger/verify", headers=svc.auth("auditor")).json()
        assert sorted(q["id"] for q in stored) == sorted(answered)  # none lost, none duplicated
        assert all(answered[q["id"]] == q["premium"] for q in stored)
        assert {q["exchange"] for q in stored} >= {b["submission"]["exchange"]["name"] for b in fresh[1::2]}
        assert verdict["ok"], verdict["problems"]
        assert verdict["entries"] == 4 + 1 + n + 1  # 4 keys, the warm-up, the quotes, one same-key quote
    finally:
        server.stop()
        svc.close()


# ---------------------------------------------------------------------------------- schedule, figures

def test_paced_schedule_offers_the_rate_evenly(bench):
    C, N, R = 8, 25, 40.0
    sched = bench.paced_schedule(C, N, R)
    flat = sorted(t for row in sched for t in row)
    assert flat == [k / R for k in range(C * N)]  # request k of the run at exactly k / R
    for c in range(C):
        for i in range(N):
            assert sched[c][i] == pytest.approx((i + c / C) / (R / C), rel=1e-15, abs=1e-15)  # the brief's form
        assert all(b - a == pytest.approx(C / R) for a, b in zip(sched[c], sched[c][1:], strict=False))
    assert bench.scheduled_offset(3, 2, 8, 40.0) == 19 / 40


def _simulate(C: int, N: int, service_s: float, rate: float | None) -> list[dict]:
    """A single FIFO server with a fixed service time and C synchronous clients, each sending its next
    request when its previous one has returned and (paced, ``rate`` given) its scheduled time has come."""
    free_at = 0.0
    heap = [(0.0 if rate is None else c / rate, c, 0) for c in range(C)]  # (send time, client, index)
    heapq.heapify(heap)
    out = []
    while heap:
        sent, c, i = heapq.heappop(heap)
        done = max(free_at, sent) + service_s
        free_at = done
        scheduled = sent if rate is None else (C * i + c) / rate
        out.append({"scheduled": scheduled, "started": sent, "done": done, "ok": True})
        if i + 1 < N:
            nxt = done if rate is None else max(done, (C * (i + 1) + c) / rate)
            heapq.heappush(heap, (nxt, c, i + 1))
    return out


def test_closed_figures_obey_littles_law(bench):
    """C clients without think time on a server of fixed service time s: throughput 1/s, and in the
    steady state every request waits for the C - 1 ahead of it, latency C s = C / throughput."""
    C, N, s = 8, 200, 0.1
    fig = bench.request_figures(_simulate(C, N, s, None), "closed")
    assert fig["qps"] == pytest.approx(1 / s, rel=1e-12)
    assert fig["p50_ms"] == pytest.approx(1000 * C / fig["qps"], rel=1e-9)
    assert fig["late"] is None
    # Little's law on the mean: only the first round (latencies s, 2s, ..., Cs) is below C s
    first_round = sum(k * s for k in range(1, C + 1))
    assert fig["mean_ms"] == pytest.approx(1000 * (first_round + (C * N - C) * C * s) / (C * N), rel=1e-9)


def test_paced_latency_runs_from_the_scheduled_time(bench):
    C, N, R = 8, 50, 40.0
    # a server that keeps up (service 10 ms < 1/R): every latency is the service time, the rate is R
    fig = bench.request_figures(_simulate(C, N, 0.010, R), "paced")
    assert fig["p50_ms"] == pytest.approx(10.0, rel=1e-9) and fig["p99_ms"] == pytest.approx(10.0, rel=1e-9)
    assert fig["qps"] == pytest.approx(R, rel=1e-9)
    assert fig["late"] == 0
    # a server of 10 quotes/s offered 40/s: answers come back at 10/s, sends start ever later and the
    # latency from the schedule carries the queue; from the actual send it would look bounded
    recs = _simulate(C, N, 0.100, R)
    fig = bench.request_figures(recs, "paced")
    assert fig["qps"] == pytest.approx(10.0, rel=1e-9)
    assert fig["late"] == sum(1 for r in recs if r["started"] - r["scheduled"] > 1.0) > C * N // 2
    assert max(r["done"] for r in recs) == pytest.approx(C * N * 0.1, rel=1e-12)  # served back to back at 10/s
    from_send = bench.request_figures([{**r, "scheduled": r["started"]} for r in recs], "paced")
    assert from_send["p50_ms"] < 1000 * (C + 1) * 0.1 < fig["p50_ms"]
    assert fig["p99_ms"] == pytest.approx(1000 * bench.nearest_rank([r["done"] - r["scheduled"] for r in recs], 0.99))


def test_nearest_rank_values(bench):
    v = [float(x) for x in range(100, 0, -1)]
    assert bench.nearest_rank(v, 0.99) == 99.0
    assert bench.nearest_rank(v, 0.5) == 50.0
    assert bench.nearest_rank(v, 1.0) == 100.0
    assert bench.nearest_rank([7.0], 0.99) == 7.0
    assert math.isnan(bench.nearest_rank([], 0.5))


def _row(**kw):
    row = {"mode": "closed", "errors": 0, "lost": 0, "duplicated": 0, "ledger_verified": True, "qps": 40.0,
           "p50_ms": 200.0, "late": None}
    return {**row, **kw}


def test_verdict_reads_the_targets(bench):
    assert bench.verdict(_row()) == (True, [])  # closed: p50 200 ms is Little's 8 / 40, not judged
    ok, why = bench.verdict(_row(qps=39.9))
    assert not ok and why == ["39.9 < 40 quotes/s"]
    ok, why = bench.verdict(_row(lost=1, duplicated=2, ledger_verified=False))
    assert not ok and why == ["1 lost", "2 duplicated", "ledger not verified"]
    paced = _row(mode="paced", qps=39.5, p50_ms=48.0, late=0)
    assert bench.verdict(paced, 40.0) == (True, [])
    ok, why = bench.verdict({**paced, "p50_ms": 51.0}, 40.0)
    assert not ok and why == ["p50 51 > 50 ms"]
    ok, why = bench.verdict({**paced, "late": 3, "qps": 30.0}, 40.0)
    assert not ok and why == ["3 late > 1 s", "achieved 30.0 < 0.95 x 40/s"]
    ok, why = bench.verdict({**paced, "qps": 20.0}, 20.0)  # keeping up with less than the target says nothing
    assert not ok and why == ["offered 20/s < the 40/s of the target"]
    ok, why = bench.verdict({**paced, "errors": 2, "p50_ms": math.nan}, 40.0)
    assert not ok and why == ["2 errors", "p50 nan > 50 ms"]


def test_target_summary_combines_the_closed_and_paced_rows(bench):
    key = {"database": "SQLite (WAL)", "workers": 2, "workload": "resubmit"}
    closed = {**_row(qps=45.0), **key}
    paced = {**_row(mode="paced", qps=39.9, p50_ms=30.0, late=0), **key}
    (t,) = bench.target_summary([closed, paced])
    assert t["sustained"] == (True, []) and t["p50"] == (True, [])
    # saturation above 40/s is not enough when the paced run falls behind; and a slow closed run fails too
    (t,) = bench.target_summary([{**closed, "qps": 12.0}, {**paced, "late": 5, "p50_ms": 900.0}])
    assert t["sustained"] == (False, ["closed: 12.0 < 40 quotes/s", "paced: 5 late > 1 s"])
    assert t["p50"] == (False, ["p50 900 > 50 ms"])
    (t,) = bench.target_summary([{**closed, "lost": 1}])
    assert t["sustained"] == (None, ["needs a closed and a paced run"]) and t["p50"] == (None, ["needs a paced run"])
    other = {**paced, "workload": "new-exchange", "errors": 1}
    s1, s2 = bench.target_summary([closed, paced, other], rate=20.0)
    assert s1["workload"] == "resubmit" and s1["p50"] == (False, ["offered 20/s < the 40/s of the target"])
    assert s2["sustained"][0] is None and s2["p50"] == (False, ["offered 20/s < the 40/s of the target", "1 errors"])


def test_estimate_is_the_stated_arithmetic(bench):
    # engine 75 ms + service 25 ms on one core: 10 quotes/s; 1,000 quotes closed = 100 s, paced at 40/s
    # cannot go faster than the 10/s either; each run adds the fixed overhead
    e = {"resubmit": 0.075}
    over = bench.RUN_OVERHEAD_S
    assert bench.SERVICE_OVERHEAD_S == 0.025
    assert bench.estimate_seconds({("resubmit", "closed"): 1}, 1000, [1], e, 40.0, 2) == pytest.approx(100 + over)
    assert bench.estimate_seconds({("resubmit", "paced"): 2}, 1000, [1, 2], e, 40.0, 2) == pytest.approx(
        2 * (100 + over) + 2 * (50 + over))
    fast = {"resubmit": 0.005}  # 1/0.03 = 33 quotes/s per core: two workers could do 67/s, paced stays at 40/s
    assert bench.estimate_seconds({("resubmit", "paced"): 1}, 1000, [2], fast, 40.0, 2) == pytest.approx(25 + over)


# ------------------------------------------------------------------------------------- submission pool

def test_submission_pool_is_distinct_valid_and_deterministic(bench):
    import underwriting.api as uw
    from underwriting.domain.vocabulary import VECTORS

    pool = bench.submission_pool(60, seed=3)
    bench.check_pool(pool)  # every one passes underwriting.api.load_submission; distinct without names
    assert pool == bench.submission_pool(60, seed=3)
    assert bench.submission_pool(20, seed=3) == pool[:20]  # a longer pool extends a shorter one
    assert pool != bench.submission_pool(60, seed=4)
    assert len({s["exchange"]["name"] for s in pool}) == 60
    groups, eu = bench.jurisdiction_groups()
    seen = {s["exchange"]["jurisdiction"] for s in pool}
    assert seen <= set(groups) - {"EU"} | set(eu)
    assert {"JP", "HK", "SG"} <= seen and seen & set(eu)
    bases = [bench._sample(b) for b in bench.POOL_BASES]
    for k, s in enumerate(pool):
        sub = uw.load_submission(s)
        base = bases[k % len(bases)]
        assert sub.exposure.currency == base["exposure"]["currency"]
        ca = s["exposure"]["customer_assets"]
        assert ca["hot"] + ca["warm"] + ca["cold"] == ca["total"]
        for inc in sub.incidents:
            assert inc.vector in VECTORS and sub.exchange.launch_date <= inc.date <= sub.as_of
            assert inc.currency == sub.exposure.currency
    # the volume and posture answers really vary
    assert len({s["exposure"]["trading_volume_12m"] for s in pool}) == 60
    assert len({s["posture"]["admin_mfa"] for s in pool}) >= 4
    assert {len(s["incidents"]) for s in pool} == {0, 1, 2}


def test_check_pool_rejects_repeats_and_invalid_submissions(bench):
    pool = bench.submission_pool(4)
    twin = copy.deepcopy(pool[1])
    twin["exchange"]["name"] = "Another name, same exchange"
    with pytest.raises(ValueError, match="pool submission 4 repeats"):
        bench.check_pool(pool + [twin])
    bad = copy.deepcopy(pool[2])
    bad["exposure"]["customer_assets"]["total"] *= 2
    with pytest.raises(ValueError, match="pool submission 2 is invalid"):
        bench.check_pool(pool[:2] + [bad])
    future = copy.deepcopy(pool[0])
    future["as_of"] = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(ValueError, match="pool submission 0 is invalid"):
        bench.check_pool([future])


# --------------------------------------------------------------------------------------------- CLI

@pytest.mark.parametrize("argv, message", [
    (["--clients", "0"], "--clients must be at least 1"),
    (["--per-client", "-5"], "--per-client must be at least 1"),
    (["--workers", "1", "0"], "--workers must be at least 1"),
    (["--rate", "-40"], "--rate must be a positive number"),
    (["--rate", "nan"], "--rate must be a positive number"),
    (["--rate", "0"], "--rate must be a positive number"),
    (["--mode", "closed", "closed"], "--mode lists a value twice"),
    (["--mode", "open"], "invalid choice"),
    (["--workload", "everything"], "invalid choice"),
    (["--databases", "postgresql"], "needs $UNDERWRITING_TEST_POSTGRES_URL"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--out", "/nonexistent-folder/x.md"], "does not exist"),
])
def test_nonsensical_arguments_exit_2(bench, argv, message, monkeypatch, capsys):
    monkeypatch.delenv(bench.POSTGRES_ENV, raising=False)
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_default_arguments_are_the_issues_full_load(bench, monkeypatch):
    monkeypatch.delenv(bench.POSTGRES_ENV, raising=False)
    a = bench.parse_args([])
    assert (a.clients, a.per_client, a.workers, a.rate) == (8, 1000, [1, 2], 40.0)
    assert a.mode == ["closed", "paced"] and a.workload == ["resubmit", "new-exchange"]
    assert a.databases == ["sqlite", "postgresql"] and not a.explicit_databases


def test_durability_reading(bench):
    ci = {"fsync": "off", "synchronous_commit": "on", "full_page_writes": "on", "wal_sync_method": "fdatasync"}
    assert not bench.durable(ci)
    assert "NOT durable" in bench.durability_note(ci) and "`fsync=off`" in bench.durability_note(ci)
    prod = ci | {"fsync": "on"}
    assert bench.durable(prod) and "durable commits" in bench.durability_note(prod)
    assert not bench.durable(prod | {"synchronous_commit": "off"})
    a = bench.parse_args(["--durable", "--plan"])
    assert a.durable and a.plan


def test_postgres_durability_is_read_from_the_server(bench):
    import os

    url = os.environ.get(bench.POSTGRES_ENV)
    if not url:
        pytest.skip(f"${bench.POSTGRES_ENV} is not set (run through `bash .ci/run`)")
    settings = bench.postgres_durability(url)
    assert set(settings) == set(bench.DURABILITY_SETTINGS)
    assert settings["fsync"] in ("on", "off")
