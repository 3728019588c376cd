"""Each role's home in the workbench, and the pages only some roles use.

- underwriter: the new-quote form and the recent quotes;
- actuary: the models (registry versions, the default, the recorded evaluation of each version and
  the promotion history, ``/workbench/models``), the recent quotes and the new-quote form;
- auditor: the ledger with one-click verification and a JSON-lines export;
- admin: the API keys (create, revoke, rotate), ``/workbench/keys``.

A page a role may not use answers with a page (403), never a JSON error.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from underwriting import i18n
from underwriting.service import engine, views
from underwriting.service.db import ROLES
from underwriting.service.pages_quote import quote_form_ctx
from underwriting.service.store import Problem
from underwriting.service.web import (
    _forbidden,
    _page,
    _principal,
    _signin_redirect,
    _store,
    page_lang,
)

router = APIRouter(prefix="/workbench", include_in_schema=False)
#: Recent quotes listed on a home page.
RECENT = 10
#: Role names, shown in the page language.
ROLE_WORDS = (i18n.N_("underwriter"), i18n.N_("actuary"), i18n.N_("auditor"), i18n.N_("admin"))


@router.get("", response_class=HTMLResponse)
def home(request: Request):
    """The signed-in role's home."""
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    store = _store(request)
    ctx: dict[str, Any] = {}
    if p.can("quote:read"):
        ctx["recent"] = store.list_quotes(limit=RECENT)
    if p.can("quote:create"):
        ctx.update(quote_form_ctx())
    if p.can("models:read"):
        ctx["models"] = engine.models(store.registry)
    if p.can("ledger:read"):
        ctx["entries"] = _recent_entries(store)
    if p.can("keys:manage"):
        ctx["keys"] = store.list_keys()
        ctx["roles"] = ROLES
    return _page(request, "home.html", **ctx)


def _recent_entries(store) -> list[dict[str, Any]]:
    """The last :data:`RECENT` ledger entries, newest first."""
    from underwriting.service import ledger

    with store.sessions() as s:
        last = ledger.head(s)[0]
    return list(reversed(store.ledger_page(max(0, last - RECENT), RECENT)))


@router.get("/models", response_class=HTMLResponse)
async def models_page(request: Request):
    """Registry models: versions, the default, each version's recorded evaluation, promotion history."""
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("models:read"):
        return _forbidden(request, i18n.N_("read the models"))
    details = await run_in_threadpool(views.model_details, _store(request).registry)
    return _page(request, "models.html", models=details)


@router.get("/ledger/export")
def ledger_export(request: Request):
    """The whole ledger as a JSON-lines download (``underwriting ledger export``)."""
    p = _principal(request)
    if p is None:
        return _signin_redirect()
    if not p.can("ledger:read"):
        return _forbidden(request, i18n.N_("read the ledger"))
    return Response(_store(request).export_ledger(), media_type="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="ledger.jsonl"'})


# ---- keys (admins) ------------------------------------------------------------------------------

def _keys_page(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    return _page(request, "keys.html", status, keys=_store(request).list_keys(), roles=ROLES,
                 **{"created": None, "error": None, "values": {"role": "underwriter", "label": ""}, **ctx})


def _admin(request: Request):
    p = _principal(request)
    if p is None:
        return None, _signin_redirect()
    if not p.can("keys:manage"):
        return None, _forbidden(request, i18n.N_("manage keys"))
    return p, None


@router.get("/keys", response_class=HTMLResponse)
def keys_page(request: Request):
    p, refused = _admin(request)
    return refused if refused is not None else _keys_page(request)


@router.post("/keys", response_class=HTMLResponse)
async def create_key(request: Request):
    """Create a key; the new key is shown once, on this page only."""
    p, refused = _admin(request)
    if refused is not None:
        return refused
    form = await request.form()
    values = {"role": str(form.get("role") or ""), "label": str(form.get("label") or "").strip()}
    try:
        res = await run_in_threadpool(_store(request).create_key, p, values, str(form.get("idempotency_key") or "")
                                      or None)
    except Problem as exc:
        msg = "; ".join(e["message"] for e in exc.errors or []) or exc.detail or exc.title
        return _keys_page(request, 422, error={"field": (exc.errors or [{}])[0].get("field", "role"), "message": msg},
                          values=values)
    return _keys_page(request, 201, created=res.body)


@router.post("/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, key_id: str):
    p, refused = _admin(request)
    if refused is not None:
        return refused
    if not _store(request).revoke_key(p, key_id):
        with i18n.use_lang(page_lang(request)):
            msg = i18n._("No active key {id}.").format(id=key_id)
        return _keys_page(request, 404, error={"field": "key", "message": msg})
    return RedirectResponse("/workbench/keys", status_code=303)


@router.post("/keys/{key_id}/rotate", response_class=HTMLResponse)
async def rotate_key(request: Request, key_id: str):
    """Rotate a key: a new key of the same role and label, then the old one revoked (both in the ledger)."""
    p, refused = _admin(request)
    if refused is not None:
        return refused
    store = _store(request)
    old = next((k for k in store.list_keys() if k["id"] == key_id and not k["revoked_at"]), None)
    if old is None:
        with i18n.use_lang(page_lang(request)):
            msg = i18n._("No active key {id}.").format(id=key_id)
        return _keys_page(request, 404, error={"field": "key", "message": msg})
    label = (old["label"] or "")[:200]
    res = await run_in_threadpool(store.create_key, p, {"role": old["role"], "label": label}, None)
    store.revoke_key(p, key_id)
    return _keys_page(request, 201, created={**res.body, "rotated_from": key_id})


@router.get("/{rest:path}", response_class=HTMLResponse)
def not_found(request: Request, rest: str):
    """Any other workbench address: a page saying so (never a JSON error), or the sign-in page."""
    if _principal(request) is None:
        return _signin_redirect()
    with i18n.use_lang(page_lang(request)):
        title, msg = i18n._("Not found"), i18n._("There is no workbench page at {path}.").format(path=f"/workbench/{rest}")
    return _page(request, "message.html", 404, title=title, message=msg)
