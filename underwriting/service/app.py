"""The FastAPI application: the ``/v1`` API, ``/health``, the workbench, problem+json errors,
API-key authentication with roles, a per-key rate limit and a request size limit.

Create it with :func:`create_app`; ``underwriting serve`` runs it on uvicorn. OpenAPI is at ``/docs``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from underwriting._version import __version__
from underwriting.errors import InputError
from underwriting.service import engine
from underwriting.service.db import open_database
from underwriting.service.keys import Principal, RateLimiter, authenticate
from underwriting.service.store import Problem, Result, Store

PROBLEM = "application/problem+json"
#: Default largest request body accepted (bytes); a submission is a few kilobytes.
MAX_BODY_BYTES = 1_000_000
#: Default per-key rate limit (requests a minute, with a burst of as many).
RATE_LIMIT_PER_MINUTE = 600
log = logging.getLogger("underwriting.service")


def problem_response(p: Problem, instance: str | None = None) -> JSONResponse:
    """A :class:`~underwriting.service.store.Problem` as an ``application/problem+json`` response."""
    return JSONResponse(p.body(instance), status_code=p.status, media_type=PROBLEM, headers=p.headers or None)


def input_problem(exc: InputError) -> Problem:
    """A 422 problem naming every bad field, with the CLI's message as ``detail``."""
    errors = getattr(exc, "errors", None) or [{"field": exc.field or exc.source or "(input)", "message": exc.message}]
    return Problem(422, "Invalid input", str(exc), errors)


