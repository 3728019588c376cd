"""Schedule rating: questionnaire answers → credits and debits on the breach rate, from a TOML table.

The shipped table is ``underwriting/frequency/schedule.toml`` (every factor an assumption, with
its rationale and source; see ``docs/schedule.md``). A user may pass their own with
:func:`load_schedule`. A table is refused unless it is monotone by construction:

* each posture question lists its answers best first (``order``); factors never fall along that
  order, the best answer is ``≤ 1`` (a control present is never a debit), the worst ``≥ 1`` (a
  known-bad answer is never a credit), ``"unknown"`` lies in ``[1, worst]``;
* dated answers (penetration test, red team) are ``recent`` (within ``recent_months``), ``older``
  or ``never``; the security staff share falls in bands of ``band_min``, rated at the band's lower
  edge;
* each vendor multiplies the rate by the debits that apply to it (custody path, unregistered,
  registration unknown, compromised), each ``≥ 1``: a vendor is never a credit, so listing more
  vendors never lowers the rate;
* the product is clipped to ``[cap.min, cap.max]`` with ``0 < min ≤ 1 ≤ max < ∞``.

Clipping is non-decreasing, so the capped factor keeps every monotonicity of the raw product.
Each factor's contribution is reported on the log-rate scale (``ln factor``), and so is the
cap's (``ln capped − ln raw``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from underwriting.domain._base import Strict
from underwriting.domain.message import Message, answer, data, msg, term
from underwriting.domain.submission import Posture, Submission
from underwriting.errors import InputError
from underwriting.fileio import parse_document, read_text
from underwriting.i18n import N_

#: The shipped table.
DEFAULT_SCHEDULE = Path(__file__).with_name("schedule.toml")
#: Questions whose answer is a date (or ``never`` / ``unknown``): levels ``recent, older, never``.
DATE_QUESTIONS = ("last_penetration_test", "last_red_team")
DATE_LEVELS = ("recent", "older", "never")
#: Questions whose answer is a share in [0, 1] (or ``unknown``), rated in bands.
SHARE_QUESTIONS = ("security_staff_share",)
#: Vendor conditions, in the order they are reported.
VENDOR_CONDITIONS = ("custody_path", "unregistered", "registration_unknown", "compromised")
MONTH_DAYS = 30.4375
#: The shipped table's reasons (``source``), marked for the catalogue: a quote shows them in the reader's
#: language (a user's own table keeps its wording). tests/i18n/test_quote_lang.py checks the list is complete.
SHIPPED_TEXTS: tuple[str, ...] = (
    N_("assumption"), N_("assumption (the [0.5, 2.0] range asked for in issue #13)"),
    N_("assumption (halved synthetic generator effect 0)"), N_("assumption (halved synthetic generator effect 0.05)"),
    N_("assumption (halved synthetic generator effect 0.10)"), N_("assumption (halved synthetic generator effect 0.15)"),
    N_("assumption (halved synthetic generator effect 0.20)"), N_("assumption (halved synthetic generator effect 0.25)"),
    N_("assumption (halved synthetic generator effect 0.30)"), N_("assumption (halved synthetic generator effect 0.40)"),
    N_("assumption (halved synthetic generator effects 0 / 0.05 / 0.15)"),
    N_("assumption (halved synthetic generator effects 0 / 0.10 / 0.20 / 0.70)"),
    N_("assumption (halved synthetic generator effects 0 / 0.15 / 0.35)"),
    N_("assumption (halved synthetic generator effects 0 / 0.20 / 0.45 / 0.80)"),
    N_("assumption (halved synthetic generator effects: -4.0 per unit share centred at 0.06, taken at each band's "
       "lower edge; unknown +0.15)"),
    N_("assumption (synthetic generator: a compromise of such a vendor causes a loss with probability 0.5, against "
       "0.05 for cloud)"),
    N_("assumption (synthetic generator: unregistered vendors are compromised at twice the rate)"),
)


def _literal_values(annotation: Any) -> tuple[str, ...]:
    out: list[str] = []
    if typing.get_origin(annotation) is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        out += _literal_values(arg)
    return tuple(out)


def posture_vocabulary() -> dict[str, tuple[str, ...]]:
    """Answers of each categorical posture question, from :class:`~underwriting.domain.submission.Posture`
    (``"unknown"`` excluded); dated and share questions map to their levels."""
    vocab: dict[str, tuple[str, ...]] = {}
    for name, info in Posture.model_fields.items():
        if name in DATE_QUESTIONS:
            vocab[name] = DATE_LEVELS
        elif name in SHARE_QUESTIONS:
            vocab[name] = ()
        else:
            vocab[name] = tuple(v for v in _literal_values(info.annotation) if v != "unknown")
    return vocab


# --------------------------------------------------------------------------- table schema


def _positive_finite(v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"must be a positive finite number, got {v!r}")
    return float(v)


class Documented(Strict):
    rationale: str = Field(min_length=1)
    source: str = Field(min_length=1, description='Where the number comes from, or "assumption".')


class TableInfo(Strict):
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    status: str = Field(min_length=1)


class Cap(Documented):
    min: float
    max: float

    @field_validator("min", "max", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> float:
        return _positive_finite(v)


class ExperienceSettings(Documented):
    look_back_years: float
    quiet_floor: float

    @field_validator("look_back_years", "quiet_floor", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> float:
        return _positive_finite(v)


class Question(Documented):
    order: list[str] = Field(min_length=1)
    factors: dict[str, float]
    recent_months: int | None = None
    band_min: list[float] | None = None

    @field_validator("factors", mode="before")
    @classmethod
    def _factors(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: _positive_finite(x) for k, x in v.items()}
        return v


class VendorRule(Documented):
    factor: float
    roles: list[str] | None = None

    @field_validator("factor", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> float:
        return _positive_finite(v)


class ScheduleTable(Strict):
    """A validated schedule table (see the module docstring for the rules).

    Use :func:`load_schedule` to read one; :meth:`rate` applies it to a submission.
    """

    table: TableInfo
    cap: Cap
    experience: ExperienceSettings
    questions: dict[str, Question]
    vendors: dict[str, VendorRule]
    #: File the table was read from (set by :func:`load_schedule`).
    path: str = ""

    def rate(self, submission: Submission, *, compromised_vendors: Iterable[str] = ()) -> ScheduleRating:
        """Schedule factor of one submission.

        Parameters
        ----------
        submission : Submission
        compromised_vendors : iterable of str, optional
            Vendor names (case-insensitive) with a known compromise before the submission's
            ``as_of`` (e.g. from :func:`underwriting.features.vendors.compromises_from_incidents`).

        Returns
        -------
        ScheduleRating
        """
        factors: list[ScheduleFactor] = []
        post = submission.posture
        for name, q in self.questions.items():
            answer = getattr(post, name)
            level = _level(name, q, answer, submission.as_of)
            f = q.factors[level]
            factors.append(ScheduleFactor(key=f"posture.{name}", answer=str(answer), level=level, factor=f,
                                          rationale=q.rationale, source=q.source))
        bad = {str(n).strip().casefold() for n in compromised_vendors}
        for v in submission.vendors:
            for cond in VENDOR_CONDITIONS:
                rule = self.vendors[cond]
                hit = {
                    "custody_path": v.role in (rule.roles or ()),
                    "unregistered": v.registered == "no",
                    "registration_unknown": v.registered == "unknown",
                    "compromised": v.name.strip().casefold() in bad,
                }[cond]
                if hit:
                    said = _vendor_answer(v)
                    factors.append(ScheduleFactor(
                        key=f"vendors.{v.name}.{cond}", answer=said.text(), level=cond, factor=rule.factor,
                        rationale=rule.rationale, source=rule.source, answer_template=said))
        raw = math.exp(math.fsum(math.log(f.factor) for f in factors))
        capped = min(max(raw, self.cap.min), self.cap.max)
        return ScheduleRating(factors=tuple(factors), raw_factor=raw, factor=capped,
                              cap=(self.cap.min, self.cap.max), cap_log_contribution=math.log(capped) - math.log(raw),
                              table=f"{self.table.name} v{self.table.version}", path=self.path)


def _vendor_answer(v: Any) -> Message:
    """A vendor row's answer, ``role=wallet_software, registered=no``, as a template and arguments."""
    return msg(N_("role={role}, registered={registered}"), role=term(str(v.role)), registered=data(str(v.registered)))


