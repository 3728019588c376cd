"""Many single-peril layers in one stacked FFT (:func:`compound_batch`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sfft

from underwriting.errors import InputError
from underwriting.losses.aggregate.discretisation import (
    _chernoff_range,
    _choose_bucket,
    _occurrence_cap,
    discretize_layer,
)
from underwriting.losses.aggregate.results import (
    Peril,
    _level,
    _refined_var,
    _tvar_at,
)
from underwriting.losses.aggregate.terms import (
    _analytic_moments,
    _exact_attach_exhaust,
    _moment_check,
    _terms,
)
from underwriting.losses.counts import Frequency
from underwriting.losses.severity import Severity


# --------------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchResult:
    """Results of :func:`compound_batch`: one entry per model (arrays, currency units).

    Attributes
    ----------
    mean, std, var, tvar : numpy.ndarray
        Expected loss, standard deviation, VaR and TVaR at ``level`` of the insurer's loss.
    level : float
    prob_attach, prob_exhaust : numpy.ndarray
    bucket : numpy.ndarray
        Bucket size used for each model.
    mean_analytic, mean_rel_err, var_rel_err : numpy.ndarray
        Moment check of the occurrence-layer aggregate for each model.
    moment_check : numpy.ndarray of bool
        Whether each model's moments agree within tolerance.
    """

    mean: np.ndarray
    std: np.ndarray
    var: np.ndarray
    tvar: np.ndarray
    level: float
    prob_attach: np.ndarray
    prob_exhaust: np.ndarray
    bucket: np.ndarray
    mean_analytic: np.ndarray
    mean_rel_err: np.ndarray
    var_rel_err: np.ndarray
    moment_check: np.ndarray

    def __len__(self) -> int:
        return int(self.mean.size)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain-data dict per model."""
        keys = ("mean", "std", "var", "tvar", "prob_attach", "prob_exhaust", "bucket", "mean_analytic",
                "mean_rel_err", "var_rel_err", "moment_check")
        return [{k: (bool(getattr(self, k)[i]) if k == "moment_check" else float(getattr(self, k)[i]))
                 for k in keys} | {"level": self.level} for i in range(len(self))]


def _broadcast(name: str, v: Any, B: int) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return np.full(B, float(a))
    if a.shape != (B,):
        raise InputError(f"must be a scalar or have one value per model ({B}), got shape {a.shape}", field=name)
    return a


