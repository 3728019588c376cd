"""Issue #30, items 1 and 3, replayed against the service database: every edit an attacker with
database access made (premium, exchange, author, key role, stored replies, a fully re-hashed chain, an
erased revocation, a back-dated entry) is named by `ledger verify`; a promotion killed before its
ledger commit is named, then recorded by the next start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import create_engine, text

from tests.service.conftest import ROOT, quote_body, run_cli
from underwriting.service.ledger import entry_hash


@pytest.fixture
def svc(make_service, db_url):
    s = make_service(db_url)
    r = s.client.post("/v1/quotes", json=quote_body(), headers=s.auth("underwriter"))
    assert r.status_code == 201, r.text
    s.qid = r.json()["id"]
    s.premium = r.json()["premium"]
    return s


def _sql(url: str, statement: str, **params) -> None:
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text(statement), params)
    eng.dispose()


def _verify(url: str, *extra: str) -> tuple[int, str]:
    code, out, err = run_cli("ledger", "verify", "--database", url, *extra)
    assert "Traceback" not in err
    return code, out + err


def _rehash_all(url: str) -> None:
    """What a database administrator without the ledger key can do: recompute every hash and link."""
    eng = create_engine(url)
    with eng.begin() as c:
        rows = c.execute(text("SELECT seq, at, actor, action, subject, input_hash, versions, detail FROM ledger "
                              "ORDER BY seq")).all()
        prev = "0" * 64
        for r in rows:
            h = entry_hash(r.seq, r.at, r.actor, r.action, r.subject, r.input_hash, r.versions, r.detail, prev)
            c.execute(text("UPDATE ledger SET prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                      {"p": prev, "h": h, "s": r.seq})
            prev = h
        c.execute(text("UPDATE ledger_head SET seq = :s, entry_hash = :h WHERE id = 1"), {"s": rows[-1].seq, "h": prev})
    eng.dispose()


def test_an_honest_database_verifies(svc):
    code, out = _verify(svc.url)
    assert code == 0, out
    assert "signatures valid" in out and "signed checkpoint(s)" in out


def test_halved_premium_edited_exchange_and_author_are_named(svc):
    _sql(svc.url, "UPDATE quotes SET premium = premium * 0.5")
    code, out = _verify(svc.url)
    assert code == 1 and f"quote {svc.qid}: column premium" in out
    listed = svc.client.get("/v1/quotes", headers=svc.auth("underwriter")).json()
    assert listed  # the API still serves the row; verify names the difference
    _sql(svc.url, "UPDATE quotes SET premium = :p, exchange = 'Someone Else', created_by = :k",
         p=svc.premium, k=svc.keys["auditor"].split("_")[1])
    code, out = _verify(svc.url)
    assert code == 1
    assert "column exchange" in out and "column created_by" in out and "column premium" not in out


def test_a_role_raised_to_admin_is_named_and_the_key_stops_working(svc):
    kid = svc.keys["underwriter"].split("_")[1]
    _sql(svc.url, "UPDATE api_keys SET role = 'admin' WHERE id = :k", k=kid)
    code, out = _verify(svc.url)
    assert code == 1 and f"API key {kid}: role is 'admin'" in out
    r = svc.client.get("/v1/keys", headers=svc.auth("underwriter"))
    assert r.status_code == 401  # the row no longer matches its signed key.create entry


def test_an_edited_stored_reply_is_named_and_not_replayed(svc):
    h = svc.auth("underwriter", **{"Idempotency-Key": "k-1"})
    r1 = svc.client.post("/v1/quotes", json=quote_body(options={"seed": 3}), headers=h)
    assert r1.status_code == 201
    _sql(svc.url, "UPDATE idempotency SET body = replace(body, :a, :b)", a='"premium":', b='"premium":1')
    code, out = _verify(svc.url)
    assert code == 1 and "stored reply" in out and "signature does not match" in out
    r2 = svc.client.post("/v1/quotes", json=quote_body(options={"seed": 3}), headers=h)
    assert r2.status_code == 409 and "integrity" in r2.json()["title"]


def test_a_fully_rehashed_chain_is_named(svc):
    # rewrite the premium inside the quote's ledger entry and the row, then recompute every hash
    _sql(svc.url, "UPDATE ledger SET detail = replace(detail, :a, :b) WHERE action = 'quote.create'",
         a=f'"premium":{json.dumps(svc.premium)}', b=f'"premium":{json.dumps(svc.premium / 2)}')
    _sql(svc.url, "UPDATE quotes SET premium = :p", p=svc.premium / 2)
    _rehash_all(svc.url)
    code, out = _verify(svc.url)
    assert code == 1
    assert "quote.create" in out and "signature does not match" in out
    assert "the ledger was rewritten and re-hashed" in out          # against the signed checkpoint


def test_an_erased_revocation_is_caught_by_the_checkpoint_and_the_head(svc):
    code, out = _verify(svc.url)
    head_before = out.split("head ")[1].split()[0]
    victim = svc.keys["underwriter"].split("_")[1]
    assert svc.client.delete(f"/v1/keys/{victim}", headers=svc.auth("admin")).status_code == 204
    code, out = _verify(svc.url)
    assert code == 0, out
    head_after = out.split("head ")[1].split()[0]
    # the administrator deletes the key.revoke entry, un-revokes the key and moves the head back
    _sql(svc.url, "DELETE FROM ledger WHERE action = 'key.revoke'")
    _sql(svc.url, "UPDATE api_keys SET revoked_at = NULL WHERE id = :k", k=victim)
    _sql(svc.url, "UPDATE ledger_head SET seq = seq - 1, entry_hash = :h WHERE id = 1", h=head_before)
    code, out = _verify(svc.url)
    assert code == 1 and "the entry is gone" in out
    code, out = _verify(svc.url, "--head", head_after, "--checkpoints", os.devnull)
    assert code == 1 and f"the given head {head_after[:16]} is not in the chain" in out
    code, out = _verify(svc.url, "--head", "nothex")
    assert code == 2 and "--head" in out


def test_a_back_dated_entry_is_named(svc):
    _sql(svc.url, "UPDATE ledger SET at = '2020-01-01T00:00:00.000000+00:00' WHERE action = 'quote.create'")
    _sql(svc.url, "UPDATE quotes SET created_at = '2020-01-01 00:00:00.000000'")
    _rehash_all(svc.url)
    code, out = _verify(svc.url)
    assert code == 1 and "signature does not match" in out


def test_unsigned_entries_count_only_under_a_signed_checkpoint(svc):
    # a database from before signing (or one whose signatures were stripped): the hashes are unchanged
    _sql(svc.url, "UPDATE ledger SET key_id = NULL, signature = NULL")
    code, out = _verify(svc.url)
    assert code == 0 and "predate signing; a signed checkpoint at entry" in out, out
    code, out = _verify(svc.url, "--checkpoints", os.devnull)
    assert code == 1 and "unsigned and not covered by a signed checkpoint" in out
    # a key whose signed key.create entry lost its signature authenticates nobody (fails closed)
    r = svc.client.post("/v1/quotes", json=quote_body(options={"seed": 5}), headers=svc.auth("underwriter"))
    assert r.status_code == 401


def test_checkpoint_command_appends_a_signed_line(svc, tmp_path):
    log = tmp_path / "elsewhere" / "cp.jsonl"
    code, out, err = run_cli("ledger", "checkpoint", "--database", svc.url, "--out", log)
    assert code == 0, err
    cp = json.loads(log.read_text().splitlines()[-1])
    assert cp["seq"] >= 5 and cp["signature"]
    code, out = _verify(svc.url, "--checkpoints", log)
    assert code == 0, out
    log.write_text(log.read_text().replace(cp["entry_hash"], "0" * 64))
    code, out = _verify(svc.url, "--checkpoints", log)
    assert code == 1 and "signature does not match" in out


def _registry_copy(tmp_path):
    reg = tmp_path / "models"
    shutil.copytree(ROOT / "models", reg)
    return reg


def test_a_promotion_without_its_ledger_entry_is_named_then_reconciled(make_service, sqlite_url, tmp_path):
    from underwriting.registry import Registry

    reg = _registry_copy(tmp_path)
    make_service(sqlite_url, registry=str(reg))
    version = Registry(reg).default("risk_scorer")
    # what a server killed between the registry's commit and the database's commit leaves behind
    Registry(reg).promote("risk_scorer", version, note="killed before the ledger commit")
    code, out = _verify(sqlite_url, "--registry", reg)
    assert code == 1 and "has no ledger entry" in out and "risk_scorer" in out
    svc2 = make_service(sqlite_url, registry=str(reg))  # the next start records it
    entries = svc2.client.get("/v1/ledger", headers=svc2.auth("auditor")).json()["entries"]
    rec = [e for e in entries if e["action"] == "model.reconcile"]
    assert len(rec) == 1 and rec[0]["detail"]["history_entry"]["note"] == "killed before the ledger commit"
    code, out = _verify(sqlite_url, "--registry", reg)
    assert code == 0, out


def test_a_registry_rolled_back_under_the_ledger_is_named(make_service, sqlite_url, tmp_path):
    from underwriting.registry import Registry

    reg = _registry_copy(tmp_path)
    svc = make_service(sqlite_url, registry=str(reg))
    hist = reg / "risk_scorer" / "history.jsonl"
    old = hist.read_bytes()
    version = Registry(reg).default("risk_scorer")
    r = svc.client.post("/v1/models/promote", json={"name": "risk_scorer", "version": version},
                        headers=svc.auth("actuary"))
    assert r.status_code == 200, r.text
    hist.write_bytes(old)  # the older, genuinely signed history
    code, out = _verify(sqlite_url, "--registry", reg)
    assert code == 1 and "is no longer in the signed history" in out


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from fastapi.testclient import TestClient
    from underwriting.service.app import create_app
    from underwriting.service.keys import create_key
    url, reg, version = sys.argv[1:4]
    app = create_app(url, registry=reg)
    with app.state.store.sessions.begin() as s:
        key = create_key(s, "actuary")[1]
    import os
    os.environ["UNDERWRITING_TEST_PAUSE_AT"] = "promote"
    TestClient(app).post("/v1/models/promote", json={"name": "risk_scorer", "version": version},
                         headers={"Authorization": "Bearer " + key})
""")


