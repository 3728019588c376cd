"""What the workbench pages show that is not a computation: the documents of a stored quote as the CLI
prints them (the text of ``underwriting quote``, the quote letter as HTML or A4 PDF of
``quote --report q.html|q.pdf``, the premium's build-up in its order) and the registry's models with their
recorded evaluations and promotion history.

With :mod:`underwriting.service.engine` (quotes, prices, reserves, promotions), the service's only doors onto
the toolkit.
"""

from __future__ import annotations

from typing import Any


def format_document(quote_dict: dict[str, Any], lang: str | None = "en") -> str:
    """The quote document as the CLI prints it (``underwriting quote --lang LANG`` without ``--json``)."""
    from underwriting.domain.quote import Quote
    from underwriting.domain.report import format_quote
    from underwriting.i18n import use_lang

    with use_lang(lang or "en"):
        return format_quote(Quote.model_validate(quote_dict))


def quote_letter(quote_dict: dict[str, Any], *, lang: str = "en", pdf: bool = False) -> bytes:
    """The quote letter of a stored quote (``underwriting quote --report q.html|q.pdf``): its HTML page
    with the figures, or that page printed to A4 PDF by headless Chromium.

    The slip is the quote's recorded terms (``inputs.terms``); the loads are the quote's own basis; the
    letter's validity, subjectivities and signatory are the defaults of ``quote --report``.

    Raises
    ------
    InputError
        ``lang`` is not supported, or a PDF is asked for where Chromium is not installed (``field="format"``).
    """
    from underwriting.i18n import resolve_lang, use_lang
    from underwriting.quote.document import build_quote_figures, render_quote_html

    code = resolve_lang(lang, field="lang")
    if pdf:
        from underwriting.quote.pdf import require_chromium

        require_chromium("format")
    from underwriting.domain.pricing_basis import PricingBasisFile

    terms = (quote_dict.get("inputs") or {}).get("terms")
    with use_lang(code):
        figs = build_quote_figures(quote_dict)
    # the letter's validity, subjectivities and signatory: the defaults `quote --report` uses without
    # --pricing-basis (the service quotes with the default loads)
    page = render_quote_html(build_up_order(quote_dict), figures=figs, lang=code, slip=terms,
                             letter=PricingBasisFile().model_dump(mode="json"))
    if not pdf:
        return page.encode("utf-8")
    from underwriting.quote.pdf import html_to_pdf

    return html_to_pdf(page)


#: Order of the premium's build-up as the engine writes it (a stored quote's JSON has sorted keys).
BUILD_UP = ("expected_loss", "risk_load", "expense", "commission", "tax", "minimum_uplift", "reinstatement_credit")


def build_up_order(quote_dict: dict[str, Any]) -> dict[str, Any]:
    """The quote with its (and each layer's) premium components in the build-up order, others after."""
    def order(comp: Any) -> Any:
        if not isinstance(comp, dict):
            return comp
        return {**{k: comp[k] for k in BUILD_UP if k in comp}, **{k: v for k, v in comp.items() if k not in BUILD_UP}}

    out = dict(quote_dict)
    out["premium_components"] = order(out.get("premium_components"))
    if isinstance(out.get("layers"), list):
        out["layers"] = [{**lay, "premium_components": order(lay.get("premium_components"))}
                         if isinstance(lay, dict) else lay for lay in out["layers"]]
    return out


def model_details(registry: str | None = None) -> list[dict[str, Any]]:
    """Each registry model for the actuaries' page: the default, every version with its recorded
    evaluation (the manifest's metrics: out-of-time segments and headline figures), and the verified
    promotion history (newest first). An unreadable entry is reported in ``problems``, not raised."""
    import underwriting.lifecycle.loaders  # noqa: F401  (the packages owning each model kind register it)
    from underwriting.registry import KINDS, Registry

    reg = Registry(registry)
    out = []
    for name in sorted(KINDS):
        problems: list[str] = []
        try:
            versions = reg.versions(name)
        except Exception as exc:  # noqa: BLE001 - reported on the page
            versions, problems = [], [str(exc)]
        default = None
        try:
            default = reg.default(name) if versions else None
        except Exception as exc:  # noqa: BLE001
            problems.append(str(exc))
        rows = []
        for v in reversed(versions):
            try:
                man = reg.read_manifest(name, v)
            except Exception as exc:  # noqa: BLE001
                rows.append({"version": v, "problem": str(exc), "headline": [], "segments": []})
                continue
            metrics = man.get("metrics") or {}
            rows.append({"version": v, "created_at": (man.get("build") or {}).get("created_at"),
                         "data": (man.get("data") or {}).get("description") if isinstance(man.get("data"), dict)
                         else None, "headline": _headline_metrics(metrics),
                         "segments": list(((metrics.get("out_of_time") or {}).get("segments")) or [])})
        try:
            history = list(reversed(reg.history(name)))
        except Exception as exc:  # noqa: BLE001
            history, problems = [], [*problems, str(exc)]
        out.append({"name": name, "default": default, "versions": rows, "problems": problems,
                    "history": [{k: h.get(k) for k in ("timestamp", "action", "from", "to", "note", "key_id")}
                                for h in history]})
    return out


def _headline_metrics(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Scalar metrics and ``{estimate, low, high}`` intervals of a manifest, flattened one level."""
    rows = []
    for key, val in metrics.items():
        items = val.items() if key == "summary" and isinstance(val, dict) else [(key, val)]
        for k, v in items:
            if isinstance(v, bool):
                continue
            if isinstance(v, int | float):
                rows.append({"name": k, "estimate": v, "low": None, "high": None})
            elif isinstance(v, dict) and isinstance(v.get("estimate"), int | float):
                rows.append({"name": k, "estimate": v["estimate"], "low": v.get("low"), "high": v.get("high")})
    return rows


def say(text: Any, message: Any = None) -> str:
    """An engine text of a stored quote in the page language: its message (catalogue template and typed arguments)
    rendered, else the catalogue's translation of the text, else the text (English: the text as stored)."""
    from underwriting.domain.message import localise

    return localise(text, message)


def provenance_label(key: Any) -> str:
    """The label of a method's or version's key in the page language (the key itself in English)."""
    from underwriting.domain.report import provenance_label as label

    return label(str(key))


def assumption_texts(quote_dict: dict[str, Any]) -> list[str]:
    """A stored quote's assumptions in the page language, each from its message when the quote has them."""
    from underwriting.domain.report import assumption_texts as texts

    said = quote_dict.get("assumptions") or []
    if not isinstance(said, list):
        return []
    messages = quote_dict.get("assumption_messages")
    return texts([str(a) for a in said], messages if isinstance(messages, list) else [])
