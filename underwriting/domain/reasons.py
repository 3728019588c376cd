"""Reasons as message templates with typed arguments: the English text and its translations from one template.

A reserve check's reason is kept as a catalogue message id (its English template, marked with
:func:`~underwriting.i18n.N_`) and the arguments that fill it, so a saved quote can be rendered again in
another language. The English text is formatted from the same template and arguments
(:attr:`Reason.text`), so the two cannot drift.

Every argument is a small JSON object with a ``kind``:

* ``text``: ``{"value": str}``: written as is in every language (ids, names, rating codes);
* ``number``: ``{"value": float, "spec": str}``: ``format(value, spec)`` in every language (days,
  shares such as ``".1%"``);
* ``money``: ``{"amount": float, "currency": str, "spec": str, "unit": bool}``: English
  ``format(amount, spec)`` followed by the currency code when ``unit``; another language writes it as
  :func:`underwriting.i18n.money` does (yen as ``"285,000,000円"``). The key is ``amount``, so the
  canonical quote rounds it to the currency's minor unit like every other amount;
* ``date``: ``{"value": "YYYY-MM-DD"}``: ISO in English, :func:`~underwriting.i18n.date_long` otherwise;
* ``term``: ``{"value": str}``: a vocabulary key (``"war_and_state_actor"``), written as is in English
  and translated with ``_`` read as spaces where the catalogue has it;
* ``data``: ``{"value": str}``: text from a data file (a regime's formula or wording checklist), written
  as is in English and translated where the catalogue has it;
* ``message``: ``{"id": str, "args": {...}}``: a nested reason (one clause of a longer one);
* ``list``: ``{"items": [...], "sep": str}``: arguments joined by ``sep`` (Japanese writes ``", "`` as
  ``"、"`` and ``"; "`` as ``"；"``).

This module imports only the standard library and :mod:`underwriting.i18n`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from underwriting.i18n import DEFAULT_LANG, N_, current_lang, date_long, translations
from underwriting.i18n import money as _money

__all__ = ["Arg", "Reason", "reason", "text", "num", "money", "date", "term", "data", "msg", "seq", "render",
           "check_reason", "outcome_label", "REASON_WORDS"]

Kind = Literal["text", "number", "money", "date", "term", "data", "message", "list"]


class Arg(TypedDict, total=False):
    """One argument of a reason (see the module docstring for the keys of each ``kind``)."""

    kind: Kind
    value: Any
    spec: str
    amount: float
    currency: str
    unit: bool
    id: str
    args: dict[str, Any]
    items: list[Any]
    sep: str


def text(value: object) -> Arg:
    """Text written as is in every language (an id, a name, a rating code)."""
    return {"kind": "text", "value": str(value)}


def num(value: float, spec: str = "") -> Arg:
    """A number formatted with ``spec`` (``""`` for a count of days, ``".1%"`` for a share)."""
    return {"kind": "number", "value": value, "spec": spec}


def money(amount: float, currency: str, spec: str = ",.2f", *, unit: bool = True) -> Arg:
    """An amount in ``currency``: English ``format(amount, spec)`` (plus ``" JPY"`` when ``unit``);
    another language as :func:`underwriting.i18n.money` writes it (always with its currency)."""
    return {"kind": "money", "amount": float(amount), "currency": str(currency), "spec": spec, "unit": bool(unit)}


def date(value: dt.date) -> Arg:
    """A date: ISO in English (``2026-10-01``), long form otherwise (``2026年10月1日``)."""
    return {"kind": "date", "value": value.isoformat()}


def term(value: str) -> Arg:
    """A vocabulary key (``"war_and_state_actor"``): as is in English, translated where the catalogue has it."""
    return {"kind": "term", "value": str(value)}


def data(value: str) -> Arg:
    """Text from a data file (a regime's formula, a wording checklist item), translated where catalogued."""
    return {"kind": "data", "value": str(value)}


def msg(template: str, **args: Arg) -> Arg:
    """A nested reason: ``template`` (mark it with ``N_``) filled with ``args``."""
    return {"kind": "message", "id": template, "args": dict(args)}


def seq(items: Iterable[Arg], sep: str) -> Arg:
    """Arguments joined by ``sep`` (``", "`` or ``"; "``)."""
    return {"kind": "list", "items": list(items), "sep": sep}


@dataclass(frozen=True)
class Reason:
    """A reason: the message id (its English template) and the arguments that fill it.

    Attributes
    ----------
    id : str
        The English template, a catalogue message id with ``{name}`` fields.
    args : dict
        One :class:`Arg` per field of ``id``.
    """

    id: str
    args: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        """The English text (what :attr:`Check.reason <underwriting.reserve.figures.Check>` holds)."""
        return render(self.id, self.args, lang=DEFAULT_LANG)


def reason(template: str, **args: Arg) -> Reason:
    """A :class:`Reason` of ``template`` (mark it with ``N_`` so ``make messages`` extracts it)."""
    return Reason(template, dict(args))


#: Separators of a list in Japanese.
_JA_SEP = {", ": "、", "; ": "；"}


def _gettext(message: str, lang: str) -> str:
    return message if lang == DEFAULT_LANG else translations(lang).gettext(message)


def _value(a: Any, lang: str) -> str:
    if not isinstance(a, Mapping):
        raise ValueError(f"a reason argument must be an object with a kind, not {a!r}")
    kind = a["kind"]
    if kind == "text":
        return str(a["value"])
    if kind == "number":
        return format(a["value"], str(a.get("spec", "")))
    if kind == "money":
        if lang == DEFAULT_LANG:
            return format(float(a["amount"]), str(a["spec"])) + (f" {a['currency']}" if a.get("unit") else "")
        return _money(float(a["amount"]), str(a["currency"]), lang=lang)
    if kind == "date":
        return str(a["value"]) if lang == DEFAULT_LANG else date_long(str(a["value"]), lang=lang)
    if kind == "term":
        v = str(a["value"])
        if lang == DEFAULT_LANG:
            return v
        words = v.replace("_", " ")
        tr = _gettext(words, lang)
        return v if tr == words else tr
    if kind == "data":
        return _gettext(str(a["value"]), lang)
    if kind == "message":
        return render(str(a["id"]), a.get("args") or {}, lang=lang)
    if kind == "list":
        sep = str(a["sep"])
        if lang == "ja":
            sep = _JA_SEP.get(sep, sep)
        return sep.join(_value(i, lang) for i in a["items"])
    raise ValueError(f"unknown reason argument kind {kind!r}")


def render(template: str, args: Mapping[str, Any], *, lang: str | None = None) -> str:
    """``template`` in ``lang`` (default: the current language) filled with ``args`` written in that language.

    Raises
    ------
    KeyError, ValueError, TypeError
        When ``args`` do not fit the template (a field without an argument, an unknown kind).
    """
    lang = lang or current_lang()
    return _gettext(template, lang).format(**{k: _value(v, lang) for k, v in args.items()})


def check_reason(check: Mapping[str, Any], *, lang: str | None = None) -> str:
    """A check's reason (a ``Check.to_dict()``, as a quote's JSON holds it) in ``lang`` (default: current).

    English is the recorded ``reason`` itself (formatted from the same template when the check was
    made). Another language renders ``reason_id`` with ``reason_args``; a check without them (a quote
    saved before reasons were kept as templates), or whose arguments do not fit its template, keeps the
    recorded English text.
    """
    lang = lang or current_lang()
    recorded = str(check.get("reason", ""))
    rid, args = check.get("reason_id"), check.get("reason_args")
    if lang == DEFAULT_LANG or not rid or not isinstance(args, Mapping):
        return recorded
    try:
        return render(str(rid), args, lang=lang)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError):
        return recorded


def outcome_label(outcome: str, *, lang: str | None = None) -> str:
    """A check's outcome (``pass``, ``fail``, ``haircut``, ``info``, ``warning``) in ``lang``."""
    return _gettext(str(outcome), lang or current_lang())


#: Words reasons pass as ``term`` arguments that no other message supplies (component and cause names).
REASON_WORDS: tuple[str, ...] = (N_("all tiers"), N_("external hack"))
