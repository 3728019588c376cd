"""Peril-level exposure of the quote's loss model: hot-wallet scaling and the state-actor split.

Two effects the industry severity and the peril mix alone do not carry:

* **Hot-wallet assets.** A hot-wallet breach tends to drain the wallet it reaches, so its loss scales
  with that wallet: :func:`hot_wallet_severity` raises the industry lognormal's median to
  ``median_drain_share x hot assets`` where that is larger (the ground-up fit otherwise) and caps the
  loss at the hot assets. Both the median and the cap are non-decreasing in the hot assets, so more hot
  assets never lower the loss (first-order stochastic dominance), by construction; the loss is bounded
  by the hot assets.
* **State-actor attribution.** :func:`state_actor_split` counts, per peril, the breaches of
  ``datasets/incidents.csv`` whose ``attribution`` column names a state actor (each with its one
  source); a ``war_and_state_actor`` exclusion removes that share of the peril's frequency. The share
  is in [0, 1], so the exclusion never raises a price.

The assumptions are data (``perils.toml`` beside this module), read and range-checked once.
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.caches import register_cache
from underwriting.datasets import load_incidents
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, PERILS, VECTOR_TO_PERIL
from underwriting.errors import InputError

#: The bundled peril assumptions.
PERILS_TOML = Path(__file__).with_name("perils.toml")
#: Attribution values that a ``war_and_state_actor`` exclusion removes.
STATE_ACTORS: tuple[str, ...] = ("state_dprk",)
#: Two-sided level of the share's interval (Jeffreys).
INTERVAL_LEVEL = 0.90


@dataclass(frozen=True)
class HotWalletAssumption:
    """How a hot-wallet breach scales with the hot wallet (``[hot_wallet]`` of ``perils.toml``).

    Attributes
    ----------
    median_drain_share : float
        Median fraction of the hot-wallet assets one hot-wallet breach takes (dimensionless, in
        [``min_drain_share``, ``max_drain_share``]).
    status, source : str
        Whether the value is sourced or an assumption, and where it comes from.
    """

    median_drain_share: float
    status: str
    source: str


@register_cache(static=True)
@functools.cache
def hot_wallet_assumption(path: str | None = None) -> HotWalletAssumption:
    """Read and check the ``[hot_wallet]`` table (default: the bundled ``perils.toml``)."""
    src = Path(path) if path else PERILS_TOML
    try:
        table = tomllib.loads(src.read_text(encoding="utf-8"))["hot_wallet"]
        share, lo, hi = (float(table[k]) for k in ("median_drain_share", "min_drain_share", "max_drain_share"))
        status, source = str(table["status"]), str(table["source"])
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the hot-wallet assumption ({exc})", field=str(src)) from None
    if not (0 < lo <= hi <= 1):
        raise InputError(f"drain share bounds must satisfy 0 < min <= max <= 1, got {lo}, {hi}",
                         field="hot_wallet.min_drain_share")
    if not (lo <= share <= hi):
        raise InputError(f"must lie in [{lo}, {hi}], got {share}", field="hot_wallet.median_drain_share")
    return HotWalletAssumption(median_drain_share=share, status=status, source=source)


def hot_wallet_severity(ground: Any, hot_assets: float, drain_share: float | None = None) -> Any:
    """The hot-wallet peril's severity for an exchange with ``hot_assets`` (USD) in hot wallets.

    Parameters
    ----------
    ground : Lognormal
        Industry (ground-up) severity, USD.
    hot_assets : float
        Hot and warm wallet assets, USD (> 0).
    drain_share : float, optional
        Median fraction of the hot wallet one breach takes (default: ``perils.toml``).

    Returns
    -------
    CappedSeverity
        ``min(Y, hot_assets)`` with ``ln Y ~ Normal(max(mu, ln(drain_share * hot_assets)), sigma)``:
        the industry dispersion around a median that grows with the hot wallet, never below the
        industry median; stochastically non-decreasing in ``hot_assets``.
    """
    from underwriting.losses.severity import CappedSeverity, Lognormal

    if not isinstance(ground, Lognormal):
        raise InputError(f"hot-wallet scaling needs a lognormal ground-up severity, got {ground.family}",
                         field="severity")
    h = float(hot_assets)
    if not (h > 0 and math.isfinite(h)):
        raise InputError(f"must be positive and finite, got {hot_assets!r}", field="hot_assets")
    d = hot_wallet_assumption().median_drain_share if drain_share is None else float(drain_share)
    if not (0 < d <= 1):
        raise InputError(f"must lie in (0, 1], got {drain_share!r}", field="drain_share")
    mu = max(ground.mu, math.log(d * h))
    return CappedSeverity(Lognormal(mu, ground.sigma), h)


@dataclass(frozen=True)
class StateActorShare:
    """Share of one peril's breaches attributed to state actors.

    Attributes
    ----------
    peril : str
    attributed, breaches : float
        Attributed and all breaches of the peril (counts; breaches of unknown vector are spread
        over the perils pro rata, as the peril mix does, so they may be fractional).
    share : float
        ``attributed / breaches`` (dimensionless, in [0, 1]).
    low, high : float
        Jeffreys 90% interval of the share (Beta(attributed + 1/2, breaches - attributed + 1/2)).
    """

    peril: str
    attributed: float
    breaches: float
    share: float
    low: float
    high: float


def state_actor_split(incidents: Any = None) -> dict[str, StateActorShare]:
    """Per-peril share of breaches a cited source attributes to a state actor.

    Parameters
    ----------
    incidents : DataFrame, optional
        Incident table in the datasets schema (default: the shipped ``datasets/incidents.csv``);
        breaches are the ``BREACH_EVENT_TYPES`` rows.

    Returns
    -------
    dict of str to StateActorShare
        One entry per peril of :data:`PERILS`. A breach whose vector maps to a peril counts there; a
        breach of unmapped vector (``other``, ``unknown``) is spread over the perils in proportion to
        the mapped breaches, with its attribution.
    """
    from scipy import stats

    if incidents is None:
        return dict(_shipped_split())
    b = incidents[incidents["event_type"].astype(str).isin(BREACH_EVENT_TYPES)]
    if "attribution" in b:
        state = b["attribution"].astype(object).isin(STATE_ACTORS).to_numpy()
    else:
        state = [False] * len(b)
    n = {p: 0.0 for p in PERILS}
    s = {p: 0.0 for p in PERILS}
    n_u = s_u = 0.0
    for vector, is_state in zip(b["vector"].astype(str), state, strict=True):
        peril = VECTOR_TO_PERIL.get(vector)
        if peril is None:
            n_u += 1.0
            s_u += float(is_state)
        else:
            n[peril] += 1.0
            s[peril] += float(is_state)
    known = sum(n.values())
    out = {}
    a = (1 - INTERVAL_LEVEL) / 2
    for p in PERILS:
        w = n[p] / known if known > 0 else 0.0
        nn, ss = n[p] + n_u * w, s[p] + s_u * w
        share = ss / nn if nn > 0 else 0.0
        lo, hi = ((float(stats.beta.ppf(a, ss + 0.5, nn - ss + 0.5)), float(stats.beta.ppf(1 - a, ss + 0.5, nn - ss + 0.5)))
                  if nn > 0 else (0.0, 1.0))
        out[p] = StateActorShare(p, ss, nn, share, lo, hi)
    return out


@register_cache(static=True)
@functools.cache
def _shipped_split() -> tuple[tuple[str, StateActorShare], ...]:

    return tuple(state_actor_split(load_incidents()).items())
