"""``/v1/quotes``: create (the body is the quote request of the structure issue), list, read, reproduce."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from underwriting.service.api.common import (
    BODY_ERRORS,
    ERRORS,
    MAX_POSITION,
    CanQuoteCreate,
    CanQuoteRead,
    IdempotencyKey,
    JsonRoute,
    post_response,
    read_json,
    store_of,
)
from underwriting.service.api.contracts import (
    QuoteList,
    QuoteRecordOut,
    ReproduceRequest,
    Reproduction,
)
from underwriting.service.store import Problem

router = APIRouter(prefix="/v1/quotes", tags=["quotes"], route_class=JsonRoute)


def _date(text: str | None, field: str):
    import datetime as dt

    if text is None or text == "":
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Problem(422, "Invalid input", f"{field}: expected a date YYYY-MM-DD, got {text[:40]!r}",
                      [{"field": field, "message": f"expected a date YYYY-MM-DD, got {text[:40]!r}"}]) from None


#: The quote request body: :class:`~underwriting.quote.request.QuoteRequest`, whose schema and nested models
#: the app adds to the OpenAPI components (:func:`underwriting.service.app.create_app`). The body is read and
#: checked part by part by the engine, so every bad field is named at once with the CLI's words.
_QUOTE_BODY = {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/QuoteRequest"}}}}


@router.post("", status_code=201, response_model=QuoteRecordOut, responses=BODY_ERRORS,
             openapi_extra={"requestBody": _QUOTE_BODY})
async def create_quote(request: Request, p: CanQuoteCreate, idem: IdempotencyKey = None):
    """Quote a ``QuoteRequest`` (``{"submission": {...}, "terms": {...}?, "regime": "jp-fsa-2026"?, "options":
    {"seed", "fx", "frequency_model", "principle", "currency", ...}?}``, schema at ``/v1/schemas/quote-request``)
    exactly as ``underwriting quote`` does; store it with a ledger entry."""
    body = await read_json(request)
    res = await run_in_threadpool(store_of(request).create_quote, p, body, idem)
    return post_response(res, f"/v1/quotes/{res.body.get('id')}")


@router.get("", response_model=QuoteList, responses=ERRORS)
def list_quotes(request: Request, p: CanQuoteRead, exchange: Annotated[str | None, Query(max_length=200)] = None,
                date_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                date_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0):
    """Stored quotes, newest first, filtered by exchange and creation date (inclusive, UTC)."""
    return {"quotes": store_of(request).list_quotes(exchange=exchange, date_from=_date(date_from, "from"),
                                                    date_to=_date(date_to, "to"), limit=limit, offset=offset)}


@router.get("/{quote_id}", response_model=QuoteRecordOut, responses={**ERRORS, 404: {"description": "no such quote"}})
def get_quote(request: Request, quote_id: str, p: CanQuoteRead):
    """One stored quote with its full document."""
    return store_of(request).get_quote(quote_id)


@router.post("/{quote_id}/reproduce", response_model=Reproduction,
             responses={**BODY_ERRORS, 404: {"description": "no such quote"}})
async def reproduce_quote(request: Request, quote_id: str, p: CanQuoteRead, body: ReproduceRequest | None = None):
    """Recompute a stored quote from its ledger entry's inputs and model versions; compare bit for bit.
    The body, if any, is an empty object."""
    return await run_in_threadpool(store_of(request).reproduce_quote, quote_id)
