"""The workbench: server-rendered pages (Jinja2) over the same :class:`~underwriting.service.store.Store`
as the API. Sign in with an API key (a server-side session in an HttpOnly, SameSite=Strict cookie),
upload a submission or fill the questionnaire generated from its JSON Schema, choose terms and a
regime, see the quote, download its document, browse history; auditors browse the ledger. Every page
works without JavaScript; every field has a label; errors are shown beside the field they name.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from underwriting.errors import InputError
from underwriting.service import engine
from underwriting.service import sessions as wb_sessions
from underwriting.service.keys import Principal, authenticate
from underwriting.service.security import MalformedJson, parse_json
from underwriting.service.store import Problem, Store

router = APIRouter(prefix="/workbench", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
COOKIE = wb_sessions.COOKIE
#: Largest ``offset`` / ``after`` of a page (beyond any table; keeps 64-bit SQL safe).
Position = Annotated[int, Query(ge=0, le=10**15)]


def _principal(request: Request) -> Principal | None:
    """The signed-in principal: a session in the database (every worker sees it), ended by sign-out
    or by revoking its key (:mod:`underwriting.service.sessions`). Read once per request."""
    known = getattr(request.state, "uw_signed_in", None)
    if known is None:
        known = (wb_sessions.principal(request.app.state.store.sessions, request.cookies.get(COOKIE)),)
        request.state.uw_signed_in = known
    return known[0]


def _store(request: Request) -> Store:
    return request.app.state.store


def _page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    p = _principal(request)
    return templates.TemplateResponse(request, name, {"principal": p, **ctx}, status_code=status)


def _signin_redirect() -> RedirectResponse:
    return RedirectResponse("/workbench/signin", status_code=303)


def _limited(request: Request, p: Principal) -> HTMLResponse | None:
    """The per-key rate limit of the API applies to the workbench's quotes too."""
    wait = request.app.state.limiter.take(p.key_id)
    if wait <= 0:
        return None
    resp = _page(request, "message.html", 429, title="Too many requests",
                 message=f"This key's rate limit is reached; try again in {max(1, round(wait))} s.")
    resp.headers["Retry-After"] = str(max(1, round(wait)))
    return resp


def _forbidden(request: Request, what: str) -> HTMLResponse:
    return _page(request, "message.html", 403, title="Not allowed",
                 message=f"Your role may not {what}.")


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request):
    return _page(request, "signin.html")


@router.post("/signin")
async def signin(request: Request):
    form = await request.form()
    key = str(form.get("api_key") or "").strip()[:500]
    store = _store(request)
    limiter = request.app.state.auth_limiter
    # every attempt counts against its source address and the key id it names (constant-time failures)
    parts = key.split("_", 2)
    buckets = ["signin-ip:" + (request.client.host if request.client else "unknown")]
    if len(parts) == 3 and parts[0] == "uwk":
        buckets.append("signin-key:" + parts[1][:32])
    wait = max([await run_in_threadpool(limiter.take, b) for b in buckets])
    if wait > 0:
        resp = _page(request, "signin.html", 429,
                     error=f"Too many sign-in attempts; try again in {max(1, round(wait))} s.")
        resp.headers["Retry-After"] = str(max(1, round(wait)))
        return resp

    def auth():
        with store.sessions() as s:
            return authenticate(s, key)

    p = await run_in_threadpool(auth)
    if p is None:
        return _page(request, "signin.html", 401, error="This key is not valid (or was revoked).")
    seconds = request.app.state.session_seconds
    token = await run_in_threadpool(wb_sessions.start, store.sessions, p, seconds)
    resp = RedirectResponse("/workbench", status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=int(seconds), path="/",
                    secure=request.url.scheme == "https")
    return resp


