"""What every ``/v1`` router shares: authentication with roles (the declared API-key security schemes),
the per-key and failed-authentication rate limits, JSON bodies read with the service's limits, and
POST responses with idempotent replays.

:class:`JsonRoute` is the route class of every router: the JSON body is parsed by
:func:`underwriting.service.security.parse_json` (finite numbers, bounded nesting) before FastAPI
validates it against the route's pydantic model, a non-JSON media type is a 415, and a malformed
body a 400 problem, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Security
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from underwriting.service.keys import Principal, authenticate, is_remembered
from underwriting.service.security import MalformedJson, parse_json
from underwriting.service.store import Problem, Result, Store

#: The two ways to present a key, declared as alternative security schemes in OpenAPI.
BEARER = HTTPBearer(auto_error=False, scheme_name="BearerKey",
                    description="`Authorization: Bearer uwk_<id>_<secret>` (an API key from `underwriting keys "
                                "create` or POST /v1/keys)")
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader",
                       description="the same API key in an `X-API-Key` header")

#: Largest ``offset`` of a listing and ``after`` of the ledger (beyond any table; keeps 64-bit SQL safe).
MAX_POSITION = 10**15

#: Declared error responses of every authenticated route.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid API key", "content": {"application/problem+json": {}}},
    403: {"description": "the key's role may not do this", "content": {"application/problem+json": {}}},
    429: {"description": "over the key's rate limit (see Retry-After)", "content": {"application/problem+json": {}}},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"description": "malformed JSON", "content": {"application/problem+json": {}}},
    413: {"description": "body over the size limit", "content": {"application/problem+json": {}}},
    415: {"description": "not application/json", "content": {"application/problem+json": {}}},
    422: {"description": "invalid input: every bad field named", "content": {"application/problem+json": {}}},
}


class _LimitedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except MalformedJson as exc:
                raise Problem(400, "Malformed JSON", f"the body is not acceptable JSON: {exc}",
                              [{"field": "(body)", "message": f"invalid JSON: {exc}"}]) from None
        return self._json


def _check_media_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise Problem(415, "Unsupported media type", f"send application/json, not {ctype[:100]}")


class JsonRoute(APIRoute):
    """A route whose JSON body is read with the service's limits (see the module)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        has_body = self.body_field is not None

        async def run(request: Request):
            if has_body and request.method in ("POST", "PUT", "PATCH"):
                _check_media_type(request)
            try:
                return await handler(_LimitedRequest(request.scope, request.receive))
            except StarletteHTTPException as exc:
                if isinstance(exc.__cause__, Problem):  # FastAPI wraps a body-reading error in a 400
                    raise exc.__cause__ from None
                raise

        return run


async def read_json(request: Request) -> Any:
    """The request's JSON body read with the service's limits, or a problem (415 not JSON, 400 malformed);
    the size limit is enforced while the body streams in (:mod:`underwriting.service.security`)."""
    _check_media_type(request)
    try:
        return parse_json(await request.body())
    except MalformedJson as exc:
        raise Problem(400, "Malformed JSON", f"the body is not acceptable JSON: {exc}",
                      [{"field": "(body)", "message": f"invalid JSON: {exc}"}]) from None


def source_of(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def need(permission: str):
    """Dependency: the caller's principal, having ``permission``; 401/403/429 problems otherwise.

    Failed authentications count against the caller's source address (the sign-in limit); while its
    bucket is empty, keys from that address that would cost a hash verification are refused with 429
    before it is computed."""

    async def dep(request: Request, _bearer: Annotated[Any, Security(BEARER)] = None,
                  _header: Annotated[Any, Security(API_KEY)] = None) -> Principal:
        state = request.app.state
        store: Store = state.store
        presented = presented_key(request)
        src = "ip:" + source_of(request)
        if presented and not is_remembered(presented):  # a remembered key costs no hash: nothing to protect
            wait = await run_in_threadpool(state.auth_limiter.take, src, spend=False)
            if wait > 0:
                raise Problem(429, "Too Many Requests", "too many failed authentications from this address",
                              headers={"Retry-After": str(max(1, round(wait)))})

        def auth():
            with store.sessions() as s:
                return authenticate(s, presented)

        p = await run_in_threadpool(auth)
        if p is None:
            if presented:
                await run_in_threadpool(state.auth_limiter.take, src)
            raise Problem(401, "Unauthorized", "a valid API key is required (Authorization: Bearer <key> or "
                          "X-API-Key)", headers={"WWW-Authenticate": "Bearer"})
        wait = await run_in_threadpool(state.limiter.take, p.key_id)
        if wait > 0:
            raise Problem(429, "Too Many Requests", f"rate limit of {state.limiter.per_minute:g} "
                          "requests a minute for this key", headers={"Retry-After": str(max(1, round(wait)))})
        if not p.can(permission):
            raise Problem(403, "Forbidden", f"the {p.role} role may not do this ({permission})")
        return p

    return dep


CanKeysManage = Annotated[Principal, Depends(need("keys:manage"))]
CanLedgerRead = Annotated[Principal, Depends(need("ledger:read"))]
CanModelsPromote = Annotated[Principal, Depends(need("models:promote"))]
CanModelsRead = Annotated[Principal, Depends(need("models:read"))]
CanPrice = Annotated[Principal, Depends(need("price"))]
CanQuoteCreate = Annotated[Principal, Depends(need("quote:create"))]
CanQuoteRead = Annotated[Principal, Depends(need("quote:read"))]
CanReserve = Annotated[Principal, Depends(need("reserve"))]
CanSchema = Annotated[Principal, Depends(need("schema"))]


def post_response(res: Result, location: str | None = None) -> JSONResponse:
    """A POST's result with ``Location`` and, for a replay, ``Idempotency-Replayed: true``."""
    headers = {"Location": location} if location else {}
    if res.replayed:
        headers["Idempotency-Replayed"] = "true"
    return JSONResponse(res.body, status_code=res.status, headers=headers)


def store_of(request: Request) -> Store:
    return request.app.state.store


#: The optional ``Idempotency-Key`` header of every POST (1-200 characters, per API key).
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description=(
    "1-200 characters; a retry with the same key and body returns the first response and makes no second "
    "record"))]
