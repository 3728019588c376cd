"""The full audit of the service database: the ledger chain and its signatures, and every record the
API or the workbench shows checked against the ledger, a signed checkpoint log, a head hash kept
elsewhere, and the model registry's signed promotion history.

What is checked (:func:`verify`)
    - the chain (:func:`underwriting.service.ledger.verify_chain`): order, hashes, signatures, head row;
    - quotes: each row's ``exchange``, ``currency``, ``premium``, ``input_hash``, ``quote_sha256``,
      ``created_by``, ``ledger_seq``, ``as_of`` and ``created_at`` against its ``quote.create`` entry
      (the listed premium is the one the signed entry records) and the stored document's SHA-256;
    - API keys: role, label and argon2 hash (by its SHA-256) against the ``key.create`` entry, the
      revocation against ``key.revoke`` (an erased revocation or a revocation never recorded);
    - stored idempotent replies: each is signed with the ledger key (an edited reply is named);
    - checkpoints: every signed checkpoint's entry still has the checkpointed hash (a re-hashed,
      rewritten or truncated ledger is caught); ``head``: a hash an auditor kept is still in the chain;
    - the registry: every verified promotion of its signed history made since the ledger began has a
      ledger entry (a promotion whose ledger entry was lost when the server was killed is named until
      :func:`reconcile` records it), and every promotion the ledger records for that registry is still
      in the history (a rolled-back registry is named).

:func:`reconcile` (run by the service at start) appends a ``model.reconcile`` entry for each such
promotion with no ledger entry, so the ledger names the gap instead of hiding it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from underwriting.errors import InputError
from underwriting.service import ledger, ledger_key
from underwriting.service.db import ApiKey, IdempotentResponse, LedgerEntry, QuoteRecord
from underwriting.service.keys import secret_digest

#: Largest gap allowed between a quote row's ``created_at`` and its ledger entry's time (same transaction).
CREATED_AT_TOLERANCE = dt.timedelta(seconds=5)
PROMOTION_ACTIONS = ("model.promote", "model.reconcile")


def check_head(head: str | None) -> str | None:
    """``head`` if it is a 64-hex-digit entry hash (or ``None``); else :class:`InputError` naming ``--head``."""
    if head is None:
        return None
    h = head.strip().lower()
    if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise InputError(f"{head[:80]!r} is not an entry hash (64 hex digits, as `ledger verify` prints)",
                         field="--head")
    return h


def _time(s: Any) -> dt.datetime | None:
    if isinstance(s, dt.datetime):
        return s if s.tzinfo else s.replace(tzinfo=dt.UTC)
    if not isinstance(s, str):
        return None
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class _Collector:
    """What the record checks need of each entry, gathered while the chain is walked once."""

    def __init__(self, want_hashes: set[int], head: str | None):
        self.want_hashes, self.head = want_hashes, head
        self.hashes: dict[int, str] = {}
        self.head_seq: int | None = None
        self.first_at: dt.datetime | None = None
        self.quotes: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}
        self.revoked: dict[str, int] = {}
        self.promotions: dict[str, tuple[int, dict[str, Any]]] = {}  # history signature -> (seq, detail)
        self.problems: list[str] = []

    def __call__(self, e: LedgerEntry) -> None:
        if self.first_at is None:
            self.first_at = _time(e.at)
        if e.seq in self.want_hashes:
            self.hashes[e.seq] = e.entry_hash
        if self.head is not None and e.entry_hash == self.head:
            self.head_seq = e.seq
        if e.action not in ("quote.create", "key.create", "key.revoke", *PROMOTION_ACTIONS):
            return
        try:
            d = json.loads(e.detail)
        except ValueError:
            self.problems.append(f"entry {e.seq}: detail is not JSON")
            return
        if e.action == "quote.create":
            if "quote_sha256" not in d:
                self.problems.append(f"entry {e.seq}: quote entry without a quote_sha256")
                return
            self.quotes[e.subject] = {"seq": e.seq, "sha": d["quote_sha256"], "exchange": d.get("exchange"),
                                      "currency": d.get("currency"), "premium": d.get("premium"),
                                      "actor": e.actor, "input_hash": e.input_hash, "at": e.at}
        elif e.action == "key.create":
            self.keys[e.subject] = {"seq": e.seq, "role": d.get("role"), "label": d.get("label", ""),
                                    "secret_sha256": d.get("secret_sha256")}
        elif e.action == "key.revoke":
            self.revoked[e.subject] = e.seq
        else:
            h = d.get("history_entry", d) if e.action == "model.reconcile" else d
            if isinstance(h, dict) and isinstance(h.get("signature"), str):
                self.promotions[h["signature"]] = (e.seq, {**h, "registry": d.get("registry")})


def _check_quotes(s: Session, c: _Collector, problems: list[str]) -> None:
    seen = set()
    for rec in s.execute(select(QuoteRecord)).scalars():
        seen.add(rec.id)
        want = c.quotes.get(rec.id)
        if want is None:
            problems.append(f"quote {rec.id}: no ledger entry records it")
            continue
        if ledger.sha256_text(rec.document) != want["sha"]:
            problems.append(f"quote {rec.id}: stored document edited (SHA-256 differs from ledger entry {want['seq']})")
        try:
            as_of = json.loads(rec.document).get("as_of")
        except (ValueError, AttributeError):
            as_of = None
        shown = {"premium": (rec.premium, want["premium"]), "exchange": (rec.exchange, want["exchange"]),
                 "currency": (rec.currency, want["currency"]), "created_by": (rec.created_by, want["actor"]),
                 "input_hash": (rec.input_hash, want["input_hash"]), "quote_sha256": (rec.quote_sha256, want["sha"]),
                 "ledger_seq": (rec.ledger_seq, want["seq"])}
        if as_of is not None:
            shown["as_of"] = (rec.as_of, str(as_of)[:10])
        for col, (have, recorded) in shown.items():
            if have != recorded:
                problems.append(f"quote {rec.id}: column {col} is {str(have)[:60]!r}, but ledger entry {want['seq']} "
                                f"records {str(recorded)[:60]!r} (edited in the database)")
        at, created = _time(want["at"]), _time(rec.created_at)
        if at is None or created is None or abs(created - at) > CREATED_AT_TOLERANCE:
            problems.append(f"quote {rec.id}: created_at {created.isoformat() if created else '?'} differs from its "
                            f"ledger entry {want['seq']} ({want['at']}): back-dated or edited")
    for qid, want in c.quotes.items():
        if qid not in seen:
            problems.append(f"entry {want['seq']}: quote {qid} it records is missing from the quotes table (deleted)")


def _check_keys(s: Session, c: _Collector, problems: list[str]) -> None:
    seen = set()
    for k in s.execute(select(ApiKey)).scalars():
        seen.add(k.id)
        want = c.keys.get(k.id)
        if want is None:
            problems.append(f"API key {k.id}: no key.create ledger entry records it (inserted in the database)")
            continue
        if k.role != want["role"]:
            problems.append(f"API key {k.id}: role is {k.role!r}, but ledger entry {want['seq']} records "
                            f"{want['role']!r} (edited in the database)")
        if (k.label or "") != (want["label"] or ""):
            problems.append(f"API key {k.id}: label differs from ledger entry {want['seq']} (edited in the database)")
        if want["secret_sha256"] is not None and secret_digest(k.secret_hash) != want["secret_sha256"]:
            problems.append(f"API key {k.id}: its secret hash was replaced (ledger entry {want['seq']} records "
                            "another): whoever did it can sign in as this key")
        if k.ledger_seq is not None and k.ledger_seq != want["seq"]:
            problems.append(f"API key {k.id}: points at ledger entry {k.ledger_seq}, but entry {want['seq']} created it")
        if k.revoked_at is None and k.id in c.revoked:
            problems.append(f"API key {k.id}: revoked by ledger entry {c.revoked[k.id]}, but its revocation was "
                            "erased in the database (the key works again)")
        if k.revoked_at is not None and k.id not in c.revoked:
            problems.append(f"API key {k.id}: marked revoked, but no key.revoke ledger entry records it")
    for kid, want in c.keys.items():
        if kid not in seen:
            problems.append(f"entry {want['seq']}: API key {kid} it records is missing from the keys table (deleted)")


def _check_replies(s: Session, keys: dict[str, bytes], current: str | None, retired: dict[str, int],
                   problems: list[str]) -> None:
    """Each stored reply must be signed by the current ledger key: a rotation re-signs every reply."""
    now = {current: keys[current]} if current in keys else keys
    for r in s.execute(select(IdempotentResponse)).scalars():
        msg = ledger_key.reply_message(r.key_id, r.idempotency_key, r.route, r.request_sha256, r.status, r.body)
        if r.key_sig in retired and r.key_sig != current:
            why = (f"signed by the retired key {r.key_sig} (retired at entry {retired[r.key_sig]}, when every stored "
                   "reply was re-signed with the new key): written with the old key after its retirement")
        else:
            why = ledger_key.check(now, ledger_key.REPLY_TAG, msg, r.key_sig, r.signature)
        if why:
            problems.append(f"stored reply {r.id} ({r.route}, key {r.key_id}): {why}: a replay would return "
                            "what the database now says, not what was sent")


def registry_root(registry: str | Path | None) -> str:
    """The resolved folder of a registry (``None``: the default one), as ledger entries record it."""
    from underwriting.registry import Registry

    return str(Registry(registry).root.resolve())


def registry_promotions(registry: str | Path | None) -> tuple[str, list[tuple[str, int, dict[str, Any]]]]:
    """``(registry root, [(model, position, verified history entry), ...])`` of a registry."""
    from underwriting.registry import Registry

    reg = Registry(registry)
    out = []
    for name in reg.names():
        for i, h in enumerate(reg.chain(name).entries, start=1):
            out.append((name, i, h))
    return str(reg.root.resolve()), out


def _registry_gaps(c: _Collector, registry: str | Path | None) -> tuple[list[str], list[tuple[str, dict]]]:
    """Problems (lost promotions) and the promotions with no ledger entry since the ledger began."""
    root, promos = registry_promotions(registry)
    problems, gaps = [], []
    in_history = set()
    for name, i, h in promos:
        sig = h.get("signature")
        in_history.add(sig)
        t = _time(h.get("timestamp"))
        if sig in c.promotions or c.first_at is None or t is None or t < c.first_at - CREATED_AT_TOLERANCE:
            continue
        gaps.append((root, h))
        problems.append(f"registry {root}: promotion {i} of {name} ({h.get('from') or '(none)'} -> {h.get('to')}, "
                        f"{h.get('timestamp')}) has no ledger entry (the server was killed before its ledger "
                        "commit, or it was made outside the service); the service records it at its next start")
    for sig, (seq, h) in c.promotions.items():
        if h.get("registry") == root and sig not in in_history:
            problems.append(f"ledger entry {seq}: promotion of {h.get('name')} to {h.get('to')} is no longer in the "
                            f"signed history of {root} (the registry was rolled back or its history rewritten)")
    return problems, gaps


def verify(session: Session, *, head: str | None = None, checkpoints: str | Path | None = None,
           registry: str | Path | None = None, check_registry: bool = True,
           database_url: str | None = None) -> ledger.Verification:
    """The full audit (see the module docstring).

    Parameters
    ----------
    head : str, optional
        An entry hash kept outside the database (``ledger verify`` prints it); it must be in the chain.
    checkpoints : path, optional
        The signed checkpoint log; default the service's (:func:`~underwriting.service.ledger_key.checkpoints_path`)
        when it exists.
    registry : path, optional
        The model registry the service promotes in (default ``$UNDERWRITING_REGISTRY`` or ``models/``).
    database_url : str, optional
        The database's URL, which names its default checkpoint log (default: the session's engine URL).
    """
    if database_url is None and session.get_bind() is not None:
        database_url = session.get_bind().url.render_as_string(hide_password=True)
    head = check_head(head)
    notes: list[str] = []
    current: str | None = None
    try:
        current, keys = ledger_key.known_keys()
    except InputError as exc:  # no key here: every signature is named as unchecked, nothing passes silently
        keys = {}
        notes.append(f"{exc.message}; no signature can be checked")
    cps: list[dict[str, Any]] = []
    bad_cps: list[str] = []
    cp_path = Path(checkpoints) if checkpoints is not None else ledger_key.checkpoints_path(database_url)
    if checkpoints is not None or cp_path.is_file():
        cps, bad_cps = ledger_key.read_checkpoints(cp_path, keys)
    c = _Collector({cp["seq"] for cp in cps}, head)
    vouched = max((cp["seq"] for cp in cps), default=0)
    res = ledger.verify_chain(session, keys=keys, vouched_upto=vouched, visit=c, current=current)
    problems = [*res.problems, *c.problems, *bad_cps]
    retired = res.retired()
    for cp in cps:
        if cp.get("key_id") in retired and cp["seq"] >= retired[cp["key_id"]]:
            problems.append(f"checkpoint of entry {cp['seq']} ({cp['at']}): signed by the retired key {cp['key_id']}, "
                            f"retired at entry {retired[cp['key_id']]} (written with the old key after its "
                            "retirement)")
    notes = [*res.notes, *notes]
    for cp in cps:
        have = ledger.GENESIS if cp["seq"] == 0 else c.hashes.get(cp["seq"])
        if have is None:
            problems.append(f"checkpoint of entry {cp['seq']} ({cp['at']}): the entry is gone (the ledger was "
                            "truncated or rewritten after the checkpoint)")
        elif have != cp["entry_hash"]:
            problems.append(f"checkpoint of entry {cp['seq']} ({cp['at']}): the entry's hash is now {have[:16]}, the "
                            f"checkpoint signed {cp['entry_hash'][:16]} (the ledger was rewritten and re-hashed)")
    if vouched:
        notes.append(f"{len(cps)} signed checkpoint(s) in {cp_path} checked, the newest at entry {vouched}")
    elif checkpoints is None:
        notes.append(f"no checkpoint log at {cp_path}: a truncated ledger would go unnoticed; keep checkpoints "
                     "(`underwriting ledger checkpoint`) where the database's administrator cannot write")
    if head is not None and c.head_seq is None:
        problems.append(f"the given head {head[:16]} is not in the chain (the ledger was rewritten or truncated "
                        "since it was taken)")
    _check_quotes(session, c, problems)
    _check_keys(session, c, problems)
    _check_replies(session, keys, current, retired, problems)
    if check_registry:
        from underwriting.errors import ModelIntegrityError

        try:
            gaps_problems, _ = _registry_gaps(c, registry)
        except ModelIntegrityError as exc:
            gaps_problems = [f"registry: cannot read its signed promotion history: {exc}"]
        problems.extend(gaps_problems)
    return ledger.Verification(ok=not problems, entries=res.entries, head=res.head, problems=problems, notes=notes,
                               key_history=res.key_history)


def record_promotion(session: Session, entry: dict[str, Any], registry: str | Path | None, *,
                     actor: str) -> LedgerEntry:
    """Append the ``model.promote`` entry of a registry promotion (its signed history ``entry``) in the
    caller's transaction, which holds the ledger head lock: the one place the service's promote route and
    ``underwriting promote`` (when it reaches the service database and key) record a promotion."""
    return ledger.append(session, actor=actor, action="model.promote", subject=str(entry.get("name")),
                         input_hash=str(entry.get("manifest_sha256", "")),
                         versions={str(entry.get("name")): str(entry.get("to"))},
                         detail={**entry, "registry": registry_root(registry)})


def reconcile(session: Session, registry: str | Path | None = None) -> list[int]:
    """Append a ``model.reconcile`` entry (actor ``registry``) for each promotion of the registry's signed
    history since the ledger began that has no ledger entry; return their sequence numbers (the caller
    commits, holding the ledger head lock through :func:`ledger.append`)."""
    c = _Collector(set(), None)
    first = session.execute(select(LedgerEntry).order_by(LedgerEntry.seq).limit(1)).scalar_one_or_none()
    if first is None:
        return []  # an empty ledger: every promotion predates it
    c(first)
    for e in session.execute(select(LedgerEntry).where(LedgerEntry.action.in_(PROMOTION_ACTIONS))
                             .order_by(LedgerEntry.seq)).scalars():
        c(e)
    _, gaps = _registry_gaps(c, registry)
    out = []
    for root, h in gaps:
        e = ledger.append(session, actor="registry", action="model.reconcile", subject=str(h.get("name")),
                          input_hash=str(h.get("manifest_sha256", "")), versions={str(h.get("name")): str(h.get("to"))},
                          detail={"registry": root, "history_entry": h,
                                  "reason": "a signed promotion in the registry's history had no ledger entry "
                                            "(the server was killed before its ledger commit, or it was made "
                                            "outside the service); recorded at start"})
        out.append(e.seq)
    return out


__all__ = ["CREATED_AT_TOLERANCE", "check_head", "reconcile", "record_promotion", "registry_promotions", "verify"]
