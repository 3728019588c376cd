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


def verify_chain(session: Session, *, keys: dict[str, bytes], vouched_upto: int = 0,
                 visit: Callable[[LedgerEntry], None] | None = None) -> Verification:
    """Check the whole chain; name every edited, deleted, reordered, re-hashed or unsigned entry.

    Checks, entry by entry in sequence order: the sequence has no gap (a gap is a deleted entry); the
    stored hash equals the hash recomputed from the columns (else the entry was edited); the hash is
    signed by the ledger key (``keys``; else it was recomputed by someone without the key); an unsigned
    entry is accepted only at or before ``vouched_upto`` (the newest valid signed checkpoint) and never
    after a signed one; ``prev_hash`` equals the previous entry's hash (else entries were reordered or
    removed); the head row matches the last entry (else the last entries were deleted). ``visit`` sees
    every entry (the record checks of :mod:`underwriting.service.audit`).
    """
    problems: list[str] = []
    notes: list[str] = []
    prev, expected, n = GENESIS, 1, 0
    unsigned: list[int] = []
    signed_seen = False
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
    head = session.get(LedgerHead, 1)
    if head is not None and (head.seq != expected - 1 or head.entry_hash != prev):
        problems.append(f"ledger head says entry {head.seq} ({head.entry_hash[:16]}) but the last entry is "
                        f"{expected - 1} ({prev[:16]}): entries after {expected - 1} were deleted, or the head edited")
    return Verification(ok=not problems, entries=n, head=prev, problems=problems, notes=notes)


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
