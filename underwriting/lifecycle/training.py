"""Train a model on a book and publish it as a new registry version (manifest, model card).

Configuration (TOML, every key optional; :data:`DEFAULT_CONFIG` holds the defaults)::

    seed = 20261121                     # fold split, bootstrap; the synthetic book's seed by default

    [data]
    horizon_years = 1.0
    end = "2026-01-01"                  # user frames: end of follow-up (default: latest exit/incident)
    synthetic = { n_exchanges = 4000, years = 10, seed = 20261121 }   # when no --data is given

    [model]
    C = 0.05                            # a list (e.g. [0.01, 0.05, 0.2]) runs the grouped-CV search
    calibration = "platt"               # platt | isotonic | none
    cv = 5                              # folds of the calibration map

    [search]
    folds = 5

    [validation]
    method = "auto"                     # auto | independent_book | cv
    folds = 5
    n_boot = 500

``auto`` validates a synthetic book on an independent book (the spec with ``seed + 1``) and user
frames by grouped out-of-fold predictions. The shipped ``risk_scorer 0.1.0`` is this pipeline on
the default configuration (see :mod:`underwriting.models_build`).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from underwriting.errors import InputError
from underwriting.registry import Registry, check_name, check_version

DEFAULT_SEED = 20261121
DEFAULT_CONFIG: dict[str, Any] = {
    "seed": DEFAULT_SEED,
    "data": {"horizon_years": 1.0},
    "model": {"C": 0.05, "calibration": "platt", "cv": 5},
    "search": {"folds": 5},
    "validation": {"method": "auto", "folds": 5, "n_boot": 500},
}
_ALLOWED = {"seed": None, "data": {"horizon_years", "end", "synthetic", "path"},
            "model": {"C", "calibration", "cv", "band_thresholds"}, "search": {"folds", "C"},
            "validation": {"method", "folds", "n_boot"}, "survival": None, "frequency": None}


def load_config(config: str | os.PathLike[str] | dict | None) -> dict[str, Any]:
    """Defaults merged with a TOML file or dict; unknown keys are refused (naming the key)."""
    from underwriting.fileio import read_document

    user = {} if config is None else (dict(config) if isinstance(config, dict) else read_document(config))
    src = None if isinstance(config, dict) or config is None else str(config)
    out = copy.deepcopy(DEFAULT_CONFIG)
    for k, v in user.items():
        if k not in _ALLOWED:
            raise InputError(f"unknown configuration key (known: {', '.join(_ALLOWED)})", field=k, source=src)
        if _ALLOWED[k] is None:
            out[k] = v
            continue
        if not isinstance(v, dict):
            raise InputError("must be a table", field=k, source=src)
        for kk in v:
            if kk not in _ALLOWED[k]:
                raise InputError(f"unknown key (known: {', '.join(sorted(_ALLOWED[k]))})", field=f"{k}.{kk}", source=src)
        out.setdefault(k, {}).update(v)
    check_seed(out["seed"], field="seed", source=src)
    h = out["data"]["horizon_years"]
    if not isinstance(h, int | float) or not h > 0:
        raise InputError("must be a positive number", field="data.horizon_years", source=src)
    if out["validation"]["method"] not in ("auto", "independent_book", "cv"):
        raise InputError("must be auto, independent_book or cv", field="validation.method", source=src)
    return out


def check_seed(seed: Any, *, field: str = "seed", source: str | None = None) -> int:
    """A seed numpy and scikit-learn accept: a whole number from 0 to 2**32 - 1 (no bool, no float)."""
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise InputError(f"must be a whole number from 0 to {2**32 - 1}, got {seed!r}", field=field, source=source)
    return int(seed)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` published."""

    name: str
    version: str
    path: Path
    manifest: dict[str, Any]
    promoted: bool = False

    def summary(self) -> str:
        m = self.manifest.get("metrics", {}).get("summary", {})
        parts = [f"{k} {v:.4f}" for k, v in m.items() if isinstance(v, float)]
        return f"{self.name} {self.version} -> {self.path}" + (f" ({', '.join(parts)})" if parts else "")


def _interval(d: dict) -> str:
    return f"{d['estimate']:.4f} [{d['low']:.4f}, {d['high']:.4f}]"