def _level(name: str, q: Question, answer: Any, as_of: dt.date) -> str:
    if answer == "unknown":
        return "unknown"
    if name in DATE_QUESTIONS:
        if answer == "never":
            return "never"
        age_days = (as_of - answer).days
        return "recent" if age_days <= (q.recent_months or 0) * MONTH_DAYS else "older"
    if name in SHARE_QUESTIONS:
        for lv, lo in zip(q.order, q.band_min or (), strict=True):
            if float(answer) >= lo:
                return lv
        return q.order[-1]  # pragma: no cover - the last band starts at 0 (validated)
    return str(answer)


@dataclass(frozen=True)
class ScheduleFactor:
    """One credit (``factor < 1``) or debit (``> 1``) of the schedule.

    Attributes
    ----------
    key : str
        ``posture.<question>`` or ``vendors.<name>.<condition>``.
    answer : str
        The submission's answer.
    level : str
        The table row it fell in.
    factor : float
        Multiplier on the annual rate.
    rationale, source : str
        From the table.
    answer_template : Message, optional
        ``answer`` as a template and arguments when it is built from several words (a vendor row).
    """

    key: str
    answer: str
    level: str
    factor: float
    rationale: str
    source: str
    answer_template: Message | None = field(default=None, compare=False)

    @property
    def log_contribution(self) -> float:
        """``ln factor``: the contribution to the log annual rate."""
        return math.log(self.factor)

    def answer_message(self) -> Message:
        """:attr:`answer` as a message (its text is ``answer``): a vendor row's template, else the answer
        as a data word (``never``, ``unknown`` translated where the catalogue has them)."""
        return self.answer_template if self.answer_template is not None else answer(self.answer)

    @property
    def kind(self) -> str:
        """``credit``, ``debit`` or ``neutral``."""
        return "credit" if self.factor < 1 else "debit" if self.factor > 1 else "neutral"