@router.post("/signout")
async def signout(request: Request):
    """Sign out (``everywhere=1``: every session of this key, in every browser)."""
    form = await request.form()
    await run_in_threadpool(wb_sessions.end, _store(request).sessions, request.cookies.get(COOKIE),
                            everywhere=str(form.get("everywhere") or "") in ("1", "true", "on"))
    resp = RedirectResponse("/workbench/signin", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def _quote_form_ctx(**extra: Any) -> dict[str, Any]:
    return {"regimes": engine.bundled_regimes(), "idem": secrets.token_urlsafe(16),
            "values": {"seed": "0", "frequency_model": "frequency", "principle": engine.DEFAULT_PRINCIPLE,
                       "regime": ""}, "errors": {}, "error_list": [], **extra}


@router.get("", response_class=HTMLResponse)
def home(request: Request):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    return _page(request, "home.html", **_quote_form_ctx())


def _options(form) -> tuple[dict[str, Any], dict[str, str]]:
    values = {k: str(form.get(k) or "") for k in ("seed", "frequency_model", "principle", "regime")}
    opts: dict[str, Any] = {"frequency_model": values["frequency_model"] or "frequency",
                            "principle": values["principle"] or engine.DEFAULT_PRINCIPLE}
    try:
        opts["seed"] = int(values["seed"] or 0)
    except ValueError:
        opts["seed"] = values["seed"]  # reported by the engine beside the field
    return opts, values


def _errors_by_field(exc: Exception) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    if isinstance(exc, Problem):
        errs = exc.errors or [{"field": "(request)", "message": exc.detail or exc.title}]
    else:
        errs = getattr(exc, "errors", None) or [{"field": getattr(exc, "field", None) or "(input)",
                                                 "message": getattr(exc, "message", str(exc))}]
    by: dict[str, list[str]] = {}
    for e in errs:
        f = e["field"]
        top = f.split(".")[0].split("[")[0]
        slot = {"submission": "submission", "terms": "terms", "regime": "regime"}.get(top)
        if top == "options":
            slot = f.split(".")[1] if "." in f else "options"
        by.setdefault(slot or "general", []).append(f"{f}: {e['message']}")
    return by, errs


def _may_create_quotes(request: Request):
    """``(principal, None)`` when the signed-in key may create a quote now, else ``(None, response)``:
    the sign-in redirect, 403, or the rate limit's 429 (the gate of every page that creates a quote)."""
    p = _principal(request)
    if p is None:
        return None, _signin_redirect()
    if not p.can("quote:create"):
        return None, _forbidden(request, "create quotes")
    if (limited := _limited(request, p)) is not None:
        return None, limited
    return p, None


async def _create(request: Request, p: Principal, body: dict[str, Any], idem: str):
    store = _store(request)
    return await run_in_threadpool(store.create_quote, p, body, idem or None)


@router.post("/quotes")
async def create_quote(request: Request):
    p, refused = _may_create_quotes(request)
    if refused is not None:
        return refused
    form = await request.form()
    opts, values = _options(form)
    body: dict[str, Any] = {"options": opts}
    if values["regime"]:
        body["regime"] = values["regime"]
    try:
        for name, field in (("submission_file", "submission"), ("terms_file", "terms")):
            up = form.get(name)
            if up is not None and hasattr(up, "read") and up.filename:
                raw = await up.read(request.app.state.max_body_bytes + 1)
                if len(raw) > request.app.state.max_body_bytes:
                    raise InputError("file too large", field=field)
                body[field] = engine.parse_document_bytes(raw, up.filename, field)
        if "submission" not in body:
            raise InputError("choose a submission file (.json or .toml)", field="submission")
        res = await _create(request, p, body, str(form.get("idempotency_key") or ""))
    except (InputError, Problem) as exc:
        by, errs = _errors_by_field(exc)
        return _page(request, "home.html", 422, **_quote_form_ctx(values=values, errors=by, error_list=errs))
    return RedirectResponse(f"/workbench/quotes/{res.body['id']}", status_code=303)


# ---- questionnaire generated from the JSON Schema ------------------------------------------

def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    return node


def schema_fields(schema: dict[str, Any], node: dict[str, Any] | None = None, prefix: str = "",
                  required: bool = True) -> list[dict[str, Any]]:
    """Form fields for a JSON Schema object: groups for nested objects, one input per scalar
    (``name`` is the dotted path), a JSON text area for lists and free-form mappings."""
    node = _resolve(schema, node if node is not None else schema)
    out = []
    req = set(node.get("required", []))
    for key, sub in node.get("properties", {}).items():
        name = f"{prefix}{key}"
        sub_r = _resolve(schema, sub)
        optional = key not in req
        options = sub_r.get("anyOf") or sub_r.get("oneOf")
        if options:
            non_null = [_resolve(schema, o) for o in options if o.get("type") != "null"]
            optional = optional or len(non_null) < len(options)
            rest = {k: v for k, v in sub_r.items() if k not in ("anyOf", "oneOf")}
            if len(non_null) == 1:
                sub_r = {**non_null[0], **rest}
            elif all(o.get("type") == "string" or "const" in o or "enum" in o for o in non_null):
                # e.g. a date or "never": a text field, with the choices in the hint
                words = [str(x) for o in non_null for x in (o.get("enum") or ([o["const"]] if "const" in o else []))]
                fmts = [o["format"] for o in non_null if o.get("format")]
                hint = " or ".join(([f"a {f}" for f in fmts]) + [repr(w) for w in words])
                sub_r = {"type": "string", **rest,
                         "description": " ".join(x for x in (rest.get("description", ""), f"({hint})") if x)}
            else:
                sub_r = {"type": "json", **rest}
        title = sub_r.get("title") or key.replace("_", " ")
        desc = sub.get("description") or sub_r.get("description") or ""
        typ = sub_r.get("type")
        if typ == "object" and "properties" in sub_r:
            out.append({"kind": "group", "name": name, "label": title, "description": desc,
                        "children": schema_fields(schema, sub_r, name + ".", not optional)})
            continue
        if "enum" in sub_r or "const" in sub_r:
            kind, enum = "select", list(sub_r.get("enum") or [sub_r["const"]])
        elif typ == "boolean":
            kind, enum = "select", [True, False]
        elif typ in ("number", "integer"):
            kind, enum = typ, None
        elif typ == "string":
            fmt = sub_r.get("format")
            kind, enum = ("date" if fmt == "date" else "text"), None
        else:
            kind, enum = "json", None
        out.append({"kind": kind, "name": name, "label": title, "description": desc, "enum": enum,
                    "required": (not optional) and required, "default": sub_r.get("default")})
    return out


def _flat(fields: list[dict[str, Any]]):
    for f in fields:
        if f["kind"] == "group":
            yield from _flat(f["children"])
        else:
            yield f


def build_from_form(fields: list[dict[str, Any]], form) -> tuple[dict[str, Any], dict[str, str], list[dict[str, str]]]:
    """The nested document typed by the schema, the raw values, and errors for unparsable inputs."""
    doc: dict[str, Any] = {}
    raw: dict[str, str] = {}
    errors = []
    for f in _flat(fields):
        text = str(form.get("q." + f["name"]) or "").strip()
        raw[f["name"]] = text
        if text == "":
            continue
        value: Any = text
        if f["kind"] == "integer":
            try:
                value = int(text)
            except ValueError:
                pass  # the schema check names it
        elif f["kind"] == "number":
            try:
                value = float(text)
            except ValueError:
                pass
        elif f["kind"] == "select" and f["enum"] and text in ("True", "False") and True in f["enum"]:
            value = text == "True"
        elif f["kind"] == "json":
            try:
                value = parse_json(text.encode("utf-8", "surrogatepass"))
            except MalformedJson as exc:
                errors.append({"field": f"submission.{f['name']}", "message": f"invalid JSON: {exc}"})
                continue
        cur = doc
        parts = f["name"].split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
    return doc, raw, errors


def _questionnaire_ctx(**extra: Any) -> dict[str, Any]:
    schema = engine.schema("submission")
    return {"fields": schema_fields(schema), "regimes": engine.bundled_regimes(), "idem": secrets.token_urlsafe(16),
            "raw": {}, "field_errors": {}, "error_list": [],
            "values": {"seed": "0", "frequency_model": "frequency", "principle": engine.DEFAULT_PRINCIPLE, "regime": ""},
            **extra}


@router.get("/questionnaire", response_class=HTMLResponse)
def questionnaire(request: Request):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    return _page(request, "questionnaire.html", **_questionnaire_ctx())


@router.post("/questionnaire")
async def questionnaire_submit(request: Request):
    p, refused = _may_create_quotes(request)
    if refused is not None:
        return refused
    form = await request.form()
    ctx = _questionnaire_ctx()
    sub, raw, errs = build_from_form(ctx["fields"], form)
    opts, values = _options(form)
    body: dict[str, Any] = {"submission": sub, "options": opts}
    if values["regime"]:
        body["regime"] = values["regime"]
    try:
        if errs:
            raise engine.FieldErrors(errs)
        res = await _create(request, p, body, str(form.get("idempotency_key") or ""))
    except (InputError, Problem) as exc:
        _, errs = _errors_by_field(exc)
        by: dict[str, list[str]] = {}
        for e in errs:
            name = e["field"][len("submission."):] if e["field"].startswith("submission.") else e["field"]
            by.setdefault(name, []).append(e["message"])
        return _page(request, "questionnaire.html", 422, **{**ctx, "raw": raw, "field_errors": by,
                                                             "error_list": errs, "values": values})
    return RedirectResponse(f"/workbench/quotes/{res.body['id']}", status_code=303)


# ---- quotes, documents, history, ledger ------------------------------------------------------

@router.get("/quotes/{quote_id}", response_class=HTMLResponse)
def show_quote(request: Request, quote_id: str):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:read"):
        return _forbidden(request, "read quotes")
    try:
        rec = _store(request).get_quote(quote_id)
    except Problem:
        return _page(request, "message.html", 404, title="Not found", message=f"No quote {quote_id}.")
    return _page(request, "quote.html", rec=rec, q=rec["quote"])


@router.get("/quotes/{quote_id}/document.{fmt}")
def quote_document(request: Request, quote_id: str, fmt: str):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:read"):
        return _forbidden(request, "read quotes")
    try:
        rec = _store(request).get_quote(quote_id)
    except Problem:
        return PlainTextResponse(f"no quote {quote_id}\n", status_code=404)
    name = f"quote-{quote_id}"
    if fmt == "json":
        from underwriting.fileio import canonical_json

        return Response(canonical_json(rec["quote"]), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if fmt == "txt":
        return PlainTextResponse(engine.format_document(rec["quote"]),
                                 headers={"Content-Disposition": f'inline; filename="{name}.txt"'})
    return PlainTextResponse("choose document.txt or document.json\n", status_code=404)


@router.get("/quotes", response_class=HTMLResponse)
def history(request: Request, exchange: str = "", date_from: str = "", date_to: str = "", offset: Position = 0):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:read"):
        return _forbidden(request, "read quotes")
    errors = {}
    dates = {}
    for name, text in (("from", date_from), ("to", date_to)):
        try:
            dates[name] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            errors[name] = f"expected a date YYYY-MM-DD, got {text!r}"
            dates[name] = None
    rows = _store(request).list_quotes(exchange=exchange or None, date_from=dates["from"], date_to=dates["to"],
                                       limit=50, offset=max(0, offset))
    return _page(request, "history.html", 422 if errors else 200, rows=rows, errors=errors, offset=max(0, offset),
                 values={"exchange": exchange, "from": date_from, "to": date_to})


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, after: Position = 0, verify: int = 0):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("ledger:read"):
        return _forbidden(request, "read the ledger")
    store = _store(request)
    entries = store.ledger_page(max(0, after), 50)
    result = store.verify_ledger() if verify else None
    return _page(request, "ledger.html", entries=entries, after=max(0, after), verification=result)
