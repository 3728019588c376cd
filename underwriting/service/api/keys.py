"""``/v1/keys``: create, list and revoke API keys (admins). Revoking a key also ends its workbench sessions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from underwriting.service.api.common import (
    BODY_ERRORS,
    ERRORS,
    CanKeysManage,
    IdempotencyKey,
    JsonRoute,
    post_response,
    store_of,
)
from underwriting.service.api.contracts import KeyCreated, KeyCreateRequest, KeyList
from underwriting.service.store import Problem

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=JsonRoute)


@router.post("", status_code=201, response_model=KeyCreated, responses=BODY_ERRORS)
async def create_key(request: Request, body: KeyCreateRequest, p: CanKeysManage, idem: IdempotencyKey = None):
    """Create a key ``{"role": ..., "label": ...}`` (admins); the key is shown once."""
    return post_response(await run_in_threadpool(store_of(request).create_key, p, body.model_dump(), idem))


@router.get("", response_model=KeyList, responses=ERRORS)
def list_keys(request: Request, p: CanKeysManage):
    """Key ids, roles and labels (never the keys or their hashes)."""
    return {"keys": store_of(request).list_keys()}


@router.delete("/{key_id}", status_code=204, response_class=Response,
               responses={**ERRORS, 404: {"description": "no such active key"}})
def revoke_key(request: Request, key_id: str, p: CanKeysManage) -> Response:
    """Revoke a key (recorded in the ledger); its workbench sessions end at once. 204 with no body."""
    if not store_of(request).revoke_key(p, key_id[:64]):
        raise Problem(404, "Not Found", f"no active key {key_id[:64]}")
    return Response(status_code=204)
