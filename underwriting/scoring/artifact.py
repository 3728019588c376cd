"""Save and load a fitted :class:`~underwriting.scoring.model.RiskScorer` as one plain JSON file.

The file holds the format name and version, the feature-pipeline parameters, every number the
predictions use (feature names, scaler means and scales, intercept, coefficients, calibration map,
band thresholds), free-form metadata (training data, validation figures, the calibration table
the ``--plot`` option draws) and the SHA-256 of all of that. No pickle: loading runs no code.
Predictions are computed from these numbers only, and JSON writes floats with ``repr``, so a
loaded scorer reproduces the saved one's predictions bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import atomic_write_text, canonical_json, read_text
from underwriting.scoring.model import RiskScorer

FORMAT = "underwriting.scoring.RiskScorer"
FORMAT_VERSION = 1
#: Feature-pipeline parameters (keyword arguments of ``underwriting.features.exchange_features``).
DEFAULT_FEATURE_PARAMS = {"windows": [1, 3, 5], "half_life_years": 2.0, "cap_months": 120.0,
                          "freshness_half_life_years": 1.0}
_MAX_BYTES = 20 * 1024 * 1024


def _digest(body: dict) -> str:
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def save(scorer: RiskScorer, path: str | os.PathLike[str], *, feature_params: dict | None = None,
         metadata: dict | None = None) -> Path:
    """Write ``scorer`` to ``path`` (JSON, atomically). Returns the path.

    Parameters
    ----------
    feature_params : dict, optional
        Keyword arguments of :func:`underwriting.features.exchange_features` the scorer's features
        were built with (default :data:`DEFAULT_FEATURE_PARAMS`).
    metadata : dict, optional
        JSON-ready facts about the fit (data, seed, validation), stored as given.
    """
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "feature_params": dict(feature_params or DEFAULT_FEATURE_PARAMS),
        "model": scorer.to_dict(),
        "metadata": metadata or {},
    }
    try:
        doc = {**body, "sha256": _digest(body)}
        text = canonical_json(doc)
    except (TypeError, ValueError) as exc:
        raise InputError(f"scorer or metadata is not plain JSON data ({exc})", field="metadata") from None
    return atomic_write_text(path, text)


def load(path: str | os.PathLike[str]) -> RiskScorer:
    """Read a scorer written by :func:`save`.

    The returned scorer carries ``feature_params_``, ``metadata_`` and ``artifact_`` (path and
    SHA-256 of the content, for reproducing a quote) besides the fitted numbers.

    Raises
    ------
    ModelIntegrityError
        Unreadable file, wrong format or version, checksum mismatch (file altered) or
        inconsistent numbers.
    """
    p = Path(path)
    try:
        doc = json.loads(read_text(p, max_bytes=_MAX_BYTES))
    except InputError as exc:
        raise ModelIntegrityError(f"{p}: {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise ModelIntegrityError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelIntegrityError(f"{p}: not a risk-scorer file (format {doc.get('format') if isinstance(doc, dict) else None!r})")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelIntegrityError(f"{p}: format_version {doc.get('format_version')!r} is not supported "
                                  f"(this version reads {FORMAT_VERSION})")
    sha = doc.pop("sha256", None)
    if sha != _digest(doc):
        raise ModelIntegrityError(f"{p}: SHA-256 does not match the content (file altered)")
    try:
        scorer = RiskScorer.from_dict(doc["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelIntegrityError(f"{p}: inconsistent model content ({exc})") from None
    scorer.feature_params_ = dict(doc["feature_params"])
    scorer.metadata_ = doc.get("metadata", {})
    scorer.artifact_ = {"path": str(p), "sha256": sha}
    return scorer
