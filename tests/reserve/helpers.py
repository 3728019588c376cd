"""Helpers for the reserve engine tests (no network, no bundled FX table needed)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from underwriting.domain.policy import DeclaredCoverage, PolicyTerms
from underwriting.domain.submission import Submission

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "datasets" / "examples"
DECLARED = tuple(DeclaredCoverage.model_fields)


def load_example(name: str) -> Submission:
    return Submission.model_validate(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))


def make_policy(**kw: Any) -> PolicyTerms:
    """A policy passing every bundled regime's tests, with overrides."""
    base: dict[str, Any] = dict(
        policy_id="p", insurer="Test Insurer", insurer_rating="AA", insurer_authorised=True,
        inception=dt.date(2026, 10, 1), expiry=dt.date(2027, 10, 1), cancellation_notice_days=90,
        claims_payment_days=30, currency="JPY", deductible=0.0, limit=1e12,
        perils=["hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"],
        exclusions=[],
        declared_coverage={k: True for k in DECLARED},
    )
    base.update(kw)
    return PolicyTerms.model_validate(base)


def with_exposure(sub: Submission, **kw: Any) -> Submission:
    """Copy of ``sub`` with exposure fields (or custody tiers hot/warm/cold) replaced."""
    data = sub.model_dump()
    for k, v in kw.items():
        if k in ("hot", "warm", "cold"):
            data["exposure"]["customer_assets"][k] = v
        else:
            data["exposure"][k] = v
    a = data["exposure"]["customer_assets"]
    a["total"] = a["hot"] + a["warm"] + a["cold"]
    return Submission.model_validate(data)
