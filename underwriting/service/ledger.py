"""The audit ledger: an append-only hash chain in the service database.

Each entry records who (``actor``: an API key id or ``cli``), when (UTC, ISO 8601), what (``action``
and ``subject``), the input hash, the versions of the models and regime used, a JSON ``detail`` and
the hash of the previous entry. ``entry_hash`` is the SHA-256 of all of these (see :func:`entry_hash`),
so editing any column of any entry, deleting one or reordering them breaks the chain at a place
:func:`verify` names. Entries are appended with :func:`append` inside the caller's transaction, so an
entry exists exactly when the record it describes does.

The chain proves the ledger is internally consistent; someone with write access who rewrites the
whole tail *and* recomputes every hash is caught only by comparing with an exported head hash
(:func:`head`), which auditors should keep outside the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from underwriting.service.db import LedgerEntry, LedgerHead, QuoteRecord, utcnow

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
    entry = LedgerEntry(seq=seq, at=at, actor=actor, action=action, subject=subject, input_hash=input_hash,
                        versions=v, detail=d, prev_hash=head.entry_hash, entry_hash=h)
    session.add(entry)
    head.seq, head.entry_hash = seq, h
    session.flush()
    return entry


def entry_dict(e: LedgerEntry) -> dict[str, Any]:
    """An entry as a JSON-ready dict (``versions`` and ``detail`` parsed)."""
    return {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
            "input_hash": e.input_hash, "versions": json.loads(e.versions), "detail": json.loads(e.detail),
            "prev_hash": e.prev_hash, "entry_hash": e.entry_hash}


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify`: ``ok``, the number of entries checked and one line per problem."""

    ok: bool
    entries: int
    head: str
    problems: list[str]

    def report(self) -> str:
        if self.ok:
            return f"ledger verified: {self.entries} entries, chain intact, head {self.head}"
        return "\n".join([f"LEDGER BROKEN: {len(self.problems)} problem(s) in {self.entries} entries",
                          *(f"  {p}" for p in self.problems)])


def _entries(session: Session, batch: int = 1000) -> Iterator[LedgerEntry]:
    last = 0
    while True:
        rows = session.execute(select(LedgerEntry).where(LedgerEntry.seq > last)
                               .order_by(LedgerEntry.seq).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session) -> Verification:
    """Check the whole chain and the quotes it describes; name every edited, deleted or reordered entry.

    Checks, entry by entry in sequence order: the sequence has no gap (a gap is a deleted entry); the
    stored hash equals the hash recomputed from the columns (else the entry was edited); ``prev_hash``
    equals the previous entry's hash (else entries were reordered or removed); the head row matches
    the last entry (else the last entries were deleted). Each ``quote.create`` entry's quote must
    exist with the recorded SHA-256 of its document.
    """
    problems: list[str] = []
    prev, expected, n = GENESIS, 1, 0
    quote_sha: dict[str, tuple[int, str]] = {}
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
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq} ({e.action} {e.subject}): chain broken: previous-entry hash "
                            f"{e.prev_hash[:16]} does not match the entry before it ({prev[:16]}); "
                            "entries were reordered, removed or rewritten")
        if e.action == "quote.create":
            try:
                quote_sha[e.subject] = (e.seq, json.loads(e.detail)["quote_sha256"])
            except (ValueError, KeyError):
                problems.append(f"entry {e.seq}: quote entry without a quote_sha256")
        prev, expected = e.entry_hash, e.seq + 1
    head = session.get(LedgerHead, 1)
    if head is not None and (head.seq != expected - 1 or head.entry_hash != prev):
        problems.append(f"ledger head says entry {head.seq} ({head.entry_hash[:16]}) but the last entry is "
                        f"{expected - 1} ({prev[:16]}): entries after {expected - 1} were deleted, or the head edited")
    seen = set()
    for rec in session.execute(select(QuoteRecord.id, QuoteRecord.document, QuoteRecord.ledger_seq)):
        seen.add(rec.id)
        want = quote_sha.get(rec.id)
        if want is None:
            problems.append(f"quote {rec.id}: no ledger entry records it")
        elif sha256_text(rec.document) != want[1]:
            problems.append(f"quote {rec.id}: stored document edited (SHA-256 differs from ledger entry {want[0]})")
    for qid, (seq, _) in quote_sha.items():
        if qid not in seen:
            problems.append(f"entry {seq}: quote {qid} it records is missing from the quotes table (deleted)")
    return Verification(ok=not problems, entries=n, head=prev, problems=problems)


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
