"""``/v1/ledger``: the audit ledger's entries and its chain check (auditors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from underwriting.service.api.common import ERRORS, MAX_POSITION, CanLedgerRead, JsonRoute, store_of
from underwriting.service.api.contracts import LedgerPage, LedgerVerification

router = APIRouter(prefix="/v1/ledger", tags=["ledger"], route_class=JsonRoute)


@router.get("", response_model=LedgerPage, responses=ERRORS)
def get_ledger(request: Request, p: CanLedgerRead, after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Ledger entries after sequence number ``after`` (auditors)."""
    return {"entries": store_of(request).ledger_page(after, limit)}


@router.get("/verify", response_model=LedgerVerification, responses=ERRORS)
def verify_ledger(request: Request, p: CanLedgerRead):
    """Verify the hash chain (as ``underwriting ledger verify``)."""
    v = store_of(request).verify_ledger()
    return {"ok": v.ok, "entries": v.entries, "head": v.head, "problems": v.problems}
