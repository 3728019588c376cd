"""Schemas of the curated data files (``incidents.csv``, ``exchanges.csv``, ``fx_rates.csv``).

Each file is described by an ordered tuple of :class:`Column` specs. The loaders in
:mod:`underwriting.datasets.loaders` check every cell against its spec and report the first
problem with the file line number and the column name. The controlled vocabularies are defined
here once and reused by the loaders, the synthetic generator, the tests and ``docs/datasets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

# DATA_CUTOFF (last day of the curated tables) and BREACH_EVENT_TYPES (event types that count as a breach)
# are defined in the vocabulary and re-exported here for the loaders.
from underwriting.domain.vocabulary import VECTORS  # noqa: F401

#: Attack paths (shared with the submission questionnaire).
VECTOR_VOCAB: tuple[str, ...] = tuple(VECTORS)
#: Custody tier of the stolen assets as recorded in the incident table.
CUSTODY_TIER_VOCAB: tuple[str, ...] = ("hot", "cold", "unknown")
#: Whether customers were made whole.
REIMBURSED_VOCAB: tuple[str, ...] = ("full", "partial", "none", "unknown")
#: Kind of event. Only ``hack`` and ``insider`` count as a *breach* by default.
EVENT_TYPE_VOCAB: tuple[str, ...] = ("hack", "insider", "exit_scam", "fraud", "other")
#: Threat actors a source may name for an incident (``attribution`` column of incidents.csv).
ATTRIBUTION_VOCAB: tuple[str, ...] = ("state_dprk",)
#: Precision of a launch or closure date.
PRECISION_VOCAB: tuple[str, ...] = ("day", "month", "year")
#: Why an exchange closed.
CLOSURE_REASON_VOCAB: tuple[str, ...] = (
    "hack", "exit_scam", "regulatory", "business", "merged_or_acquired", "unknown",
)


@dataclass(frozen=True)
class Column:
    """One column of a data file.

    Attributes
    ----------
    name : str
    kind : {"id", "text", "country", "date", "partial_date", "amount", "vocab", "flag", "url", "year", "rate"}
        How the cell is parsed: ``date`` is ISO ``YYYY-MM-DD``; ``partial_date`` also accepts
        ``YYYY-MM`` and ``YYYY`` (the first day of the month/year is stored and the precision
        column says how exact it is); ``amount`` is a non-negative finite number (blank = not
        known); ``country`` is an ISO 3166-1 alpha-2 code (``JP``); ``flag`` is ``yes`` or blank; ``url`` must start with ``http://`` or ``https://``.
    required : bool
        A blank cell is an error.
    may_be_absent : bool
        A column added after user files were written: a file without it reads as all blank.
    vocab : tuple of str, optional
        Allowed values of a ``vocab`` column.
    description : str
    """

    name: str
    kind: str
    required: bool = False
    vocab: tuple[str, ...] | None = None
    description: str = ""
    may_be_absent: bool = False


INCIDENT_SCHEMA: tuple[Column, ...] = (
    Column("incident_id", "id", True, description="Unique identifier of the incident."),
    Column("exchange_id", "id", True, description="Victim; must exist in exchanges.csv."),
    Column("exchange", "text", True, description="Victim's name as reported."),
    Column("country", "country", description="ISO 3166-1 alpha-2 code of the victim's country, where a source states it."),
    Column("incident_date", "date", True, description="ISO date of the incident."),
    Column("amount_usd", "amount", description="Nominal USD loss at the time (blank: not stated)."),
    Column("amount_usd_alt", "amount", description="A second source's USD figure, where sources disagree."),
    Column("amount_native", "amount", description="Loss in units of ``asset``, as stated (blank: not stated)."),
    Column("asset", "text", description="Stolen asset(s)."),
    Column("vector", "vocab", True, VECTOR_VOCAB, "Attack path."),
    Column("custody_tier", "vocab", True, CUSTODY_TIER_VOCAB, "Custody tier of the stolen assets."),
    Column("reimbursed", "vocab", True, REIMBURSED_VOCAB, "Whether customers were made whole."),
    Column("event_type", "vocab", True, EVENT_TYPE_VOCAB, "Kind of event."),
    Column("dprk_attributed", "flag", description="'yes' if a source attributes it to DPRK-linked groups."),
    Column("attribution", "vocab", False, ATTRIBUTION_VOCAB, "Threat actor a cited source names "
           "(``state_dprk``: DPRK state-linked groups such as Lazarus/TraderTraitor); blank: none stated, never guessed.",
           may_be_absent=True),
    Column("attribution_source_url", "url", description="The one source stating the attribution (required with it).",
           may_be_absent=True),
    Column("source_url", "url", True, description="Primary source."),
    Column("alt_source_url", "url", description="Second source."),
    Column("notes", "text"),
)

EXCHANGE_SCHEMA: tuple[Column, ...] = (
    Column("exchange_id", "id", True, description="Unique identifier (slug)."),
    Column("name", "text", True),
    Column("country", "country", description="ISO 3166-1 alpha-2 code of the exchange's main licence or seat."),
    Column("launch_date", "partial_date", description="Date the exchange started serving customers (blank: not "
           "stated by any source; such exchanges add no exposure to rates or panels)."),
    Column("launch_date_precision", "vocab", False, PRECISION_VOCAB, "Required when launch_date is given."),
    Column("closure_date", "partial_date", description="Blank: open as of the data cut-off."),
    Column("closure_date_precision", "vocab", False, PRECISION_VOCAB, "Required when closure_date is given."),
    Column("closure_reason", "vocab", False, CLOSURE_REASON_VOCAB, "Required when closure_date is given; blank if open."),
    Column("source_url", "url", True),
    Column("notes", "text"),
)

FX_SCHEMA: tuple[Column, ...] = (
    Column("year", "year", True),
    Column("currency", "text", True, description="ISO 4217 code."),
    Column("units_per_usd", "rate", True, description="Yearly average units of currency per USD."),
    Column("source_url", "url", True),
    Column("notes", "text"),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "incidents": INCIDENT_SCHEMA,
    "exchanges": EXCHANGE_SCHEMA,
    "fx_rates": FX_SCHEMA,
}


def columns(kind: str) -> tuple[str, ...]:
    """Column names of the ``incidents``, ``exchanges`` or ``fx_rates`` file, in file order."""
    return tuple(c.name for c in SCHEMAS[kind])
