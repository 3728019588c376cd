"""The audit ledger: an append-only hash chain in the service database.

Each entry records who (``actor``: an API key id or ``cli``), when (UTC, ISO 8601), what (``action``
and ``subject``), the input hash, the versions of the models and regime used, a JSON ``detail`` and
the hash of the previous entry. ``entry_hash`` is the SHA-256 of all of these (see :func:`entry_hash`),
so editing any column of any entry, deleting one or reordering them breaks the chain at a place
:func:`verify` names. Entries are appended with :func:`append` inside the caller's transaction, so an
entry exists exactly when the record it describes does.

Each ``entry_hash`` is also signed with the service's ledger key, kept outside the database
(:mod:`underwriting.service.ledger_key`): someone with write access to the database who rewrites an
entry *and* recomputes every hash cannot re-sign them. Deleting the newest entries (and fixing the
head row) leaves a valid shorter chain; that, and anything done by a holder of the key, is caught by
comparing with a signed checkpoint or a head hash kept elsewhere (:mod:`underwriting.service.audit`,
which also checks that the quotes, keys and stored replies the API shows agree with the ledger).
Entries written before signing was introduced are unsigned; they count only when a signed checkpoint
at or after them vouches for them (its hash chains back to them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from underwriting.service import ledger_key
from underwriting.service.db import LedgerEntry, LedgerHead, utcnow

GENESIS = "0" * 64
#: The action of the entry that hands the ledger over from one ledger key to the next.
ROTATE_ACTION = "ledger.key_rotate"


def compact_json(obj: Any) -> str:
    """Canonical compact JSON (sorted keys, no spaces, no NaN), the form hashed and stored."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    """Hex SHA-256 of UTF-8 ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(seq: int, at: str, actor: str, action: str, subject: str, input_hash: str, versions: str,
               detail: str, prev_hash: str) -> str:
    """SHA-256 over every column of an entry (as stored) and the previous entry's hash."""
    return sha256_text(compact_json([seq, at, actor, action, subject, input_hash, versions, detail, prev_hash]))


def append(session: Session, *, actor: str, action: str, subject: str, input_hash: str = "",
           versions: dict[str, Any] | None = None, detail: dict[str, Any] | None = None) -> LedgerEntry:
    """Append one entry in ``session``'s transaction (the caller commits).

    The ledger head row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are
    ``BEGIN IMMEDIATE``), so concurrent appends queue and the chain stays linear.
    """
    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()
    seq = head.seq + 1
    at = utcnow().isoformat(timespec="microseconds")
    v, d = compact_json(versions or {}), compact_json(detail or {})
    h = entry_hash(seq, at, actor, action, subject, input_hash, v, d, head.entry_hash)
    key_id, signature = ledger_key.sign(ledger_key.ENTRY_TAG, h)
    entry = LedgerEntry(seq=seq, at=at, actor=actor, action=action, subject=subject, input_hash=input_hash,
                        versions=v, detail=d, prev_hash=head.entry_hash, entry_hash=h, key_id=key_id,
                        signature=signature)
    session.add(entry)
    head.seq, head.entry_hash = seq, h
    session.flush()
    session.info["ledger_last"] = (seq, h, at)  # the caller checkpoints it once the transaction commits
    return entry


def entry_dict(e: LedgerEntry) -> dict[str, Any]:
    """An entry as a JSON-ready dict (``versions`` and ``detail`` parsed)."""
    return {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
            "input_hash": e.input_hash, "versions": json.loads(e.versions), "detail": json.loads(e.detail),
            "prev_hash": e.prev_hash, "entry_hash": e.entry_hash, "key_id": e.key_id, "signature": e.signature}


@dataclass(frozen=True)
class Verification:
    """Outcome of a verification: ``ok``, the number of entries checked, one line per problem, notes."""

    ok: bool
    entries: int
    head: str
    problems: list[str]
    notes: list[str] = field(default_factory=list)
    #: the ledger keys in force, oldest first: ``{"key_id", "from_entry", "retired_at_entry"}`` (``None``: current)
    key_history: list[dict[str, Any]] = field(default_factory=list)

    def retired(self) -> dict[str, int]:
        """``key id -> sequence number of the rotation entry that retired it``."""
        return {k["key_id"]: k["retired_at_entry"] for k in self.key_history if k["retired_at_entry"] is not None}

    def report(self) -> str:
        notes = [f"  note: {n}" for n in self.notes]
        if self.ok:
            return "\n".join([f"ledger verified: {self.entries} entries, chain intact, signatures valid, "
                              f"head {self.head}", *notes])
        return "\n".join([f"LEDGER BROKEN: {len(self.problems)} problem(s) in {self.entries} entries",
                          *(f"  {p}" for p in self.problems), *notes])


