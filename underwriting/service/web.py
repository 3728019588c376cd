"""The workbench: server-rendered pages (Jinja2) over the same :class:`~underwriting.service.store.Store`
as the API. This module holds sign-in (a server-side session in an HttpOnly, SameSite=Strict cookie),
the page helpers the other page modules use (``pages_quote``: new quote, questionnaire, terms editor,
the quote page and its documents; ``pages_roles``: each role's home, models, keys), the language
switch, the history and the ledger. Every page works without JavaScript; every field has a label;
errors are shown beside the field they name; pages are in English or Japanese (:mod:`page_format`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from underwriting import i18n
from underwriting.service import page_format
from underwriting.service.keys import Principal, authenticate
from underwriting.service.store import Problem, Store

router = APIRouter(prefix="/workbench", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
page_format.install(templates.env)
COOKIE = "uw_session"
SESSION_SECONDS = 8 * 3600
_sessions: dict[str, tuple[str, str, float]] = {}
_lock = threading.Lock()


def _principal(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    with _lock:
        hit = _sessions.get(token)
    if hit is None or hit[2] < time.monotonic():
        return None
    return Principal(hit[0], hit[1])


def _store(request: Request) -> Store:
    return request.app.state.store


def page_lang(request: Request) -> str:
    """The page's language: ``?lang=``, the switch's cookie, then ``Accept-Language`` (:mod:`page_format`)."""
    return page_format.request_lang(request.query_params.get("lang"), request.cookies.get(page_format.LANG_COOKIE),
                                    request.headers.get("accept-language"))


def _page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    p = _principal(request)
    lang = page_lang(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    with i18n.use_lang(lang):  # the template is rendered here, in the page's language
        return templates.TemplateResponse(request, name, {"principal": p, "lang": lang, "here": here,
                                                          "languages": i18n.LANGUAGES, **ctx}, status_code=status)


@router.get("/lang")
def switch_language(request: Request, to: str = "en", next: str = "/workbench"):  # noqa: A002 - the query name
    """Remember the chosen language in a cookie and go back to the page (only a workbench page)."""
    back = next if next.startswith("/workbench") and "//" not in next else "/workbench"
    resp = RedirectResponse(back, status_code=303)
    if to in i18n.LANGUAGES:
        resp.set_cookie(page_format.LANG_COOKIE, to, httponly=True, samesite="lax", max_age=365 * 86400, path="/")
    return resp


@router.get("/font/ipaexg.ttf")
def japanese_font():
    """IPAexGothic (shipped by ``matplotlib-fontja``, the letter's font) for pages shown in Japanese on a
    machine without a Japanese font; the style sheet asks for it only for Japanese characters."""
    from fastapi.responses import FileResponse
    from matplotlib_fontja import get_font_ttf_path

    return FileResponse(get_font_ttf_path(), media_type="font/ttf",
                        headers={"Cache-Control": "public, max-age=2592000, immutable"})


def _signin_redirect() -> RedirectResponse:
    return RedirectResponse("/workbench/signin", status_code=303)


def _limited(request: Request, p: Principal) -> HTMLResponse | None:
    """The per-key rate limit of the API applies to the workbench's quotes too."""
    wait = request.app.state.limiter.take(p.key_id)
    if wait <= 0:
        return None
    with i18n.use_lang(page_lang(request)):
        title = i18n._("Too many requests")
        message = i18n._("This key's rate limit is reached; try again in {seconds} s.").format(seconds=max(1, round(wait)))
    resp = _page(request, "message.html", 429, title=title, message=message)
    resp.headers["Retry-After"] = str(max(1, round(wait)))
    return resp


def _forbidden(request: Request, what: str) -> HTMLResponse:
    with i18n.use_lang(page_lang(request)):
        title, message = i18n._("Not allowed"), i18n._("Your role may not do this: {what}.").format(what=i18n._(what))
    return _page(request, "message.html", 403, title=title, message=message)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request):
    return _page(request, "signin.html")


