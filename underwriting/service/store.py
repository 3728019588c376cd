"""What the service does, apart from HTTP: quotes, reserve assessments, keys and reads, each write in
one transaction with its ledger entry, and ``Idempotency-Key`` handling shared by every POST.

The API (:mod:`underwriting.service.app`) and the workbench (:mod:`underwriting.service.web`) both
call these functions, so a quote made in the browser is stored and audited exactly like one made
through the API. Stored idempotent replies are signed with the ledger key and checked before a replay;
after each committed ledger write a signed checkpoint of the head is appended to the checkpoint log
(:mod:`underwriting.service.ledger_key`); at start the registry's signed promotions are reconciled into
the ledger (:meth:`Store.start`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from underwriting.fileio import canonical_json
from underwriting.service import audit, engine, key_rotation, ledger, ledger_key
from underwriting.service.db import ApiKey, IdempotentResponse, LedgerEntry, QuoteRecord
from underwriting.service.keys import Principal

MAX_IDEMPOTENCY_KEY = 200


@dataclass
class Problem(Exception):
    """An error reported as ``application/problem+json`` (RFC 9457)."""

    status: int
    title: str
    detail: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if self.errors:
            out["errors"] = self.errors
        if instance:
            out["instance"] = instance
        return out


@dataclass(frozen=True)
class Result:
    """A POST's outcome: HTTP status, JSON body, and whether it is a replay of an earlier request."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


