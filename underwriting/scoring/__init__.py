"""Calibrated risk scoring of exchanges: P(breach within the horizon), band, score and reasons.

* :class:`~underwriting.scoring.model.RiskScorer` — monotone-constrained penalised logistic
  regression with out-of-fold calibration, bands and reason codes;
* :mod:`~underwriting.scoring.artifact` — ``save``/``load`` as plain JSON (no pickle);
* :mod:`~underwriting.scoring.validation` — AUC, Brier, calibration curve, ECE, bootstrap intervals;
* :mod:`~underwriting.scoring.shipped` — landmark training rows and the fit of the shipped scorer
  on the seeded synthetic book;
* :func:`score_submission` — what ``underwriting score`` and ``quote`` call.

Heavy libraries are imported inside the functions, so importing this package is cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from underwriting.caches import register_cache

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from underwriting.domain.currency import FxTable
    from underwriting.domain.submission import Submission
    from underwriting.scoring.model import Reason, RiskScorer

#: Version of the shipped scorer under ``models/risk_scorer/<version>/scorer.json``.
DEFAULT_MODEL_VERSION = "0.1.0"
MODEL_FILE = "scorer.json"

__all__ = ["ScoreResult", "score_submission", "score_frames", "default_model_path", "load_scorer",
           "DEFAULT_MODEL_VERSION"]


def default_model_path(version: str | None = None) -> Path:
    """Path of a registry scorer (``<registry>/risk_scorer/<version>/scorer.json``).

    ``version=None`` means the registry's default (``DEFAULT``, or a version pinned with
    :func:`underwriting.registry.pinned`). The registry is ``UNDERWRITING_REGISTRY`` or the shipped
    ``models/``.
    """
    from underwriting.registry import Registry

    reg = Registry()
    return reg.path("risk_scorer", reg.resolve("risk_scorer", version)) / MODEL_FILE


_CACHE: dict[tuple[str, int, int], RiskScorer] = register_cache({}, "scoring._CACHE", static=True)


def _load_registry_version(directory: Path) -> RiskScorer:
    """Loader of the registry kind ``risk_scorer`` (a verified version folder)."""
    from underwriting.scoring.artifact import load

    return load(Path(directory) / MODEL_FILE)


def _register_kind() -> None:
    from underwriting.registry.kinds import register_kind

    register_kind("risk_scorer", _load_registry_version, "calibrated P(breach within the horizon) (scorer.json)")


_register_kind()


def load_scorer(path: str | os.PathLike[str] | None = None) -> RiskScorer:
    """Load a scorer file, or the registry's default scorer when ``path`` is None.

    The default goes through the model registry: its version folder is checked against
    ``manifest.json`` (every file's SHA-256; unknown or altered files are refused with
    :class:`~underwriting.errors.ModelIntegrityError`) before the file is read. A file given by
    ``path`` is checked against its own embedded SHA-256. Both are cached per content.
    """
    from underwriting.scoring.artifact import load

    if path is None:
        from underwriting.registry import load_model

        return load_model("risk_scorer")
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    scorer = load(p)
    if key is not None:
        _CACHE[key] = scorer
    return scorer


@dataclass(frozen=True)
class ScoreResult:
    """The risk score of one submission.

    Attributes
    ----------
    p_breach : float
        Calibrated probability of at least one breach within ``horizon_years``.
    band : str
        ``A`` (lowest risk) … ``E``; thresholds in ``band_thresholds``.
    risk_score : float
        0–100, linear in log-odds (see :func:`underwriting.scoring.model.risk_score`).
    reasons : tuple of Reason
        Features moving this exchange's risk most, relative to the model's reference exchange.
    unknown_answers : tuple of str
        Questionnaire items answered "unknown" (scored through their own indicators).
    model : dict
        Which scorer produced this (path, version, SHA-256, what its effects rest on).
    """

    exchange: str
    as_of: str
    p_breach: float
    band: str
    risk_score: float
    horizon_years: float
    reasons: tuple[Reason, ...]
    band_thresholds: tuple[float, ...]
    unknown_answers: tuple[str, ...] = ()
    model: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict; keys ``risk_score``, ``band``, ``p_breach``, ``horizon_years``, ``reasons``…"""
        return {
            "exchange": self.exchange, "as_of": self.as_of,
            "risk_score": round(self.risk_score, 2), "band": self.band, "p_breach": self.p_breach,
            "horizon_years": self.horizon_years,
            "reasons": [r.to_dict() for r in self.reasons],
            "band_thresholds": list(self.band_thresholds),
            "unknown_answers": list(self.unknown_answers), "model": dict(self.model),
        }