def test_a_server_killed_mid_promotion_leaves_a_named_gap_that_the_next_start_records(make_service, sqlite_url,
                                                                                        tmp_path):
    from underwriting.registry import Registry

    reg = _registry_copy(tmp_path)
    version = Registry(reg).default("risk_scorer")
    flag = tmp_path / "paused"
    env = {**os.environ, "UNDERWRITING_TEST_PAUSE_FILE": str(flag), "UNDERWRITING_TEST_PAUSE_SECONDS": "60",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, sqlite_url, str(reg), version], env=env)
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the server never reached the pause"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert Registry(reg).history("risk_scorer")[-1]["to"] == version  # the registry committed
    code, out = _verify(sqlite_url, "--registry", reg)
    assert code == 1 and "has no ledger entry" in out
    svc = make_service(sqlite_url, registry=str(reg))
    actions = [e["action"] for e in svc.client.get("/v1/ledger", headers=svc.auth("auditor")).json()["entries"]]
    assert actions.count("model.reconcile") == 1 and "model.promote" not in actions
    code, out = _verify(sqlite_url, "--registry", reg)
    assert code == 0, out


def test_a_database_from_before_signing_upgrades_and_verifies(tmp_path):
    """Schema 0001 with an unsigned entry (as the previous version wrote it): the upgrade adds the audit
    columns, the first start's signed checkpoint vouches for the old entries, new ones are signed."""
    from underwriting.service.db import make_engine, migrate
    from underwriting.service.ledger import compact_json

    url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = make_engine(url)
    migrate(eng, "0001")
    at = "2026-12-01T00:00:00.000000+00:00"
    detail = compact_json({"role": "auditor", "label": "old"})
    h = entry_hash(1, at, "cli", "key.create", "abcdef012345", "", "{}", detail, "0" * 64)
    with eng.begin() as c:
        c.execute(text("INSERT INTO api_keys (id, secret_hash, role, label, created_at) VALUES "
                       "('abcdef012345', 'x', 'auditor', 'old', '2026-12-01 00:00:00')"))
        c.execute(text("INSERT INTO ledger VALUES (1, :at, 'cli', 'key.create', 'abcdef012345', '', '{}', :d, :p, :h)"),
                  {"at": at, "d": detail, "p": "0" * 64, "h": h})
        c.execute(text("UPDATE ledger_head SET seq = 1, entry_hash = :h"), {"h": h})
    eng.dispose()
    code, out = _verify(url, "--checkpoints", os.devnull)  # upgraded, but nothing vouches for entry 1 yet
    assert code == 1 and "entries 1: unsigned and not covered by a signed checkpoint" in out, out
    from tests.service.conftest import Service

    svc = Service(url)  # the first start writes a signed checkpoint of the head
    try:
        code, out = _verify(url)
        assert code == 0 and "predate signing" in out, out
    finally:
        svc.close()