def train(data: str | os.PathLike[str] | None = None, config: str | os.PathLike[str] | dict | None = None, *,
          seed: int | None = None, registry: str | os.PathLike[str] | Registry | None = None,
          name: str = "risk_scorer", version: str | None = None, backend: str = "local", scheduler: Any = None,
          n_jobs: int | None = None, promote: bool = False, replace: bool = False) -> TrainResult:
    """Fit ``name`` on ``data`` (see :mod:`underwriting.lifecycle.data`), validate it and publish it
    as ``<registry>/<name>/<version>/`` (next minor version by default), atomically.

    Parameters
    ----------
    data : path, optional
        Folder of frames, a frame file, or a TOML book spec; default the config's ``[data]``.
    config : path or dict, optional
    seed : int, optional
        Overrides the config's ``seed``.
    registry : path or Registry, optional
        Default: ``UNDERWRITING_REGISTRY`` or the shipped ``models/``.
    backend, scheduler, n_jobs
        Where the cross-validation and search run (:mod:`underwriting.lifecycle.parallel`).
    promote : bool
        Make the new version the default.
    replace : bool
        Replace an existing version of the same number (``make models``).
    """
    check_name(name)
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    reg.check_root()  # before any work
    cfg = load_config(config)
    if seed is not None:
        cfg["seed"] = check_seed(seed, field="--seed")
    version = check_version(version) if version is not None else reg.next_version(name)
    if not replace and (reg.root / name / version).exists():
        raise InputError(f"version {version} of {name!r} already exists in {reg.root}", field="--version")
    if name == "risk_scorer":
        files, manifest = _train_scorer(data, cfg, version, backend=backend, scheduler=scheduler, n_jobs=n_jobs)
    elif name == "survival":
        files, manifest = _train_survival(data, cfg, version)
    elif name == "frequency":
        from underwriting.lifecycle.frequency import train_frequency

        src = None if config is None or isinstance(config, dict) else str(config)
        files, manifest = train_frequency(data, cfg, version, config_source=src)
    else:
        raise InputError(f"no trainer for model {name!r} (trainable: risk_scorer, survival, frequency)",
                         field="--name")
    build = manifest.pop("build", {})
    with reg.stage(name, version, replace=replace) as st:
        for rel, writer in files.items():
            writer(st.dir / rel)
        st.manifest.update(manifest)
        st.manifest["build"] = build
    doc = reg.verify(name, version)
    promoted = False
    if promote and name == "frequency":  # the premium-setting model goes through the promotion gate
        from underwriting.lifecycle.gate import promote_frequency

        try:
            promote_frequency(reg, version, note="promoted at training")
        except InputError as exc:
            raise InputError(f"trained {name} {version} (published, not the default): {exc}") from None
        promoted = True
    elif promote:
        reg.promote(name, version, note="promoted at training")
        promoted = True
    return TrainResult(name=name, version=version, path=reg.path(name, version), manifest=doc, promoted=promoted)


# --------------------------------------------------------------------------- risk scorer


