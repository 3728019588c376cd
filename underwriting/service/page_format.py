"""Language and number formatting of the workbench pages.

The language of a page is, in order: the ``lang`` query parameter, the ``uw_lang`` cookie the
language switch sets, the browser's ``Accept-Language`` header (the first supported language by
quality), else English. Pages are rendered inside :func:`underwriting.i18n.use_lang`, so the
templates' gettext calls and the filters below (money, percentages, dates) follow the language with
the same catalogue and Babel formats as the CLI's documents. No template prints a raw float.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from underwriting import i18n

#: Cookie of the language switch.
LANG_COOKIE = "uw_lang"


def accept_language(header: str | None) -> str | None:
    """The first supported language of an ``Accept-Language`` header by quality (``None`` if none is supported).

    Parameters
    ----------
    header : str
        E.g. ``"ja,en-US;q=0.9,en;q=0.8"``.
    """
    if not header:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        bits = [b.strip() for b in part.split(";")]
        tag = bits[0].lower()
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        code = tag.replace("_", "-").split("-")[0]
        if code in i18n.LANGUAGES and q > 0:
            ranked.append((-q, i, code))
    return min(ranked)[2] if ranked else None


def request_lang(query: str | None, cookie: str | None, header: str | None) -> str:
    """The page language from the query parameter, the switch's cookie, then ``Accept-Language``."""
    for given in (query, cookie):
        if given and given in i18n.LANGUAGES:
            return given
    return accept_language(header) or i18n.DEFAULT_LANG




def na() -> str:
    return i18n._("not available")


def money(x: Any, currency: str) -> str:
    """An exact amount with its currency (``"14,891,832 JPY"``; Japanese ``"14,891,832円"``)."""
    v = i18n.finite_number(x)
    return na() if v is None else i18n.money(v, currency or "")


def money_short(x: Any, currency: str) -> str:
    """A headline amount (``"¥14.9m"``; Japanese ``"1,490万円"`` style units)."""
    v = i18n.finite_number(x)
    return na() if v is None else i18n.money_short(v, currency or "")


def pct(x: Any, digits: int = 3) -> str:
    """A probability or share as a percentage with ``digits`` significant figures."""
    v = i18n.finite_number(x)
    return na() if v is None else i18n.percent(v, digits=digits)


def signed_pct(x: Any, digits: int = 3) -> str:
    """A change in probability with its sign (``"+0.012%"``)."""
    v = i18n.finite_number(x)
    if v is None:
        return na()
    return ("+" if v > 0 else "-" if v < 0 else "") + i18n.percent(abs(v), digits=digits)


def sig(x: Any, digits: int = 3) -> str:
    """A plain number to ``digits`` significant figures, positional, grouped by the locale."""
    v = i18n.finite_number(x)
    if v is None:
        return na()
    if v == 0:
        return "0"
    d = min(12, max(0, digits - 1 - int(math.floor(math.log10(abs(v))))))
    text = i18n.number(round(v, d), decimals=d)
    return text.rstrip("0").rstrip(".") if d > 0 else text


def integer(x: Any) -> str:
    """A whole number grouped by the locale."""
    v = i18n.finite_number(x)
    return na() if v is None else i18n.number(round(v))


def one_in(p: Any) -> str:
    """A probability as ``"0.536% (1 in 187 terms)"``."""
    v = i18n.finite_number(p)
    if v is None:
        return na()
    if v <= 0:
        return i18n.percent(0.0)
    return i18n._("{p} (1 in {n} terms)").format(p=i18n.percent(v), n=i18n.number(round(1 / v)))


def date(d: Any) -> str:
    """A date as in a letter (``"1 October 2026"``, ``"2026年10月1日"``)."""
    return i18n.date_long(d if isinstance(d, str) else None, na=na())


def words(key: Any) -> str:
    """A vocabulary key as words in the page language (``"hot_wallet_theft"`` → ``"hot wallet theft"``)."""
    return i18n._(str(key).replace("_", " "))


#: Labels of the frequency factors that are not questionnaire fields (other languages than English).
FACTOR_LABELS: dict[str, str] = {"experience": i18n.N_("claims experience (credibility)"),
                                 "schedule.cap": i18n.N_("schedule cap"), "incident_history": i18n.N_("Past incidents"),
                                 "vendors": i18n.N_("Vendors")}


def factor(key: Any) -> str:
    """A frequency factor's or reason's key as the page names it: in English its words as before
    (``posture.admin_mfa`` → "admin mfa"); in another language the questionnaire's label of the posture
    question (管理者の多要素認証), else a factor label, else the words (a vendor row keeps its name)."""
    k = str(key or "")
    if i18n.current_lang() != i18n.DEFAULT_LANG:
        from underwriting.service.form_schema import LABELS

        label = LABELS.get(k) or LABELS.get("posture." + k) or FACTOR_LABELS.get(k)
        if label:
            return i18n._(label)
    return words(k.replace("posture.", ""))


def reason(check: Any) -> str:
    """A reserve check's reason (a dict of the quote's JSON) in the page language, rendered from its template."""
    from underwriting.domain.message import localise

    return localise(check.get('reason'), check.get('reason_message')) if isinstance(check, Mapping) else ""


def outcome(value: Any) -> str:
    """A reserve check's outcome (``pass``, ``fail``, ``haircut``, ``info``, ``warning``) in the page language."""
    from underwriting.domain.message import outcome_label

    return outcome_label(str(value or ""))


FILTERS = {"money": money, "money_short": money_short, "pct": pct, "signed_pct": signed_pct, "sig": sig,
           "integer": integer, "one_in": one_in, "date_long": date, "words": words, "factor": factor, "reason": reason,
           "outcome": outcome}


def install(env) -> None:
    """Add the gettext callables (old style: the template formats the translated text itself) and the filters to a Jinja environment."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=lambda s: i18n._(s),
                                  ngettext=lambda s, p, n: i18n._(s if n == 1 else p), newstyle=False)
    env.filters.update(FILTERS)
    # a stored quote's engine texts (methods, assumptions, factors, FX basis) in the page language
    from underwriting.service import views

    env.globals.update(say=views.say, provenance_label=views.provenance_label,
                       assumption_texts=views.assumption_texts)
