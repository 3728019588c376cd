"""Deterministic what-if scenarios on a book (no simulation): vendor compromise, full-tier breach.

One loss ``X`` to exchange ``i`` costs the insurer ``share * min((min((X - d)+, l) - D_a)+, L_a)``
(per-occurrence deductible ``d`` and limit ``l`` (sub-limit for the peril), aggregate deductible
``D_a`` and limit ``L_a``, taken as the only loss of the year), which is the layer
``min(l - D_a, L_a)`` xs ``d + D_a`` on ``X``.

* :func:`vendor_scenario`: vendor ``k`` is compromised once this year. ``expected_loss`` =
  ``sum_i q_ik E[payment_i]`` (each client hit with its loss probability, vendor-peril severity);
  ``expected_loss_all_clients_hit`` = ``sum_i E[payment_i]``; ``max_loss`` = every client loses
  the whole of its largest custody tier reached by the vendor path.
* :func:`exchange_breach_scenario`: exchange ``i`` loses the whole tier a peril reaches (the
  largest tier for mixed perils), peril by peril; ``loss`` is the worst of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from underwriting.losses.aggregate import PERILS
from underwriting.portfolio.book import PERIL_INDEX, VENDOR_PERIL, Book

__all__ = ["vendor_scenario", "exchange_breach_scenario", "default_scenarios", "single_loss_payment"]


def _layer(book: Book, i: int, j: int) -> tuple[float, float, float]:
    d, D = float(book.deductible[i]), float(book.agg_deductible[i])
    lim, L = float(book.limit[i, j]), float(book.agg_limit[i])
    return d + D, max(min(lim - D, L), 0.0), float(book.share[i])


def single_loss_payment(book: Book, i: int, peril: str, x: float) -> float:
    """Insurer's payment for one ground-up loss ``x`` (USD) to exchange ``i`` under ``peril``."""
    att, width, share = _layer(book, i, PERIL_INDEX[peril])
    return share * float(np.clip(x - att, 0.0, width)) if book.covered[i, PERIL_INDEX[peril]] else 0.0


def _expected_payment(book: Book, i: int, peril: str) -> float:
    sev = book.severity(i, peril)
    if sev is None:
        return 0.0
    att, width, share = _layer(book, i, PERIL_INDEX[peril])
    return share * float(sev.layer_mean(att, width)) if width > 0 else 0.0


def vendor_scenario(book: Book, vendor: str | int) -> dict[str, Any]:
    """Book loss if ``vendor`` is compromised once (expected and worst case), by client."""
    k = vendor if isinstance(vendor, int) else book.vendor_index(vendor)
    lo, hi = int(book.pair_ptr[k]), int(book.pair_ptr[k + 1])
    j = PERIL_INDEX[VENDOR_PERIL]
    rows = []
    for p in range(lo, hi):
        i = int(book.pair_client[p])
        e = _expected_payment(book, i, VENDOR_PERIL)
        cap = float(np.max(book.sev_cap[i, j][np.diff(np.concatenate([[0.0], book.sev_cum[i, j]])) > 0]))
        worst = single_loss_payment(book, i, VENDOR_PERIL, cap) if math.isfinite(cap) else math.nan
        rows.append({"exchange_id": book.ids[i], "loss_probability": float(book.pair_q[p]),
                     "expected_loss_if_hit": e, "max_loss": worst})
    return {"scenario": f"vendor compromised: {book.vendor_names[k]}", "vendor": book.vendor_names[k],
            "clients": len(rows), "annual_rate": float(book.vendor_rate[k]),
            "expected_loss": float(sum(r["loss_probability"] * r["expected_loss_if_hit"] for r in rows)),
            "expected_loss_all_clients_hit": float(sum(r["expected_loss_if_hit"] for r in rows)),
            "max_loss": float(sum(r["max_loss"] for r in rows)), "by_exchange": rows}


def exchange_breach_scenario(book: Book, exchange: str | int) -> dict[str, Any]:
    """Insurer's payment if the exchange loses the whole custody tier each covered peril reaches."""
    i = book.index(exchange)
    by = {}
    for j, p in enumerate(PERILS):
        if not book.covered[i, j]:
            continue
        w = np.diff(np.concatenate([[0.0], book.sev_cum[i, j]]))
        cap = float(np.max(book.sev_cap[i, j][w > 0]))
        by[p] = {"ground_up": cap, "insured": single_loss_payment(book, i, p, cap)}
    worst = max(by, key=lambda p: by[p]["insured"]) if by else None
    return {"scenario": f"full-tier breach: {book.ids[i]}", "exchange_id": book.ids[i],
            "loss": by[worst]["insured"] if worst else 0.0, "worst_peril": worst, "by_peril": by}


def default_scenarios(book: Book, *, vendors: list[str] | None = None, exchanges: list[str] | None = None,
                      top: int = 10) -> dict[str, Any]:
    """Vendor scenarios for the most-shared vendors and full-tier breaches for the exchanges whose
    full-tier breach costs most (or the named ones)."""
    if vendors is None:
        order = sorted(range(book.n_vendors), key=lambda k: (-int(book.n_clients[k]), book.vendor_names[k]))
        vks = [k for k in order if book.n_clients[k] > 0][:top]
    else:
        vks = [book.vendor_index(v) for v in vendors]
    if exchanges is None:
        worst = np.zeros(book.n)
        for i in range(book.n):
            att = book.deductible[i] + book.agg_deductible[i]
            width = np.maximum(np.minimum(book.limit[i] - book.agg_deductible[i], book.agg_limit[i]), 0.0)
            caps = np.where(book.covered[i][:, None], book.sev_cap[i], 0.0).max(axis=1)
            worst[i] = float(book.share[i] * np.clip(caps - att, 0.0, width).max())
        eis = [int(i) for i in np.argsort(-worst, kind="stable")[:top]]
    else:
        eis = [book.index(e) for e in exchanges]
    vs = [vendor_scenario(book, k) for k in vks]
    for v in vs:
        v["by_exchange"] = v["by_exchange"][:50]
    return {"vendor_compromise": vs, "exchange_breach": [exchange_breach_scenario(book, i) for i in eis],
            "notes": "deterministic: one event this year, the only loss of the year for each exchange hit (USD)"}