@dataclass(frozen=True)
class ScheduleRating:
    """The schedule block of a quote.

    Attributes
    ----------
    factors : tuple of ScheduleFactor
        Every row applied (neutral ones included).
    raw_factor : float
        Product of the factors.
    factor : float
        ``raw_factor`` clipped to ``cap``: the multiplier on the rate.
    cap : (float, float)
    cap_log_contribution : float
        ``ln factor − ln raw_factor`` (0 when the cap does not bind).
    table, path : str
        Name and version of the table, and the file it came from.
    """

    factors: tuple[ScheduleFactor, ...]
    raw_factor: float
    factor: float
    cap: tuple[float, float]
    cap_log_contribution: float
    table: str
    path: str

    def contributions(self) -> dict[str, float]:
        """``{key: ln factor}`` of each non-neutral factor, plus ``"schedule.cap"`` when it binds."""
        out = {f.key: f.log_contribution for f in self.factors if f.factor != 1.0}
        if self.cap_log_contribution != 0.0:
            out["schedule.cap"] = self.cap_log_contribution
        return out


# --------------------------------------------------------------------------- loading and checks


def _line_of(text: str, loc: Iterable[Any]) -> int | None:
    """Line (1-based) where the key path ``loc`` is written, best effort."""
    pos, found = 0, None
    for part in loc:
        if not isinstance(part, str):
            continue
        m = re.compile(rf"(^|[\s.\[{{,]){re.escape(part)}\s*[=\].]", re.M).search(text, pos)
        if m is None:
            continue
        pos, found = m.start() + len(m.group(1)), m.start() + len(m.group(1))
    return None if found is None else text.count("\n", 0, found) + 1


