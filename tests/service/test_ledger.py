"""The audit ledger: `underwriting ledger verify` passes on an honest database and names the entry
after a row is edited, deleted or reordered by hand; `ledger export` writes JSON lines; `keys create`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.service.conftest import quote_body, run_cli
from underwriting.service.ledger import GENESIS, entry_hash


@pytest.fixture
def filled(service):
    """A service with three quotes (so the ledger has 4 key entries and 3 quote entries)."""
    ids = []
    for seed in (0, 1, 2):
        r = service.client.post("/v1/quotes", json=quote_body(options={"seed": seed}),
                                headers=service.auth("underwriter"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    service.quote_ids = ids
    return service


def _sql(url: str, statement: str, **params) -> None:
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text(statement), params)
    eng.dispose()


def test_verify_passes_then_names_an_edited_entry(filled):
    code, out, err = run_cli("ledger", "verify", "--database", filled.url)
    assert code == 0, out + err
    assert "7 entries" in out and "chain intact" in out
    _sql(filled.url, "UPDATE ledger SET actor = 'someone-else' WHERE seq = 5")
    code, out, _ = run_cli("ledger", "verify", "--database", filled.url)
    assert code == 1
    assert "entry 5 (quote.create" in out and "edited" in out
    assert "entry 6" not in out  # the following entries still link to the stored hash of entry 5


def test_verify_names_deleted_and_reordered_entries_and_edited_quotes(filled):
    _sql(filled.url, "DELETE FROM ledger WHERE seq = 2")
    code, out, _ = run_cli("ledger", "verify", "--database", filled.url, "--json")
    res = json.loads(out)
    assert code == 1 and not res["ok"]
    assert any(p.startswith("entry 2: missing (deleted)") for p in res["problems"])
    assert any(p.startswith("entry 3 ") and "chain broken" in p for p in res["problems"])


def test_verify_names_a_swap_of_two_entries(filled):
    # swap the contents of entries 5 and 6 (each keeps its own hashes): both links break
    _sql(filled.url, "UPDATE ledger SET seq = -5 WHERE seq = 5")
    _sql(filled.url, "UPDATE ledger SET seq = 5 WHERE seq = 6")
    _sql(filled.url, "UPDATE ledger SET seq = 6 WHERE seq = -5")
    code, out, _ = run_cli("ledger", "verify", "--database", filled.url)
    assert code == 1 and "entry 5" in out and "entry 6" in out


def test_verify_names_an_edited_quote_and_a_truncated_tail(filled):
    qid = filled.quote_ids[1]
    _sql(filled.url, "UPDATE quotes SET document = replace(document, '\"premium\"', '\"premium\" ') WHERE id = :i",
         i=qid)
    _sql(filled.url, "DELETE FROM ledger WHERE seq = 7")
    code, out, _ = run_cli("ledger", "verify", "--database", filled.url)
    assert code == 1
    assert f"quote {qid}: stored document edited" in out
    assert "ledger head says entry 7" in out
    assert f"quote {filled.quote_ids[2]}: no ledger entry records it" in out


def test_export_is_json_lines_of_the_chain(filled, tmp_path):
    code, out, err = run_cli("ledger", "export", "--database", filled.url)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, 8))
    prev = GENESIS
    for e in lines:  # an auditor can re-check the chain from the export alone
        assert e["prev_hash"] == prev
        v = json.dumps(e["versions"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        d = json.dumps(e["detail"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert entry_hash(e["seq"], e["at"], e["actor"], e["action"], e["subject"], e["input_hash"], v, d,
                          e["prev_hash"]) == e["entry_hash"]
        prev = e["entry_hash"]
    quotes = [e for e in lines if e["action"] == "quote.create"]
    assert [e["subject"] for e in quotes] == filled.quote_ids
    assert all(e["detail"]["inputs"]["submission"]["exchange"]["jurisdiction"] == "JP" for e in quotes)
    out_file = tmp_path / "ledger.jsonl"
    code, _, _ = run_cli("ledger", "export", "--database", filled.url, "--out", out_file)
    assert code == 0 and out_file.read_text(encoding="utf-8") == out


def test_keys_create_prints_a_working_key_once(sqlite_url, make_service):
    code, out, err = run_cli("keys", "create", "--role", "auditor", "--label", "ext", "--database", sqlite_url)
    assert code == 0, err
    key = out.strip()
    assert key.startswith("uwk_") and "auditor" in err and key not in err
    svc = make_service(sqlite_url)
    assert svc.client.get("/v1/ledger", headers={"X-API-Key": key}).status_code == 200
    assert svc.client.post("/v1/quotes", json=quote_body(), headers={"X-API-Key": key}).status_code == 403
    code, _, err = run_cli("keys", "create", "--role", "king", "--database", sqlite_url)
    assert code == 2 and "--role" in err
    code, _, err = run_cli("keys", "create", "--role", "admin", "--database", "nosuchdb://x")
    assert code == 2 and "--database" in err and "Traceback" not in err


def test_cli_roles_match_the_service_roles():
    from underwriting.cli.apikeys import ROLES as CLI_ROLES
    from underwriting.service.db import ROLES
    from underwriting.service.keys import PERMISSIONS

    assert CLI_ROLES == ROLES == tuple(PERMISSIONS)


def test_serve_refuses_a_bad_database_url_before_starting():
    code, _, err = run_cli("serve", "--database", "nosuchdb://x", "--port", "1")
    assert code == 2 and "--database" in err and "Traceback" not in err
    code, _, err = run_cli("serve", "--port", "99999")
    assert code == 2 and "--port" in err