def score_frames(exchanges: pd.DataFrame, vendors: pd.DataFrame | None = None,
                 incidents: pd.DataFrame | None = None, *, scorer: RiskScorer | None = None,
                 compromises: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score every row of an exchange frame (features as of each row's ``as_of``).

    Returns a frame indexed like ``exchanges`` with ``p_breach``, ``band``, ``risk_score`` and the
    feature columns the scorer used.
    """
    from underwriting.features import exchange_features
    from underwriting.scoring.model import risk_score

    scorer = scorer if scorer is not None else load_scorer()
    params = getattr(scorer, "feature_params_", None) or {}
    feats = exchange_features(incidents, vendors, compromises, **params).fit_transform(exchanges)
    p = scorer.p_breach(feats)
    out = feats[scorer.features_].copy()
    out.insert(0, "risk_score", risk_score(p))
    out.insert(0, "band", scorer.bands(feats))
    out.insert(0, "p_breach", p)
    return out


def score_submission(submission: Submission, fx: FxTable | None = None, *, scorer: RiskScorer | None = None,
                     n_reasons: int = 5, features: pd.DataFrame | None = None) -> ScoreResult:
    """Score one submission with the shipped scorer (or ``scorer``).

    Parameters
    ----------
    submission : Submission
    fx : FxTable, optional
        Rates for non-USD amounts (the bundled table by default).
    scorer : RiskScorer, optional
        A fitted scorer (e.g. from :func:`load_scorer`); the shipped default otherwise.
    n_reasons : int
        Number of reason codes to return.
    features : DataFrame, optional
        The submission's feature row already built with the scorer's feature parameters
        (:func:`underwriting.features.submission_features`); built here otherwise.
    """
    from underwriting.domain.frames import submission_frames
    from underwriting.features import exchange_features
    from underwriting.features.posture import POSTURE_INPUT_COLUMNS
    from underwriting.scoring.model import risk_score

    scorer = scorer if scorer is not None else load_scorer()
    exchanges, vendors, incidents = submission_frames([submission], fx)
    if features is None:
        params = getattr(scorer, "feature_params_", None) or {}
        feats = exchange_features(incidents, vendors, **params).fit_transform(exchanges)
    else:
        feats = features
    p = float(scorer.p_breach(feats)[0])
    row = exchanges.iloc[0]
    unknown = tuple(c for c in POSTURE_INPUT_COLUMNS if c != "as_of" and not c.endswith("_status")
                    and (row[c] == "unknown" or row.get(f"{c}_status") == "unknown"))
    meta = getattr(scorer, "metadata_", {}) or {}
    model = {**{k: meta[k] for k in ("version", "trained_on") if k in meta},
             **(getattr(scorer, "artifact_", None) or {})}
    return ScoreResult(
        exchange=submission.exchange.name, as_of=submission.as_of.isoformat(), p_breach=p,
        band=str(scorer.bands(feats)[0]), risk_score=float(risk_score(p)),
        horizon_years=float(scorer.horizon_years), reasons=tuple(scorer.reasons(feats, n_reasons)[0]),
        band_thresholds=tuple(float(t) for t in scorer.band_thresholds), unknown_answers=unknown,
        model=model,
    )