def _fail(text: str, source: str, loc: tuple[Any, ...], message: str) -> InputError:
    field = ".".join(str(p) for p in loc)
    line = _line_of(text, loc)
    where = f"{source}, line {line}" if line else source
    return InputError(message, field=field, source=where)


def _check(table: ScheduleTable, text: str, source: str) -> None:
    def fail(loc: tuple[Any, ...], msg: str) -> InputError:
        return _fail(text, source, loc, msg)

    lo, hi = table.cap.min, table.cap.max
    if not lo <= 1.0:
        raise fail(("cap", "min"), f"must be <= 1 (a neutral posture must be able to rate 1), got {lo}")
    if not hi >= 1.0:
        raise fail(("cap", "max"), f"must be >= 1 (a neutral posture must be able to rate 1), got {hi}")
    if table.experience.quiet_floor > 1:
        raise fail(("experience", "quiet_floor"), f"must be in (0, 1] (a quiet record never raises the rate), "
                   f"got {table.experience.quiet_floor}")
    vocab = posture_vocabulary()
    missing = [q for q in vocab if q not in table.questions]
    if missing:
        raise fail(("questions",), f"missing question(s) {missing}; every posture question needs a row")
    for name, q in table.questions.items():
        loc = ("questions", name)
        if name not in vocab:
            raise fail(loc, f"unknown posture question {name!r}; known: {sorted(vocab)}")
        if len(set(q.order)) != len(q.order):
            raise fail((*loc, "order"), "lists an answer twice")
        if name in SHARE_QUESTIONS:
            if q.band_min is None or len(q.band_min) != len(q.order):
                raise fail((*loc, "band_min"), "needs one lower bound per level of `order`")
            if any(not 0 <= b <= 1 for b in q.band_min) or any(
                    a <= b for a, b in zip(q.band_min, q.band_min[1:], strict=False)) or q.band_min[-1] != 0:
                raise fail((*loc, "band_min"), "must fall strictly from the best band, within [0, 1], "
                           "and the last band must start at 0")
        else:
            if q.band_min is not None:
                raise fail((*loc, "band_min"), "only share questions have bands")
            if set(q.order) != set(vocab[name]):
                raise fail((*loc, "order"), f"must list exactly the answers {sorted(vocab[name])} "
                           f"(best first, 'unknown' apart), got {q.order}")
        if name in DATE_QUESTIONS:
            if q.recent_months is None or q.recent_months <= 0:
                raise fail((*loc, "recent_months"), "a dated question needs a positive recent_months")
            if q.order != list(DATE_LEVELS):
                raise fail((*loc, "order"), f"a dated question's order is {list(DATE_LEVELS)}")
        elif q.recent_months is not None:
            raise fail((*loc, "recent_months"), "only dated questions have recent_months")
        need = [*q.order, "unknown"]
        extra = sorted(set(q.factors) - set(need))
        if extra:
            raise fail((*loc, "factors", extra[0]), f"not an answer of {name}; answers are {need}")
        absent = [k for k in need if k not in q.factors]
        if absent:
            raise fail((*loc, "factors"), f"missing factor(s) for {absent}")
        f = [q.factors[k] for k in q.order]
        for a, b, ka, kb in zip(f, f[1:], q.order, q.order[1:], strict=False):
            if b < a:
                raise fail((*loc, "factors", kb), f"{kb} = {b} is below the better answer {ka} = {a}: "
                           "a better answer must never cost more")
        if f[0] > 1:
            raise fail((*loc, "factors", q.order[0]), f"the best answer is a debit ({f[0]} > 1): "
                       "a control present must never raise the rate")
        if f[-1] < 1:
            raise fail((*loc, "factors", q.order[-1]), f"the worst answer is a credit ({f[-1]} < 1): "
                       "a known-bad answer must never lower the rate")
        u = q.factors["unknown"]
        if not 1 <= u <= f[-1]:
            raise fail((*loc, "factors", "unknown"), f"unknown = {u} must lie between 1 and the worst "
                       f"answer's factor {f[-1]} (never a credit, never worse than the worst answer)")
    for cond in VENDOR_CONDITIONS:
        if cond not in table.vendors:
            raise fail(("vendors",), f"missing vendor rule {cond!r}; rules are {list(VENDOR_CONDITIONS)}")
    for cond, rule in table.vendors.items():
        loc = ("vendors", cond)
        if cond not in VENDOR_CONDITIONS:
            raise fail(loc, f"unknown vendor rule {cond!r}; rules are {list(VENDOR_CONDITIONS)}")
        if rule.factor < 1:
            raise fail((*loc, "factor"), f"{rule.factor} < 1: a vendor must never be a credit")
        if cond == "custody_path":
            from underwriting.domain.vocabulary import VENDOR_ROLES

            if not rule.roles or any(r not in VENDOR_ROLES for r in rule.roles):
                raise fail((*loc, "roles"), f"must list roles among {list(VENDOR_ROLES)}")
        elif rule.roles is not None:
            raise fail((*loc, "roles"), "only custody_path has roles")
    if table.vendors["registration_unknown"].factor > table.vendors["unregistered"].factor:
        raise fail(("vendors", "registration_unknown", "factor"),
                   "must not exceed vendors.unregistered.factor (an unknown registration is never worse than none)")


