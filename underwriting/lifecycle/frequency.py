"""Train, evaluate and compare the premium-setting ``frequency`` model on user cohort data.

* :func:`train_frequency` fits the base Poisson model (:mod:`underwriting.frequency.base_model`)
  and the experience prior strength ``α`` (:func:`underwriting.frequency.experience.estimate_prior_strength`)
  on a cohort folder, and returns the files and manifest of a registry version, including the
  per-row fingerprint of the training rows (``training_rows.json``) and its own out-of-time check;
* :func:`evaluate_frequency`: out of time by default: the version's configuration is refitted on the
  rows that end before a cut-off (a 1 January) and scored on the rows from it; the stored version is
  scored on the same rows, labelled ``in_sample`` when they overlap the rows it was fitted on;
  observed/expected with exact Poisson intervals overall and by decile of predicted rate, Harrell's
  concordance of the predicted rate with the time to the first breach after the cut-off;
* :func:`compare_frequency`: both versions scored on the same rows, paired exchange-bootstrap
  intervals of B − A, and no winner named on in-sample rows unless ``allow_in_sample``.

Rates of panel rows use the row's own within-list volume rank (``volume_pct``), as at fit time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from underwriting.errors import InputError
from underwriting.lifecycle.frequency_metrics import (  # noqa: F401 - re-exported
    DEFAULT_LEVEL,
    check_cutoff,
    concordance,
    deciles,
    default_cutoff,
    exchange_table,
    frequency_config,
    paired_metrics,
    panel_rates,
    score_block,
)

NAME = "frequency"


# --------------------------------------------------------------------------- in-sample detection


def training_keys(reg: Any, version: str) -> tuple[set[str] | None, str]:
    """The row keys a version was fitted on, and where they come from.

    ``training_rows.json`` when the version has one; for a version without it (the shipped 0.1.0),
    the shipped cohort panel when the manifest's data file hashes equal the shipped files; else
    ``None`` (unknown).
    """
    from underwriting.lifecycle.cohort_data import load_cohort_data, row_keys

    folder = reg.path(NAME, version)
    f = folder / "training_rows.json"
    if f.is_file():
        doc = json.loads(f.read_text(encoding="utf-8"))
        return set(doc["rows"]), "training_rows.json"
    man = reg.read_manifest(NAME, version)
    files = (man.get("data") or {}).get("files_sha256") or {}
    shipped = load_cohort_data(None)
    if files and all(shipped.files.get(k) == v for k, v in files.items() if k in shipped.files) \
            and {"cohorts.csv", "incidents.csv", "exchanges.csv"} <= set(files):
        return set(row_keys(shipped.panel())), "shipped data (manifest data hashes match)"
    return None, "unknown (the version records no training rows)"


def _in_sample(keys: set[str] | None, scored: list[str]) -> dict[str, Any]:
    if keys is None:
        return {"in_sample": None, "overlap_rows": None, "scored_rows": len(scored)}
    n = sum(1 for k in scored if k in keys)
    return {"in_sample": bool(n > 0), "overlap_rows": int(n), "scored_rows": len(scored)}


# --------------------------------------------------------------------------- train


def _fit(data: Any, panel: Any, params: dict[str, Any]) -> Any:
    from underwriting.frequency.base_model import BaseFrequencyModel

    kw = {"trend": params["trend"], "trend_alpha": params["trend_alpha"], "level": params["level"],
          "covariates": tuple(params["covariates"])}
    return BaseFrequencyModel(**kw).fit(panel, panel["breaches"], reference_volume_usd=data.reference_volume())


def fit_panel(data: Any, params: dict[str, Any]) -> Any:
    """The panel rows of ``data`` the configuration fits on: ``[frequency] population`` (``recorded``: rows
    whose exchange has a country, the shipped recipe; ``all``: every row)."""
    from underwriting.frequency.base_survival import recorded_mask

    panel = data.panel()
    if params.get("population", "recorded") == "recorded":
        panel = panel[recorded_mask(panel)].reset_index(drop=True)
    return panel


def segments(test: Any, rates: Any, level: float, top_n: int = 100) -> list[dict[str, Any]]:
    """Out-of-time O/E rows of the gate (``metrics.out_of_time.segments``): every scored row, each third of
    within-list volume rank, and the ``top_n`` largest exchanges of the latest list in the rows."""
    from underwriting.frequency.base_validation import oe_row

    mu = np.asarray(rates, dtype=float) * test["exposure_years"].to_numpy(float)
    t = test.assign(mu=mu)
    rows = [oe_row("all scored rows", int(t["breaches"].sum()), float(t["mu"].sum()), level)]
    for i in range(3):
        s = t[(t["volume_pct"] >= i / 3) & ((t["volume_pct"] < (i + 1) / 3) | (i == 2))]
        rows.append(oe_row(f"volume third {i + 1}", int(s["breaches"].sum()), float(s["mu"].sum()), level))
    latest = t[t["snapshot"] == t["snapshot"].max()] if "snapshot" in t else t
    big = latest.groupby("exchange_id")["volume_24h_usd"].first().sort_values(ascending=False).head(top_n).index
    s = t[t["exchange_id"].isin(big)]
    rows.append(oe_row(f"largest {top_n} of the latest list", int(s["breaches"].sum()), float(s["mu"].sum()), level))
    return [{k: r[k] for k in ("segment", "observed", "expected", "oe", "interval", "level", "inside")} for r in rows]


def out_of_time(data: Any, params: dict[str, Any], cutoff: Any, *, n_boot: int = 200, seed: int = 0,
                extra_models: dict[str, Any] | None = None) -> dict[str, Any]:
    """Refit ``params`` on rows ending by ``cutoff``, score rows from it; optionally score stored models too."""
    panel = fit_panel(data, params)
    train = panel[panel["stop"] <= cutoff].reset_index(drop=True)
    test = panel[panel["start"] >= cutoff].reset_index(drop=True)
    if train["breaches"].sum() == 0 or test.empty:
        raise InputError(f"the cut-off {cutoff.date()} leaves no breach before it or no row after it",
                         field="--cutoff")
    refit = _fit(data, train, params)
    bd = data.breach_dates()
    level = params["level"]
    out = {"cutoff": str(cutoff.date()), "end": str(data.end.date()),
           "fit_rows": int(len(train)), "fit_events": int(train["breaches"].sum()),
           "scored_rows": int(len(test)), "scored_events": int(test["breaches"].sum()),
           "refit": {"terms": refit.terms_, "trend_kept": bool(refit.trend_test_["kept"]),
                     **score_block(exchange_table(test, panel_rates(refit, test), bd), level, n_boot=n_boot, seed=seed)},
           "segments": segments(test, panel_rates(refit, test), level)}
    for k, m in (extra_models or {}).items():
        out[k] = score_block(exchange_table(test, panel_rates(m, test), bd), level, n_boot=n_boot, seed=seed)
    return out, test


def train_frequency(data_path: Any, cfg: dict[str, Any], version: str, *, config_source: str | None = None):
    """Fit the base model and ``α`` on a cohort folder; return ``(files, manifest)`` for the registry."""
    from underwriting.frequency.experience_prior import fit_experience_prior
    from underwriting.lifecycle.cohort_data import ROW_KEY, load_cohort_data, row_keys

    if data_path is None:
        raise InputError("pass --data DIR (a cohort folder; `underwriting datasets export-cohorts DIR` writes one)",
                         field="--data")
    params = frequency_config(cfg, config_source)
    data = load_cohort_data(data_path, end=params["end"])
    panel = fit_panel(data, params)
    model = _fit(data, panel, params)
    experience = fit_experience_prior(model, panel)  # bounded: always finite, never refuses on dispersion
    cutoff = check_cutoff(params["cutoff"], data.end, "frequency.cutoff") if params["cutoff"] else default_cutoff(data.end)
    oot, _ = out_of_time(data, params, cutoff, n_boot=int(cfg.get("validation", {}).get("n_boot", 200)),
                         seed=int(cfg["seed"]))
    keys = sorted(set(row_keys(panel)))
    # stored as the quote reads it (BaseFrequencyModel.experience_prior_ -> model.json "experience_prior")
    if params["prior_strength"] is not None:
        experience["estimated_alpha"] = experience["alpha"]
        experience["alpha"] = float(params["prior_strength"])
        experience["method"] = "given in the configuration ([frequency] prior_strength); estimate kept as estimated_alpha"
    model.experience_prior_ = experience
    doc = model.to_dict()
    doc.setdefault("experience_prior", experience)
    report = {
        "effects": {t: {k: float(v) for k, v in row.items()} for t, row in model.effects_.iterrows()},
        "trend_test": model.trend_test_, "experience": experience,
        "in_sample": {"observed": model.events_, "fitted": float(model.fitted_.sum()),
                      "exposure_years": model.exposure_years_, "rows": model.n_obs_,
                      "exchanges": int(panel["exchange_id"].nunique())},
        "out_of_time": oot, "config": params,
    }
    cal = oot["refit"]["calibration"]
    manifest = {
        "data": {
            "description": f"cohort folder {data.source} (follow-up to {data.end.date()})",
            "source": data.source, "events": model.events_, "rows": model.n_obs_,
            "exposure_years": model.exposure_years_, "fingerprint_sha256": model.fingerprint_,
            "files_sha256": data.files,
            "row_fingerprint": {"file": "training_rows.json", "key": ROW_KEY, "rows": len(keys)},
            "parts": {"real": ["the cohort folder's exchanges, covariates and breaches as given"], "synthetic": []},
            "window": [str(panel["start"].min().date()), str(data.end.date())],
        },
        "training": {"seed": int(cfg["seed"]), "config": params},
        "metrics": {"summary": {"events": model.events_, "oe_out_of_time": cal["oe"],
                                "oe_out_of_time_lo": cal["interval"][0], "oe_out_of_time_hi": cal["interval"][1],
                                "concordance_out_of_time": oot["refit"]["concordance"]["estimate"],
                                "prior_strength": experience["alpha"]},
                    "out_of_time": {"cutoff": oot["cutoff"], "calibration": cal, "segments": oot["segments"]}},
    }

    def dump(obj):
        return lambda p: p.write_text(json.dumps(obj, indent=1, sort_keys=True, default=float, allow_nan=False) + "\n",
                                      encoding="utf-8")

    files = {"model.json": dump(doc), "training.json": dump(report),
             "training_rows.json": dump({"key": ROW_KEY, "rows": keys}),
             "MODEL_CARD.md": lambda p: p.write_text(frequency_card(version, model, report, manifest), encoding="utf-8")}
    return files, manifest


def _num(x: float) -> float | None:
    """JSON-safe number (an infinite α is stored as null: counts no more spread out than Poisson)."""
    return float(x) if math.isfinite(x) else None


def _fmt(x: float | None) -> str:
    return "∞" if x is None else f"{x:.3g}"


def frequency_card(version: str, model: Any, rep: dict[str, Any], manifest: dict[str, Any]) -> str:
    """MODEL_CARD.md of a frequency version trained on a cohort folder."""
    eff = "\n".join(f"| {t} | {e['coef']:+.3f} | {e['se']:.3f} | {e['rate_ratio']:.3f} | {e['lo']:.3f}–{e['hi']:.3f} |"
                    for t, e in rep["effects"].items())
    oot = rep["out_of_time"]
    cal = oot["refit"]["calibration"]
    conc = oot["refit"]["concordance"]
    ex = rep["experience"]
    a = f"{ex['alpha']:.3g}"
    ins = rep["in_sample"]
    return f"""# Frequency {version} — model card

