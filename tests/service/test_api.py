"""The /v1 API on SQLite and PostgreSQL: quotes equal the CLI's, keys and roles, idempotency,
problem+json naming every bad field, limits, reproduction from the ledger."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import POLICY, SUBMISSION, jsonable, quote_body, run_cli

PROBLEM = "application/problem+json"


@pytest.fixture
def svc(make_service, sqlite_url):
    """SQLite only: for behaviour that does not depend on the database (auth, limits, validation)."""
    return make_service(sqlite_url)


def test_health_needs_no_key(service):
    r = service.client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_quote_is_the_cli_quote_and_is_stored(service, cli_quote):
    r = service.client.post("/v1/quotes", json=quote_body(), headers=service.auth("underwriter"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] and r.headers["location"] == f"/v1/quotes/{body['id']}"
    # the same premium to the last digit, and the same document (one code path with the CLI)
    assert body["premium"] == cli_quote["premium"]
    assert body["quote"] == cli_quote
    got = service.client.get(f"/v1/quotes/{body['id']}", headers=service.auth("auditor"))
    assert got.status_code == 200 and got.json()["quote"] == cli_quote
    listed = service.client.get("/v1/quotes", params={"exchange": cli_quote["exchange"]},
                                headers=service.auth("underwriter")).json()["quotes"]
    assert [q["id"] for q in listed] == [body["id"]]
    none = service.client.get("/v1/quotes", params={"exchange": "nobody"}, headers=service.auth("underwriter"))
    assert none.json()["quotes"] == []


def test_no_key_is_401_and_a_wrong_key_too(svc):
    for headers in ({}, {"Authorization": "Bearer uwk_000000000000_nope"}, {"X-API-Key": "garbage"}):
        r = svc.client.post("/v1/quotes", json=quote_body(), headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.headers["www-authenticate"] == "Bearer"
    assert svc.client.get("/v1/quotes").status_code == 401


def test_roles(service):
    c = service.client
    r = c.post("/v1/quotes", json=quote_body(), headers=service.auth("auditor"))
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    assert "auditor" in r.json()["detail"]
    assert c.post("/v1/quotes", json=quote_body(), headers=service.auth("admin")).status_code == 403
    assert c.get("/v1/ledger", headers=service.auth("underwriter")).status_code == 403
    assert c.get("/v1/ledger", headers=service.auth("auditor")).status_code == 200
    assert c.get("/v1/models", headers=service.auth("underwriter")).status_code == 403
    models = c.get("/v1/models", headers=service.auth("actuary"))
    assert models.status_code == 200 and {m["name"] for m in models.json()["models"]} >= {"risk_scorer"}
    assert c.post("/v1/keys", json={"role": "auditor"}, headers=service.auth("underwriter")).status_code == 403
    made = c.post("/v1/keys", json={"role": "auditor", "label": "external audit"}, headers=service.auth("admin"))
    assert made.status_code == 201
    new_key = made.json()["key"]
    assert c.get("/v1/ledger", headers={"X-API-Key": new_key}).status_code == 200
    listed = c.get("/v1/keys", headers=service.auth("admin")).json()["keys"]
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    assert c.delete(f"/v1/keys/{made.json()['id']}", headers=service.auth("admin")).status_code == 204
    assert c.get("/v1/ledger", headers={"X-API-Key": new_key}).status_code == 401
    actions = [e["action"] for e in c.get("/v1/ledger", headers=service.auth("auditor")).json()["entries"]]
    assert actions.count("key.create") == 5 and actions.count("key.revoke") == 1


def test_keys_are_stored_hashed(service):
    from sqlalchemy import select

    from underwriting.service.db import ApiKey

    with service.app.state.store.sessions() as s:
        hashes = s.execute(select(ApiKey.secret_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2") for h in hashes)
    assert not set(hashes) & set(service.keys.values())


def test_idempotency_key_returns_the_first_result(service):
    h = service.auth("underwriter", **{"Idempotency-Key": "retry-1"})
    first = service.client.post("/v1/quotes", json=quote_body(), headers=h)
    again = service.client.post("/v1/quotes", json=quote_body(), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotency-replayed") == "true"
    quotes = service.client.get("/v1/quotes", headers=service.auth("auditor")).json()["quotes"]
    assert len(quotes) == 1
    entries = service.client.get("/v1/ledger", headers=service.auth("auditor")).json()["entries"]
    assert [e["action"] for e in entries].count("quote.create") == 1
    other = service.client.post("/v1/quotes", json=quote_body(regime="eu-mica-art67"), headers=h)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    # the key is per API key: another key may use the same string for its own request
    h2 = service.auth("actuary", **{"Idempotency-Key": "retry-1"})
    assert service.client.post("/v1/quotes", json=quote_body(), headers=h2).json()["id"] != first.json()["id"]


def test_problem_json_names_every_bad_field_with_the_cli_message(svc, tmp_path):
    body = quote_body(regime="atlantis", options={"seed": -1, "principle": "wang:x", "colour": "red"})
    body["submission"]["as_of"] = "not a date"
    body["submission"]["exposure"]["customer_assets"]["hot"] = -5
    body["terms"]["deductible"] = "lots"
    r = svc.client.post("/v1/quotes", json=body, headers=svc.auth("underwriter"))
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"submission.as_of", "submission.exposure.customer_assets.hot", "terms.deductible", "regime",
            "options.seed", "options.principle", "options.colour"} <= fields
    # the same words as the CLI for the same file
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(body["submission"]), encoding="utf-8")
    code, _, err = run_cli("quote", bad)
    assert code == 2
    cli_message = err.strip().removeprefix("error: ").removeprefix(f"{bad}: ")
    assert f"submission: {cli_message}" in r.json()["detail"]
    messages = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert messages["submission.as_of"] in cli_message


def test_malformed_json_unsupported_type_and_size_limit(make_service, sqlite_url):
    svc = make_service(sqlite_url, max_body_bytes=1_000)
    h = svc.auth("underwriter")
    r = svc.client.post("/v1/quotes", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM)
    r = svc.client.post("/v1/quotes", content=b"a=b", headers={**h, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert len(json.dumps(quote_body())) > 1_000
    r = svc.client.post("/v1/quotes", json=quote_body(), headers=h)
    assert r.status_code == 413 and r.headers["content-type"].startswith(PROBLEM)


def test_rate_limit_per_key(make_service, sqlite_url):
    svc = make_service(sqlite_url, rate_limit_per_minute=3)
    codes = [svc.client.get("/v1/schemas/policy", headers=svc.auth("underwriter")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = svc.client.get("/v1/schemas/policy", headers=svc.auth("underwriter"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # another key has its own bucket
    assert svc.client.get("/v1/schemas/policy", headers=svc.auth("auditor")).status_code == 200


def test_reproduce_from_the_ledger_entry(service):
    made = service.client.post("/v1/quotes", json=quote_body(options={"seed": 7}),
                               headers=service.auth("underwriter")).json()
    r = service.client.post(f"/v1/quotes/{made['id']}/reproduce", headers=service.auth("auditor"))
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["identical"] and res["differences"] == []
    assert res["quote_sha256_recorded"] == res["quote_sha256_recomputed"] == made["quote_sha256"]
    assert service.client.post("/v1/quotes/nope/reproduce", headers=service.auth("auditor")).status_code == 404


def test_schemas_and_unknown_routes(svc):
    for kind in ("submission", "policy", "quote"):
        r = svc.client.get(f"/v1/schemas/{kind}", headers=svc.auth("auditor"))
        assert r.status_code == 200 and r.json()["type"] == "object"
    r = svc.client.get("/v1/schemas/nothing", headers=svc.auth("auditor"))
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert svc.client.get("/v1/quotes/does-not-exist", headers=svc.auth("auditor")).status_code == 404
    bad = svc.client.get("/v1/quotes", params={"from": "yesterday"}, headers=svc.auth("auditor"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"
    assert svc.client.get("/docs").status_code == 200


def test_reserve_is_the_cli_assessment_and_is_ledgered(service):
    code, out, err = run_cli("reserve", SUBMISSION, "--regime", "jp-fsa-2026", "--policy", POLICY, "--json")
    assert code == 0, err
    import tomllib

    body = {"submission": json.loads(SUBMISSION.read_text()), "regime": "jp-fsa-2026",
            "policies": [jsonable(tomllib.loads(POLICY.read_text()))]}
    r = service.client.post("/v1/reserve", json=body, headers=service.auth("underwriter"))
    assert r.status_code == 200, r.text
    assert r.json()["assessment"] == json.loads(out)
    entries = service.client.get("/v1/ledger", headers=service.auth("auditor")).json()["entries"]
    assert entries[-1]["action"] == "reserve.assess" and entries[-1]["subject"] == r.json()["id"]
    missing = service.client.post("/v1/reserve", json={"submission": body["submission"]},
                                  headers=service.auth("underwriter"))
    assert missing.status_code == 422 and "regime" in {e["field"] for e in missing.json()["errors"]}


def test_price_is_the_cli_price(svc):
    args = ["--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.512925465,sigma=2",
            "--deductible", "1000000", "--limit", "9000000", "--principle", "cost_of_capital:0.10"]
    code, out, err = run_cli("price", *args, "--json")
    assert code == 0, err
    body = {"frequency": {"family": "poisson", "lam": 0.3},
            "severity": {"family": "lognormal", "mu": 11.512925465, "sigma": 2},
            "layer": {"deductible": 1e6, "limit": 9e6}, "principle": "cost_of_capital:0.10"}
    r = svc.client.post("/v1/price", json=body, headers=svc.auth("underwriter"))
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(out)
    bad = svc.client.post("/v1/price", json={**body, "layer": {"deductible": 1e6, "limt": 9e6}},
                              headers=svc.auth("underwriter"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "layer.limt"


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_price_and_reserve_need_an_underwriting_role(svc, role):
    assert svc.client.post("/v1/price", json={}, headers=svc.auth(role)).status_code == 403
    assert svc.client.post("/v1/reserve", json={}, headers=svc.auth(role)).status_code == 403


def test_model_promotion_is_ledgered(make_service, sqlite_url, tmp_path):
    import shutil

    from tests.service.conftest import ROOT

    reg = tmp_path / "models"
    shutil.copytree(ROOT / "models", reg)
    svc = make_service(sqlite_url, registry=str(reg))
    version = (reg / "risk_scorer" / "DEFAULT").read_text().strip()
    h = svc.auth("actuary")
    assert svc.client.post("/v1/models/promote", json={"name": "risk_scorer", "version": version},
                           headers=svc.auth("underwriter")).status_code == 403
    r = svc.client.post("/v1/models/promote", json={"name": "risk_scorer", "version": version, "note": "re-affirm"},
                        headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["promotion"]["to"] == version
    last = svc.client.get("/v1/ledger", headers=svc.auth("auditor")).json()["entries"][-1]
    assert last["action"] == "model.promote" and last["detail"]["note"] == "re-affirm"
    bad = svc.client.post("/v1/models/promote", json={"name": "risk_scorer", "version": "9.9.9"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "version"
    entries = svc.client.get("/v1/ledger", headers=svc.auth("auditor")).json()["entries"]
    assert [e["action"] for e in entries].count("model.promote") == 1  # the refused one left no entry
    assert svc.client.get("/v1/ledger/verify", headers=svc.auth("auditor")).json()["ok"]


def test_an_internal_error_is_a_500_problem_and_logs_no_content(svc, monkeypatch, caplog):
    from underwriting.service import engine

    def boom(body):
        raise RuntimeError(f"broken while reading {body['submission']['exchange']['name']}")

    monkeypatch.setattr(engine, "quote", boom)
    client = svc.client.__class__(svc.app, raise_server_exceptions=False)
    r = client.post("/v1/quotes", json=quote_body(), headers=svc.auth("underwriter"))
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail"].startswith("RuntimeError")
    logged = caplog.text + r.text
    assert "Sakura" not in logged and svc.keys["underwriter"] not in logged
    assert "internal error on POST /v1/quotes: RuntimeError" in caplog.text
