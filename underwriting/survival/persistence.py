"""Save and load a fitted :class:`TimeToBreachModel` as plain data (no pickle).

Layout of a model directory::

    model.json               manifest: format, constructor parameters, fitted numbers
                             (coefficients, centring means, covariance, breakpoints, follow-up),
                             library versions, and the SHA-256 of every table file
    baseline_hazard.parquet  Cox only: stratum, time, cumulative_hazard (the Breslow step function)

Floats are written by JSON with ``repr`` and by Parquet as IEEE float64, so both round-trip
exactly; since every prediction is computed from these numbers (never from lifelines' fitted
object), a loaded model reproduces the saved model's predictions bit for bit without refitting
and without importing lifelines. Each file is written atomically and ``model.json`` last, so an
interrupted save leaves no loadable half-model.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
from pathlib import Path

import numpy as np

from underwriting._version import __version__
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import atomic_write_bytes, atomic_write_text, canonical_json

FORMAT = "underwriting.survival.TimeToBreachModel"
FORMAT_VERSION = 1
MANIFEST = "model.json"
BASELINE = "baseline_hazard.parquet"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"underwriting": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "pandas", "scikit-learn", "lifelines", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return out


def _jsonable(v):
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def save(model, directory: str | os.PathLike[str]) -> Path:
    """Write a fitted model to ``directory`` (created if needed). Returns the manifest path."""
    from underwriting.survival.estimator import TimeToBreachModel

    if not isinstance(model, TimeToBreachModel) or not hasattr(model, "state_"):
        raise InputError("save() needs a fitted TimeToBreachModel", field="model")
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise InputError("is not a directory", source=str(d))
    st = model.state_
    files: dict[str, str] = {}
    if st.family == "coxph":
        import pyarrow as pa
        import pyarrow.parquet as pq

        strata = np.concatenate([np.full(t.shape[0], j, dtype=np.int64) for j, t in enumerate(st.baseline_times)])
        table = pa.table({
            "stratum": strata,
            "time": np.concatenate(st.baseline_times).astype(np.float64),
            "cumulative_hazard": np.concatenate(st.baseline_cumhaz).astype(np.float64),
        })
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        data = buf.getvalue()
        atomic_write_bytes(d / BASELINE, data)
        files[BASELINE] = hashlib.sha256(data).hexdigest()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": {k: _jsonable(v) for k, v in model.get_params(deep=False).items()},
        "state": st.to_json(),
        "fitted": {
            "n_events": int(model.n_events_),
            "follow_up": float(model.follow_up_),
            "concordance": float(model.concordance_),
            "feature_names_in": [str(c) for c in model.feature_names_in_],
        },
        "files": files,
        "versions": _versions(),
    }
    return atomic_write_text(d / MANIFEST, canonical_json(manifest))


def load(directory: str | os.PathLike[str]):
    """Load a model saved by :func:`save`; predictions equal the saved model's exactly.

    Raises
    ------
    InputError
        The directory or its manifest does not exist.
    ModelIntegrityError
        Unknown format or version, a table file missing or altered (SHA-256 mismatch).
    """
    import pandas as pd

    from underwriting.survival._hazard import HazardState
    from underwriting.survival.estimator import TimeToBreachModel

    d = Path(directory)
    mpath = d / MANIFEST
    if not d.is_dir():
        raise InputError("model directory does not exist", source=str(d))
    if not mpath.is_file():
        raise ModelIntegrityError(f"{mpath}: missing manifest (incomplete or not a survival model)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(f"{mpath}: unreadable manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise ModelIntegrityError(f"{mpath}: format {manifest.get('format')!r} is not {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelIntegrityError(f"{mpath}: format_version {manifest.get('format_version')!r} is not supported "
                                  f"(this version reads {FORMAT_VERSION})")
    tables = {}
    for name, digest in manifest.get("files", {}).items():
        fp = d / name
        if not fp.is_file():
            raise ModelIntegrityError(f"{fp}: missing")
        raw = fp.read_bytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise ModelIntegrityError(f"{fp}: SHA-256 does not match the manifest (file altered)")
        tables[name] = raw
    try:
        sj = manifest["state"]
        bt = bh = None
        if sj["family"] == "coxph":
            if BASELINE not in tables:
                raise ModelIntegrityError(f"{d}: Cox model without {BASELINE}")
            import pyarrow.parquet as pq

            # one thread: the table is small, and a parquet read with a thread pool from an in-memory
            # buffer sometimes aborts the interpreter at exit (SIGABRT, "terminate called without an
            # active exception": apache/arrow#34314; about 1 exit in 4 with pyarrow 26 here)
            tab = pq.read_table(io.BytesIO(tables[BASELINE]), use_threads=False)
            s = tab.column("stratum").to_numpy()
            t = tab.column("time").to_numpy()
            h = tab.column("cumulative_hazard").to_numpy()
            n_strata = max(1, len(sj["strata_keys"]))
            bt = [np.ascontiguousarray(t[s == j], dtype=np.float64) for j in range(n_strata)]
            bh = [np.ascontiguousarray(h[s == j], dtype=np.float64) for j in range(n_strata)]
        state = HazardState.from_json(sj, bt, bh)
        params = manifest["params"]
        fitted = manifest["fitted"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelIntegrityError(f"{mpath}: malformed manifest ({type(exc).__name__}: {exc})") from None
    for k in ("strata", "breakpoints"):
        if isinstance(params.get(k), list):
            params[k] = tuple(params[k])
    model = TimeToBreachModel(**params)
    model.state_ = state
    model.lifelines_model_ = None
    model.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
    model.n_features_in_ = len(model.feature_names_in_)
    model.n_events_ = int(fitted["n_events"])
    model.follow_up_ = float(fitted["follow_up"])
    model.concordance_ = float(fitted["concordance"])
    feats = list(state.feature_names)
    se = np.sqrt(np.clip(np.diag(state.covariance), 0, None))
    idx = {n: i for i, n in enumerate(state.param_names)}
    model.coef_ = pd.Series(state.coef.copy(), index=feats, name="coef")
    model.standard_errors_ = pd.Series([se[idx[f"beta[{f}]"]] for f in feats], index=feats, name="se")
    model.saved_versions_ = manifest.get("versions", {})
    return model
