"""Workbench pages that make and show quotes: the new-quote upload, the questionnaire, the terms
editor (in both), the quote page and the quote's documents (text, JSON, the quote letter as HTML
or PDF, in English or Japanese).

The quote page shows what the quote letter shows: warnings first, the premium with its currency
and range, the terms (limit, deductible, attachment, period, currency, perils, sub-limits), each
layer of a tower, the defence (P(attach), P(exhaust), severity and its fit, perils, EP points,
frequency factors), reasons, the reserve credit, methods and versions; every number formatted by
the page's language (:mod:`page_format`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.concurrency import run_in_threadpool

from underwriting import i18n
from underwriting.errors import InputError
from underwriting.service import engine, form_schema, page_format, views
from underwriting.service.store import Problem
from underwriting.service.web import (
    _create,
    _errors_by_field,
    _forbidden,
    _may_create_quotes,
    _options,
    _page,
    _principal,
    _signin_redirect,
    _store,
    page_lang,
)

router = APIRouter(prefix="/workbench", include_in_schema=False)
#: The terms editor's script: adds and removes layers in the page, so chosen files stay chosen.
TERMS_EDITOR_JS = Path(__file__).with_name("static") / "terms_editor.js"
#: The file inputs of the quote forms and their labels (the questionnaire has only the schedule's).
FILE_INPUTS = {"submission_file": i18n.N_("Submission file"), "terms_file": i18n.N_("Policy terms file"),
               "schedule_file": i18n.N_("Posture schedule")}


def _default_values() -> dict[str, str]:
    return {"seed": "0", "frequency_model": engine.DEFAULT_FREQUENCY_MODEL, "principle": engine.default_principle(),
            "regime": "",
            "quote_currency": "", "doc_lang": ""}


def quote_form_ctx(**extra: Any) -> dict[str, Any]:
    """Context of the new-quote (upload) form: regimes, a fresh idempotency key, defaults, the terms editor."""
    return {"regimes": engine.bundled_regimes(), "frequency_models": engine.FREQUENCY_MODELS,
            "idem": secrets.token_urlsafe(16), "values": _default_values(),
            "errors": {}, "error_list": [], "terms": form_schema.terms_defaults(), "terms_errors": {},
            "perils": form_schema.PERILS, "exclusion_words": form_schema.EXCLUSIONS, "ratings": form_schema.RATINGS,
            "flabel": form_schema.label, "blank_layer": form_schema.terms_defaults()["layer"][0],
            "max_layers": form_schema.MAX_EDITOR_LAYERS, "refile": {}, "file_labels": FILE_INPUTS, **extra}


@router.get("/static/terms_editor.js")
def terms_editor_script():
    """The terms editor's script (progressive enhancement: the pages work without it). Revalidated on
    every load (``no-cache`` with the file's ETag), so an upgraded server's script is used at once."""
    return FileResponse(TERMS_EDITOR_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def chosen_files(form) -> dict[str, str]:
    """The files chosen in a posted form, by input name: their names as the page shows them (printable
    characters only, at most 120). A page sent back to the browser must ask for these again: no
    browser lets a page fill a file input, and nothing uploaded is kept on the server."""
    out: dict[str, str] = {}
    for name in FILE_INPUTS:
        up = form.get(name)
        filename = getattr(up, "filename", None) if up is not None and hasattr(up, "read") else None
        if filename:
            shown = "".join(ch for ch in str(filename).replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable())
            out[name] = (shown[:117] + "...") if len(shown) > 120 else (shown or "?")
    return out


@router.get("/new", response_class=HTMLResponse)
def new_quote(request: Request):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:create"):
        return _forbidden(request, i18n.N_("create quotes"))
    return _page(request, "new_quote.html", **quote_form_ctx())


async def _upload(request: Request, form, name: str, field: str) -> dict[str, Any] | None:
    up = form.get(name)
    if up is None or not hasattr(up, "read") or not up.filename:
        return None
    raw = await up.read(request.app.state.max_body_bytes + 1)
    if len(raw) > request.app.state.max_body_bytes:
        raise InputError("file too large", field=field)
    return engine.parse_document_bytes(raw, up.filename, field)


def _terms_errors(errs: list[dict[str, str]], layers: int) -> dict[str, list[str]]:
    """Errors of the request that name a terms field, by the editor input they belong to."""
    out: dict[str, list[str]] = {}
    for e in errs:
        slot = form_schema.terms_error_slot(e["field"], layers)
        if slot is not None:
            out.setdefault(slot, []).append(e["message"])
    return out


async def _common_body(request: Request, form, fd, body: dict[str, Any], *, terms_file: bool) -> tuple[
        dict[str, Any], dict[str, str], dict[str, Any], list[dict[str, str]]]:
    """Options, regime, schedule and terms (file or editor) of a quote form: ``(body, values, terms, errors)``."""
    opts, values = _options(form)
    body["options"] = opts
    if values["regime"]:
        body["regime"] = values["regime"]
    errors: list[dict[str, str]] = []
    tvals = form_schema.terms_values(fd)
    try:
        schedule = await _upload(request, form, "schedule_file", "schedule")
        if schedule is not None:
            opts["schedule"] = schedule     # a QuoteRequest option (the layout of frequency/schedule.toml)
    except InputError as exc:
        errors.append({"field": "schedule", "message": exc.message})
    tdoc, terrs = form_schema.terms_document(tvals)
    errors += terrs
    if terms_file:
        try:
            uploaded = await _upload(request, form, "terms_file", "terms")
        except InputError as exc:
            errors.append({"field": "terms", "message": exc.message})
            uploaded = None
        if uploaded is not None and tdoc is not None:
            errors.append({"field": "terms", "message": "give a terms file or fill the terms editor, not both"})
        tdoc = uploaded if uploaded is not None else tdoc
    if tdoc is not None:
        body["terms"] = tdoc
    return body, values, tvals, errors


def _after_quote(quote_id: str, values: Mapping[str, str]) -> RedirectResponse:
    lang = values.get("doc_lang") or ""
    suffix = f"?doc_lang={lang}" if lang in i18n.LANGUAGES else ""
    return RedirectResponse(f"/workbench/quotes/{quote_id}{suffix}", status_code=303)


def _layers_action(fd, tvals: dict[str, Any], action) -> dict[str, Any] | None:
    """The terms editor after an "add a layer" or "remove layer i" press (None for another button)."""
    if action is None or action[1] != "layers":
        return None
    n = len(tvals["layer"])
    if action[0] == "add":
        return form_schema.terms_values(fd, layers=min(form_schema.MAX_EDITOR_LAYERS, n + 1))
    shifted = form_schema.shifted_form(fd, "layers", action[2], n, key_prefix="t.")
    return form_schema.terms_values(shifted, layers=max(1, n - 1))


@router.post("/quotes")
async def create_quote(request: Request):
    """The upload form: a submission file, terms from a file or the editor, options."""
    p, refused = _may_create_quotes(request)
    if refused is not None:
        return refused
    form = await request.form()
    fd = form_schema.form_dict(form)
    body: dict[str, Any] = {}
    try:
        sub = await _upload(request, form, "submission_file", "submission")
    except InputError as exc:
        sub, pre = None, [{"field": "submission", "message": exc.message}]
    else:
        pre = []
    body, values, tvals, errs = await _common_body(request, form, fd, body, terms_file=True)
    action = form_schema.rows_action(fd)
    edited = _layers_action(fd, tvals, action)
    if edited is not None:  # without JavaScript (terms_editor.js does this in the page)
        return _page(request, "new_quote.html", **quote_form_ctx(values=values, terms=edited,
                                                                 refile=chosen_files(form)))
    errs = pre + errs
    if sub is None and not pre:
        errs.append({"field": "submission", "message": "choose a submission file (.json or .toml)"})
    if sub is not None:
        body["submission"] = sub
    try:
        if errs:
            raise engine.FieldErrors(errs)
        res = await _create(request, p, body, str(form.get("idempotency_key") or ""))
    except (InputError, Problem) as exc:
        by, errs = _errors_by_field(exc)
        return _page(request, "new_quote.html", 422, **quote_form_ctx(
            values=values, errors=by, error_list=errs, terms=tvals, refile=chosen_files(form),
            terms_errors=_terms_errors(errs, len(tvals["layer"]))))
    return _after_quote(res.body["id"], values)


# ---- the questionnaire ------------------------------------------------------------------------------

def questionnaire_ctx(**extra: Any) -> dict[str, Any]:
    schema = engine.schema("submission")
    return {"fields": form_schema.schema_fields(schema), "raw": {}, "field_errors": {},
            "choice_words": form_schema.CHOICES, **quote_form_ctx(), **extra}


@router.get("/questionnaire", response_class=HTMLResponse)
def questionnaire(request: Request):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:create"):
        return _forbidden(request, i18n.N_("create quotes"))
    ctx = questionnaire_ctx()
    ctx["raw"] = {"rows.vendors": "1", "rows.incidents": "0"}
    return _page(request, "questionnaire.html", **ctx)


def _field_errors(errs: list[dict[str, str]]) -> dict[str, list[str]]:
    """Questionnaire errors by field name (``submission.vendors[0].name`` → ``vendors.0.name``)."""
    import re

    by: dict[str, list[str]] = {}
    for e in errs:
        f = e["field"]
        if not f.startswith("submission"):
            continue
        name = re.sub(r"\[(\d+)\]", r".\1", f[len("submission"):].lstrip("."))
        by.setdefault(name or "(submission)", []).append(e["message"])
    return by


@router.post("/questionnaire")
async def questionnaire_submit(request: Request):
    p, refused = _may_create_quotes(request)
    if refused is not None:
        return refused
    form = await request.form()
    fd = form_schema.form_dict(form)
    ctx = questionnaire_ctx()
    action = form_schema.rows_action(fd)
    if action is not None and action[1] in ("vendors", "incidents"):
        kind, name, index = action
        n = form_schema.row_count(fd, name)
        if kind == "remove" and 0 <= index < n:
            fd = form_schema.shifted_form(fd, name, index, n)
        counts = {name: n + 1 if kind == "add" else max(0, n - 1)}
        _, raw, _ = form_schema.build_from_form(ctx["fields"], fd, counts)
        _opts, values = _options(fd)
        return _page(request, "questionnaire.html", **{**ctx, "raw": raw, "values": values,
                                                       "terms": form_schema.terms_values(fd),
                                                       "refile": chosen_files(form)})
    sub, raw, errs = form_schema.build_from_form(ctx["fields"], fd)
    body, values, tvals, more = await _common_body(request, form, fd, {"submission": sub}, terms_file=False)
    edited = _layers_action(fd, tvals, action)
    if edited is not None:
        return _page(request, "questionnaire.html", **{**ctx, "raw": raw, "values": values, "terms": edited,
                                                       "refile": chosen_files(form)})
    errs += more
    try:
        if errs:
            # the submission's own checks too, so every error shows at once (a typing error hides no other)
            try:
                await run_in_threadpool(engine.load_submission, sub)
            except InputError as exc:
                known = {(e["field"], e["message"]) for e in errs}
                errs += [e for e in (getattr(exc, "errors", None) or []) if (e["field"], e["message"]) not in known
                         and not any(e["field"] == k[0] for k in known)]
            raise engine.FieldErrors(errs)
        res = await _create(request, p, body, str(form.get("idempotency_key") or ""))
    except (InputError, Problem) as exc:
        by, errs = _errors_by_field(exc)
        return _page(request, "questionnaire.html", 422, **{
            **ctx, "raw": raw, "field_errors": _field_errors(errs), "error_list": errs, "values": values,
            "errors": by, "terms": tvals, "terms_errors": _terms_errors(errs, len(tvals["layer"])),
            "refile": chosen_files(form)})
    return _after_quote(res.body["id"], values)


# ---- the quote page --------------------------------------------------------------------------------



def warnings_of(q: Mapping[str, Any]) -> list[str]:
    """Every warning: the quote's own, each layer's, then the reserve checks that warn or fail."""
    out = [str(w) for w in q.get("warnings") or []]
    for lay in q.get("layers") or []:
        if isinstance(lay, Mapping):
            out += [f"{lay.get('label') or lay.get('policy_id')}: {w}" for w in lay.get("warnings") or []]
    for c in (q.get("reserve") or {}).get("checks") or []:
        if isinstance(c, Mapping) and c.get("outcome") in ("warning", "fail"):
            out.append(i18n._("reserve ({rule}): {reason}").format(rule=c.get("rule", "?"), reason=page_format.reason(c)))
    return out


def layer_rows(q: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per layer (one for a single layer), joined with the recorded terms' deductible,
    reinstatements and sub-limits (in the policy's currency: ``slip_currency``)."""
    t = q.get("terms") or {}
    slip = (q.get("inputs") or {}).get("terms") or {}
    slips = list(slip.get("layers") or ([slip] if slip else []))
    lays = [lay for lay in q.get("layers") or [] if isinstance(lay, Mapping)]
    if not lays:
        lays = [{"policy_id": t.get("policy_id"), "attachment": t.get("attachment", t.get("deductible")),
                 "limit": t.get("limit"), "coinsurance": t.get("coinsurance"), "premium": q.get("premium"),
                 "expected_loss": q.get("expected_loss"), "rate_on_line": q.get("rate_on_line"),
                 "p_attach": q.get("p_attach"), "p_exhaust": q.get("p_exhaust"), "label": None}]
    out = []
    for i, lay in enumerate(lays):
        s = slips[i] if i < len(slips) and isinstance(slips[i], Mapping) else {}
        out.append({**lay, "deductible_slip": s.get("deductible"), "reinstatements": s.get("reinstatements"),
                    "sublimits": s.get("sublimits") or {}, "aggregate_limit_slip": s.get("aggregate_limit"),
                    "insurer": s.get("insurer"), "slip_currency": s.get("currency")})
    return out


def reserve_note(q: Mapping[str, Any]) -> str | None:
    """The reserve's note in page words (the engine's note names a CLI flag when no terms were given)."""
    r = q.get("reserve") or {}
    if (q.get("terms") or {}).get("default_terms") or (r.get("note") and "--terms" in str(r.get("note"))):
        return i18n._("No policy terms were entered, so the quote is ground-up cover and earns no reserve credit; "
                      "enter terms in the terms editor for the credit.")
    return r.get("note") or None


@router.get("/quotes/{quote_id}", response_class=HTMLResponse)
def show_quote(request: Request, quote_id: str, doc_lang: str = ""):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:read"):
        return _forbidden(request, i18n.N_("read quotes"))
    try:
        rec = _store(request).get_quote(quote_id)
    except Problem:
        with i18n.use_lang(page_lang(request)):
            title, msg = i18n._("Not found"), i18n._("No quote {id}.").format(id=quote_id)
        return _page(request, "message.html", 404, title=title, message=msg)
    q = views.build_up_order(rec["quote"])
    doc = doc_lang if doc_lang in i18n.LANGUAGES else page_lang(request)
    with i18n.use_lang(page_lang(request)):
        warns, note = warnings_of(q), reserve_note(q)
    rng = q.get("premium_range") or []
    return _page(request, "quote.html", rec=rec, q=q, cur=str(q.get("currency") or ""), warnings=warns,
                 layers=layer_rows(q), reserve_note=note, doc_lang=doc,
                 premium_range=[i18n.finite_number(x) for x in rng] if len(rng) == 2 else None,
                 slip=(q.get("inputs") or {}).get("terms") or {})


def _quote_or_404(request: Request, quote_id: str):
    p = _principal(request)
    if p is None:
        return None, _signin_redirect()
    if not p.can("quote:read"):
        return None, _forbidden(request, i18n.N_("read quotes"))
    try:
        return _store(request).get_quote(quote_id), None
    except Problem:
        return None, PlainTextResponse(f"no quote {quote_id}\n", status_code=404)


@router.get("/quotes/{quote_id}/document.{fmt}")
async def quote_document(request: Request, quote_id: str, fmt: str, lang: str = ""):
    """The quote's documents: ``txt`` (the CLI's text), ``json``, ``html`` and ``pdf`` (the quote letter)."""
    rec, refused = _quote_or_404(request, quote_id)
    if refused is not None:
        return refused
    code = lang if lang in i18n.LANGUAGES else page_lang(request)
    name = f"quote-{quote_id}"
    if fmt == "json":
        from underwriting.fileio import canonical_json

        return Response(canonical_json(rec["quote"]), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if fmt == "txt":
        return PlainTextResponse(views.format_document(rec["quote"], lang=code),
                                 headers={"Content-Disposition": f'inline; filename="{name}.txt"'})
    if fmt in ("html", "pdf"):
        try:
            data = await run_in_threadpool(views.quote_letter, rec["quote"], lang=code, pdf=fmt == "pdf")
        except InputError as exc:
            return PlainTextResponse(f"{exc.message}\n", status_code=503)
        if fmt == "pdf":
            return Response(data, media_type="application/pdf",
                            headers={"Content-Disposition": f'attachment; filename="{name}-{code}.pdf"'})
        return HTMLResponse(data.decode("utf-8"))
    return PlainTextResponse("choose document.txt, document.json, document.html or document.pdf\n", status_code=404)
