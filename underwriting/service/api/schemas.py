"""``/v1/schemas/{kind}``: JSON Schema of a submission, policy terms, a quote or a quote request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from underwriting.service import engine
from underwriting.service.api.common import ERRORS, CanSchema, JsonRoute
from underwriting.service.store import Problem

router = APIRouter(prefix="/v1/schemas", tags=["schemas"], route_class=JsonRoute)


@router.get("/{kind}", responses={**ERRORS, 404: {"description": "no such schema"}})
def get_schema(kind: str, p: CanSchema) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a ``submission``, ``policy``, ``quote`` or ``quote-request`` (the quote body)."""
    out = engine.schema(kind)
    if out is None:
        raise Problem(404, "Not Found", f"no schema {kind[:40]!r}; choose submission, policy, quote or quote-request",
                      [{"field": "kind", "message": "choose submission, policy, quote or quote-request"}])
    return out


