"""``/v1/models``: the registry's models and their promotion (actuaries)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from underwriting.service import engine
from underwriting.service.api.common import (
    BODY_ERRORS,
    ERRORS,
    CanModelsPromote,
    CanModelsRead,
    IdempotencyKey,
    JsonRoute,
    post_response,
    store_of,
)
from underwriting.service.api.contracts import ModelList, PromoteOut, PromoteRequest

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=JsonRoute)


@router.get("", response_model=ModelList, responses=ERRORS)
def get_models(request: Request, p: CanModelsRead):
    """Registry models: versions and defaults (actuaries)."""
    return {"models": engine.models(store_of(request).registry)}


@router.post("/promote", response_model=PromoteOut, responses=BODY_ERRORS)
async def promote_model(request: Request, body: PromoteRequest, p: CanModelsPromote, idem: IdempotencyKey = None):
    """Make ``{"name", "version"}`` the default (or ``{"name", "rollback": true}``), as ``underwriting
    promote`` does, recorded in the ledger (actuaries)."""
    return post_response(await run_in_threadpool(store_of(request).promote_model, p,
                                                 body.model_dump(exclude_none=True), idem))
