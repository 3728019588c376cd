"""Languages of the human-readable outputs: gettext catalogues (Babel) and locale formatting.

The English text is the message id; each other language has a ``.po`` catalogue under
``underwriting/locale/<lang>/LC_MESSAGES/underwriting.po`` (extracted with ``pybabel extract -F
babel.cfg``; see ``make messages``). The ``.po`` source ships in the package and is compiled to a
gettext ``.mo`` catalogue in memory with Babel on first use, so an editable install and the wheel
behave the same and no compiled file can go stale.

The language of a call comes from :func:`use_lang` (a context variable), so the renderers need no
extra argument: ``with use_lang("ja"): format_quote(q)``. The language is the explicit ``--lang`` /
``lang=``, else that of an enclosing :func:`use_lang` block, else (:func:`resolve_lang`)
``UNDERWRITING_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English.

Money is formatted by language: English keeps the project's ``"5,000,000,000 JPY"`` (exact) and
``"¥5bn"`` (short); Japanese writes yen as 円, exact ``"5,000,000,000円"`` and short with 億円
(10^8) and 百万円 (10^6) units, ``"50億円"``; dates are ``2026年10月1日`` in Japanese.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import gettext
import io
import math
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from underwriting.caches import register_cache
from underwriting.errors import InputError

__all__ = ["LANGUAGES", "DEFAULT_LANG", "finite_number", "resolve_lang", "use_lang", "current_lang", "_", "translations",
           "money", "money_short", "percent", "date_long", "number", "display_width", "ljust", "rjust",
           "catalogue_path", "N_", "DATA_WORDS", "FSTRING_WORDS"]

#: Languages with a catalogue ("en" is the source language: the message ids).
LANGUAGES: tuple[str, ...] = ("en", "ja")
DEFAULT_LANG = "en"
DOMAIN = "underwriting"
_LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Babel locale of each language (English dates as "1 October 2026").
_BABEL_LOCALE = {"en": "en_GB", "ja": "ja_JP"}

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("underwriting_lang", default=DEFAULT_LANG)


def resolve_lang(lang: str | None = None, *, field: str = "--lang") -> str:
    """The language to write in: ``lang``, else ``$UNDERWRITING_LANG``, else the locale, else ``"en"``.

    Parameters
    ----------
    lang : str, optional
        ``"en"`` or ``"ja"`` (a locale such as ``"ja_JP.UTF-8"`` is accepted too). An explicit
        value, or ``UNDERWRITING_LANG``, that is not supported is an input error naming ``field``
        (or the variable); a locale the toolkit has no catalogue for falls back to English.
    field : str
        Name of the option reported in an error.
    """
    if lang is not None:
        code = _code(lang)
        if code not in LANGUAGES:
            raise InputError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}", field=field)
        return code
    env = os.environ.get("UNDERWRITING_LANG", "").strip()
    if env:
        code = _code(env)
        if code not in LANGUAGES:
            raise InputError(f"unsupported language {env!r}; choose one of {', '.join(LANGUAGES)}",
                             field="UNDERWRITING_LANG")
        return code
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var, "").strip()
        if v:
            code = _code(v)
            return code if code in LANGUAGES else DEFAULT_LANG
    return DEFAULT_LANG


def _code(text: str) -> str:
    """``"ja_JP.UTF-8"`` → ``"ja"``; ``"C"``/``"POSIX"`` → ``"en"``."""
    t = text.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if t in ("c", "posix", ""):
        return DEFAULT_LANG
    return t.split("_")[0]


def current_lang() -> str:
    """The language of the current context (``"en"`` unless inside :func:`use_lang`)."""
    return _LANG.get()


@contextlib.contextmanager
def use_lang(lang: str | None) -> Iterator[str]:
    """Write in ``lang`` inside the block (resolved with :func:`resolve_lang`); yields the code.

    Without ``lang`` inside an enclosing ``use_lang`` block, the enclosing block's language is kept (the
    caller chose it), so a renderer called as ``with use_lang("ja"): render(q)`` writes Japanese.
    """
    enclosing = _LANG.get(None)
    code = enclosing if lang is None and enclosing is not None else resolve_lang(lang)
    token = _LANG.set(code)
    try:
        yield code
    finally:
        _LANG.reset(token)


def catalogue_path(lang: str) -> Path:
    """The ``.po`` source of ``lang``'s catalogue."""
    return _LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@register_cache(static=True)
