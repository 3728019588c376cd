"""Exposure cap and custody-tier mixtures of a ground-up severity (currency units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from underwriting.errors import InputError
from underwriting.losses.severity.base import ArrayLike, Severity, _check_positive, _rng


# Derived severities: cap at exposure, mixtures
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class CappedSeverity(Severity):
    """Severity of :math:`\\min(X, c)`: a loss cannot exceed the assets exposed.

    The distribution has an atom of probability :math:`P(X \\ge c)` at the cap; ``pdf`` is the
    density of the continuous part only.

    Parameters
    ----------
    base : Severity
        The ground-up (absolute currency) severity.
    cap : float
        Assets held in the custody tier hit, in the same currency (> 0).
    """

    base: Severity
    cap: float
    family: ClassVar[str] = "capped"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cap", _check_positive("cap", self.cap))

    @property
    def params(self) -> dict[str, float]:
        return {**self.base.params, "cap": self.cap}

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x >= self.cap, 1.0, self.base.cdf(np.minimum(x, self.cap)))
        return out if out.ndim else float(out)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x >= self.cap, 0.0, self.base.sf(np.minimum(x, self.cap)))
        return out if out.ndim else float(out)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x >= self.cap, 0.0, self.base.pdf(np.minimum(x, self.cap)))
        return out if out.ndim else float(out)

    def ppf(self, q):
        out = np.minimum(self.base.ppf(q), self.cap)
        return out if np.ndim(out) else float(out)

    def rvs(self, size=1, random_state=None):
        return np.minimum(self.base.rvs(size, random_state), self.cap)

    def moment(self, k: int = 1) -> float:
        return float(self.base.limited_moment(self.cap, k))

    def limited_moment(self, u, k: int = 1):
        return self.base.limited_moment(np.minimum(np.asarray(u, dtype=float), self.cap), k)

    @cached_property
    def _base_at_cap(self) -> tuple[float, float]:
        """The base's stop-loss transforms at the cap, :math:`E[(X-c)_+]` and :math:`E[(X-c)_+^2]`
        (constants of this severity, asked for by every stop-loss evaluation)."""
        return float(self.base.stop_loss(self.cap)), float(self.base.stop_loss2(self.cap))

    def stop_loss(self, a):
        a_arr = np.asarray(a, dtype=float)
        c = self.cap
        below = np.asarray(self.base.stop_loss(np.minimum(a_arr, c))) - self._base_at_cap[0]
        out = np.where(a_arr < c, np.maximum(below, 0.0), 0.0)
        return out if out.ndim else float(out)

    def stop_loss2(self, a):
        a_arr = np.asarray(a, dtype=float)
        c = self.cap
        am = np.minimum(a_arr, c)
        sl_c, sl2_c = self._base_at_cap
        val = np.asarray(self.base.stop_loss2(am)) - sl2_c - 2 * (c - am) * sl_c
        out = np.where(a_arr < c, np.maximum(val, 0.0), 0.0)
        return out if out.ndim else float(out)

    @property
    def atom(self) -> float:
        """Probability mass at the cap, :math:`P(X \\ge c)`."""
        return float(self.base.sf(self.cap))


@dataclass(frozen=True, repr=False)
class MixtureSeverity(Severity):
    """Finite mixture: with probability ``weights[j]`` the loss follows ``components[j]``.

    Used for custody tiers (hot / warm / cold, each capped at its own assets).
    """

    components: tuple[Severity, ...]
    weights: tuple[float, ...]
    family: ClassVar[str] = "mixture"

    def __post_init__(self) -> None:
        comps = tuple(self.components)
        w = np.asarray(self.weights, dtype=float)
        if len(comps) == 0 or len(comps) != w.size:
            raise InputError("need one weight per component and at least one component", field="weights")
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("weights must be non-negative and not all zero", field="weights")
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", tuple(float(v) for v in w / w.sum()))

    @property
    def params(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for j, (c, w) in enumerate(zip(self.components, self.weights, strict=True)):
            out[f"w{j}"] = w
            out.update({f"{k}{j}": v for k, v in c.params.items()})
        return out

    def _mix(self, name: str, x, *extra):
        return sum(w * np.asarray(getattr(c, name)(x, *extra), dtype=float)
                   for c, w in zip(self.components, self.weights, strict=True))

    def cdf(self, x):
        out = self._mix("cdf", x)
        return out if np.ndim(out) else float(out)

    def sf(self, x):
        out = self._mix("sf", x)
        return out if np.ndim(out) else float(out)

    def pdf(self, x):
        out = self._mix("pdf", x)
        return out if np.ndim(out) else float(out)

    def ppf(self, q):
        """Quantile by vectorised bisection between the components' quantiles."""
        q = np.asarray(q, dtype=float)
        qs = np.stack([np.asarray(c.ppf(q), dtype=float) for c in self.components])
        lo, hi = qs.min(axis=0), qs.max(axis=0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = np.asarray(self.cdf(mid)) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            if np.all(hi - lo <= 1e-12 * np.maximum(np.abs(hi), 1.0)):
                break
        return hi if hi.ndim else float(hi)

    def rvs(self, size=1, random_state=None):
        rng = _rng(random_state)
        n = int(np.prod(size))
        which = rng.choice(len(self.components), size=n, p=np.asarray(self.weights))
        out = np.empty(n)
        for j, c in enumerate(self.components):
            idx = np.flatnonzero(which == j)
            if idx.size:
                out[idx] = c.rvs(idx.size, rng)
        return out.reshape(size)

    def moment(self, k: int = 1) -> float:
        return float(sum(w * c.moment(k) for c, w in zip(self.components, self.weights, strict=True)))

    def limited_moment(self, u, k: int = 1):
        out = self._mix("limited_moment", u, k)
        return out if np.ndim(out) else float(out)

    def stop_loss(self, a):
        out = self._mix("stop_loss", a)
        return out if np.ndim(out) else float(out)

    def stop_loss2(self, a):
        out = self._mix("stop_loss2", a)
        return out if np.ndim(out) else float(out)




# --------------------------------------------------------------------------------------------
# Exposure mapping
# --------------------------------------------------------------------------------------------
def cap_at_exposure(severity: Severity, tier_assets: float) -> CappedSeverity:
    """Map an absolute-USD severity to one exchange: the loss is ``min(X, tier_assets)``.

    Parameters
    ----------
    severity : Severity
        Severity fitted to incident amounts across exchanges (currency units).
    tier_assets : float
        Assets held in the custody tier that the breach reaches (same currency).
    """
    return CappedSeverity(severity, tier_assets)


def exposure_severity(severity: Severity, tier_assets: Sequence[float] | float,
                      tier_weights: Sequence[float] | None = None) -> Severity:
    """The exchange's own severity when a breach hits one of several custody tiers.

    Parameters
    ----------
    severity : Severity
        Ground-up severity in absolute currency.
    tier_assets : float or sequence of float
        Assets in each custody tier (hot, warm, cold, ... ; currency units). A breach of tier
        ``j`` cannot take more than ``tier_assets[j]``.
    tier_weights : sequence of float, optional
        Probability that a breach reaches tier ``j`` (normalised). Required with more than one
        tier.

    Returns
    -------
    Severity
        :class:`CappedSeverity` for one tier, otherwise a :class:`MixtureSeverity` of capped
        severities.
    """
    assets = np.atleast_1d(np.asarray(tier_assets, dtype=float))
    if assets.ndim != 1 or assets.size == 0:
        raise InputError("give one asset amount per custody tier", field="tier_assets")
    if assets.size == 1:
        return cap_at_exposure(severity, float(assets[0]))
    if tier_weights is None:
        raise InputError("tier_weights are required with more than one custody tier", field="tier_weights")
    return MixtureSeverity(tuple(cap_at_exposure(severity, float(a)) for a in assets), tuple(tier_weights))


def exposure_pit(amounts: ArrayLike, victim_assets: ArrayLike, severity: Severity,
                 threshold: float = 0.0) -> np.ndarray:
    """Probability integral transform of observed losses under their own exposure-capped severity.

    For incidents with a known victim size, ``u_i = P(min(X, a_i) <= x_i | X > threshold)``
    should look uniform on (0, 1) when the capped severity is right (losses at the cap get the
    mid-point of the atom). Feed the result to a KS test or a histogram.

    Parameters
    ----------
    amounts : array of float
        Observed losses (currency units).
    victim_assets : array of float
        Assets of the custody tier hit, for each incident (same currency).
    severity : Severity
        Ground-up severity.
    threshold : float
        Reporting threshold of the data (left truncation).
    """
    x = np.asarray(amounts, dtype=float)
    a = np.asarray(victim_assets, dtype=float)
    if x.shape != a.shape:
        raise InputError("amounts and victim_assets must have the same length", field="victim_assets")
    if np.any(a <= 0) or np.any(~np.isfinite(a)):
        raise InputError("victim assets must be positive and finite", field="victim_assets")
    f_t = float(severity.cdf(threshold)) if threshold > 0 else 0.0
    s_t = 1.0 - f_t
    at_cap = x >= a * (1 - 1e-9)
    f_x = np.asarray(severity.cdf(np.minimum(x, a)), dtype=float)
    lower = (np.where(at_cap, np.asarray(severity.cdf(a)), f_x) - f_t) / s_t
    u = np.where(at_cap, 0.5 * (lower + 1.0), lower)
    return np.clip(u, 0.0, 1.0)


def severity_echo(sev: Any) -> dict[str, Any]:
    """Plain-data echo of a severity: its family and parameters. A severity capped at the exposure
    (``--cap``) keeps its base family, with the cap as one more parameter
    (``{"family": "lognormal", "mu": ..., "sigma": ..., "cap": ...}``), so the echo names the same
    model as the ``--severity``/``--cap`` options that built it."""
    if isinstance(sev, CappedSeverity):
        return {**severity_echo(sev.base), "cap": float(sev.cap)}
    return {"family": sev.family, **sev.params}
