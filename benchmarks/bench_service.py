"""Load on the quote service over loopback: C concurrent clients x N quotes each (default 8 x 1,000)
against `underwriting serve` on SQLite, and on PostgreSQL when $UNDERWRITING_TEST_POSTGRES_URL names a
server (`.ci/run python benchmarks/bench_service.py` starts one).

Each request is a distinct quote of the Japanese sample (its seed varies) with its own
Idempotency-Key. Recorded: errors, records lost (a 201 whose id is not stored) or duplicated (more
stored quotes than 201s), the ledger verified after (`underwriting ledger verify`), p50 and p99
latency and quotes per second. Targets of issue #19: 0 errors, 0 lost, p50 <= 50 ms and >= 40
quotes/s on 2 cores (after the engine's fast warm quote; today a warm quote takes ~0.25 s of CPU).

Usage: python benchmarks/bench_service.py [--clients 8] [--per-client 1000] [--out results/service.md]
Writes benchmarks/results/service.md. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "datasets" / "examples"


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_jsonable(v) for v in o]
    return o.isoformat() if isinstance(o, dt.date) else o


def _body(seed: int) -> dict:
    return {"submission": json.loads((EXAMPLES / "jp_small_exchange.json").read_text(encoding="utf-8")),
            "terms": _jsonable(tomllib.loads((EXAMPLES / "policy_jp_primary.toml").read_text(encoding="utf-8"))),
            "options": {"seed": seed}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "underwriting", *args], capture_output=True, text=True, cwd=ROOT)


def run_load(url: str, clients: int, per_client: int, workers: int = 1) -> dict:
    """Start a server on ``url``, send the load, check the records and the ledger; return the figures."""
    import httpx
    from sqlalchemy import create_engine, func, select

    from underwriting.service.db import QuoteRecord

    made = _cli("keys", "create", "--role", "underwriter", "--database", url)
    if made.returncode != 0:
        raise SystemExit(f"keys create failed: {made.stderr}")
    key = made.stdout.strip()
    port = _free_port()
    log = tempfile.TemporaryFile()
    server = subprocess.Popen([sys.executable, "-m", "underwriting", "serve", "--database", url, "--host",
                               "127.0.0.1", "--port", str(port), "--rate-limit", "0",
                               "--workers", str(workers)], cwd=ROOT,
                              stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                log.seek(0)
                raise SystemExit(f"server did not start: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, timeout=300) as http:  # warm-up: first quote loads the models
            http.post("/v1/quotes", json=_body(10**9), headers=headers).raise_for_status()
        latencies: list[float] = []
        ids: list[str] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(c: int) -> None:
            with httpx.Client(base_url=base, timeout=300) as http:
                for i in range(per_client):
                    seed = c * per_client + i
                    t0 = time.perf_counter()
                    try:
                        r = http.post("/v1/quotes", json=_body(seed),
                                      headers={**headers, "Idempotency-Key": f"bench-{uuid.uuid4()}"})
                        ok = r.status_code == 201
                        rid = r.json().get("id") if ok else None
                        err = None if ok else f"{r.status_code} {r.text[:200]}"
                    except httpx.HTTPError as exc:
                        rid, err = None, f"{type(exc).__name__}: {exc}"
                    dt_s = time.perf_counter() - t0
                    with lock:
                        latencies.append(dt_s)
                        if err:
                            errors.append(err)
                        else:
                            ids.append(rid)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=60)
    eng = create_engine(url)
    with eng.connect() as c:
        stored = set(c.execute(select(QuoteRecord.id)).scalars())
        n_stored = c.execute(select(func.count()).select_from(QuoteRecord)).scalar_one()
    eng.dispose()
    verify = _cli("ledger", "verify", "--database", url)
    lat = sorted(latencies)
    return {
        "requests": len(latencies), "errors": len(errors), "error_sample": errors[:3],
        "lost": sum(1 for i in ids if i not in stored),
        "duplicated": n_stored - 1 - len(set(ids)),  # minus the warm-up quote
        "ledger_verified": verify.returncode == 0, "ledger_report": verify.stdout.strip().splitlines()[0],
        "p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "qps": len(ids) / wall, "wall_s": wall,
    }


def engine_alone(n: int = 10) -> float:
    """Median seconds of one warm in-process quote (the CLI's ``make_quote``) of the same request:
    the part of each request's latency that is the quote engine, not the service."""
    from underwriting.service import engine

    engine.quote(_body(10**9 + 1))  # warm-up
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        engine.quote(_body(i))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> str:
    from underwriting.fileio import atomic_write_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="uvicorn worker processes; one run (on a fresh database) per value (default: 1 2)")
    ap.add_argument("--out", default=str(HERE / "results" / "service.md"))
    args = ap.parse_args(argv)
    rows = []
    for w in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(("SQLite (WAL)", w, run_load(f"sqlite:///{tmp}/bench.db", args.clients, args.per_client, w)))
    pg = os.environ.get("UNDERWRITING_TEST_POSTGRES_URL")
    if pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        for w in args.workers:
            name = "uw_bench_" + uuid.uuid4().hex[:8]
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                rows.append(("PostgreSQL", w, run_load(make_url(pg).set(database=name).render_as_string(False),
                                                       args.clients, args.per_client, w)))
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    lines = ["# Quote service under load", "",
             f"{args.clients} concurrent clients x {args.per_client} quotes over loopback (`underwriting serve "
             f"--workers N`, rate limit off); each request a distinct quote of the Japanese sample with its "
             f"own Idempotency-Key. Machine: {os.cpu_count()} cores, shared. Targets (issue #19): 0 errors, 0 lost, "
             "p50 <= 50 ms, >= 40 quotes/s.", "",
             "| database | workers | requests | errors | lost | duplicated | ledger verified | p50 (ms) | p99 (ms) "
             "| quotes/s |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for name, w, r in rows:
        lines.append(f"| {name} | {w} | {r['requests']} | {r['errors']} | {r['lost']} | {r['duplicated']} | "
                     f"{'yes' if r['ledger_verified'] else 'NO'} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['qps']:.1f} |")
    eng_s = engine_alone()
    lines += ["", f"The quote engine alone (in process, one warm quote, median of 10): {1000 * eng_s:.0f} ms, so one "
              f"process serving quotes on one core tops out near {1 / eng_s:.1f} quotes/s (the engine holds the GIL, "
              "so threads of one process do not add cores; worker processes do); the rest of each "
              "latency is queueing behind the other clients' quotes. The service targets need the engine's fast "
              "warm quote (another issue). Command: `python benchmarks/bench_service.py "
              + " ".join(argv or sys.argv[1:]) + "`."]
    if (args.clients, args.per_client) != (8, 1000):
        n = args.clients * args.per_client
        lines += ["", f"A reduced run ({n} quotes instead of the issue's 8 x 1,000): at the engine's present speed the "
                  f"full load takes about {8000 * eng_s / 60:.0f} minutes per database."]
    if not pg:
        lines += ["", "PostgreSQL not measured: $UNDERWRITING_TEST_POSTGRES_URL was not set (run through `.ci/run`)."]
    for name, w, r in rows:
        if r["error_sample"]:
            lines += ["", f"{name} ({w} workers) errors (first 3): " + "; ".join(r["error_sample"])]
    text = "\n".join(lines) + "\n"
    atomic_write_text(args.out, text)
    return text


if __name__ == "__main__":
    print(main(sys.argv[1:]))