def _entries(session: Session, batch: int = 1000) -> Iterator[LedgerEntry]:
    last = 0
    while True:
        rows = session.execute(select(LedgerEntry).where(LedgerEntry.seq > last)
                               .order_by(LedgerEntry.seq).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def handover_message(seq: int, prev_hash: str, old_key_id: str, new_key_id: str) -> str:
    """What the new key signs in a ``ledger.key_rotate`` entry: its position (sequence number and the
    previous entry's hash) and both key ids, so the signature cannot be moved to another place in the chain."""
    return compact_json([ROTATE_ACTION, int(seq), prev_hash, old_key_id, new_key_id])


def check_rotation(e: LedgerEntry, in_force: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """``(hand-over, None)`` when rotation entry ``e`` is signed by the old key (the key in force at its
    position, ``in_force``; ``e``'s own signature is checked by the caller) and its hand-over by the new key
    it names, else ``(None, why not)``. The hand-over is ``{"old_key_id", "new_key_id", "new_public_key"}``
    (raw bytes)."""
    import base64

    from underwriting.registry.signing import key_id_of

    try:
        d = json.loads(e.detail)
        old, new = str(d["old_key_id"]), str(d["new_key_id"])
        raw = base64.b64decode(d["new_public_key"], validate=True)
        handover = d["handover_signature"]
    except (ValueError, KeyError, TypeError):
        return None, "rotation entry without its hand-over (old and new key ids, the new public key and its signature)"
    if len(raw) != 32 or key_id_of(raw) != new:
        return None, f"rotation entry names key {new[:16]} but carries another public key"
    if e.key_id != old or (in_force is not None and old != in_force):
        return None, (f"rotation entry not signed by the old key {in_force or old} (signed by {str(e.key_id)[:16]}): "
                      "a forged hand-over")
    why = ledger_key.check({new: raw}, ledger_key.ROTATE_TAG, handover_message(e.seq, e.prev_hash, old, new), new,
                           handover)
    if why:
        return None, f"rotation entry's hand-over is not signed by the new key {new} ({why})"
    return {"old_key_id": old, "new_key_id": new, "new_public_key": raw}, None


def verify_chain(session: Session, *, keys: dict[str, bytes], vouched_upto: int = 0,
                 visit: Callable[[LedgerEntry], None] | None = None, current: str | None = None) -> Verification:
    """Check the whole chain; name every edited, deleted, reordered, re-hashed or unsigned entry.

    Checks, entry by entry in sequence order: the sequence has no gap (a gap is a deleted entry); the
    stored hash equals the hash recomputed from the columns (else the entry was edited); the hash is
    signed by a ledger key (``keys``: the current one and the archived ones; else it was recomputed by
    someone without the key, or signed by an unknown key); an unsigned entry is accepted only at or before
    ``vouched_upto`` (the newest valid signed checkpoint) and never after a signed one; ``prev_hash`` equals
    the previous entry's hash (else entries were reordered or removed); the head row matches the last entry
    (else the last entries were deleted). ``visit`` sees every entry (the record checks of
    :mod:`underwriting.service.audit`).

    Keys: the first signed entry's key is in force until a ``ledger.key_rotate`` entry, signed by it and
    carrying the new key's signature of the hand-over (:func:`check_rotation`), hands over to the new key
    (whose public half the entry carries). An entry signed by another key than the one in force is named,
    and one signed by a retired key after its retirement especially. ``current`` (the key id of
    ``ledger_key.pub``) must be the key in force at the head.
    """
    problems: list[str] = []
    notes: list[str] = []
    prev, expected, n = GENESIS, 1, 0
    unsigned: list[int] = []
    signed_seen = False
    keys = dict(keys)
    in_force: str | None = None
    retired: dict[str, int] = {}
    history: list[dict[str, Any]] = []
    for e in _entries(session):
        n += 1
        if e.seq != expected:
            missing = f"{expected}" if e.seq == expected + 1 else f"{expected}..{e.seq - 1}"
            problems.append(f"entry {missing}: missing (deleted) before entry {e.seq}")
        recomputed = entry_hash(e.seq, e.at, e.actor, e.action, e.subject, e.input_hash, e.versions, e.detail,
                                e.prev_hash)
        if recomputed != e.entry_hash:
            problems.append(f"entry {e.seq} ({e.action} {e.subject}): edited: its content no longer matches "
                            f"its hash {e.entry_hash[:16]}")
        why = ledger_key.check(keys, ledger_key.ENTRY_TAG, e.entry_hash, e.key_id, e.signature)
        if why == "unsigned":
            if signed_seen:
                problems.append(f"entry {e.seq} ({e.action} {e.subject}): unsigned after signed entries (its "
                                "signature was removed, or it was inserted without the ledger key)")
            else:
                unsigned.append(e.seq)
        elif why:
            problems.append(f"entry {e.seq} ({e.action} {e.subject}): {why}: the entry or its hash was rewritten "
                            "without the ledger key")
        else:
            signed_seen = True
            if e.key_id in retired:
                problems.append(f"entry {e.seq} ({e.action} {e.subject}): signed by the retired key {e.key_id} after "
                                f"its retirement at entry {retired[e.key_id]} (written with the old key: leaked, or "
                                "restored after the rotation)")
            elif in_force is None:
                in_force = e.key_id
                history.append({"key_id": e.key_id, "from_entry": e.seq, "retired_at_entry": None})
            elif e.key_id != in_force:
                problems.append(f"entry {e.seq} ({e.action} {e.subject}): signed by key {e.key_id}, but the key in "
                                f"force at this position is {in_force} (no rotation entry hands over to it)")
        if e.action == ROTATE_ACTION:
            handover, bad = check_rotation(e, in_force)
            if bad is None and why:
                bad = f"rotation entry not signed by the old key {in_force or '(none)'} ({why})"
            if bad:
                problems.append(f"entry {e.seq} ({e.action} {e.subject}): {bad}")
            elif handover is not None:
                retired[handover["old_key_id"]] = e.seq
                history[-1]["retired_at_entry"] = e.seq
                in_force = handover["new_key_id"]
                keys.setdefault(in_force, handover["new_public_key"])  # certified by the old key's signature
                history.append({"key_id": in_force, "from_entry": e.seq + 1, "retired_at_entry": None})
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq} ({e.action} {e.subject}): chain broken: previous-entry hash "
                            f"{e.prev_hash[:16]} does not match the entry before it ({prev[:16]}); "
                            "entries were reordered, removed or rewritten")
        if visit is not None:
            visit(e)
        prev, expected = e.entry_hash, e.seq + 1
    if unsigned:
        span = f"{unsigned[0]}..{unsigned[-1]}" if len(unsigned) > 1 else f"{unsigned[0]}"
        if unsigned[-1] <= vouched_upto:
            notes.append(f"entries {span} predate signing; a signed checkpoint at entry {vouched_upto} vouches "
                         "for them")
        else:
            problems.append(f"entries {span}: unsigned and not covered by a signed checkpoint (written before "
                            "signing, or stripped of their signatures and re-hashed); give the checkpoint log "
                            "(--checkpoints) that covers them")
    if current is not None and in_force is not None and in_force != current:
        problems.append(f"the key in force at the ledger's head is {in_force}, but the ledger key (ledger_key.pub) "
                        f"is {current}: a rotation entry was removed (or the chain rewritten with the retired key), "
                        "or the key file was replaced without `underwriting ledger rotate-key`")
    head = session.get(LedgerHead, 1)
    if head is not None and (head.seq != expected - 1 or head.entry_hash != prev):
        problems.append(f"ledger head says entry {head.seq} ({head.entry_hash[:16]}) but the last entry is "
                        f"{expected - 1} ({prev[:16]}): entries after {expected - 1} were deleted, or the head edited")
    return Verification(ok=not problems, entries=n, head=prev, problems=problems, notes=notes, key_history=history)


