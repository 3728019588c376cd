"""Engine texts as catalogue templates with typed arguments: the English text and its translations from one message.

A text the engine builds inside a stage (a reserve check's reason, a method, an assumption, a frequency
factor's answer and reason, an FX basis, the goodness-of-fit method) reaches the quote JSON as English,
and beside it the quote carries its :data:`Message`, so a saved quote renders in another language later.
The English is formatted from the same message (``.text()``), so the two cannot drift.

A message is one of these typed parts (pydantic models; the JSON names the part by ``kind``):

* :class:`Template` (``"message"``): ``{"id": str, "args": {name: part}}``: a catalogue message id, its
  English template with ``{name}`` fields (mark it with :func:`~underwriting.i18n.N_` so ``make messages``
  extracts it), filled with its arguments, each a part;
* :class:`Text` (``"text"``): ``{"value": str}``: written as is in every language (ids, names, rating
  codes, numbers already formatted as the English shows them);
* :class:`Number` (``"number"``): ``{"value": float, "spec": str}``: ``format(value, spec)`` in every
  language (days, shares such as ``".1%"``);
* :class:`Money` (``"money"``): ``{"amount": float, "currency": str, "spec": str, "unit": bool}``: English
  ``format(amount, spec)`` followed by the currency code when ``unit``; another language as
  :func:`underwriting.i18n.money` writes it (yen as ``"285,000,000円"``). The key is ``amount``, so the
  canonical quote rounds it to the currency's minor unit like every other amount;
* :class:`Date` (``"date"``): ``{"value": "YYYY-MM-DD"}``: ISO in English,
  :func:`~underwriting.i18n.date_long` otherwise;
* :class:`Term` (``"term"``): ``{"value": str}``: a vocabulary key (``"war_and_state_actor"``), written as
  is in English; another language writes the catalogue's entry for its words (``_`` read as spaces), else
  the key;
* :class:`Data` (``"data"``): ``{"value": str}``: text from a data file (a shipped schedule's reason, a
  regime's formula, a posture answer such as ``"never"``), written as is in English and translated where
  the catalogue has it (a user's own schedule keeps its wording);
* :class:`Seq` (``"list"``): ``{"items": [part, ...], "sep": str}``: parts joined by ``sep`` (Japanese
  writes ``", "`` as ``"、"`` and ``"; "`` as ``"；"``).

Renderers call :func:`localise` with the English text and its message (a part or its JSON): English
returns the text exactly as stored (the golden reports), another language the rendered message, else (a
quote saved before its texts were messages, a message this version cannot render) the catalogue's entry
for the text, else the text.

This module imports only the standard library, pydantic and :mod:`underwriting.i18n`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from string import Formatter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from underwriting.i18n import DEFAULT_LANG, N_, current_lang, date_long, translations
from underwriting.i18n import money as _money

__all__ = ["Message", "Part", "PARTS", "Template", "Text", "Number", "Money", "Date", "Term", "Data", "Seq",
           "msg", "text", "num", "money", "date", "term", "data", "seq", "answer", "parse", "known", "localise",
           "outcome_label", "WORDS"]

#: Separators of a list in Japanese.
_JA_SEP = {", ": "、", "; ": "；"}


def _gettext(message: str, lang: str) -> str:
    # "" is never looked up: gettext("") is the catalogue's header
    return message if lang == DEFAULT_LANG or not message else translations(lang).gettext(message)


class Part(BaseModel):
    """What every part of a message shares: strict, frozen, its English :meth:`text` and :meth:`render`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def _say(self, lang: str) -> str:  # pragma: no cover - every part overrides it
        raise NotImplementedError

    def text(self) -> str:
        """The English text (the quote's stored text is exactly this).

        Raises
        ------
        KeyError, ValueError, IndexError
            When a template's fields and its arguments do not fit (a programming error, see :func:`msg`).
        """
        return self._say(DEFAULT_LANG)

    def render(self, lang: str | None = None) -> str:
        """The text in ``lang`` (default: the current language, :func:`underwriting.i18n.use_lang`)."""
        return self._say(lang or current_lang())

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (for the quote's untyped dict blocks: reserve checks, frequency factors, FX rows)."""
        return self.model_dump(mode="json")


class Text(Part):
    """Text written as is in every language (an id, a name, a number already formatted)."""

    kind: Literal["text"] = "text"
    value: str

    def _say(self, lang: str) -> str:
        return self.value


class Number(Part):
    """A number written ``format(value, spec)`` in every language (``""``: a count of days; ``".1%"``: a share)."""

    kind: Literal["number"] = "number"
    value: int | float
    spec: str = ""

    def _say(self, lang: str) -> str:
        return format(self.value, self.spec)


class Money(Part):
    """An amount in ``currency``: English ``format(amount, spec)`` (plus ``" JPY"`` when ``unit``), another
    language as :func:`underwriting.i18n.money` writes it (always with its currency)."""

    kind: Literal["money"] = "money"
    amount: float
    currency: str
    spec: str = ",.2f"
    unit: bool = True

    def _say(self, lang: str) -> str:
        if lang == DEFAULT_LANG:
            return format(self.amount, self.spec) + (f" {self.currency}" if self.unit else "")
        return _money(self.amount, self.currency, lang=lang)


class Date(Part):
    """A date: ISO in English (``2026-10-01``), long form otherwise (``2026年10月1日``)."""

    kind: Literal["date"] = "date"
    value: dt.date

    def _say(self, lang: str) -> str:
        iso = self.value.isoformat()
        return iso if lang == DEFAULT_LANG else date_long(iso, lang=lang)


class Term(Part):
    """A vocabulary key (``"hot_wallet_theft"``): as is in English, its catalogue words in another language."""

    kind: Literal["term"] = "term"
    value: str

    def _say(self, lang: str) -> str:
        if lang == DEFAULT_LANG:
            return self.value
        words = self.value.replace("_", " ")
        said = _gettext(words, lang)
        return self.value if said == words else said


class Data(Part):
    """Text from a data file, written as is in English and translated where the catalogue has it."""

    kind: Literal["data"] = "data"
    value: str

    def _say(self, lang: str) -> str:
        return _gettext(self.value, lang)


class Seq(Part):
    """Parts joined by ``sep`` (``", "`` or ``"; "``; Japanese writes them ``"、"`` and ``"；"``)."""

    kind: Literal["list"] = "list"
    items: list[Message] = Field(default_factory=list)
    sep: str = ", "

    def _say(self, lang: str) -> str:
        sep = _JA_SEP.get(self.sep, self.sep) if lang == "ja" else self.sep
        return sep.join(i._say(lang) for i in self.items)


class Template(Part):
    """A catalogue template (its English, the message id) filled with its arguments.

    Attributes
    ----------
    id : str
        The English template with ``{name}`` fields, a catalogue message id (marked with ``N_``).
    args : dict of str to Message
        One part per field of ``id``.
    """

    kind: Literal["message"] = "message"
    id: str = Field(description="The English template, a catalogue message id with {name} fields.")
    args: dict[str, Message] = Field(default_factory=dict, description="One typed part per field of the template.")

    def _say(self, lang: str) -> str:
        return _gettext(self.id, lang).format(**{k: v._say(lang) for k, v in self.args.items()})


#: A translatable engine text: one of the parts above, told apart by its ``kind``.
Message = Annotated[Template | Text | Number | Money | Date | Term | Data | Seq, Field(discriminator="kind")]

Seq.model_rebuild()
Template.model_rebuild()

#: Every part type (for ``isinstance``: :data:`Message` itself is a union).
PARTS: tuple[type[Part], ...] = (Template, Text, Number, Money, Date, Term, Data, Seq)

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Message)