@router.post("/signin")
async def signin(request: Request):
    form = await request.form()
    key = str(form.get("api_key") or "").strip()
    store = _store(request)

    def auth():
        with store.sessions() as s:
            return authenticate(s, key)

    p = await run_in_threadpool(auth)
    if p is None:
        with i18n.use_lang(page_lang(request)):
            error = i18n._("This key is not valid (or was revoked).")
        return _page(request, "signin.html", 401, error=error)
    token = secrets.token_urlsafe(32)
    with _lock:
        now = time.monotonic()
        for t in [t for t, v in _sessions.items() if v[2] < now]:
            del _sessions[t]
        _sessions[token] = (p.key_id, p.role, now + SESSION_SECONDS)
    resp = RedirectResponse("/workbench", status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=SESSION_SECONDS, path="/")
    return resp


@router.post("/signout")
def signout(request: Request):
    token = request.cookies.get(COOKIE)
    with _lock:
        _sessions.pop(token or "", None)
    resp = RedirectResponse("/workbench/signin", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def _options(form) -> tuple[dict[str, Any], dict[str, str]]:
    """The quote options of a posted form (``options`` of the request body) and the raw values."""
    values = {k: str(form.get(k) or "") for k in ("seed", "frequency_model", "principle", "regime", "quote_currency",
                                                  "doc_lang")}
    # an empty field takes the request's own default (QuoteRequest: the one place defaults live)
    opts: dict[str, Any] = {k: values[k] for k in ("frequency_model", "principle") if values[k]}
    if values["quote_currency"].strip():
        opts["currency"] = values["quote_currency"].strip().upper()
    if values["seed"]:
        try:
            opts["seed"] = int(values["seed"])
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
            slot = "quote_currency" if slot == "currency" else slot
        if top == "schedule":
            slot = "schedule"
        by.setdefault(slot or "general", []).append(f"{f}: {e['message']}")
    return by, errs


def _may_create_quotes(request: Request):
    """``(principal, None)`` when the signed-in key may create a quote now, else ``(None, response)``:
    the sign-in redirect, 403, or the rate limit's 429 (the gate of every page that creates a quote)."""
    p = _principal(request)
    if p is None:
        return None, _signin_redirect()
    if not p.can("quote:create"):
        return None, _forbidden(request, i18n.N_("create quotes"))
    if (limited := _limited(request, p)) is not None:
        return None, limited
    return p, None


async def _create(request: Request, p: Principal, body: dict[str, Any], idem: str):
    store = _store(request)
    return await run_in_threadpool(store.create_quote, p, body, idem or None)


# ---- history and ledger ------------------------------------------------------------------------

@router.get("/quotes", response_class=HTMLResponse)
def history(request: Request, exchange: str = "", date_from: str = "", date_to: str = "", offset: int = 0):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("quote:read"):
        return _forbidden(request, i18n.N_("read quotes"))
    errors = {}
    dates = {}
    for name, text in (("from", date_from), ("to", date_to)):
        try:
            dates[name] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            with i18n.use_lang(page_lang(request)):
                errors[name] = i18n._("expected a date YYYY-MM-DD, got {text}").format(text=repr(text))
            dates[name] = None
    # a bad filter lists nothing (the error is shown beside its field); the exchange matches any part
    # of the name, in any case
    rows = [] if errors else _store(request).list_quotes(exchange_contains=exchange.strip() or None,
                                                         date_from=dates["from"], date_to=dates["to"],
                                                         limit=50, offset=max(0, offset))
    return _page(request, "history.html", 422 if errors else 200, rows=rows, errors=errors, offset=max(0, offset),
                 values={"exchange": exchange, "from": date_from, "to": date_to})


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, after: int = 0, verify: int = 0):
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("ledger:read"):
        return _forbidden(request, i18n.N_("read the ledger"))
    store = _store(request)
    entries = store.ledger_page(max(0, after), 50)
    result = store.verify_ledger() if verify else None
    return _page(request, "ledger.html", entries=entries, after=max(0, after), verification=result)
