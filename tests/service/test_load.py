"""A small load over loopback (4 clients x 10 quotes; a quote takes about 0.25 s on 2 cores, so the
full 8 x 1,000 load lives in benchmarks/bench_service.py): nothing lost, nothing duplicated, the
ledger verifies, and one Idempotency-Key sent by two clients at once makes one record."""

from __future__ import annotations

import threading

import httpx

from tests.service.conftest import LiveServer, Service, quote_body

CLIENTS, PER_CLIENT = 4, 10


def test_concurrent_quotes_are_all_stored_once(db_url):
    svc = Service(db_url, rate_limit_per_minute=0)
    server = LiveServer(svc.app)
    results: list[tuple[int, str, float, int]] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            for i in range(PER_CLIENT):
                seed = c * PER_CLIENT + i
                r = http.post("/v1/quotes", json=quote_body(options={"seed": seed}),
                              headers=svc.auth("underwriter", **{"Idempotency-Key": f"load-{seed}"}))
                with lock:
                    results.append((r.status_code, r.json().get("id", ""), r.json().get("premium"), seed))

    def same_key() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            r = http.post("/v1/quotes", json=quote_body(options={"seed": 999}),
                          headers=svc.auth("actuary", **{"Idempotency-Key": "twice"}))
            with lock:
                results.append((r.status_code, r.json().get("id", ""), r.json().get("premium"), 999))

    try:
        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        threads += [threading.Thread(target=same_key) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r for r in results if r[0] != 201] == []
        ids = [r[1] for r in results]
        assert len(ids) == CLIENTS * PER_CLIENT + 2
        assert len(set(ids)) == CLIENTS * PER_CLIENT + 1  # the two same-key requests share one record
        with httpx.Client(base_url=server.url, timeout=120) as http:
            stored = http.get("/v1/quotes", params={"limit": 1000}, headers=svc.auth("auditor")).json()["quotes"]
            verdict = http.get("/v1/ledger/verify", headers=svc.auth("auditor")).json()
        assert sorted(q["id"] for q in stored) == sorted(set(ids))
        by_id = {q["id"]: q["premium"] for q in stored}
        assert all(by_id[i] == p for _, i, p, _ in results)
        assert verdict["ok"], verdict["problems"]
        assert verdict["entries"] == 4 + CLIENTS * PER_CLIENT + 1
    finally:
        server.stop()
        svc.close()
