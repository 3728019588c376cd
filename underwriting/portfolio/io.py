"""Read a book: which submissions, under which policies, with which dependence parameters.

Accepted forms (relative paths are resolved against the file that names them):

* a **folder** holding ``book.toml`` or ``book.csv`` (and usually the submissions ``*.json``);
  every ``*.json`` submission in the folder must be mapped to a policy;
* a **CSV** file with columns ``submission, policy`` and optionally ``exchange_id``;
* a **TOML/JSON** file::

      [dependence]                 # optional, see Dependence
      market_variance = 0.10
      vendor_loss_prob = 0.5
      [[exchanges]]
      submission = "jp_small_exchange.json"
      policy = "policy_jp_primary.toml"
      exchange_id = "sakura"       # optional (default: the submission file's stem)

  (a JSON file may also be a plain list of such entries).

Every problem is an :class:`~underwriting.errors.InputError` naming the book file, the row and the
field.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from underwriting.errors import InputError
from underwriting.portfolio.book import Book, Dependence, Insured

__all__ = ["load_book", "read_book_entries", "book_from_submissions"]

_ENTRY_KEYS = {"submission", "policy", "exchange_id"}

# ---- limits, checked before any work (README "Limits"); each refusal is exit 2 naming the option
#: Most exchanges in a book. Each one is read, scored and given a loss model (about 0.1 s each), so the
#: set-up alone takes some 20 minutes at the cap; the simulation keeps O(exchanges) accumulators plus
#: the sparse tail cells (a few MB at the cap).
MAX_BOOK_EXCHANGES = 10_000
#: Largest book file (a listing of paths), in bytes: 10,000 rows of two paths fit in about 2 MB.
MAX_BOOK_FILE_BYTES = 5 * 1024 * 1024
#: Most simulated years (``--years``). The driver keeps about 17 bytes per year (each year's total,
#: its largest event, a flag) and sorts copies for the EP curves: about 40 bytes per year at peak,
#: i.e. some 200 MB at the cap.
MAX_YEARS = 5_000_000
#: Most years per seeded block (``--block-years``): a worker holds one block's events, about
#: 100 bytes per exchange-year of the block with losses; 100,000 years x 1,000 exchanges stays under 1 GB
#: only for sparse books, so keep blocks small.
MAX_BLOCK_YEARS = 100_000
#: Most exchange-years per run (``--years`` x exchanges): the simulation's time is proportional to it
#: (about 10 million exchange-years per second per core), so the cap is a few minutes of work per core.
MAX_EXCHANGE_YEARS = 2_000_000_000


def check_simulation_limits(years: int, block_years: int | None = None, exchanges: int | None = None) -> None:
    """Refuse a run beyond the documented limits, naming the option (:class:`InputError`)."""
    if years > MAX_YEARS:
        raise InputError(f"{years:,} is over the limit of {MAX_YEARS:,} simulated years (about 40 bytes of memory "
                         "per year)", field="--years")
    if block_years is not None and block_years > MAX_BLOCK_YEARS:
        raise InputError(f"{block_years:,} is over the limit of {MAX_BLOCK_YEARS:,} years per block",
                         field="--block-years")
    if exchanges is not None and years * exchanges > MAX_EXCHANGE_YEARS:
        raise InputError(f"{years:,} years x {exchanges:,} exchanges = {years * exchanges:,} exchange-years, over "
                         f"the limit of {MAX_EXCHANGE_YEARS:,}: lower --years", field="--years")


def _entries_from_csv(path: Path) -> list[dict[str, Any]]:
    try:
        if path.stat().st_size > MAX_BOOK_FILE_BYTES:
            raise InputError(f"book file is {path.stat().st_size:,} bytes, over the limit of {MAX_BOOK_FILE_BYTES:,}",
                             field="book", source=str(path))
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    try:
        rows = list(csv.DictReader(text.splitlines()))
        reader_fields = next(csv.reader(text.splitlines()[:1]), [])
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise InputError(f"malformed CSV: {exc}", field="book", source=str(path)) from None
    missing = [c for c in ("submission", "policy") if c not in [f.strip() for f in reader_fields]]
    if missing:
        raise InputError(f"missing column(s) {missing}; expected submission, policy[, exchange_id]",
                         field="header", source=str(path))
    out = []
    for line, r in enumerate(rows, start=2):
        r = {(k or "").strip(): (v or "").strip() for k, v in r.items() if k is not None}
        extra = sorted(set(r) - _ENTRY_KEYS)
        if extra:
            raise InputError(f"unknown column(s) {extra}", field=f"line {line}", source=str(path))
        out.append({**{k: v for k, v in r.items() if v}, "_where": f"line {line}"})
    return out


def _entries_from_doc(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str | None]:
    from underwriting.fileio import MAX_NESTING, _check_nesting, read_document, read_text

    if path.suffix.lower() == ".json":
        import json

        text = read_text(path)  # its own InputError already names the file
        _check_nesting(text, fmt="json", source=str(path), limit=MAX_NESTING)  # before json recurses
        try:
            doc = json.loads(text)
        except RecursionError:  # pragma: no cover - guarded by _check_nesting
            raise InputError(f"nested more than {MAX_NESTING} deep", source=str(path)) from None
        except ValueError as exc:
            raise InputError(f"invalid JSON: {exc}", source=str(path)) from None
    else:
        doc = read_document(path)
    if isinstance(doc, list):
        doc = {"exchanges": doc}
    if not isinstance(doc, Mapping):
        raise InputError("expected a table with [[exchanges]] (or a list of entries)", source=str(path))
    unknown = sorted(set(doc) - {"exchanges", "dependence", "name"})
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; expected exchanges, dependence, name", source=str(path))
    ex = doc.get("exchanges")
    if not isinstance(ex, list) or not ex:
        raise InputError("needs a non-empty list of exchanges ([[exchanges]] with submission and policy)",
                         field="exchanges", source=str(path))
    out = []
    for r, e in enumerate(ex):
        if not isinstance(e, Mapping):
            raise InputError("must be a table with submission and policy", field=f"exchanges[{r}]", source=str(path))
        extra = sorted(set(e) - _ENTRY_KEYS)
        if extra:
            raise InputError(f"unknown key(s) {extra}", field=f"exchanges[{r}]", source=str(path))
        for k, v in e.items():
            if not isinstance(v, str):
                raise InputError(f"must be a string, got {v!r}", field=f"exchanges[{r}].{k}", source=str(path))
        out.append({**e, "_where": f"exchanges[{r}]"})
    dep = doc.get("dependence")
    if dep is not None and not isinstance(dep, Mapping):
        raise InputError("must be a table", field="dependence", source=str(path))
    return out, dep, doc.get("name")


def read_book_entries(path: str | Path) -> tuple[list[dict[str, Any]], Dependence, str, Path]:
    """Entries ``{submission, policy, exchange_id, _where}`` with absolute paths, the dependence
    parameters and a label; checks the structure only (no submission is parsed)."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such book (a folder, .csv, .toml or .json)", source=str(p))
    folder_jsons: list[Path] = []
    if p.is_dir():
        folder_jsons = sorted(q for q in p.glob("*.json") if q.name != "book.json")
        for name in ("book.toml", "book.json", "book.csv"):
            if (p / name).exists():
                p = p / name
                break
        else:
            raise InputError("a book folder needs a book.toml, book.json or book.csv mapping submissions to "
                             "policies", source=str(path))
    suffix = p.suffix.lower()
    dep_raw, label = None, None
    if suffix == ".csv":
        entries = _entries_from_csv(p)
    elif suffix in (".toml", ".json"):
        entries, dep_raw, label = _entries_from_doc(p)
    else:
        raise InputError(f"unsupported book file type {suffix or '(none)'!r}; use a folder, .csv, .toml or .json",
                         source=str(p))
    if not entries:
        raise InputError("the book lists no exchanges", source=str(p))
    if len(entries) > MAX_BOOK_EXCHANGES:
        raise InputError(f"the book lists {len(entries):,} exchanges, over the limit of {MAX_BOOK_EXCHANGES:,}",
                         field="book", source=str(p))
    base = p.parent
    ids: dict[str, str] = {}
    for e in entries:
        w = e["_where"]
        for col in ("submission", "policy"):
            if not e.get(col):
                raise InputError(f"missing {col} path", field=f"{w}.{col}", source=str(p))
            q = Path(e[col])
            q = q if q.is_absolute() else (base / q)
            if not q.is_file():
                raise InputError(f"file not found: {e[col]}", field=f"{w}.{col}", source=str(p))
            e[col] = q.resolve()
        eid = e.get("exchange_id") or e["submission"].stem
        if eid in ids:
            raise InputError(f"exchange id {eid!r} already used by {ids[eid]}", field=f"{w}.exchange_id",
                             source=str(p))
        ids[eid] = w
        e["exchange_id"] = eid
    mapped = {e["submission"] for e in entries}
    for q in folder_jsons:
        if q.resolve() not in mapped:
            raise InputError(f"submission {q.name} in the book folder is not mapped to a policy in {p.name}",
                             field=q.name, source=str(p))
    dep = Dependence.from_mapping(dep_raw, source=str(p))
    return entries, dep, str(label or Path(path).stem), p


