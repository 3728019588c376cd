"""Ledger-key rotation (`underwriting ledger rotate-key`): entries before and after a rotation verify, a
post-rotation entry signed with the old key, a forged hand-over and an unknown key id are named, stored
replies from before the rotation still replay, and a failed or interrupted rotation leaves the old key."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat

import pytest
from sqlalchemy import create_engine, text

from tests.service.conftest import quote_body, run_cli
from underwriting.service import ledger_key
from underwriting.service.ledger import compact_json, entry_hash, handover_message


@pytest.fixture
def svc(make_service, db_url, key_home):
    s = make_service(db_url)
    r = s.client.post("/v1/quotes", json=quote_body(), headers=s.auth("underwriter", **{"Idempotency-Key": "before"}))
    assert r.status_code == 201, r.text
    s.old_key = ledger_key.SigningKey.load(key_home)  # what someone who copied the old key holds
    return s


def _verify(url: str, *extra: str) -> tuple[int, str]:
    code, out, err = run_cli("ledger", "verify", "--database", url, *extra)
    assert "Traceback" not in err
    return code, out + err


def _sql(url: str, statement: str, **params):
    eng = create_engine(url)
    with eng.begin() as c:
        rows = c.execute(text(statement), params)
        out = rows.all() if rows.returns_rows else None
    eng.dispose()
    return out


def _rotate(url: str) -> str:
    code, out, err = run_cli("ledger", "rotate-key", "--database", url)
    assert code == 0 and "Traceback" not in err, out + err
    return out


def _append_forged(url: str, action: str, subject: str, detail: dict, sign) -> int:
    """What someone who writes the database appends by hand at the head (hash and link correct)."""
    (seq, prev), = _sql(url, "SELECT seq, entry_hash FROM ledger_head WHERE id = 1")
    seq += 1
    at = "2026-12-07T08:00:00.000000+00:00"
    d = compact_json(detail)
    h = entry_hash(seq, at, "cli", action, subject, "", "{}", d, prev)
    kid, sig = sign(h)
    _sql(url, "INSERT INTO ledger (seq, at, actor, action, subject, input_hash, versions, detail, prev_hash, "
              "entry_hash, key_id, signature) VALUES (:s, :at, 'cli', :a, :sub, '', '{}', :d, :p, :h, :k, :sig)",
         s=seq, at=at, a=action, sub=subject, d=d, p=prev, h=h, k=kid, sig=sig)
    _sql(url, "UPDATE ledger_head SET seq = :s, entry_hash = :h WHERE id = 1", s=seq, h=h)
    return seq


def test_rotation_round_trip(svc, key_home, monkeypatch):
    old_id = svc.old_key.key_id
    out = _rotate(svc.url)
    new = ledger_key.SigningKey.load(key_home)
    assert new.key_id != old_id and f"{old_id} -> {new.key_id}" in out
    assert stat.S_IMODE(key_home.stat().st_mode) == 0o600
    assert ledger_key.load_public_key(key_home.with_suffix(".pub")).key_id == new.key_id  # ledger_key.pub is current
    archived = key_home.with_name(f"ledger_key.retired-{old_id}.pub")
    assert ledger_key.load_public_key(archived).key_id == old_id
    assert sorted(p.name for p in key_home.parent.iterdir() if p.is_file()) == sorted(
        ["ledger_key.pem", "ledger_key.pub", archived.name])  # the old private key is gone
    rot = svc.client.get("/v1/ledger", headers=svc.auth("auditor")).json()["entries"][-1]
    assert rot["action"] == "ledger.key_rotate" and rot["key_id"] == old_id and rot["subject"] == new.key_id
    assert rot["detail"]["replies_resigned"] == 1 and rot["detail"]["replies_not_resigned"] == []

    code, text_out = _verify(svc.url)
    assert code == 0, text_out
    code, js = _verify(svc.url, "--json")
    doc = json.loads(js)
    assert doc["ok"] and doc["keys"]["current"] == new.key_id
    assert doc["keys"]["archived"] == [{"key_id": old_id, "file": str(archived)}]
    assert [(k["key_id"], k["retired_at_entry"]) for k in doc["keys"]["in_force"]] == [
        (old_id, rot["seq"]), (new.key_id, None)]

    # the running service signs with the new key without a restart; a key made before the rotation still works
    r = svc.client.post("/v1/quotes", json=quote_body(options={"seed": 9}), headers=svc.auth("underwriter"))
    assert r.status_code == 201, r.text
    last = svc.client.get("/v1/ledger", headers=svc.auth("auditor")).json()["entries"][-1]
    assert last["seq"] == rot["seq"] + 1 and last["key_id"] == new.key_id
    # the idempotent reply stored before the rotation (re-signed by it) still replays
    again = svc.client.post("/v1/quotes", json=quote_body(), headers=svc.auth("underwriter", **{"Idempotency-Key":
                                                                                               "before"}))
    assert again.status_code == 201 and again.headers.get("Idempotency-Replayed") == "true"
    code, text_out = _verify(svc.url)
    assert code == 0, text_out
    # an auditor given the public keys only (no private key) verifies too
    log = ledger_key.checkpoints_path(svc.url)
    auditor = key_home.parent.parent / "auditor"
    auditor.mkdir()
    for f in (key_home.with_suffix(".pub"), archived):
        shutil.copy(f, auditor / f.name)
    monkeypatch.setenv(ledger_key.ENV_KEY, str(auditor / "ledger_key.pem"))
    code, text_out = _verify(svc.url, "--checkpoints", log)
    assert code == 0 and "signed checkpoint(s)" in text_out, text_out


def test_an_entry_signed_with_the_old_key_after_the_rotation_is_named(svc):
    _rotate(svc.url)
    old = svc.old_key
    r = svc.client.post("/v1/quotes", json=quote_body(options={"seed": 4}), headers=svc.auth("underwriter"))
    assert r.status_code == 201
    (seq, h), = _sql(svc.url, "SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")
    # whoever kept a copy of the old key re-signs the newest entry with it
    _sql(svc.url, "UPDATE ledger SET key_id = :k, signature = :s WHERE seq = :q", k=old.key_id,
         s=old.sign(ledger_key.ENTRY_TAG, h.encode()), q=seq)
    code, out = _verify(svc.url)
    assert code == 1 and f"entry {seq} (quote.create" in out
    assert f"signed by the retired key {old.key_id} after its retirement" in out, out
    # and appends a new entry with it, and a stored reply
    _sql(svc.url, "UPDATE ledger SET key_id = :k, signature = :s WHERE seq = :q", k=ledger_key.service_key().key_id,
         s=ledger_key.service_key().sign(ledger_key.ENTRY_TAG, h.encode()), q=seq)
    assert _verify(svc.url)[0] == 0
    forged = _append_forged(svc.url, "key.revoke", "nobody", {"role": "admin"},
                            lambda h: (old.key_id, old.sign(ledger_key.ENTRY_TAG, h.encode())))
    code, out = _verify(svc.url, "--checkpoints", os.devnull)
    assert code == 1 and f"entry {forged} (key.revoke nobody): signed by the retired key" in out, out
    row, = _sql(svc.url, "SELECT id, key_id, idempotency_key, route, request_sha256, status, body FROM idempotency")
    msg = ledger_key.reply_message(*row[1:])
    _sql(svc.url, "UPDATE idempotency SET key_sig = :k, signature = :s", k=old.key_id,
         s=old.sign(ledger_key.REPLY_TAG, msg.encode()))
    code, out = _verify(svc.url, "--checkpoints", os.devnull)
    assert f"stored reply {row[0]} ({row[3]}, key {row[1]}): signed by the retired key {old.key_id}" in out, out
    # a checkpoint signed with the old key after its retirement is named too
    log = ledger_key.checkpoints_path(svc.url)
    body = {"format": ledger_key.CHECKPOINT_FORMAT, "seq": forged, "entry_hash": _sql(
        svc.url, "SELECT entry_hash FROM ledger WHERE seq = :s", s=forged)[0][0], "at": "2026-12-07T08:00:00+00:00"}
    sig = old.sign(ledger_key.CHECKPOINT_TAG, json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**body, "key_id": old.key_id, "signature": sig}) + "\n")
    code, out = _verify(svc.url)
    assert f"checkpoint of entry {forged}" in out and "signed by the retired key" in out, out


def test_a_forged_rotation_signed_only_by_the_new_key_is_named(svc, key_home):
    """Someone who can write the database (and even replace the key files) but does not hold the old key."""
    mine = ledger_key.SigningKey.generate()
    (seq, prev), = _sql(svc.url, "SELECT seq, entry_hash FROM ledger_head WHERE id = 1")
    old_id = svc.old_key.key_id
    detail = {"old_key_id": old_id, "new_key_id": mine.key_id,
              "new_public_key": base64.b64encode(mine.raw_public).decode(),
              "handover_signature": mine.sign(ledger_key.ROTATE_TAG,
                                              handover_message(seq + 1, prev, old_id, mine.key_id).encode())}
    forged = _append_forged(svc.url, "ledger.key_rotate", mine.key_id, detail,
                            lambda h: (mine.key_id, mine.sign(ledger_key.ENTRY_TAG, h.encode())))
    code, out = _verify(svc.url, "--checkpoints", os.devnull)
    assert code == 1
    assert f"entry {forged} (ledger.key_rotate {mine.key_id}): rotation entry not signed by the old key {old_id}" in out
    # ... and with the key files replaced as well (the attacker's key now looks current)
    from underwriting.registry.signing import write_private_key

    write_private_key(mine, key_home, force=True)
    code, out = _verify(svc.url, "--checkpoints", os.devnull)
    assert code == 1 and "rotation entry not signed by the old key" in out
    assert f"signed by an unknown key id {old_id}" in out  # the honest entries: the old key was never archived


def test_an_unknown_key_id_is_named(svc):
    other = ledger_key.SigningKey.generate()
    forged = _append_forged(svc.url, "key.revoke", "nobody", {"role": "admin"},
                            lambda h: (other.key_id, other.sign(ledger_key.ENTRY_TAG, h.encode())))
    code, out = _verify(svc.url, "--checkpoints", os.devnull)
    assert code == 1 and f"entry {forged} (key.revoke nobody): signed by an unknown key id {other.key_id}" in out


def test_a_failed_rotation_leaves_the_old_key_in_place(svc, key_home, monkeypatch):
    from underwriting.registry import signing

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(signing, "write_private_key", broken)
    code, out, err = run_cli("ledger", "rotate-key", "--database", svc.url)
    assert code != 0
    assert ledger_key.SigningKey.load(key_home).key_id == svc.old_key.key_id
    assert ledger_key.load_public_key(key_home.with_suffix(".pub")).key_id == svc.old_key.key_id
    assert not list(key_home.parent.glob("*retire*"))
    assert not _sql(svc.url, "SELECT seq FROM ledger WHERE action = 'ledger.key_rotate'")
    assert _verify(svc.url)[0] == 0


def test_a_rotation_killed_before_its_commit_is_undone_at_the_next_start(svc, key_home, make_service):
    from underwriting.registry.signing import write_private_key
    from underwriting.service.key_rotation import retiring_path

    # what a rotation killed after installing the new key and before the database commit leaves
    shutil.copy(key_home, retiring_path())
    write_private_key(ledger_key.SigningKey.generate(), key_home, force=True)
    make_service(svc.url)  # the next start puts the old key back
    assert ledger_key.SigningKey.load(key_home).key_id == svc.old_key.key_id
    assert not retiring_path().exists()
    assert _verify(svc.url)[0] == 0


def test_api_keys_across_a_rotation(svc):
    """A key created before the rotation keeps working; one whose `key.create` entry is signed with the
    retired key after its retirement authenticates nobody."""
    from underwriting.service.keys import create_key

    _rotate(svc.url)
    assert svc.client.get("/v1/ledger", headers=svc.auth("auditor")).status_code == 200  # made before
    with svc.app.state.store.sessions.begin() as s:
        kid, key = create_key(s, "auditor", label="after the rotation")
    headers = {"Authorization": f"Bearer {key}"}
    assert svc.client.get("/v1/ledger", headers=headers).status_code == 200
    (seq, h), = _sql(svc.url, "SELECT seq, entry_hash FROM ledger WHERE action = 'key.create' AND subject = :k", k=kid)
    old = svc.old_key
    _sql(svc.url, "UPDATE ledger SET key_id = :k, signature = :s WHERE seq = :q", k=old.key_id,
         s=old.sign(ledger_key.ENTRY_TAG, h.encode()), q=seq)
    assert svc.client.get("/v1/ledger", headers=headers).status_code == 401
    code, out = _verify(svc.url)
    assert code == 1 and f"entry {seq} (key.create {kid}): signed by the retired key {old.key_id}" in out


def test_rotate_key_without_the_ledger_key_is_an_input_error(svc, key_home, monkeypatch):
    monkeypatch.setenv(ledger_key.ENV_KEY, str(key_home.parent / "elsewhere" / "ledger_key.pem"))
    code, out, err = run_cli("ledger", "rotate-key", "--database", svc.url)
    assert code == 2 and "UNDERWRITING_LEDGER_KEY: no ledger key at" in err and "Traceback" not in err
    assert not (key_home.parent / "elsewhere").exists()  # no key made, nothing recorded
    assert not _sql(svc.url, "SELECT seq FROM ledger WHERE action = 'ledger.key_rotate'")
