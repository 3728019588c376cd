"""Ledger-key rotation (``underwriting ledger rotate-key``): move the service to a new ledger key while
every entry signed with the old one stays verifiable, and the chain itself records the hand-over.

:func:`rotate`, in one database transaction holding the ledger head lock (so no other writer appends
meanwhile, whichever process it is):

1. makes a new Ed25519 key pair;
2. appends a ``ledger.key_rotate`` entry signed (its hash, as every entry) by the **old** key, the key
   in force at that position, whose detail carries the new key's id and public half and the **new**
   key's signature of the hand-over (:func:`underwriting.service.ledger.handover_message`: the entry's
   sequence number, the previous entry's hash and both key ids), so both keys sign the entry and the
   new key's signature cannot be moved elsewhere in the chain;
3. re-signs every stored idempotent reply whose old-key signature still checks with the new key (a reply
   that fails its check is left as it is, listed in the entry, and ``ledger verify`` keeps naming it):
   afterwards no reply depends on the retired key, so a leaked old key can no longer forge one;
4. archives the old public key as ``ledger_key.retired-<key id>.pub`` beside the key, writes the new key
   (mode 0600) over ``ledger_key.pem`` and its public half over ``ledger_key.pub`` (each an atomic
   rename: the key file is never absent, so a running service never makes a key of its own), keeping the
   old private key as ``ledger_key.retiring.pem`` until the transaction commits;
5. after the commit removes the old private key (``ledger_key.retiring.pem``): a retired private key left
   on disk is what a later leak would expose, and its holder could sign entries after the rotation
   (``verify`` names them) or rewrite and re-sign the entries before it (only the checkpoints catch
   that); then appends a signed checkpoint (new key) of the head.

A failure before the commit restores the old key files. A process killed between step 4 and the commit
leaves ``ledger_key.retiring.pem``: :func:`recover` (run by the next ``rotate-key`` and at every service
start) removes it when the rotation entry is in the ledger, and otherwise puts the old key back.
A running service reads the key file again when it changes, so it signs with the new key from its next
write on; no restart is needed.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from underwriting.errors import InputError
from underwriting.fileio import atomic_write_bytes
from underwriting.service import ledger, ledger_key
from underwriting.service.db import IdempotentResponse, LedgerHead

#: Replies not re-signed (their old signature fails) listed by id in the rotation entry, at most.
MAX_LISTED = 100


def retiring_path() -> Path:
    """Where the old private key waits for the rotation's commit: ``ledger_key.retiring.pem``."""
    p = ledger_key.key_path()
    return p.with_name(f"{p.stem}.retiring{p.suffix or '.pem'}")


def recover(session: Session) -> str | None:
    """Finish or undo a rotation whose process was killed after it installed the new key (the caller holds
    the ledger head lock): ``"finished"`` (the rotation entry is in the ledger: the old private key is
    removed), ``"restored"`` (it is not: the old key is put back), or ``None`` (nothing to do)."""
    from underwriting.registry.signing import SigningKey

    r = retiring_path()
    if not r.exists():
        return None
    old = SigningKey.load(r)
    _, keys = ledger_key.known_keys()
    keys[old.key_id] = old.raw_public
    if old.key_id in ledger.retirements(session, keys):
        r.unlink()
        return "finished"
    _put_back(r, ledger_key.key_path())
    atomic_write_bytes(ledger_key.public_path(), old.public().pem(), mode=0o644)
    ledger_key.archived_path(old.key_id).unlink(missing_ok=True)
    ledger_key.forget_cached_key()
    return "restored"


def _resign_replies(s: Session, old_id: str, old_raw: bytes, new: Any) -> tuple[int, list[int]]:
    resigned, failed = 0, []
    for r in s.execute(select(IdempotentResponse).order_by(IdempotentResponse.id)).scalars():
        msg = ledger_key.reply_message(r.key_id, r.idempotency_key, r.route, r.request_sha256, r.status, r.body)
        if r.key_sig != old_id or ledger_key.check({old_id: old_raw}, ledger_key.REPLY_TAG, msg, r.key_sig,
                                                   r.signature):
            failed.append(r.id)
            continue
        r.key_sig, r.signature = new.key_id, new.sign(ledger_key.REPLY_TAG, msg.encode("utf-8"))
        resigned += 1
    return resigned, failed