def load_book(path: str | Path, *, dependence: Mapping[str, Any] | None = None,
              fx_rates: Mapping[str, float] | None = None, frequency_model: str = "frequency",
              schedule: Any = None) -> Book:
    """Load a book and build each exchange's loss model with :func:`underwriting.quote.losses.build_loss_model`.

    Parameters
    ----------
    path : str or Path
        A book folder, CSV, TOML or JSON (see the module docstring).
    dependence : mapping, optional
        Overrides of the book's ``[dependence]`` parameters (e.g. ``{"market_variance": 0}``).
    fx_rates : mapping, optional
        User conversion rates (units per USD) overriding the bundled table.
    frequency_model : str
        One of :data:`underwriting.quote.options.FREQUENCY_MODELS`.
        Default the quote's one risk model (base × experience × schedule).
    schedule : path, mapping or ScheduleTable, optional
        Posture schedule table of the one risk model (default the shipped one).
    """
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission

    entries, dep, label, src = read_book_entries(path)
    if dependence:
        dep = Dependence.from_mapping({**dep.to_dict(), **dict(dependence)}, source=str(src))
    pairs = []
    for e in entries:
        w = e["_where"]
        try:
            sub = load_submission(str(e["submission"]))
        except InputError as exc:
            raise InputError(f"{exc}", field=f"{w}.submission", source=str(src)) from None
        try:
            terms = load_policy(str(e["policy"]))
        except InputError as exc:
            raise InputError(f"{exc}", field=f"{w}.policy", source=str(src)) from None
        pairs.append((e["exchange_id"], sub, terms, w))
    return book_from_submissions(pairs, dep, fx_rates=fx_rates, frequency_model=frequency_model, label=label,
                                 source=str(src), schedule=schedule)


def book_from_submissions(items, dependence: Dependence | None = None, *, fx_rates=None,
                          frequency_model: str = "frequency", label: str = "book", source: str | None = None,
                          schedule: Any = None) -> Book:
    """A book from ``(exchange_id, Submission, PolicyTerms[, where])`` tuples (loss models built here)."""
    from underwriting.domain.currency import FxTable
    from underwriting.quote.losses import build_loss_model

    fx = FxTable.bundled().with_user_rates(dict(fx_rates or {}))
    insureds = []
    for r, item in enumerate(items):
        eid, sub, terms = item[0], item[1], item[2]
        where = item[3] if len(item) > 3 else f"exchanges[{r}]"
        try:
            lm = build_loss_model(sub, terms, fx=fx, frequency_model=frequency_model, schedule=schedule)
        except InputError as exc:
            raise InputError(f"{exc}", field=where, source=source) from None
        insureds.append(Insured(exchange_id=eid, perils=lm.perils, layer=lm.layer,
                                vendors=tuple(v.name for v in sub.vendors), name=sub.exchange.name,
                                policy_id=terms.policy_id, currency=sub.currency, quote_per_usd=lm.quote_per_usd))
    return Book.from_insureds(insureds, dependence, label=label)
