"""The service's defences against hostile clients, applied to every request before any route runs.

:class:`GuardMiddleware` (pure ASGI, outermost):

- **Body limit while streaming.** A declared ``Content-Length`` over the limit is refused at once
  (413); a body without one (chunked) is counted as it arrives and the request is cut with a 413 the
  moment it passes the limit, so nothing beyond the limit is read, parsed or spooled to disk.
- **Cross-site request refusal** for the workbench: a ``POST`` (any unsafe method) under
  ``/workbench`` must carry an ``Origin`` (or, failing that, a ``Referer``) of the server itself, or
  one listed in ``allowed_origins``; otherwise 403. The session cookie is also ``SameSite=Strict``,
  but a page on another port of the same host is "same-site", so the origin check is what refuses it.
- **Security headers** on every response: a ``Content-Security-Policy`` with ``frame-ancestors
  'none'`` (and scripts from the server only), ``X-Frame-Options: DENY``, ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: same-origin``, ``Cross-Origin-Opener-Policy: same-origin``, and
  ``Cache-Control: no-store`` on the workbench's pages.

:func:`parse_json` reads a body as JSON with the service's limits: finite numbers only, at most
:data:`MAX_DEPTH` levels of nesting (a document nested 100,000 deep is a 400, not a crash).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

#: Deepest nesting of arrays and objects accepted in a JSON body (a submission needs about 5).
MAX_DEPTH = 64

#: Policy of every response except the API documentation pages.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Policy of ``/docs`` and ``/redoc``: Swagger UI and ReDoc start from a short inline script and ReDoc
#: runs a worker from a blob; everything else still comes from the server itself.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a request body passes the limit."""


class MalformedJson(ValueError):
    """A body that is not acceptable JSON; ``str(exc)`` says why."""


def parse_json(raw: bytes) -> Any:
    """``raw`` parsed as JSON: finite numbers only, nesting at most :data:`MAX_DEPTH` deep.

    Raises
    ------
    MalformedJson
        Not UTF-8, not JSON, a non-finite number, or nested too deeply.
    """
    try:
        value = json.loads(raw or b"null", parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise MalformedJson(f"nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(str(exc)) from None
    if depth(value) > MAX_DEPTH:
        raise MalformedJson(f"nested more than {MAX_DEPTH} levels deep")
    return value


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``[]`` is 1), computed without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d + 1)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((x, d + 1) for x in v)
    return deepest


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is too large for a float")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def _problem(status: int, title: str, detail: str, path: str) -> tuple[dict, bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail,
                       "instance": path}).encode()
    return {"type": "http.response.start", "status": status,
            "headers": [(b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()), (b"connection", b"close")]}, body


def _origin_of(url: str) -> str | None:
    try:
        u = urlsplit(url)
    except ValueError:
        return None
    if not u.scheme or not u.netloc:
        return None
    return f"{u.scheme}://{u.netloc}".lower()


class GuardMiddleware:
    """ASGI middleware: streaming body limit, workbench origin check, security headers (see the module).

    Parameters
    ----------
    app : ASGI application
    max_body_bytes : int
        Largest request body (bytes).
    allowed_origins : sequence of str
        Origins besides the server's own (``scheme://host:port`` as the browser sends them, e.g. the
        public address behind a reverse proxy) from which workbench forms may be posted.
    """

    def __init__(self, app, max_body_bytes: int, allowed_origins=()):
        self.app = app
        self.max_body_bytes = int(max_body_bytes)
        self.allowed = {o.rstrip("/").lower() for o in allowed_origins}

    def _same_origin(self, scope, headers: dict[bytes, bytes]) -> bool:
        claimed = headers.get(b"origin")
        if claimed is not None:
            origin = claimed.decode("latin-1").strip().lower()
            if origin == "null":
                return False
        elif headers.get(b"referer") is not None:
            origin = _origin_of(headers[b"referer"].decode("latin-1").strip())
            if origin is None:
                return False
        else:
            return False  # a browser always sends Origin on a form POST; refuse what cannot be checked
        host = headers.get(b"host", b"").decode("latin-1").strip().lower()
        own = f"{scope.get('scheme', 'http')}://{host}"
        return origin == own or origin in self.allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin"),
                 (b"content-security-policy", (DOCS_CSP if path in DOCS_PATHS else CSP).encode())]
        if path.startswith("/workbench"):
            extra.append((b"cache-control", b"no-store"))
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                have = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *[(k, v) for k, v in extra if k not in have]]}
            await send(message)

        async def refuse(status: int, title: str, detail: str):
            start, body = _problem(status, title, detail, path)
            await send_with_headers(start)
            await send({"type": "http.response.body", "body": body})

        length = headers.get(b"content-length")
        if length is not None:
            text = length.decode("latin-1").strip()
            if not text.isdigit():
                return await refuse(400, "Bad Content-Length", "Content-Length must be a whole number of bytes")
            if int(text) > self.max_body_bytes:
                return await refuse(413, "Request too large", f"the body exceeds {self.max_body_bytes:,} bytes")
        if scope.get("method") in UNSAFE_METHODS and path.startswith("/workbench") \
                and not self._same_origin(scope, headers):
            return await refuse(403, "Cross-origin request refused",
                                "a workbench form must be posted from the workbench's own pages "
                                "(the Origin or Referer header names another site, or none is sent)")
        received = 0
        too_large = False

        async def counting_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message):
            if too_large:
                return  # whatever the app makes of the cut body, the client gets the 413 below
            await send_with_headers(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await refuse(413, "Request too large", f"the body exceeds {self.max_body_bytes:,} bytes")
