"""The FastAPI application: ``/health``, the ``/v1`` routers (one per resource, in
:mod:`underwriting.service.api`), the workbench, problem+json errors, and the guards every request
passes (:mod:`underwriting.service.security`): a streaming body limit, the workbench's origin check
and the security headers. API keys, roles and the rate limits shared by every worker are applied by
:func:`underwriting.service.api.common.need`.

Create it with :func:`create_app`; ``underwriting serve`` runs it on uvicorn. OpenAPI is at ``/docs``
and ``/redoc``, served offline from the package (fastapi-offline's bundled Swagger UI and ReDoc).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from underwriting._version import __version__
from underwriting.errors import InputError
from underwriting.service import engine
from underwriting.service.api.contracts import Health
from underwriting.service.db import open_database
from underwriting.service.ratelimit import SharedRateLimiter, limiter_engine
from underwriting.service.security import BodyTooLarge, GuardMiddleware
from underwriting.service.settings import SERVE_CONFIG_ENV, ServiceSettings
from underwriting.service.store import Problem, Store

PROBLEM = "application/problem+json"
#: Default largest request body accepted (bytes); a submission is a few kilobytes.
MAX_BODY_BYTES = 1_000_000
#: Default per-key rate limit (requests a minute, with a burst of as many).
RATE_LIMIT_PER_MINUTE = 600
log = logging.getLogger("underwriting.service")
__all__ = ["SERVE_CONFIG_ENV", "app_from_env", "create_app", "problem_response"]


def problem_response(p: Problem, instance: str | None = None) -> JSONResponse:
    """A :class:`~underwriting.service.store.Problem` as an ``application/problem+json`` response."""
    return JSONResponse(p.body(instance), status_code=p.status, media_type=PROBLEM, headers=p.headers or None)


def input_problem(exc: InputError) -> Problem:
    """A 422 problem naming every bad field, with the CLI's message as ``detail``."""
    errors = getattr(exc, "errors", None) or [{"field": exc.field or exc.source or "(input)", "message": exc.message}]
    return Problem(422, "Invalid input", str(exc), errors)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "(request)"


def create_app(database_url: str | None = None, *, rate_limit_per_minute: float | None = None,
               max_body_bytes: int | None = None, workbench: bool | None = None, registry: str | None = None,
               warm: bool | None = None, settings: ServiceSettings | None = None) -> FastAPI:
    """Build the service on ``database_url`` (migrated to the latest schema on start).

    Every argument left ``None`` comes from ``settings`` (default :meth:`ServiceSettings.from_env`: the
    ``UNDERWRITING_*`` environment variables; see :mod:`underwriting.service.settings`).

    Parameters
    ----------
    database_url : str, optional
        SQLAlchemy URL; default ``$UNDERWRITING_DATABASE`` or a SQLite file in ``./underwriting-data``.
    rate_limit_per_minute : float, optional
        Requests a minute allowed per API key, shared by every worker (token bucket in the database,
        burst as large); 0 disables the limit. Default 600.
    max_body_bytes : int, optional
        Largest request body accepted (413 above), counted while it streams in. Default 1,000,000.
    workbench : bool, optional
        Also serve the browser workbench under ``/workbench`` (default true).
    registry : str, optional
        Model registry folder (default: ``$UNDERWRITING_REGISTRY`` or the shipped ``models/``).
    warm : bool, optional
        Before accepting requests, load the models and the per-process calibration by quoting the
        bundled sample once (:func:`underwriting.service.engine.warm_up`; a few seconds, nothing
        stored), so no client waits for them. ``underwriting serve`` sets it; every worker process
        warms itself.
    settings : ServiceSettings, optional
        All of the above and the sign-in limit, session lifetime and allowed origins.
    """
    given = {"database_url": database_url, "rate_limit_per_minute": rate_limit_per_minute,
             "max_body_bytes": max_body_bytes, "workbench": workbench, "registry": registry, "warm": warm}
    given = {k: v for k, v in given.items() if v is not None}
    cfg = settings.model_copy(update=given) if settings is not None else ServiceSettings.from_env(**given)
    cfg = ServiceSettings.model_validate(cfg.model_dump())  # the overrides checked like the environment

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        if cfg.warm:
            await run_in_threadpool(engine.warm_up)
        yield
        if _app.state.limiter_engine is not _app.state.db_engine:
            _app.state.limiter_engine.dispose()

    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(title="underwriting service", version=__version__, lifespan=lifespan,
                         description="Quotes, reserve assessments and an audit ledger for crypto-exchange hack "
                                     "insurance. Authenticate with an API key: `Authorization: Bearer <key>` or "
                                     "`X-API-Key`.")
    db_engine, sessions = open_database(cfg.resolved_database_url())
    app.state.settings = cfg
    app.state.db_engine = db_engine
    app.state.store = Store(sessions, cfg.registry)
    app.state.limiter_engine = limits = limiter_engine(db_engine)
    app.state.limiter = SharedRateLimiter(limits, cfg.rate_limit_per_minute, prefix="key:")
    # sign-ins (per source address and per key id) and failed API authentications (per source)
    app.state.auth_limiter = SharedRateLimiter(limits, cfg.signin_per_minute, prefix="auth:")
    app.state.max_body_bytes = cfg.max_body_bytes
    app.state.session_seconds = cfg.session_hours * 3600

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request.url.path)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return problem_response(input_problem(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "invalid"))[:500]}
                  for e in exc.errors()[:100]]
        return problem_response(Problem(422, "Invalid input", "; ".join(f"{e['field']}: {e['message']}"
                                                                        for e in errors), errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem_response(Problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {})),
                                request.url.path)

    @app.middleware("http")
    async def internal_errors(request: Request, call_next):
        # an unexpected error becomes a 500 problem; the log names the error type only, never its
        # message or traceback (they may quote a submission or a key)
        try:
            return await call_next(request)
        except BodyTooLarge:
            raise  # answered 413 by the guard outside, not an internal error
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return problem_response(Problem(500, "Internal error", f"{type(exc).__name__} (see the server log)"),
                                    request.url.path)

    # outermost: nothing reads a body past the limit, no workbench POST from another origin, headers on all
    app.add_middleware(GuardMiddleware, max_body_bytes=cfg.max_body_bytes, allowed_origins=cfg.allowed_origins)

    @app.get("/health", tags=["service"], response_model=Health)
    def health() -> dict[str, Any]:
        """Liveness and database reachability (no key needed)."""
        from sqlalchemy import text

        with sessions() as s:
            s.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": db_engine.dialect.name}

    from underwriting.service.api import keys, ledger, models, pricing, quotes, reserve, schemas

    for module in (quotes, pricing, reserve, schemas, models, ledger, keys):
        app.include_router(module.router)

    def openapi() -> dict[str, Any]:
        # FastAPI's schema, plus the QuoteRequest model (the POST /v1/quotes body) and its nested models
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            from underwriting.service import engine

            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {}).update(engine.quote_request_components())
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/workbench" if cfg.workbench else "/docs", status_code=307)

    if cfg.workbench:
        from underwriting.service import pages_quote, pages_roles
        from underwriting.service.web import router

        app.include_router(router)
        app.include_router(pages_quote.router)
        app.include_router(pages_roles.router)
    return app


def app_from_env() -> FastAPI:
    """:func:`create_app` with the settings of the environment and ``$UNDERWRITING_SERVE_CONFIG`` (the
    factory each worker of ``underwriting serve --workers N`` calls; a worker process cannot be handed
    an app object)."""
    return create_app(settings=ServiceSettings.from_env())
