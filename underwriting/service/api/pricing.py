"""``/v1/price``: price one layer from an explicit frequency and severity (``underwriting price --json``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from underwriting.service.api.common import (
    BODY_ERRORS,
    CanPrice,
    IdempotencyKey,
    JsonRoute,
    post_response,
    store_of,
)
from underwriting.service.api.contracts import PriceOut, PriceRequest

router = APIRouter(prefix="/v1/price", tags=["pricing"], route_class=JsonRoute)


@router.post("", response_model=PriceOut, responses=BODY_ERRORS)
async def price(request: Request, body: PriceRequest, p: CanPrice, idem: IdempotencyKey = None):
    """Price a layer (as ``underwriting price --json``); not a record, so no ledger entry."""
    return post_response(await run_in_threadpool(store_of(request).price, p, body.model_dump(exclude_none=True), idem))