def parse_schedule(text: str, *, source: str = "<schedule>") -> ScheduleTable:
    """Validate schedule TOML text (see :func:`load_schedule`)."""
    try:
        data = parse_document(text, fmt="toml", source=source)
    except InputError as exc:
        # a value the reader refuses (non-finite, too deep) names its key path: add the line
        if exc.field and ", line " not in (exc.source or ""):
            raise _fail(text, source, tuple(exc.field.split(".")), exc.message) from None
        raise
    return schedule_from_mapping(data, source=source, text=text)


def schedule_from_mapping(data: dict[str, Any], *, source: str = "<schedule>", text: str = "") -> ScheduleTable:
    """Validate a schedule given as a mapping (the parsed TOML), with the checks of
    :func:`load_schedule`; ``text``, when given, lets errors name the line."""
    if not isinstance(data, dict):
        raise InputError(f"a schedule table is a mapping, got {type(data).__name__}", source=source)
    try:
        table = ScheduleTable.model_validate({**data, "path": source})
    except ValidationError as exc:
        err = exc.errors()[0]
        n = len(exc.errors())
        more = f" (and {n - 1} more error(s))" if n > 1 else ""
        raise _fail(text, source, tuple(err["loc"]), f"{err['msg']}{more}") from None
    _check(table, text, source)
    return table


def load_schedule(path: str | Path | None = None) -> ScheduleTable:
    """Read and validate a schedule table.

    Parameters
    ----------
    path : path-like, optional
        A TOML file in the format of the shipped ``schedule.toml``; the shipped table by default.

    Returns
    -------
    ScheduleTable

    Raises
    ------
    InputError
        Naming the file, the line and the key, for a file that cannot be read, bad TOML, a
        missing or unknown key, a non-positive or non-finite number, a table that breaks
        monotonicity or a cap outside ``0 < min ≤ 1 ≤ max < ∞``.
    """
    p = DEFAULT_SCHEDULE if path is None else Path(path)
    return parse_schedule(read_text(p), source=str(p))


__all__ = [
    "DEFAULT_SCHEDULE", "ScheduleFactor", "ScheduleRating", "ScheduleTable", "load_schedule", "parse_schedule",
    "posture_vocabulary", "schedule_from_mapping",
]
