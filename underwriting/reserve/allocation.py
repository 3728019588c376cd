"""One policy, one payable amount: the tower credit when a policy answers for several components.

A policy that covers both the hot and the cold component of a custody-cover requirement is measured
against each (:mod:`underwriting.reserve.tower`), but the insurer pays at most its **payable
amount** over the policy period::

    P_i = min(aggregate limit, limit × (1 + reinstatements))   (the aggregate alone if no reinstatements
                                                               are stated and an aggregate is)

on losses, of which it pays its share. The credit a policy supplies is therefore bounded by
``f_i × P_i`` (``f_i`` its credit factor, which already carries the share and the haircuts).

The tower credit with that bound is the largest total the policies can supply when

* each amount of each component and cell counts once (as before), and
* each policy's use, summed over the components and weighted by the cells' weights, stays within
  ``P_i``:  ``Σ_{k,t,c} m_k(t) w_c y_{i,k,t,c} ≤ P_i``.

It is a small linear programme (:func:`scipy.optimize.linprog`, HiGHS). When no policy's payable
amount binds, it is the closed form of :func:`underwriting.reserve.tower.component_credit`, which
is then used directly. **Allocation rule** (where a payable amount binds, the split across
components is not unique): of the allocations reaching the largest total, the one giving the most
credit to the components in the order listed (hot before cold) is reported, because a hot-wallet
loss is the more frequent call on the reserve. Adding a policy, raising a limit, an aggregate or a
reinstatement never lowers the optimum; raising a deductible never raises it (the feasible set only
grows or only shrinks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from underwriting.reserve.tower import Component, Layer, component_credit


@dataclass(frozen=True)
class Allocation:
    """The tower credit split by component and by policy (requirement currency, before the cap).

    Attributes
    ----------
    component_credits : tuple of float
        ``C_k`` per component, each ≤ ``R_k``.
    policy_credits : tuple of tuple of float
        ``[i][k]``: the credit policy ``i`` supplies in component ``k`` (in the tower, not alone).
    binding : tuple of str
        Policy ids whose payable amount limits the credit.
    """

    component_credits: tuple[float, ...]
    policy_credits: tuple[tuple[float, ...], ...]
    binding: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return float(sum(self.component_credits))


def _pieces(layers: list[Layer], comps: list[Component]) -> list[tuple[int, float, float, list[int]]]:
    """Elementary pieces ``(k, weight, length, [policies covering it with f > 0])``."""
    out = []
    for k, comp in enumerate(comps):
        r = comp.amount
        for cell, w in comp.cells().items():
            if w <= 0 or r <= 0:
                continue
            iv = [(i, max(L.attachment, 0.0), min(L.attachment + L.widths[cell], r)) for i, L in enumerate(layers)
                  if L.widths[cell] > 0 and L.factor > 0]
            iv = [(i, a, b) for i, a, b in iv if b > a]
            if not iv:
                continue
            pts = sorted({p for _, a, b in iv for p in (a, b)})
            for lo, hi in zip(pts, pts[1:], strict=False):
                mid = 0.5 * (lo + hi)
                who = [i for i, a, b in iv if a <= mid < b]
                if who:
                    out.append((k, w, hi - lo, who))
    return out


def _greedy(layers: list[Layer], comps: list[Component], pieces: list[tuple[int, float, float, list[int]]]
            ) -> tuple[list[list[float]], list[float]]:
    """Best factor on each piece (ties: the first policy): credits ``[i][k]`` and weighted use per policy."""
    cred = [[0.0] * len(comps) for _ in layers]
    use = [0.0] * len(layers)
    for k, w, length, who in pieces:
        i = max(who, key=lambda j: (layers[j].factor, -j))
        cred[i][k] += layers[i].factor * w * length
        use[i] += w * length
    return cred, use


def allocate(layers: list[Layer], comps: list[Component]) -> Allocation:
    """Tower credit per component and per policy with each policy's payable amount as a bound.

    Parameters
    ----------
    layers : list of Layer
        Policies in the requirement currency (``Layer.payable``: loss amount the insurer can pay over
        the period, before its share; ``inf`` for no bound).
    comps : list of Component

    Returns
    -------
    Allocation
    """
    pieces = _pieces(layers, comps)
    cred, use = _greedy(layers, comps, pieces)
    over = [i for i, L in enumerate(layers) if use[i] > L.payable * (1 + 1e-12)]
    if not over:
        comp_c = tuple(component_credit(layers, k) for k in comps)
        return Allocation(comp_c, tuple(tuple(r) for r in cred))
    return _solve(layers, comps, pieces)


def _solve(layers: list[Layer], comps: list[Component], pieces: list[tuple[int, float, float, list[int]]]
           ) -> Allocation:
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    scale = max(max((k.amount for k in comps), default=1.0), 1.0)
    var: list[tuple[int, int, int]] = []  # (piece, policy, component)
    for p, (k, _w, _length, who) in enumerate(pieces):
        for i in who:
            var.append((p, i, k))
    n = len(var)
    gain = np.array([layers[i].factor * pieces[p][1] for p, i, _ in var])
    bounds = [(0.0, pieces[p][2] / scale) for p, _, _ in var]
    rows, cols, vals, rhs = [], [], [], []
    for j, (p, _i, _k) in enumerate(var):  # each piece counts once
        rows.append(p)
        cols.append(j)
        vals.append(1.0)
    rhs += [pc[2] / scale for pc in pieces]
    base = len(pieces)
    capped = [i for i, L in enumerate(layers) if math.isfinite(L.payable)]
    for r, i in enumerate(capped):  # each policy within its payable amount (weighted use)
        for j, (p, ii, _k) in enumerate(var):
            if ii == i:
                rows.append(base + r)
                cols.append(j)
                vals.append(pieces[p][1])
        rhs.append(layers[i].payable / scale)
    a_ub = coo_matrix((vals, (rows, cols)), shape=(base + len(capped), n)).tocsr()
    b_ub = np.array(rhs)
    res = linprog(-gain, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - a bounded, feasible LP (y = 0 is feasible)
        raise RuntimeError(f"reserve credit allocation failed: {res.message}")
    best = -res.fun
    # allocation rule: of the optimal allocations, the most credit to the components in order
    y = res.x
    a_dense, b_list = a_ub.toarray(), list(b_ub)
    extra_rows = [-gain]
    extra_rhs = [-best]
    for k in range(len(comps) - 1):
        mask = np.array([1.0 if kk == k else 0.0 for _, _, kk in var]) * gain
        if not mask.any():
            continue
        r2 = linprog(-mask, A_ub=np.vstack([a_dense, *extra_rows]), b_ub=np.array(b_list + extra_rhs),
                     bounds=bounds, method="highs")
        if r2.status != 0:  # pragma: no cover - the stage-1 solution is feasible
            break
        y = r2.x
        extra_rows.append(-mask)
        extra_rhs.append(-float(mask @ y))
    y = _feasible(np.clip(y, 0.0, None) * scale, var, pieces, layers)
    cred = [[0.0] * len(comps) for _ in layers]
    for j, (p, i, k) in enumerate(var):
        cred[i][k] += float(layers[i].factor * pieces[p][1] * y[j])
    comp_c = tuple(float(min(sum(cred[i][k] for i in range(len(layers))), comps[k].amount))
                   for k in range(len(comps)))
    binding = tuple(layers[i].policy_id for i in capped
                    if sum(pieces[p][1] * y[j] for j, (p, ii, _) in enumerate(var) if ii == i)
                    >= layers[i].payable * (1 - 1e-6))
    return Allocation(comp_c, tuple(tuple(r) for r in cred), binding)


def _feasible(y, var, pieces, layers):
    """Scale the solver's solution down onto the feasible set exactly (its tolerances are ~1e-9)."""
    y = y.copy()
    for j, (p, _i, _k) in enumerate(var):
        y[j] = min(y[j], pieces[p][2])
    per_piece: dict[int, float] = {}
    for j, (p, _i, _k) in enumerate(var):
        per_piece[p] = per_piece.get(p, 0.0) + y[j]
    for j, (p, _i, _k) in enumerate(var):
        if per_piece[p] > pieces[p][2]:
            y[j] *= pieces[p][2] / per_piece[p]
    used: dict[int, float] = {}
    for j, (p, i, _k) in enumerate(var):
        used[i] = used.get(i, 0.0) + pieces[p][1] * y[j]
    for j, (_p, i, _k) in enumerate(var):
        if used[i] > layers[i].payable:
            y[j] *= layers[i].payable / used[i]
    return y


def tower_credit(layers: list[Layer], comps: list[Component]) -> float:
    """Credit before the cap: the sum of the component credits, each policy within its payable amount."""
    return allocate(layers, comps).total