def _train_scorer(data, cfg: dict, version: str, *, backend: str, scheduler: Any, n_jobs: int | None):
    from underwriting.fileio import atomic_write_text
    from underwriting.lifecycle.book_files import load_book
    from underwriting.lifecycle.data import synthetic_book, training_set
    from underwriting.lifecycle.parallel import backend as use_backend
    from underwriting.lifecycle.parallel import out_of_fold, search_C
    from underwriting.scoring.artifact import DEFAULT_FEATURE_PARAMS, save
    from underwriting.scoring.model import RiskScorer
    from underwriting.scoring.validation import validate_scores

    seed = cfg["seed"]
    if data is None and "synthetic" in cfg["data"]:
        cfg["data"]["synthetic"] = {"seed": seed, **cfg["data"]["synthetic"]}
    book = load_book(data, cfg)
    h = float(cfg["data"]["horizon_years"])
    ts = training_set(book, h)
    mcfg, vcfg = cfg["model"], cfg["validation"]
    grid = cfg["search"].get("C", mcfg["C"] if isinstance(mcfg["C"], list) else None)
    params = {"horizon_years": h, "random_state": seed, "calibration": mcfg["calibration"], "cv": int(mcfg["cv"])}
    if "band_thresholds" in mcfg:
        params["band_thresholds"] = tuple(float(t) for t in mcfg["band_thresholds"])
    search = None
    with use_backend(backend, scheduler, n_jobs) as ctx:
        if grid is not None:
            search = search_C(ts.features, ts.y, ts.groups, grid if isinstance(grid, list) else [grid], params,
                              n_splits=int(cfg["search"]["folds"]), seed=seed, ctx=ctx)
            C = search["best_C"]
        else:
            C = float(mcfg["C"])
        scorer = RiskScorer(C=C, **params).fit(ts.features, ts.y, groups=ts.groups)
        if float(np.ptp(scorer.p_breach(ts.features))) == 0.0:
            raise InputError(f"the fitted scorer is degenerate: every row gets the same probability (calibration "
                             f"{scorer.calibration_}); try [model] calibration = 'isotonic', another seed or more "
                             "data", field="model.calibration")
        method = vcfg["method"]
        if method == "auto":
            method = "independent_book" if book.source["kind"] == "synthetic" else "cv"
        if method == "independent_book":
            if book.source["kind"] != "synthetic":
                raise InputError("independent_book validation needs a synthetic book", field="validation.method")
            spec = {**book.source["spec"], "seed": book.source["spec"]["seed"] + 1}
            test = training_set(synthetic_book(spec), h)
            y_v, p_v, o_v, g_v = test.y, scorer.p_breach(test.features), test.oracle, test.groups
            v_desc = f"independent synthetic book (generator seed {spec['seed']}; {len(test.y)} rows)"
        else:
            y_v, o_v, g_v = ts.y, ts.oracle, ts.groups
            p_v = out_of_fold(ts.features, ts.y, ts.groups, {**params, "C": C}, n_splits=int(vcfg["folds"]),
                              seed=seed, ctx=ctx)
            v_desc = f"grouped {int(vcfg['folds'])}-fold out-of-fold predictions on the training rows"
    report = validate_scores(y_v, p_v, oracle=o_v, groups=g_v, n_boot=int(vcfg["n_boot"]), seed=seed)
    synthetic = book.source["kind"] == "synthetic"
    if synthetic:
        sp = book.source["spec"]
        extra = {k: v for k, v in sp.items() if k not in ("n_exchanges", "years", "seed")}
        meta = {
            "version": version,
            "trained_on": "SYNTHETIC data: underwriting.datasets.synthetic.make_exchange_portfolio "
                          f"(n_exchanges={sp['n_exchanges']}, years={sp['years']}, seed={sp['seed']}"
                          + "".join(f", {k}={v}" for k, v in extra.items())
                          + "); posture effects are the generator's assumptions, not estimates from real outcomes",
            "training": {"generator": "make_exchange_portfolio", "n_exchanges": sp["n_exchanges"], "years": sp["years"],
                         "seed": sp["seed"], "rows": int(len(ts.y)), "events": int(ts.y.sum()),
                         "landmarks": "yearly from the window start", "horizon_years": h},
            "validation": {"generator_seed": sp["seed"] + 1, **report.to_dict()} if method == "independent_book"
            else {"method": v_desc, **report.to_dict()},
        }
    else:
        meta = {"version": version, "trained_on": book.description,
                "training": {"rows": int(len(ts.y)), "events": int(ts.y.sum()), "horizon_years": h,
                             "landmarks": "yearly from the window start", "data_sha256": book.fingerprint()},
                "validation": {"method": v_desc, **report.to_dict()}}
    if search is not None:
        meta["training"]["C"] = C
    rep = report.to_dict()
    summary = {"auc": rep["auc"]["estimate"], "brier": rep["brier"]["estimate"], "ece": rep["ece"]["estimate"]}
    if "oracle_auc" in rep:
        summary["oracle_auc"] = rep["oracle_auc"]["estimate"]
    manifest = {
        "data": {"fingerprint_sha256": book.fingerprint(), "source": book.source, "description": book.description,
                 "parts": book.parts, "window": [str(book.start.date()), str(book.end.date())],
                 "exchanges": int(len(book.exchanges)), "rows": int(len(ts.y)), "events": int(ts.y.sum())},
        "training": {"seed": seed, "config": _plain(cfg), "C": C, "search": search},
        "build": {"data_path": str(data) if data is not None else None, "backend": backend},
        "metrics": {"summary": summary, "validation_method": v_desc,
                    **{k: v for k, v in rep.items() if k != "calibration"}},
    }
    card = render_scorer_card(version, meta, manifest, scorer, synthetic=synthetic)
    files = {
        "scorer.json": lambda p: save(scorer, p, feature_params=DEFAULT_FEATURE_PARAMS, metadata=meta),
        "MODEL_CARD.md": lambda p: atomic_write_text(p, card),
    }
    return files, manifest


def _plain(obj):
    import json

    return json.loads(json.dumps(obj, default=str))