class Store:
    """The service's operations on one database (a session factory)."""

    def __init__(self, sessions: sessionmaker, registry: str | None = None, *, start: bool = True):
        self.sessions = sessions
        self.registry = registry
        self._write_lock = threading.Lock()  # one writer per process; the database serialises processes
        bind = sessions.kw.get("bind")
        self.database_url = bind.url.render_as_string(hide_password=True) if bind is not None else None
        if start:
            self.start()

    def start(self) -> list[int]:
        """At start: finish or undo a ledger-key rotation killed half-way (:func:`key_rotation.recover`),
        record in the ledger any signed registry promotion it lacks (a promotion whose own
        entry was lost when the server was killed mid-commit; :func:`audit.reconcile`), then write a signed
        checkpoint of the ledger head. Returns the sequence numbers of the reconciliation entries."""
        with self._write_lock, self.sessions.begin() as s:
            added = self._settle(s)
        self.checkpoint()
        return added

    def _settle(self, s: Session) -> list[int]:
        """Lock the ledger head in ``s``, finish or undo a ledger-key rotation killed half-way (before anything
        is signed with a key that may be put back), then record the registry promotions the ledger lacks;
        an unreadable registry adds nothing (``ledger verify`` and every load report it). What :meth:`start`
        and :meth:`promote_recorded` both do first."""
        from underwriting.errors import ModelIntegrityError

        s.execute(select(ledger.LedgerHead).where(ledger.LedgerHead.id == 1).with_for_update()).scalar_one()
        key_rotation.recover(s)
        try:
            return audit.reconcile(s, self.registry)  # reads every history before it appends anything
        except ModelIntegrityError:
            return []

    def checkpoint(self) -> dict[str, Any]:
        """Append a signed checkpoint of the ledger head to the checkpoint log (:mod:`ledger_key`)."""
        from underwriting.errors import InputError

        with self.sessions() as s:
            seq, h = ledger.head(s)
        try:
            return self._write_checkpoint(seq, h, fsync=True, strict=True)
        except OSError as exc:
            raise InputError(f"cannot append to the ledger checkpoint log "
                             f"{ledger_key.checkpoints_path(self.database_url)}: {exc.strerror or exc}",
                             field=ledger_key.ENV_CHECKPOINTS) from None

    def _write_checkpoint(self, seq: int, h: str, *, fsync: bool = False, strict: bool = False) -> dict[str, Any]:
        """Checkpoint entry ``seq``; after a committed write (not ``strict``) a failure is logged, not raised:
        the record is stored, and the next checkpoint covers it."""
        cp = ledger_key.checkpoint(seq, h, ledger.utcnow().isoformat(timespec="microseconds"))
        try:
            ledger_key.append_checkpoint(cp, ledger_key.checkpoints_path(self.database_url), fsync=fsync)
        except OSError as exc:
            if strict:
                raise
            import logging

            logging.getLogger("underwriting.service").warning(
                "ledger checkpoint of entry %s not written: %s", seq, type(exc).__name__)
        return cp

    # ---- idempotent POSTs -------------------------------------------------------------------
    def _replay(self, s: Session, p: Principal, idem: str, route: str, req_sha: str) -> Result | None:
        row = s.execute(select(IdempotentResponse).where(IdempotentResponse.key_id == p.key_id,
                                                         IdempotentResponse.idempotency_key == idem)).scalar_one_or_none()
        if row is None:
            return None
        msg = ledger_key.reply_message(row.key_id, row.idempotency_key, row.route, row.request_sha256, row.status,
                                       row.body)
        why = ledger_key.check(ledger_key.public_key_ids(), ledger_key.REPLY_TAG, msg, row.key_sig, row.signature)
        if why:
            raise Problem(409, "Stored reply fails its integrity check", f"the reply stored for this Idempotency-Key "
                          f"is {why}: it was edited in the database; it is not replayed (run `underwriting ledger "
                          "verify`)")
        if row.route != route or row.request_sha256 != req_sha:
            raise Problem(422, "Idempotency-Key reused", "this Idempotency-Key was used for a different request; "
                          "use a new key for a new request", [{"field": "Idempotency-Key", "message": "reused with a "
                                                                "different request"}])
        return Result(row.status, json.loads(row.body), replayed=True)

    def post(self, p: Principal, route: str, body: Any, idem: str | None,
             prepare: Callable[[Any], Any], commit: Callable[[Session, Any], tuple[int, dict[str, Any], dict | None]],
             *, ledgered: bool = True) -> Result:
        """Run one POST: ``prepare(body)`` (the computation, outside any transaction), then
        ``commit(session, prepared) -> (status, body, stored_body)`` in one transaction with the
        idempotency record. ``stored_body`` (default ``body``) is what a replay returns."""
        if idem is not None and (not idem.strip() or len(idem) > MAX_IDEMPOTENCY_KEY):
            raise Problem(400, "Bad Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY} characters",
                          [{"field": "Idempotency-Key", "message": f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters"}])
        req_sha = ledger.sha256_text(ledger.compact_json(body)) if idem else ""
        if idem:
            with self.sessions() as s:
                hit = self._replay(s, p, idem, route, req_sha)
            if hit:
                return hit
        prepared = prepare(body)
        try:
            with self._write_lock, self.sessions.begin() as s:
                if ledgered or idem:
                    s.execute(select(ledger.LedgerHead).where(ledger.LedgerHead.id == 1).with_for_update()).scalar_one()
                if idem:
                    hit = self._replay(s, p, idem, route, req_sha)
                    if hit:
                        return hit
                status, out, stored = commit(s, prepared)
                if idem:
                    body_text = ledger.compact_json(out if stored is None else stored)
                    kid, sig = ledger_key.sign(ledger_key.REPLY_TAG, ledger_key.reply_message(
                        p.key_id, idem, route, req_sha, status, body_text))
                    s.add(IdempotentResponse(key_id=p.key_id, idempotency_key=idem, route=route,
                                             request_sha256=req_sha, status=status, body=body_text,
                                             key_sig=kid, signature=sig))
                last = s.info.pop("ledger_last", None)
            if last is not None:
                self._write_checkpoint(last[0], last[1])
            return Result(status, out)
        except IntegrityError:
            if not idem:
                raise
            with self.sessions() as s:  # another process stored the same key first
                hit = self._replay(s, p, idem, route, req_sha)
            if hit is None:
                raise
            return hit

    # ---- quotes --------------------------------------------------------------------------
    def create_quote(self, p: Principal, body: Any, idem: str | None = None) -> Result:
        """Quote ``body`` with the engine, store it and its ledger entry; 201 with the id and the quote."""

        def prepare(b: Any):
            # the engine and the canonical JSON, outside the write transaction (which serialises writers)
            q = engine.quote(b)
            parsed = q.to_dict()
            doc = canonical_json(parsed)  # = q.to_json(), without building the dict twice
            return q, doc, ledger.sha256_text(doc), parsed

        def commit(s: Session, prepared) -> tuple[int, dict[str, Any], None]:
            q, doc, sha, parsed = prepared
            qid = str(uuid.uuid4())
            entry = ledger.append(s, actor=p.key_id, action="quote.create", subject=qid, input_hash=q.input_hash,
                                  versions=q.versions,
                                  detail={"quote_sha256": sha, "exchange": q.exchange, "currency": q.currency,
                                          "premium": q.premium, "inputs": q.inputs})
            rec = QuoteRecord(id=qid, exchange=q.exchange, as_of=q.as_of.isoformat(), currency=q.currency,
                              premium=q.premium, input_hash=q.input_hash, quote_sha256=sha, document=doc,
                              created_by=p.key_id, ledger_seq=entry.seq,
                              created_at=dt.datetime.fromisoformat(entry.at))
            s.add(rec)
            s.flush()
            return 201, _quote_body(rec, parsed), None

        return self.post(p, "POST /v1/quotes", body, idem, prepare, commit)

    def get_quote(self, qid: str) -> dict[str, Any]:
        with self.sessions() as s:
            rec = s.get(QuoteRecord, qid)
            if rec is None:
                raise Problem(404, "Not Found", f"no quote {qid}")
            return _quote_body(rec, json.loads(rec.document))

    def list_quotes(self, *, exchange: str | None = None, date_from: dt.date | None = None,
                    date_to: dt.date | None = None, limit: int = 100, offset: int = 0,
                    exchange_contains: str | None = None) -> list[dict[str, Any]]:
        """Quote summaries, newest first; ``from``/``to`` are inclusive UTC dates of creation; ``exchange``
        the exact name, ``exchange_contains`` any part of it in any case (the workbench's search)."""
        q = select(QuoteRecord).order_by(QuoteRecord.created_at.desc(), QuoteRecord.id)
        if exchange:
            q = q.where(QuoteRecord.exchange == exchange)
        if exchange_contains:
            pattern = "%" + exchange_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            q = q.where(func.lower(QuoteRecord.exchange).like(pattern.lower(), escape="\\"))
        if date_from:
            q = q.where(QuoteRecord.created_at >= dt.datetime.combine(date_from, dt.time(), dt.UTC))
        if date_to:
            q = q.where(QuoteRecord.created_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC))
        with self.sessions() as s:
            return [_summary(r) for r in s.execute(q.limit(limit).offset(offset)).scalars()]

    def reproduce_quote(self, qid: str) -> dict[str, Any]:
        """Recompute quote ``qid`` from the inputs and versions in its ledger entry and compare canonical values
        (identical, within the documented tolerance, or different: ``underwriting reproduce``'s logic)."""
        with self.sessions() as s:
            rec = s.get(QuoteRecord, qid)
            if rec is None:
                raise Problem(404, "Not Found", f"no quote {qid}")
            entry = s.get(LedgerEntry, rec.ledger_seq)
        if entry is None or entry.subject != qid:
            raise Problem(409, "Ledger entry missing", f"the ledger entry {rec.ledger_seq} of quote {qid} is missing "
                          "or describes another record; run `underwriting ledger verify`")
        detail = json.loads(entry.detail)
        stored = json.loads(rec.document)
        # the recomputation uses the ledger's inputs and versions, not the stored document's
        recorded = {**stored, "inputs": detail["inputs"], "versions": json.loads(entry.versions)}
        res = engine.reproduce(recorded)
        new_sha = ledger.sha256_text(res.quote.to_json())
        out = res.to_dict()
        same_bytes = new_sha == detail["quote_sha256"]
        return {**out, "id": qid, "ledger_seq": entry.seq, "identical": res.identical and same_bytes,
                "reproduced": res.reproduced, "quote_sha256_recorded": detail["quote_sha256"],
                "quote_sha256_recomputed": new_sha,
                "stored_document_matches_ledger": ledger.sha256_text(rec.document) == detail["quote_sha256"]}

    # ---- reserve and price -----------------------------------------------------------------
    def assess_reserve(self, p: Principal, body: Any, idem: str | None = None) -> Result:
        """Assess a reserve (``underwriting reserve``) and record it in the ledger; 200 with the assessment."""

        def commit(s: Session, result: dict[str, Any]) -> tuple[int, dict[str, Any], None]:
            aid = str(uuid.uuid4())
            regime = result.get("regime") if isinstance(result.get("regime"), str) else body.get("regime")
            version = result.get("regime_version")
            entry = ledger.append(s, actor=p.key_id, action="reserve.assess", subject=aid,
                                  input_hash=ledger.sha256_text(ledger.compact_json(body)),
                                  versions={"regime": f"{regime}@{version}" if version else str(regime),
                                            "underwriting": _version()},
                                  detail={"result_sha256": ledger.sha256_text(ledger.compact_json(result)),
                                          "regime": regime})
            return 200, {"id": aid, "ledger_seq": entry.seq, "assessment": result}, None

        return self.post(p, "POST /v1/reserve", body, idem, engine.reserve, commit)

    def price(self, p: Principal, body: Any, idem: str | None = None) -> Result:
        """Price a layer (``underwriting price``); not a record, so no ledger entry."""
        return self.post(p, "POST /v1/price", body, idem, engine.price, lambda s, out: (200, out, None),
                         ledgered=False)

    # ---- models ----------------------------------------------------------------------------
    def promote_model(self, p: Principal, body: Any, idem: str | None = None) -> Result:
        """Promote (or roll back) a registry model as ``underwriting promote`` does, with a
        ``model.promote`` ledger entry. The registry change happens inside the database transaction,
        after the ledger head is locked: if it fails, nothing is recorded; if it succeeds, the entry
        commits with it. The one window left (the process killed, or the database failing, between the
        registry's commit and the database's) is closed by :meth:`start`, which records the signed
        promotion as ``model.reconcile``; ``ledger verify`` names it until then. The entry records the
        registry folder, so a later rollback of that registry is named too."""

        def prepare(b: Any):
            return engine.promote(b, self.registry)

        def commit(s: Session, run) -> tuple[int, dict[str, Any], None]:
            entry = run()
            led = audit.record_promotion(s, entry, self.registry, actor=p.key_id)
            return 200, {"ledger_seq": led.seq, "promotion": entry}, None

        return self.post(p, "POST /v1/models/promote", body, idem, prepare, commit)

    def promote_recorded(self, run: Callable[[], dict[str, Any]], *,
                         actor: str = "cli") -> tuple[dict[str, Any], int, list[int]]:
        """Run a registry promotion ``run()`` (returns its signed history entry) as the promote route does:
        inside the database transaction, after the ledger head is locked, with its ``model.promote`` entry
        (:func:`audit.record_promotion`), then a signed checkpoint. First, as :meth:`start` does, the
        registry's earlier signed promotions the ledger lacks (made while the database was unreachable)
        are recorded as ``model.reconcile``, after a rotation killed half-way is settled (:meth:`_settle`). ``underwriting promote`` uses it when it reaches the service
        database and key. Returns ``(history entry, ledger sequence number, reconciliation entries)``; if
        the database fails after the registry committed, the promotion stands and the next start
        reconciles it."""
        with self._write_lock, self.sessions.begin() as s:
            added = self._settle(s)  # an unreadable history: the promotion below says so, and `ledger verify` names it
            entry = run()
            led = audit.record_promotion(s, entry, self.registry, actor=actor)
            seq = led.seq
            last = s.info.pop("ledger_last", None)
        if last is not None:
            self._write_checkpoint(last[0], last[1])
        return entry, seq, added

    # ---- keys ------------------------------------------------------------------------------
    def create_key(self, p: Principal, body: Any, idem: str | None = None) -> Result:
        """Create an API key (admin); the key is in the first response only, never in a replay."""
        from underwriting.service.keys import check_role, create_key

        def prepare(b: Any) -> dict[str, Any]:
            if not isinstance(b, dict):
                raise Problem(422, "Invalid request", "expected a JSON object", [{"field": "(body)", "message":
                                                                                 "expected a JSON object"}])
            try:
                check_role(b.get("role"))
            except engine.InputError as exc:
                raise Problem(422, "Invalid request", str(exc), [{"field": "role", "message": exc.message}]) from None
            label = b.get("label", "")
            if not isinstance(label, str) or len(label) > 200:
                raise Problem(422, "Invalid request", "label: at most 200 characters of text",
                              [{"field": "label", "message": "at most 200 characters of text"}])
            return {"role": b["role"], "label": label}

        def commit(s: Session, req: dict[str, Any]):
            key_id, key = create_key(s, req["role"], label=req["label"], actor=p.key_id)
            out = {"id": key_id, "role": req["role"], "label": req["label"], "key": key}
            return 201, out, {**out, "key": None, "note": "the key is shown only in the first response"}

        return self.post(p, "POST /v1/keys", body, idem, prepare, commit)

    def revoke_key(self, p: Principal, key_id: str) -> bool:
        from underwriting.service.keys import revoke_key

        with self._write_lock, self.sessions.begin() as s:
            done = revoke_key(s, key_id, actor=p.key_id)
            last = s.info.pop("ledger_last", None)
        if last is not None:
            self._write_checkpoint(last[0], last[1])
        return done

    def list_keys(self) -> list[dict[str, Any]]:
        with self.sessions() as s:
            return [{"id": k.id, "role": k.role, "label": k.label, "created_at": k.created_at.isoformat(),
                     "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                    for k in s.execute(select(ApiKey).order_by(ApiKey.created_at)).scalars()]

    # ---- ledger ----------------------------------------------------------------------------
    def ledger_page(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.execute(select(LedgerEntry).where(LedgerEntry.seq > after).order_by(LedgerEntry.seq)
                             .limit(limit)).scalars()
            return [ledger.entry_dict(e) for e in rows]

    def export_ledger(self) -> str:
        """The whole ledger as JSON lines (``underwriting ledger export``)."""
        parts: list[str] = []
        with self.sessions() as s:
            ledger.export(s, parts.append)
        return "".join(parts)

    def verify_ledger(self, head: str | None = None) -> ledger.Verification:
        """The full audit (:func:`audit.verify`) against this service's checkpoint log and registry."""
        with self.sessions() as s:
            return audit.verify(s, head=head, registry=self.registry, database_url=self.database_url)


def _version() -> str:
    from underwriting._version import __version__

    return __version__


def _summary(rec: QuoteRecord) -> dict[str, Any]:
    return {"id": rec.id, "exchange": rec.exchange, "as_of": rec.as_of, "currency": rec.currency,
            "premium": rec.premium, "input_hash": rec.input_hash, "created_by": rec.created_by,
            "created_at": _iso(rec.created_at), "ledger_seq": rec.ledger_seq}


def _quote_body(rec: QuoteRecord, doc: dict[str, Any]) -> dict[str, Any]:
    return {**_summary(rec), "quote_sha256": rec.quote_sha256, "quote": doc}


def _iso(t: dt.datetime) -> str:
    if t.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
        t = t.replace(tzinfo=dt.UTC)
    return t.isoformat()