def parse(value: Any) -> Template | Text | Number | Money | Date | Term | Data | Seq:
    """A message from its JSON (or the message itself).

    Raises
    ------
    pydantic.ValidationError
        When ``value`` is not a message of this version (e.g. one saved before messages had a ``kind``).
    """
    return value if isinstance(value, Part) else _ADAPTER.validate_python(value)


def known(value: Any) -> Part | None:
    """``value`` as a message of this version, or None when it is not one (a quote saved before its texts
    were typed messages keeps its English, see :func:`localise`): for loading saved quotes without failing."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValidationError:
        return None


def _part(value: Any) -> Any:
    return Text(value=value) if isinstance(value, str) else value


def text(value: object) -> Text:
    """Text written as is in every language (an id, a name, a rating code, a formatted number)."""
    return Text(value=str(value))


def num(value: float, spec: str = "") -> Number:
    """A number formatted with ``spec`` (``""`` for a count of days, ``".1%"`` for a share)."""
    return Number(value=value, spec=spec)


def money(amount: float, currency: str, spec: str = ",.2f", *, unit: bool = True) -> Money:
    """An amount in ``currency`` (see :class:`Money`)."""
    return Money(amount=float(amount), currency=str(currency), spec=spec, unit=bool(unit))


def date(value: dt.date) -> Date:
    """A date (ISO in English, long form in another language)."""
    return Date(value=value)


def term(value: str) -> Term:
    """A vocabulary key (written as is in English, as its catalogue words in another language)."""
    return Term(value=str(value))


def data(value: str) -> Data:
    """A data text (looked up in the catalogue as it is when shown in another language)."""
    return Data(value=str(value))


def seq(items: Iterable[Any], sep: str = ", ") -> Seq:
    """Parts (a ``str`` is :func:`text`) joined by ``sep``."""
    return Seq(items=[_part(i) for i in items], sep=sep)


def msg(template: str, **args: Any) -> Template:
    """``template`` (mark it with ``N_``) filled with ``args`` (parts; a ``str`` is :func:`text`).

    Raises
    ------
    KeyError, IndexError, ValueError
        When the template does not format with ``args``, or an argument fills no field (a programming
        error, caught by the tests).
    """
    m = Template(id=template, args={k: _part(v) for k, v in args.items()})
    unused = set(args) - {f for _, f, _, _ in Formatter().parse(template) if f}
    if unused:
        raise ValueError(f"template {template!r} has no field for {sorted(unused)}")
    m.text()
    return m


def answer(value: str) -> Term | Data:
    """A questionnaire answer: a vocabulary key (``hardware_key``, ``no``) as a :func:`term`, any other
    answer (a date, a number, a name) as a :func:`data` text."""
    t = str(value)
    return term(t) if re.fullmatch(r"[a-z][a-z0-9_]*", t) else data(t)


def localise(text: Any, message: Any = None, *, lang: str | None = None) -> str:
    """``text`` in ``lang`` (default: the current language).

    Parameters
    ----------
    text : str
        The English text as the quote stores it (returned unchanged in English).
    message : Message or dict, optional
        Its message (a part or its JSON), rendered in another language. Without one, or with one this
        version cannot render (an older saved quote, a user's own data), the catalogue's translation of
        ``text`` is used when it has one, else ``text``.
    lang : str, optional
        The language (default: :func:`underwriting.i18n.current_lang`).
    """
    lang = lang or current_lang()
    s = "" if text is None else str(text)
    if lang == DEFAULT_LANG:
        return s
    if message is not None:
        try:
            return parse(message).render(lang)
        except (ValidationError, KeyError, IndexError, ValueError, TypeError, AttributeError):
            pass  # a message this version cannot render: the text, translated when the catalogue has it
    return _gettext(s, lang)


def outcome_label(outcome: str, *, lang: str | None = None) -> str:
    """A reserve check's outcome (``pass``, ``fail``, ``haircut``, ``info``, ``warning``) in ``lang``."""
    return _gettext(str(outcome), lang or current_lang())


#: Words passed as ``term`` or ``data`` parts that no other message supplies: posture answers, vendor
#: roles, requirement components and causes.
WORDS: tuple[str, ...] = (N_("yes"), N_("no"), N_("unknown"), N_("never"), N_("default posture schedule"),
                          N_("wallet software"), N_("custody technology"), N_("cloud"), N_("signing ui"),
                          N_("other"), N_("all tiers"), N_("external hack"))