def rotate(sessions: sessionmaker, database_url: str | None = None) -> dict[str, Any]:
    """Rotate the ledger key (see the module docstring); return what was done.

    Returns
    -------
    dict
        ``old_key_id``, ``new_key_id``, ``entry`` (the rotation entry's sequence number), ``archived`` (the
        old public key's file), ``public`` (``ledger_key.pub``), ``replies_resigned``, ``replies_not_resigned``
        (ids), ``checkpoint`` (the checkpoint log written), ``recovered`` (:func:`recover`'s answer).

    Raises
    ------
    InputError
        No ledger key here (the service has never started with this key path), or it is unreadable.
    """
    from underwriting.registry.signing import SigningKey, write_private_key

    key_file, pub_file = ledger_key.key_path(), ledger_key.public_path()
    recovered = None
    files_touched = False
    old = None
    archived = None
    try:
        with sessions.begin() as s:
            s.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()
            recovered = recover(s)
            old = ledger_key.service_key(create=False)
            if not os.access(key_file, os.R_OK):
                raise InputError(f"cannot read the ledger key {key_file}", field=ledger_key.ENV_KEY)
            new = SigningKey.generate()
            head = s.get(LedgerHead, 1)
            seq, prev = head.seq + 1, head.entry_hash
            handover = new.sign(ledger_key.ROTATE_TAG,
                                ledger.handover_message(seq, prev, old.key_id, new.key_id).encode("utf-8"))
            resigned, failed = _resign_replies(s, old.key_id, old.raw_public, new)
            archived = ledger_key.archived_path(old.key_id)
            entry = ledger.append(s, actor="cli", action=ledger.ROTATE_ACTION, subject=new.key_id, detail={
                "old_key_id": old.key_id, "new_key_id": new.key_id,
                "new_public_key": base64.b64encode(new.raw_public).decode("ascii"),
                "handover_signature": handover, "archived_public_key": archived.name,
                "old_private_key": "removed", "replies_resigned": resigned,
                "replies_not_resigned": failed[:MAX_LISTED], "replies_not_resigned_count": len(failed)})
            if entry.seq != seq or entry.key_id != old.key_id:  # the lock held: neither can happen
                raise RuntimeError("the ledger moved under the rotation's lock")
            # the files, still inside the transaction: a failure from here on restores the old key
            files_touched = True
            atomic_write_bytes(archived, old.public().pem(), mode=0o644)
            _keep_copy(key_file, retiring_path())
            write_private_key(new, key_file, force=True)  # atomic renames over the key and ledger_key.pub
            ledger_key.forget_cached_key()
    except BaseException:
        if files_touched and old is not None:
            _restore(old, retiring_path(), key_file, pub_file, archived)
        raise
    retiring_path().unlink(missing_ok=True)
    cp = ledger_key.checkpoint(entry.seq, entry.entry_hash, ledger.utcnow().isoformat(timespec="microseconds"),
                               create=False)
    cp_path = ledger_key.checkpoints_path(database_url)
    try:
        ledger_key.append_checkpoint(cp, cp_path)
    except OSError as exc:
        raise InputError(f"the key was rotated (entry {entry.seq}), but the checkpoint could not be appended to "
                         f"{cp_path}: {exc.strerror or exc}; run `underwriting ledger checkpoint`",
                         field=ledger_key.ENV_CHECKPOINTS) from None
    if cp["key_id"] != new.key_id:
        raise RuntimeError("the checkpoint after the rotation was not signed by the new key")
    return {"old_key_id": old.key_id, "new_key_id": new.key_id, "entry": entry.seq, "entry_hash": entry.entry_hash,
            "archived": str(archived), "public": str(pub_file), "replies_resigned": resigned,
            "replies_not_resigned": failed, "checkpoint": str(cp_path), "recovered": recovered}


def _keep_copy(src: Path, dst: Path) -> None:
    """``dst`` a copy of the private key ``src`` (a hard link when the file system allows; else 0600 bytes)."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        atomic_write_bytes(dst, src.read_bytes(), mode=0o600)


def _put_back(retiring: Path, key_file: Path) -> None:
    """The retiring private key back in use: its bytes written atomically to ``key_file`` (0600), then the
    retiring copy removed (a crash in between leaves both, and the next start's :func:`recover` does it again)."""
    atomic_write_bytes(key_file, retiring.read_bytes(), mode=0o600)
    retiring.unlink()


def _restore(old: Any, retiring: Path, key_file: Path, pub_file: Path, archived: Path | None) -> None:
    if retiring.exists():
        _put_back(retiring, key_file)
    else:
        atomic_write_bytes(key_file, old.private_pem(), mode=0o600)
    atomic_write_bytes(pub_file, old.public().pem(), mode=0o644)
    if archived is not None:
        archived.unlink(missing_ok=True)
    ledger_key.forget_cached_key()


__all__ = ["recover", "retiring_path", "rotate"]