def render_scorer_card(version: str, meta: dict, manifest: dict, scorer, *, synthetic: bool) -> str:
    """MODEL_CARD.md of a risk scorer: intended use, data (real vs synthetic), metrics, limits.

    Holds no timestamp or git revision, so the same training gives the same bytes.
    """
    v = meta["validation"]
    d = manifest["data"]
    t = manifest["training"]
    lines = [
        f"# Risk scorer {version} — model card", "",
        "**Intended use.** The calibrated probability that an exchange suffers at least one hack or theft "
        f"within **{scorer.horizon_years:g} year(s)** of its submission's as-of date, a band A–E, a 0–100 risk "
        "score and reason codes, as one input of an underwriter's quote (`underwriting score`, `quote`). "
        "Not a credit rating, not a decision on its own.", "",
        "**Data.** " + d["description"] + ".", "",
    ]
    for kind in ("real", "synthetic"):
        items = d["parts"].get(kind) or []
        lines.append(f"- *{kind}*: " + ("; ".join(items) if items else "none"))
    if synthetic:
        lines += ["", "The posture effects in this model are learnt from **SYNTHETIC data**: the coefficients show "
                  "what the generator put in, as recovered by the model — not evidence about real exchanges."]
    lines += [
        "", f"Training rows: {d['rows']:,} exchange-year landmarks, {d['events']:,} events "
        f"({d['events'] / max(d['rows'], 1):.1%}); window {d['window'][0]} to {d['window'][1]}; "
        f"data fingerprint (SHA-256) `{d['fingerprint_sha256'][:16]}…`.", "",
        f"**Model.** L2-penalised logistic regression (C = {t['C']:g}) on {len(scorer.features_)} standardised "
        "features (posture, exposure, incident history as of the landmark date, vendors), coefficient signs "
        f"constrained to the documented directions, {scorer.calibration} calibration on out-of-fold scores "
        f"({scorer.cv} folds grouped by exchange, seed {t['seed']}). Plain JSON (`scorer.json`); no pickle.",
    ]
    if t.get("search"):
        res = ", ".join(f"C={r['C']:g}: AUC {r['auc']:.4f}" for r in t["search"]["results"])
        lines.append(f"C chosen by {t['search']['metric']} over {t['search']['folds']} folds ({res}).")
    lines += ["", f"**Validation** on {manifest['metrics']['validation_method']} "
              f"({v['n']:,} rows, {v['events']:,} events; 95% exchange-clustered bootstrap intervals):", "",
              "| metric | scorer | oracle (knows the true hazard) |", "| --- | --- | --- |"]
    for label, key in (("ROC AUC", "auc"), ("Brier", "brier"), ("ECE", "ece")):
        o = v.get(f"oracle_{key}")
        lines.append(f"| {label} | {_interval(v[key])} | {_interval(o) if o else '—'} |")
    if v.get("auc_gap"):
        lines.append(f"| AUC − oracle AUC | {_interval(v['auc_gap'])} | |")
    lines += [
        "", "**Limitations.**",
        "- Not validated on real outcomes with posture (no public data joins posture to breaches)."
        if synthetic else "- Validated only on the data it was trained on (out-of-fold); check it out of time "
        "(`underwriting evaluate`) before relying on it.",
        "- `vendors_shared` counts vendors shared with other exchanges *of the book being scored*; a lone "
        "submission always has 0.",
        "- Vendor compromises are only known from the incidents given.",
        "- Exposure far outside the training ranges is extrapolated linearly in log-odds.",
        "- Posture is treated as static over the training window; dated answers are aged relative to the as-of date.",
        "", "Reproduce: `python -m underwriting.models_build` (shipped versions) or `underwriting train` with the "
        "configuration recorded in `manifest.json`.", "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- survival


def _train_survival(data, cfg: dict, version: str):
    """The landmark piecewise-exponential time-to-breach model of :mod:`underwriting.survival.landmarks`
    (the one the quote's frequency uses), fitted on a synthetic book spec and validated against the
    oracle on the independent book (seed + 1). Files: ``model.json`` (and any table) from
    ``underwriting.survival.save``, ``training.json`` (as ``survival.landmarks.build_model`` writes it),
    ``MODEL_CARD.md``."""
    import tempfile

    from underwriting.fileio import atomic_write_text, canonical_json, read_document
    from underwriting.survival import save as save_survival
    from underwriting.survival.landmarks import DEFAULTS, fit_shipped_survival

    spec = dict((cfg.get("data") or {}).get("synthetic") or {})
    if data is not None:
        if Path(data).suffix.lower() != ".toml":
            raise InputError("survival training takes a synthetic book spec (.toml with [data.synthetic]); "
                             "training it on user frames is not supported yet", field="--data")
        spec = dict((read_document(data).get("data") or {}).get("synthetic") or {})
    from underwriting.lifecycle.data import synthetic_spec

    n, years, seed, extra = synthetic_spec({"n_exchanges": DEFAULTS["n_exchanges"], "years": DEFAULTS["years"],
                                            "seed": cfg["seed"], **spec})
    if extra:
        raise InputError(f"survival training takes only n_exchanges, years and seed (got {sorted(extra)})",
                         field="data.synthetic")
    scfg = {**(cfg.get("survival") or {})}
    kw = {"n_exchanges": n, "years": years, "seed": seed,
          "horizon": float(scfg.get("horizon", DEFAULTS["horizon"])),
          "breakpoints": tuple(float(b) for b in scfg.get("breakpoints", DEFAULTS["breakpoints"]))}
    if "penalizer" in scfg:     # recorded only when set: the shipped models' configurations stay as built
        kw["penalizer"] = float(scfg["penalizer"])
    model, meta = fit_shipped_survival(**kw)
    meta = {"version": version, **meta}
    with tempfile.TemporaryDirectory() as tmp:
        save_survival(model, tmp)
        blobs = {q.name: q.read_bytes() for q in Path(tmp).iterdir() if q.is_file()}
    blobs["training.json"] = canonical_json(meta).encode("utf-8")
    from underwriting.lifecycle.data import synthetic_book

    book = synthetic_book({"n_exchanges": kw["n_exchanges"], "years": kw["years"], "seed": kw["seed"]})
    v = meta["validation"]
    summary = {"harrell_c_1y": float(v["harrell_c_1y_model"]), "harrell_c_1y_oracle": float(v["harrell_c_1y_oracle"]),
               "ici_1y": float(v["ici_1y"]), "mean_predicted_1y": float(v["mean_predicted_1y"]),
               "mean_oracle_1y": float(v["mean_oracle_1y"])}
    manifest = {
        "data": {"fingerprint_sha256": book.fingerprint(), "source": book.source, "description": book.description,
                 "parts": book.parts, "window": [str(book.start.date()), str(book.end.date())],
                 "exchanges": int(len(book.exchanges)), "rows": int(meta["design"]["n_rows"]),
                 "events": int(meta["design"]["n_events"])},
        "training": {"seed": kw["seed"], "config": _plain({**kw, "breakpoints": list(kw["breakpoints"]),
                                                          "family": "piecewise_exponential"})},
        "metrics": {"summary": summary, "validation_method": f"independent synthetic book (generator seed "
                                                             f"{v['generator_seed']})", **_plain(v)},
    }
    d = meta["design"]
    card = "\n".join([
        f"# Survival model {version} — model card", "",
        "**Intended use.** Breach frequency over a policy window for the quote: the cumulative hazard of the "
        "exchange's next breach from its as-of date (expected breaches, P(at least one)), from the same posture, "
        "exposure, vendor and history features as the risk scorer.", "",
        f"**Data.** {book.description}.", "",
        *[f"- *{k}*: " + ("; ".join(book.parts.get(k) or []) or "none") for k in ("real", "synthetic")], "",
        "The posture effects are learnt from **SYNTHETIC data** (the generator's assumptions), not from real outcomes.",
        "", f"**Model.** {d['family']} on time since yearly landmarks (breakpoints {d['breakpoints']} years, "
        f"follow-up {d['horizon_years']} years), {d['n_features']} features, {d['n_rows']:,} rows, "
        f"{d['n_events']:,} events. Plain data (`model.json`); no pickle.", "",
        f"**Validation** on the independent synthetic book (seed {v['generator_seed']}; {v['n_rows']:,} rows, "
        f"{v['n_events']:,} events):", "", "| metric (1 year) | model | oracle |", "| --- | --- | --- |",
        f"| Harrell's C | {v['harrell_c_1y_model']:.4f} | {v['harrell_c_1y_oracle']:.4f} |",
        f"| mean predicted P(breach) | {v['mean_predicted_1y']:.4f} | {v['mean_oracle_1y']:.4f} |",
        f"| ICI / E50 | {v['ici_1y']:.4f} / {v['e50_1y']:.4f} | |", "",
        "**Limitations.** Not validated on real outcomes with posture; a policy window beyond the follow-up "
        f"({d['horizon_years']} years from the as-of date) is refused, never extrapolated; breaches are treated "
        "as a Poisson process given the covariates (no self-excitation).", ""])
    out = {name: (lambda q, b=b: Path(q).write_bytes(b)) for name, b in blobs.items()}
    out["MODEL_CARD.md"] = lambda q: atomic_write_text(q, card)
    return out, manifest
