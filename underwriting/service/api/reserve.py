"""``/v1/reserve``: assess a statutory reserve (``underwriting reserve --json``), recorded in the ledger."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from underwriting.service.api.common import (
    BODY_ERRORS,
    CanReserve,
    IdempotencyKey,
    JsonRoute,
    post_response,
    store_of,
)
from underwriting.service.api.contracts import ReserveOut, ReserveRequest

router = APIRouter(prefix="/v1/reserve", tags=["reserve"], route_class=JsonRoute)


@router.post("", response_model=ReserveOut, responses=BODY_ERRORS)
async def reserve(request: Request, body: ReserveRequest, p: CanReserve, idem: IdempotencyKey = None):
    """Assess a reserve (as ``underwriting reserve --json``) and record it in the ledger."""
    return post_response(await run_in_threadpool(store_of(request).assess_reserve, p,
                                                 body.model_dump(exclude_none=True), idem))