@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext catalogue of ``lang``, compiled from its ``.po`` source with Babel (cached).

    English is the source language: its catalogue returns the message ids unchanged.
    """
    if lang == DEFAULT_LANG:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = catalogue_path(lang)
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _(message: str) -> str:
    """``message`` (English) in the current language; the message itself when it has no translation."""
    lang = _LANG.get()
    if lang == DEFAULT_LANG:
        return message
    return translations(lang).gettext(message)


# ---- numbers, money, dates ------------------------------------------------------------------------

def finite_number(x: object) -> float | None:
    """``x`` as a finite float, or None (None, a bool, NaN, an infinity, text that is not a number, or any
    other object such as a template's undefined value): the one reader of the numbers a document or a page
    formats from a quote's JSON."""
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _finite(x: float | None) -> bool:
    return x is not None and not isinstance(x, bool) and math.isfinite(float(x))


def number(x: float, *, decimals: int = 0, lang: str | None = None) -> str:
    """A number with the locale's grouping: ``number(1234567) == "1,234,567"`` (no scientific notation)."""
    from babel.numbers import format_decimal

    lang = lang or _LANG.get()
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(float(x), format=pattern, locale=_BABEL_LOCALE[lang], decimal_quantization=True)


def money(x: float | None, currency: str, *, lang: str | None = None, na: str = "n/a") -> str:
    """An exact amount with its currency, to the unit.

    English: ``"5,000,000,000 JPY"``; Japanese: yen as ``"5,000,000,000円"``, other currencies as
    ``"4,430,000 USD"``. ``None`` or a non-finite value gives ``na``.
    """
    if not _finite(x):
        return na
    lang = lang or _LANG.get()
    if lang == "ja" and currency.upper() == "JPY":
        return f"{number(round(float(x)), lang=lang)}円"
    if lang == DEFAULT_LANG:
        return f"{float(x):,.0f} {currency}"
    return f"{number(round(float(x)), lang=lang)} {currency}"


def _sig(v: float, digits: int = 3) -> str:
    """``v`` to ``digits`` significant figures in positional notation, trailing zeros dropped."""
    if v == 0:
        return "0"
    d = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    text = f"{v:,.{d}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_short(x: float | None, currency: str, *, lang: str | None = None, na: str = "n/a") -> str:
    """A headline amount: three significant figures with a unit.

    English: the project's chart style, ``"¥5bn"``, ``"$4.43m"``. Japanese: yen in 億円 (10^8) from
    one 億 up and in 百万円 (10^6) from one million up (``"50億円"``, ``"150百万円"``); other
    currencies with 億 / 万 units and the code (``"443万 USD"``).
    """
    if not _finite(x):
        return na
    lang = lang or _LANG.get()
    v = float(x)
    if lang != "ja":
        from underwriting.figure_style import money as chart_money

        return chart_money(v, currency)
    sign, a = ("-" if v < 0 else ""), abs(v)
    if currency.upper() == "JPY":
        for size, unit in ((1e8, "億円"), (1e6, "百万円")):
            if a >= size:
                return f"{sign}{_sig(a / size)}{unit}"
        return f"{sign}{number(round(a), lang=lang)}円"
    for size, unit in ((1e8, "億"), (1e4, "万")):
        if a >= size:
            return f"{sign}{_sig(a / size)}{unit} {currency}"
    return f"{sign}{number(round(a), lang=lang)} {currency}"


def percent(p: float | None, *, digits: int = 3, na: str = "n/a") -> str:
    """A probability as a percentage with ``digits`` significant figures (never scientific notation)."""
    if not _finite(p):
        return na
    from underwriting.figure_style import percent as _pct

    return _pct(float(p), digits=digits)


def date_long(d: dt.date | str | None, *, lang: str | None = None, na: str = "n/a") -> str:
    """A date as written in a letter: ``"1 October 2026"``; Japanese ``"2026年10月1日"``."""
    if d is None:
        return na
    if isinstance(d, str):
        try:
            d = dt.date.fromisoformat(d[:10])
        except ValueError:
            return d
    from babel.dates import format_date

    lang = lang or _LANG.get()
    return format_date(d, format="long", locale=_BABEL_LOCALE[lang])


# ---- text tables with wide characters --------------------------------------------------------------

def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def ljust(text: str, width: int) -> str:
    """``text`` padded on the right to ``width`` display columns (``str.ljust`` for ASCII)."""
    return text + " " * max(0, width - display_width(text))


def rjust(text: str, width: int) -> str:
    """``text`` padded on the left to ``width`` display columns (``str.rjust`` for ASCII)."""
    return " " * max(0, width - display_width(text)) + text


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (the words of vocabulary keys, captions)."""
    return message


#: Words translated at run time from data (vocabulary keys with "_" as spaces, outcomes, captions):
#: listed here so ``pybabel extract -k N_`` puts them in the catalogues.
DATA_WORDS: tuple[str, ...] = (
    N_("hot wallet theft"), N_("cold wallet theft"), N_("third party vendor"), N_("insider"),
    N_("social engineering"), N_("supervisory action"), N_("insolvency of insured"), N_("cold wallet"),
    N_("war and state actor"), N_("gross negligence"), N_("management crime"), N_("credential theft"),
    N_("expected loss"), N_("risk load"), N_("expense"), N_("commission"), N_("minimum uplift"),
    N_("reinstatement credit"), N_("tax"),
    N_("pass"), N_("fail"), N_("haircut"), N_("warning"), N_("info"), N_("raises"), N_("lowers"),
    N_("Rating factors: each factor's contribution to the log of the breach rate"),
    N_("Loss exceedance over the term, with the layer marked"), N_("Expected loss by peril"),
    N_("Reserve credit waterfall, with the retention that stays in cash"),
    N_("Risk-score reasons: contribution to the log annual breach rate (no frequency factors in this quote)"),
    N_("the figure was not supplied"), N_("cash only"),
)

#: Messages whose ``_()`` call sits inside an f-string: Babel's Python extractor does not look inside
#: f-strings (on Python 3.11 they are one string token), so they are listed here for extraction too.
#: tests/i18n/test_i18n.py finds every literal message call in the source and checks it is extracted.
FSTRING_WORDS: tuple[str, ...] = (
    N_("Checks"), N_("Exceedance points"), N_("Factors"), N_("Families fitted to the same losses, by AIC"),
    N_("For and on behalf of {insurer}"), N_("Frequency"),
    N_("Generated by underwriting {version} from the quote canonical JSON; this page loads nothing from the network."),
    N_("Layer probabilities"), N_("No warnings."), N_("None: every amount was already in the quote currency."),
    N_("Perils"), N_("Severity"), N_("amount"), N_("amounts in {currency}"), N_("band"), N_("component"), N_("date"),
    N_("input"), N_("load (input)"), N_("name and title"), N_("no reserve regime was applied to this quote"),
    N_("reference"), N_("source"), N_("step"), N_("tax included"), N_("the insurer"),
    N_("the quote lists no reasons"),
)