async def read_json(request: Request) -> Any:
    """The request's JSON body, or a problem (413 over the size limit, 415 not JSON, 400 malformed)."""
    limit = request.app.state.max_body_bytes
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "Request too large", f"the body exceeds {limit:,} bytes")
        chunks.append(chunk)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise Problem(415, "Unsupported media type", f"send application/json, not {ctype}")
    try:
        return json.loads(b"".join(chunks) or b"null", parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {exc}",
                      [{"field": "(body)", "message": f"invalid JSON: {exc}"}]) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def need(permission: str):
    """Dependency: the caller's principal, having ``permission``; 401/403/429 problems otherwise."""

    async def dep(request: Request) -> Principal:
        store: Store = request.app.state.store
        presented = _presented_key(request)

        def auth():
            with store.sessions() as s:
                return authenticate(s, presented)

        p = await run_in_threadpool(auth)
        if p is None:
            raise Problem(401, "Unauthorized", "a valid API key is required (Authorization: Bearer <key> or "
                          "X-API-Key)", headers={"WWW-Authenticate": "Bearer"})
        wait = request.app.state.limiter.take(p.key_id)
        if wait > 0:
            raise Problem(429, "Too Many Requests", f"rate limit of {request.app.state.limiter.per_minute:g} "
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


def _post_response(res: Result, location: str | None = None) -> JSONResponse:
    headers = {"Location": location} if location else {}
    if res.replayed:
        headers["Idempotency-Replayed"] = "true"
    return JSONResponse(res.body, status_code=res.status, headers=headers)


def _date(text: str | None, field: str) -> dt.date | None:
    if text is None or text == "":
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Problem(422, "Invalid input", f"{field}: expected a date YYYY-MM-DD, got {text!r}",
                      [{"field": field, "message": f"expected a date YYYY-MM-DD, got {text!r}"}]) from None


def create_app(database_url: str | None = None, *, rate_limit_per_minute: float = RATE_LIMIT_PER_MINUTE,
               max_body_bytes: int = MAX_BODY_BYTES, workbench: bool = True, registry: str | None = None,
               warm: bool = False) -> FastAPI:
    """Build the service on ``database_url`` (migrated to the latest schema on start).

    Parameters
    ----------
    database_url : str, optional
        SQLAlchemy URL; default ``$UNDERWRITING_DATABASE`` or a SQLite file in ``./underwriting-data``.
    rate_limit_per_minute : float
        Requests a minute allowed per API key (token bucket, burst as large); 0 disables the limit.
    max_body_bytes : int
        Largest request body accepted (413 above).
    workbench : bool
        Also serve the browser workbench under ``/workbench``.
    registry : str, optional
        Model registry folder (default: ``$UNDERWRITING_REGISTRY`` or the shipped ``models/``).
    warm : bool
        Before accepting requests, load the models and the per-process calibration by quoting the
        bundled sample once (:func:`underwriting.service.engine.warm_up`; a few seconds, nothing
        stored), so no client waits for them. ``underwriting serve`` sets it; every worker process
        warms itself.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        if warm:
            await run_in_threadpool(engine.warm_up)
        yield

    app = FastAPI(title="underwriting service", version=__version__, lifespan=lifespan,
                  description="Quotes, reserve assessments and an audit ledger for crypto-exchange hack insurance.")
    db_engine, sessions = open_database(database_url)
    app.state.db_engine = db_engine
    app.state.store = Store(sessions, registry)
    app.state.limiter = RateLimiter(rate_limit_per_minute)
    app.state.max_body_bytes = max_body_bytes

    @app.middleware("http")
    async def size_limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body_bytes:
            return problem_response(Problem(413, "Request too large", f"the body exceeds {max_body_bytes:,} bytes"),
                                    request.url.path)
        return await call_next(request)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request.url.path)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return problem_response(input_problem(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "message": e["msg"]}
                  for e in exc.errors()]
        return problem_response(Problem(422, "Invalid input", "; ".join(f"{e['field']}: {e['message']}"
                                                                        for e in errors), errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem_response(Problem(exc.status_code, str(exc.detail)), request.url.path)

    @app.middleware("http")
    async def internal_errors(request: Request, call_next):
        # an unexpected error becomes a 500 problem; the log names the error type only, never its
        # message or traceback (they may quote a submission or a key)
        try:
            return await call_next(request)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return problem_response(Problem(500, "Internal error", f"{type(exc).__name__} (see the server log)"),
                                    request.url.path)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness and database reachability (no key needed)."""
        from sqlalchemy import text

        with sessions() as s:
            s.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": db_engine.dialect.name}

    @app.post("/v1/quotes", status_code=201, tags=["quotes"])
    async def create_quote(request: Request, p: CanQuoteCreate):
        """Quote a ``QuoteRequest`` (``{"submission": {...}, "terms": {...}?, "regime": "jp-fsa-2026"?, "options":
        {"seed", "fx", "frequency_model", "principle", "currency", ...}?}``, schema at ``/v1/schemas/quote-request``)
        exactly as ``underwriting quote`` does; store it with a ledger entry."""
        body = await read_json(request)
        res = await run_in_threadpool(request.app.state.store.create_quote, p, body,
                                      request.headers.get("idempotency-key"))
        return _post_response(res, f"/v1/quotes/{res.body.get('id')}")

    @app.get("/v1/quotes", tags=["quotes"])
    def list_quotes(p: CanQuoteRead, exchange: str | None = None,
                    date_from: Annotated[str | None, Query(alias="from")] = None,
                    date_to: Annotated[str | None, Query(alias="to")] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0):
        """Stored quotes, newest first, filtered by exchange and creation date (inclusive, UTC)."""
        return {"quotes": app.state.store.list_quotes(exchange=exchange, date_from=_date(date_from, "from"),
                                                      date_to=_date(date_to, "to"), limit=limit, offset=offset)}

    @app.get("/v1/quotes/{quote_id}", tags=["quotes"])
    def get_quote(quote_id: str, p: CanQuoteRead):
        """One stored quote with its full document."""
        return app.state.store.get_quote(quote_id)

    @app.post("/v1/quotes/{quote_id}/reproduce", tags=["quotes"])
    async def reproduce_quote(quote_id: str, request: Request, p: CanQuoteRead):
        """Recompute a stored quote from its ledger entry's inputs and model versions; compare bit for bit."""
        await read_json(request)  # size limit; the body is not used
        return await run_in_threadpool(app.state.store.reproduce_quote, quote_id)

    @app.post("/v1/price", tags=["pricing"])
    async def price(request: Request, p: CanPrice):
        """Price a layer from an explicit frequency and severity (as ``underwriting price --json``)."""
        body = await read_json(request)
        return _post_response(await run_in_threadpool(app.state.store.price, p, body,
                                                      request.headers.get("idempotency-key")))

    @app.post("/v1/reserve", tags=["reserve"])
    async def reserve(request: Request, p: CanReserve):
        """Assess a reserve (as ``underwriting reserve --json``) and record it in the ledger."""
        body = await read_json(request)
        return _post_response(await run_in_threadpool(app.state.store.assess_reserve, p, body,
                                                      request.headers.get("idempotency-key")))

    @app.get("/v1/schemas/{kind}", tags=["schemas"])
    def get_schema(kind: str, p: CanSchema):
        """JSON Schema of a ``submission``, ``policy``, ``quote`` or ``quote-request`` (the quote body)."""
        out = engine.schema(kind)
        if out is None:
            raise Problem(404, "Not Found", f"no schema {kind!r}; choose submission, policy, quote or quote-request",
                          [{"field": "kind", "message": "choose submission, policy, quote or quote-request"}])
        return out

    @app.get("/v1/models", tags=["models"])
    def get_models(p: CanModelsRead):
        """Registry models: versions and defaults (actuaries)."""
        return {"models": engine.models(registry)}

    @app.post("/v1/models/promote", tags=["models"])
    async def promote_model(request: Request, p: CanModelsPromote):
        """Make ``{"name", "version"}`` the default (or ``{"name", "rollback": true}``), as ``underwriting
        promote`` does, recorded in the ledger (actuaries)."""
        body = await read_json(request)
        return _post_response(await run_in_threadpool(app.state.store.promote_model, p, body,
                                                      request.headers.get("idempotency-key")))

    @app.get("/v1/ledger", tags=["ledger"])
    def get_ledger(p: CanLedgerRead, after: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100):
        """Ledger entries after sequence number ``after`` (auditors)."""
        return {"entries": app.state.store.ledger_page(after, limit)}

    @app.get("/v1/ledger/verify", tags=["ledger"])
    def verify_ledger(p: CanLedgerRead):
        """Verify the hash chain (as ``underwriting ledger verify``)."""
        v = app.state.store.verify_ledger()
        return {"ok": v.ok, "entries": v.entries, "head": v.head, "problems": v.problems}

    @app.post("/v1/keys", status_code=201, tags=["keys"])
    async def create_key(request: Request, p: CanKeysManage):
        """Create a key ``{"role": ..., "label": ...}`` (admins); the key is shown once."""
        body = await read_json(request)
        return _post_response(await run_in_threadpool(app.state.store.create_key, p, body,
                                                      request.headers.get("idempotency-key")))

    @app.get("/v1/keys", tags=["keys"])
    def list_keys(p: CanKeysManage):
        """Key ids, roles and labels (never the keys or their hashes)."""
        return {"keys": app.state.store.list_keys()}

    @app.delete("/v1/keys/{key_id}", status_code=204, tags=["keys"])
    def revoke_key(key_id: str, p: CanKeysManage):
        """Revoke a key (recorded in the ledger)."""
        if not app.state.store.revoke_key(p, key_id):
            raise Problem(404, "Not Found", f"no active key {key_id}")
        return JSONResponse(None, status_code=204)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/workbench" if workbench else "/docs", status_code=307)

    if workbench:
        from underwriting.service import pages_quote, pages_roles
        from underwriting.service.web import router

        app.include_router(router)
        app.include_router(pages_quote.router)
        app.include_router(pages_roles.router)
    return app


#: Environment variable carrying :func:`create_app`'s arguments (JSON) to each uvicorn worker process.
SERVE_CONFIG_ENV = "UNDERWRITING_SERVE_CONFIG"


def app_from_env() -> FastAPI:
    """:func:`create_app` with the arguments in ``$UNDERWRITING_SERVE_CONFIG`` (the factory each worker of
    ``underwriting serve --workers N`` calls; a worker process cannot be handed an app object)."""
    import os

    return create_app(**json.loads(os.environ.get(SERVE_CONFIG_ENV) or "{}"))