**Intended use.** The base annual breach rate of a centralised exchange (size, jurisdiction group,
CryptoCompare grade) and the experience prior strength α: the premium-setting breach frequency.

**Data.** {manifest['data']['description']}: {ins['exchanges']} exchanges, {ins['exposure_years']:,.1f}
exchange-years, {ins['observed']} breaches, {ins['rows']} exchange × calendar-piece rows (row fingerprints in
`training_rows.json`; data file hashes in the manifest). Synthetic parts: none.

**Model.** Poisson regression with log-exposure offset (piecewise exponential), Newton-Raphson;
trend test p = {rep['trend_test']['p']:.3f} ({'kept' if rep['trend_test']['kept'] else 'not kept'}).

| term | coef | SE | rate ratio | {int(model.level * 100)}% Wald |
| --- | --- | --- | --- | --- |
{eff}

**Experience prior.** α = {a}: {ex['method']}, bounds {_fmt(ex.get('bounds', [None, None])[0])}–{_fmt(ex.get('bounds', [None, None])[1])}
(`underwriting/frequency/experience.toml`); unbounded maximum likelihood {_fmt(ex.get('mle_alpha'))}, 90% profile-likelihood
interval {_fmt(ex['interval'][0])}–{_fmt(ex['interval'][1])} (∞: the counts cannot exclude "no spread"). Stored in
`model.json` (`experience_prior`) for the quote's experience rating.