def retirements(session: Session, keys: dict[str, bytes]) -> dict[str, int]:
    """``key id -> sequence number of its rotation entry`` for every valid rotation entry of the ledger
    (intact hash, signed by the old key, hand-over signed by the new key): what the per-request check of
    an API key's ``key.create`` entry needs to accept an entry signed by a key since retired."""
    out: dict[str, int] = {}
    keys = dict(keys)
    for e in session.execute(select(LedgerEntry).where(LedgerEntry.action == ROTATE_ACTION)
                             .order_by(LedgerEntry.seq)).scalars():
        if entry_hash(e.seq, e.at, e.actor, e.action, e.subject, e.input_hash, e.versions, e.detail,
                      e.prev_hash) != e.entry_hash:
            continue
        if ledger_key.check(keys, ledger_key.ENTRY_TAG, e.entry_hash, e.key_id, e.signature):
            continue
        handover, bad = check_rotation(e, None)
        if bad is None and handover["old_key_id"] not in out:
            out[handover["old_key_id"]] = e.seq
            keys.setdefault(handover["new_key_id"], handover["new_public_key"])
    return out


def export(session: Session, write) -> int:
    """Write every entry as one JSON line through ``write`` (a ``str -> None`` callable); return the count."""
    n = 0
    for e in _entries(session):
        write(compact_json(entry_dict(e)) + "\n")
        n += 1
    return n


def head(session: Session) -> tuple[int, str]:
    """``(last sequence number, its hash)`` as recorded in the head row."""
    h = session.get(LedgerHead, 1)
    return (h.seq, h.entry_hash) if h is not None else (0, GENESIS)
