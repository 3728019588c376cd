"""Small immutable records shared by the reserve engine: shown figures, FX uses and check outcomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from underwriting.domain.currency import FxTable
from underwriting.domain.message import Message

Outcome = Literal["pass", "fail", "haircut", "info", "warning"]


@dataclass(frozen=True)
class Figure:
    """One input or intermediate figure of a calculation, with its unit and provenance.

    Attributes
    ----------
    name : str
        Short identifier (``"base_rate"``, ``"volume_12m"``).
    value : float or str
        The figure.
    unit : str
        ``"JPY"``, ``"share"``, ``"days"``...
    status : str
        ``confirmed`` / ``reported`` / ``assumption`` / ``user`` / ``input`` (from the submission) /
        ``computed``.
    source : str
        Legal reference, file field or formula.
    """

    name: str
    value: float | str
    unit: str = ""
    status: str = "computed"
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FxUse:
    """A currency conversion the assessment relied on: ``amount_to = amount_from × rate``."""

    from_currency: str
    to_currency: str
    year: int
    rate: float
    basis: str
    purpose: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    """Outcome of one rule for one policy (or for the whole assessment when ``policy`` is None).

    Attributes
    ----------
    rule : str
        Rule name from the regime file (or ``engine.*`` for the engine's own steps).
    outcome : {"pass", "fail", "haircut", "info", "warning"}
        ``fail`` makes the policy ineligible (zero credit); ``haircut`` reduces it by ``haircut``;
        ``warning`` flags the assessment itself (e.g. a regime not yet in force).
    haircut : float
        Share of the credit removed, in [0, 1] (1.0 for a fail, 0.0 for pass/info).
    reason : str
        Why, with the figures compared, in English: the English text of ``reason_message``.
    source : str
        Legal reference and status, e.g. ``"MiCA Art. 67(5)(b) [confirmed]"`` (as the regime file words it,
        in every language).
    policy : str or None
        The policy tested (None for the assessment as a whole).
    status : str
        Status of the rule (``confirmed``, ``reported``, ``assumption``, ``input``, ``computed``...).
    reason_message : Message or None
        The reason as a catalogue template with its typed arguments (amounts with their currency, shares,
        dates, ids; :mod:`underwriting.domain.message`), from which it is rendered in another language,
        also from a saved quote.
    """

    rule: str
    outcome: Outcome
    haircut: float
    reason: str
    source: str
    policy: str | None = None
    status: str = ""
    reason_message: Message | None = field(default=None, hash=False)

    @classmethod
    def of(cls, rule: str, outcome: Outcome, haircut: float, why: Message, source: str, policy: str | None = None,
           status: str = "") -> Check:
        """A check whose reason is ``why``: the English ``reason`` is formatted from the same message."""
        return cls(rule, outcome, float(haircut), why.text(), source, policy, status, why)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["reason_message"] = None if self.reason_message is None else self.reason_message.as_json()
        return d


@dataclass
class FxLog:
    """Converts amounts with an :class:`FxTable` and records every rate used (mutable, internal)."""

    fx: FxTable
    year: int
    uses: list[FxUse] = field(default_factory=list)

    def convert(self, amount: float, from_cur: str, to_cur: str, purpose: str, year: int | None = None) -> float:
        """Convert ``amount`` and record the rate (once per currency pair, year and purpose)."""
        if from_cur == to_cur:
            return float(amount)
        y = self.year if year is None else year
        rate = self.fx.convert(1.0, from_cur, to_cur, y)
        basis = f"{from_cur}: {self.fx.rate(from_cur, y).basis}; {to_cur}: {self.fx.rate(to_cur, y).basis}"
        use = FxUse(from_cur, to_cur, y, rate, basis, purpose)
        if use not in self.uses:
            self.uses.append(use)
        return float(amount) * rate