def compound_batch(frequencies: Sequence[Frequency], severities: Sequence[Severity], *,
                   deductibles: Any = 0.0, limits: Any = math.inf, agg_deductibles: Any = 0.0,
                   agg_limits: Any = math.inf, shares: Any = 1.0, level: float = 0.995,
                   n_buckets: int = 2**16, padding: int = 1, eps: float = 1e-9, chunk: int = 32,
                   mean_rtol: float = 1e-6, var_rtol: float = 1e-3) -> BatchResult:
    """Price many single-peril models/layers with one stacked FFT per chunk of rows.

    Row ``i`` is the compound of ``frequencies[i]`` and ``severities[i]`` through the layer
    ``limits[i]`` xs ``deductibles[i]`` with aggregate terms and share; each row gets its own
    bucket size. Term arrays broadcast from scalars.

    Unlike :func:`~underwriting.losses.aggregate.engines.compound` the batch does not escalate:
    each row's ``moment_check`` says whether it passed, and a failed row must not be used as a
    price. For speed the closed-form layer moments are checked against their bounds and for
    finiteness, not re-derived by quadrature; VaR and TVaR use the same refined estimators.

    Returns
    -------
    BatchResult
    """
    B = len(frequencies)
    if B == 0 or len(severities) != B:
        raise InputError("need the same, non-zero number of frequencies and severities", field="severities")
    level = _level(level)
    ded = _broadcast("deductibles", deductibles, B)
    lim = _broadcast("limits", limits, B)
    ad = _broadcast("agg_deductibles", agg_deductibles, B)
    al = _broadcast("agg_limits", agg_limits, B)
    sh = _broadcast("shares", shares, B)
    n = int(n_buckets)
    k = np.arange(n, dtype=float)
    out = {key: np.empty(B) for key in ("mean", "std", "var", "tvar", "prob_attach", "prob_exhaust", "bucket",
                                          "mean_analytic", "mean_rel_err", "var_rel_err")}
    ok = np.empty(B, dtype=bool)
    for start in range(0, B, chunk):
        rows = range(start, min(B, start + chunk))
        F = np.empty((len(rows), n))
        H = np.empty(len(rows))
        infos = []
        for r, i in enumerate(rows):
            terms = _terms(ded[i], lim[i], None, ad[i], al[i], sh[i])
            peril = Peril("all", frequencies[i], severities[i])
            cap, _ = _occurrence_cap(peril.severity, terms.deductible, terms.limit)
            R = _chernoff_range([peril], [cap], terms.deductible, eps)
            h = _choose_bucket(R, [cap], n, padding) if R > 0 else 1.0
            F[r] = discretize_layer(peril.severity, terms.deductible, cap, h, n)
            H[r] = h
            infos.append((peril, terms))
        phi = sfft.rfft(F, axis=1, workers=-1)
        Z = np.empty_like(phi)
        for r, (peril, _) in enumerate(infos):
            Z[r] = peril.frequency.pgf(phi[r])
        G = sfft.irfft(Z, n=n, axis=1, workers=-1)
        # FFT round-off (~1e-17, sometimes negative) is zeroed as compound does; this also keeps
        # subnormal numbers, which slow every later dot product a hundredfold, out of G
        G[np.abs(G) < 1e-16] = 0.0
        np.maximum(G, 0.0, out=G)
        idx = np.fromiter(rows, dtype=int)
        # moments of S on the grid via matrix-vector products (k and k^2 weights)
        s1 = G @ k
        s2 = G @ (k * k)
        m_s = H * s1
        v_s = np.maximum(H * H * (s2 - s1 * s1), 0.0)
        mean = np.empty(len(rows))
        std = np.empty(len(rows))
        var = np.empty(len(rows))
        tvar = np.empty(len(rows))
        for r in range(len(rows)):
            terms = infos[r][1]
            if terms.share == 1.0 and terms.agg_deductible == 0.0 and math.isinf(terms.agg_limit):
                mean[r], std[r] = m_s[r], math.sqrt(v_s[r])
                Lr = H[r] * k
            else:
                Lr = terms.share * np.clip(H[r] * k - terms.agg_deductible, 0.0, terms.agg_limit)
                mean[r] = float(np.dot(Lr, G[r]))
                std[r] = math.sqrt(max(float(np.dot((Lr - mean[r]) ** 2, G[r])), 0.0))
            cdf_r = np.cumsum(G[r])
            var[r] = _refined_var(Lr, G[r], cdf_r, level)
            tvar[r] = _tvar_at(Lr, G[r], var[r], level)
        X = None
        for r, i in enumerate(rows):
            peril, terms = infos[r]
            chk = _moment_check([peril], terms, float(m_s[r]), float(v_s[r]), mean_rtol, var_rtol, verify=False)
            pa, pe = _exact_attach_exhaust([peril], terms)
            x = H[r] * k if (terms.agg_deductible > 0 or math.isfinite(terms.agg_limit)) else X
            if terms.agg_deductible > 0:
                pa = float(G[r, x > terms.agg_deductible + 1e-9 * H[r]].sum())
            if math.isfinite(terms.agg_limit):
                pe = float(G[r, x >= terms.agg_deductible + terms.agg_limit - 1e-9 * H[r]].sum())
            out["prob_attach"][i], out["prob_exhaust"][i] = pa, pe
            out["mean_analytic"][i] = chk.mean_analytic
            out["mean_rel_err"][i] = chk.mean_rel_err
            out["var_rel_err"][i] = chk.var_rel_err
            ok[i] = chk.ok
        for r, i in enumerate(rows):  # closed-form mean and SD where they exist (as compound does)
            terms = infos[r][1]
            if terms.agg_deductible == 0.0 and math.isinf(terms.agg_limit) and ok[i]:
                m_full, v_full = _analytic_moments([infos[r][0]], terms, verify=False)
                mean[r] = terms.share * m_full
                if math.isfinite(v_full):
                    std[r] = terms.share * math.sqrt(v_full)
        out["mean"][idx], out["std"][idx], out["var"][idx], out["tvar"][idx] = mean, std, var, tvar
        out["bucket"][idx] = H
    for a in out.values():
        a.setflags(write=False)
    ok.setflags(write=False)
    return BatchResult(out["mean"], out["std"], out["var"], out["tvar"], level, out["prob_attach"],
                       out["prob_exhaust"], out["bucket"], out["mean_analytic"], out["mean_rel_err"],
                       out["var_rel_err"], ok)