**Out-of-time validation.** Refitted on {oot['fit_rows']} rows ending by {oot['cutoff']} ({oot['fit_events']} breaches),
scored on {oot['scored_rows']} rows from it: observed {cal['observed']}, expected {cal['expected']:.2f},
O/E {cal['oe']:.2f} ({int(cal['level'] * 100)}% exact Poisson {cal['interval'][0]:.2f}–{cal['interval'][1]:.2f}:
{'calibrated' if cal['within'] else 'OUTSIDE the interval'}); concordance {conc['estimate']:.3f}
[{conc['interval'][0]:.3f}, {conc['interval'][1]:.3f}].

**Limits.** Hacks of small exchanges are under-recorded; closures are known only for roster exchanges;
few breaches support few covariates. Plain data (`model.json`); no pickle.
"""


# --------------------------------------------------------------------------- evaluate


def _registry(registry: Any) -> Any:
    import underwriting.frequency  # noqa: F401  (registers the frequency kind)
    from underwriting.registry import Registry

    return registry if isinstance(registry, Registry) else Registry(registry)


def _check_run(n_boot: Any, seed: Any) -> None:
    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or not 0 <= n_boot <= 100_000:
        raise InputError(f"must be a whole number from 0 to 100000, got {n_boot!r}", field="--n-boot")


def _cut(data: Any, cutoff: Any) -> Any:
    return check_cutoff(cutoff, data.end) if cutoff is not None else default_cutoff(data.end)


def _params_of(model: Any) -> dict[str, Any]:
    p = model.get_params()
    # a version with aggregator-field terms (grade, unknown country: frequency 0.1.0) was fitted on every row
    legacy = bool({"grade", "jurisdiction"} & set(p["covariates"]))
    return {"trend": p["trend"], "trend_alpha": p["trend_alpha"], "level": p["level"],
            "covariates": list(p["covariates"]), "population": "all" if legacy else "recorded"}


def evaluate_frequency(version: str | None, data_path: Any, *, registry: Any = None, cutoff: Any = None,
                       n_boot: int = 200, seed: int = 0, plot_dir: Any = None) -> dict[str, Any]:
    """Out-of-time evaluation of a ``frequency`` version on a cohort folder (see the module docstring)."""
    from underwriting.lifecycle.cohort_data import load_cohort_data, row_keys

    _check_run(n_boot, seed)
    if data_path is None:
        raise InputError("pass --data DIR (a cohort folder)", field="--data")
    if plot_dir is not None and Path(plot_dir).exists() and not Path(plot_dir).is_dir():
        raise InputError("exists and is not a directory", source="--plot")
    reg = _registry(registry)
    version = reg.resolve(NAME, version)
    model = reg.load(NAME, version)
    data = load_cohort_data(data_path)
    cut = _cut(data, cutoff)
    oot, test = out_of_time(data, _params_of(model), cut, n_boot=n_boot, seed=seed, extra_models={"version": model})
    keys, origin = training_keys(reg, version)
    ins = _in_sample(keys, row_keys(test))
    oot["version"].update(ins)
    out = {"name": NAME, "version": version, "data": data.source, "data_files": data.files,
           "rows": int(len(data.panel())), "events": int(data.panel()["breaches"].sum()),
           "in_sample": ins["in_sample"], "training_rows": origin, "out_of_time": oot,
           "note": ("the stored version is scored on rows it was fitted on: its numbers are in-sample, not a "
                    "validation" if ins["in_sample"] else
                    "the stored version's training rows are unknown" if ins["in_sample"] is None else
                    "the scored rows are not among the version's training rows")}
    if plot_dir is not None:
        out["plots"] = [str(calibration_plot(Path(plot_dir), version, oot, ins["in_sample"]))]
    return out


def calibration_plot(d: Path, version: str, oot: dict[str, Any], in_sample: bool | None) -> Path:
    """Observed against predicted annual rate by decile (Poisson intervals), refit and stored version."""
    from underwriting import figures as F

    d.mkdir(parents=True, exist_ok=True)

    @F._styled
    def draw():
        fig, ax = F._figure(4.4)
        tag = "IN-SAMPLE" if in_sample else ("training rows unknown" if in_sample is None else "held out")
        F._title(fig, ax, f"Frequency {version}: calibration by decile of predicted rate",
                 f"scored {oot['cutoff']} to {oot['end']}; refit before the cut-off (out of time) and the stored "
                 f"version ({tag})")
        hi = 1e-3
        for key, label, color, dx in (("refit", "refit before cut-off (out of time)", F.NEUTRAL, 0.0),
                                      ("version", f"version {version} ({tag})", F.DEBIT if in_sample else F.MUTED, 0.0)):
            rows = oot[key]["deciles"]
            x = np.array([r["predicted_rate"] for r in rows]) * (1 + dx)
            y = np.array([r["observed_rate"] for r in rows])
            lo = np.array([r["observed_rate_interval"][0] for r in rows])
            up = np.array([r["observed_rate_interval"][1] for r in rows])
            ax.errorbar(x, y, yerr=[y - lo, up - y], marker="o", color=color, capsize=2, linewidth=1, label=label)
            hi = max(hi, float(x.max()), float(np.minimum(up, 3 * max(y.max(), x.max())).max()))
        ax.plot([0, hi], [0, hi], color=F.MUTED, linestyle="--", linewidth=1, label="observed = predicted")
        ax.set_xlim(0, hi * 1.05)
        ax.set_ylim(0, hi * 1.05)
        ax.set_xlabel("predicted breaches per exchange-year")
        ax.set_ylabel("observed breaches per exchange-year")
        ax.legend(loc="upper left")
        return fig

    return F.save_png(draw(), d / "frequency_calibration.png")


# --------------------------------------------------------------------------- compare


def compare_frequency(a: str | None, b: str, data_path: Any, *, registry: Any = None, cutoff: Any = None,
                      n_boot: int = 200, seed: int = 0, allow_in_sample: bool = False,
                      book: Any = None) -> dict[str, Any]:
    """Champion ``a`` against challenger ``b`` on the rows of ``data_path`` from the cut-off on."""
    from underwriting.lifecycle.cohort_data import load_cohort_data, row_keys
    from underwriting.lifecycle.gate import premium_impact

    _check_run(n_boot, seed)
    if data_path is None:
        raise InputError("pass --data DIR (a cohort folder)", field="--data")
    reg = _registry(registry)
    a = reg.resolve(NAME, a)
    b = reg.resolve(NAME, b)
    ma, mb = reg.load(NAME, a), reg.load(NAME, b)
    data = load_cohort_data(data_path)
    cut = _cut(data, cutoff)
    panel = data.panel()
    test = panel[panel["start"] >= cut].reset_index(drop=True)
    if test.empty:
        raise InputError(f"no rows from {cut.date()}", field="--cutoff")
    bd = data.breach_dates()
    ta = exchange_table(test, panel_rates(ma, test), bd)
    tb = exchange_table(test, panel_rates(mb, test), bd)
    level = DEFAULT_LEVEL
    metrics = paired_metrics(ta, tb, level=level, n_boot=n_boot, seed=seed)
    scored = row_keys(test)
    ins = {}
    for tag, v in (("A", a), ("B", b)):
        keys, origin = training_keys(reg, v)
        ins[tag] = {**_in_sample(keys, scored), "training_rows": origin}
    flags = [ins["A"]["in_sample"], ins["B"]["in_sample"]]
    in_sample = True if any(f is True for f in flags) else (None if any(f is None for f in flags) else False)
    better = {k: m["better"] for k, m in metrics.items() if m.get("better")}
    if in_sample is not False and not allow_in_sample:
        winner = None
        verdict = ("no winner named: the scored rows overlap the rows a version was fitted on (in-sample)"
                   if in_sample else "no winner named: a version does not record its training rows") + \
            " - evaluate on later data, or pass --allow-in-sample"
    else:
        votes = set(better.values())
        winner = votes.pop() if len(votes) == 1 else None
        verdict = (f"{winner} is better on {', '.join(k for k, v in better.items() if v == winner)}" if winner
                   else "no clear winner (intervals of B - A include 0, or metrics disagree)")
        if in_sample:
            verdict += " (IN-SAMPLE: allowed by --allow-in-sample)"
    return {"name": NAME, "A": a, "B": b, "data": data.source, "cutoff": str(cut.date()), "end": str(data.end.date()),
            "rows": int(len(test)), "events": int(test["breaches"].sum()), "exchanges": int(len(ta)),
            "in_sample": in_sample, "in_sample_by_version": ins, "metrics": metrics,
            "winner": winner, "verdict": verdict,
            "premium_impact": premium_impact(reg, a, b, book, seed=seed)}
