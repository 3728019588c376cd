"""Evaluate and compare registry versions on a book; premium impact on a reference book.

* :func:`evaluate` — AUC, Brier, ECE with exchange-clustered bootstrap intervals and the calibration
  table; an out-of-time backtest (the version's configuration refitted on the landmark rows whose
  outcome was known before a cut-off date, scored on the rows after it); survival metrics when the
  registry holds a survival model whose covariates the book has; plots.
* :func:`compare` — champion A vs challenger B on the same rows: each metric and the difference
  B − A with a paired bootstrap interval (the same resamples for both), and the premium impact on
  the bundled example submissions (with ``policy_jp_primary.toml``) and on a small synthetic book
  (ground-up terms), each quoted with each version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from underwriting.errors import InputError
from underwriting.registry import Registry

DAYS_PER_YEAR = 365.25


def _registry(registry) -> Registry:
    return registry if isinstance(registry, Registry) else Registry(registry)


def _check_run(n_boot: Any, seed: Any) -> None:
    """Bootstrap resamples and seed as the user gave them: refused when they cannot work."""
    from underwriting.lifecycle.training import check_seed

    if not isinstance(n_boot, int | np.integer) or isinstance(n_boot, bool) or n_boot < 1:
        raise InputError(f"must be a positive whole number of resamples, got {n_boot!r}", field="--n-boot")
    check_seed(seed, field="--seed")


def _cutoff(text: str | None) -> pd.Timestamp | None:
    import datetime as dt

    if text is None:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(text)))
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {text!r}", field="--backtest-date") from None


def _book_rows(data, scorer, config=None):
    from underwriting.lifecycle.book_files import load_book
    from underwriting.lifecycle.data import training_set
    from underwriting.lifecycle.training import load_config

    cfg = load_config(config)
    book = load_book(data, cfg)
    return book, training_set(book, float(scorer.horizon_years), scorer.feature_params_ or None)


def _short(rep: dict) -> dict:
    return {k: v for k, v in rep.items() if k != "calibration"}


def backtest(ts, scorer, cutoff: str | None = None, *, n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    """Refit ``scorer``'s configuration on rows whose outcome was known before ``cutoff`` and score
    the rows from ``cutoff`` on. Default cut-off: the landmark at 60% of the distinct landmarks."""
    from underwriting.scoring.model import RiskScorer
    from underwriting.scoring.validation import validate_scores

    marks = np.unique(ts.landmarks)
    if len(marks) < 2:
        return {"skipped": "fewer than two landmark dates: no out-of-time split"}
    cut = _cutoff(cutoff) if cutoff is not None else pd.Timestamp(marks[max(1, int(len(marks) * 0.6))])
    h = pd.Timedelta(days=round(ts.horizon_years * DAYS_PER_YEAR))
    lm = pd.to_datetime(ts.landmarks)
    train_m = np.asarray(lm + h <= cut)
    test_m = np.asarray(lm >= cut)
    tr, te = ts.subset(train_m), ts.subset(test_m)
    if tr.y.sum() < 5 or te.y.sum() < 2 or len(np.unique(te.y)) < 2:
        return {"skipped": f"too few events around the cut-off {cut.date()} (train {int(tr.y.sum())}, "
                           f"test {int(te.y.sum())})", "cutoff": str(cut.date())}
    params = {k: v for k, v in scorer.get_params().items() if k != "features"}
    refit = RiskScorer(**params).fit(tr.features, tr.y, groups=tr.groups)
    p = refit.p_breach(te.features)
    rep = validate_scores(te.y, p, oracle=te.oracle, groups=te.groups, n_boot=n_boot, seed=seed).to_dict()
    return {"cutoff": str(cut.date()), "train_rows": int(len(tr.y)), "train_events": int(tr.y.sum()),
            "test_rows": int(len(te.y)), "test_events": int(te.y.sum()),
            "test_landmarks": [str(pd.Timestamp(x).date()) for x in np.unique(te.landmarks)],
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()
                       if isinstance(v, int | float | str | tuple)}, **rep, "_p": p, "_y": te.y}


def _survival_metrics(reg: Registry, ts) -> dict[str, Any] | None:
    """Survival metrics of the registry's default survival model, when the book has its covariates."""
    from underwriting.errors import ModelIntegrityError

    try:
        version = reg.default("survival")
    except ModelIntegrityError as exc:
        return {"skipped": str(exc)}
    if version is None:
        return None
    try:
        model = reg.load("survival", version)
    except (ModelIntegrityError, InputError) as exc:
        return {"version": version, "skipped": f"cannot load: {exc}"}
    need = [str(c) for c in model.feature_names_in_]
    missing = [c for c in need if c not in ts.features.columns]
    if missing:
        return {"version": version, "skipped": f"the book lacks the model's covariates {missing} (it was fitted on "
                                               "roster covariates, not on the scorer's features)"}
    from underwriting.scoring.validation import brier_score, roc_auc

    try:  # the shipped survival model's clock is time since the landmark (as_of)
        risk = model.predict_risk(ts.features[need], ts.horizon_years)
    except InputError as exc:
        return {"version": version, "skipped": str(exc)}
    return {"version": version, "horizon_years": ts.horizon_years, "auc_at_horizon": roc_auc(ts.y, risk),
            "brier_at_horizon": brier_score(ts.y, risk), "mean_predicted": float(np.mean(risk)),
            "observed_rate": float(np.mean(ts.y))}


def evaluate(version: str | None, data: str | os.PathLike[str] | None, *, name: str = "risk_scorer",
             registry=None, config=None, plot_dir: str | os.PathLike[str] | None = None,
             backtest_date: str | None = None, n_boot: int = 500, seed: int = 0) -> dict[str, Any]:
    """Metrics of a registry version on a book, its out-of-time backtest and (optionally) plots."""
    from underwriting.scoring.validation import validate_scores

    reg = _registry(registry)
    if name != "risk_scorer":
        raise InputError("evaluate scores the risk_scorer (survival metrics are added when the registry holds "
                         "a survival model)", field="--name")
    _check_run(n_boot, seed)
    _cutoff(backtest_date)
    if plot_dir is not None and Path(plot_dir).exists() and not Path(plot_dir).is_dir():
        raise InputError("exists and is not a directory", source="--plot")
    version = reg.resolve(name, version)
    scorer = reg.load(name, version)
    book, ts = _book_rows(data, scorer, config)
    p = scorer.p_breach(ts.features)
    rep = validate_scores(ts.y, p, oracle=ts.oracle, groups=ts.groups, n_boot=n_boot, seed=seed).to_dict()
    bt = backtest(ts, scorer, backtest_date, n_boot=max(50, n_boot // 2), seed=seed)
    out: dict[str, Any] = {
        "name": name, "version": version, "data": book.description, "data_fingerprint": book.fingerprint(),
        "rows": int(len(ts.y)), "events": int(ts.y.sum()), "metrics": rep,
        "backtest": {k: v for k, v in bt.items() if not k.startswith("_")},
    }
    surv = _survival_metrics(reg, ts)
    if surv is not None:
        out["survival"] = surv
    if plot_dir is not None:
        out["plots"] = [str(x) for x in _plots(Path(plot_dir), version, ts.y, p, rep, bt)]
    return out


def _plots(d: Path, version: str, y, p, rep: dict, bt: dict) -> list[Path]:
    from underwriting.scoring.plots import _figure, _save, plot_calibration

    if d.exists() and not d.is_dir():
        raise InputError("exists and is not a directory", source="--plot")
    d.mkdir(parents=True, exist_ok=True)
    out = [plot_calibration(rep["calibration"], d / "calibration.png", title=f"Calibration of risk_scorer {version}")]
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for label, yy, pp in (("all rows", y, p), *((("backtest (refit before cut-off)", bt["_y"], bt["_p"]),)
                                                 if "_p" in bt else ())):
        order = np.argsort(-np.asarray(pp), kind="stable")
        ys = np.asarray(yy)[order]
        tpr = np.concatenate([[0], np.cumsum(ys) / max(ys.sum(), 1)])
        fpr = np.concatenate([[0], np.cumsum(1 - ys) / max((1 - ys).sum(), 1)])
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"ROC of risk_scorer {version} (AUC {rep['auc']['estimate']:.3f})")
    ax.legend(loc="lower right", fontsize=8)
    out.append(_save(fig, d / "roc.png"))
    if "calibration" in bt:
        out.append(plot_calibration(bt["calibration"], d / "backtest_calibration.png",
                                    title=f"Out-of-time backtest: refit before {bt['cutoff']}"))
    return out


# --------------------------------------------------------------------------- compare


def paired_differences(y, pa, pb, *, groups=None, n_boot: int = 500, seed: int = 0) -> dict[str, Any]:
    """Each metric for A and B and ``B − A`` with paired (same-resample) bootstrap intervals."""
    from underwriting.scoring.validation import (
        bootstrap,
        brier_score,
        expected_calibration_error,
        roc_auc,
    )

    metrics = {"auc": roc_auc, "brier": brier_score, "ece": expected_calibration_error}
    kw = {"groups": groups, "n_boot": n_boot, "seed": seed}
    out = {}
    for k, f in metrics.items():
        out[k] = {"A": bootstrap(f, y, pa, **kw).to_dict(), "B": bootstrap(f, y, pb, **kw).to_dict(),
                  "B_minus_A": bootstrap(lambda yy, a, b, f=f: f(yy, b) - f(yy, a), y, pa, pb, **kw).to_dict()}
        d = out[k]["B_minus_A"]
        better = (d["low"] > 0) if k == "auc" else (d["high"] < 0)
        worse = (d["high"] < 0) if k == "auc" else (d["low"] > 0)
        out[k]["verdict"] = "B better" if better else ("B worse" if worse else "no clear difference")
    return out


def synthetic_submissions(n: int = 20, seed: int = 7, years: float = 2) -> list:
    """``n`` submissions drawn from a small synthetic book (as of its start; no prior incidents)."""
    from underwriting.datasets.synthetic import make_exchange_portfolio
    from underwriting.domain.submission import Submission

    book = make_exchange_portfolio(max(n, 20), years=years, seed=seed)
    ex = book.exchanges.head(n)
    subs = []
    for _, r in ex.iterrows():
        post = {}
        from underwriting.domain.frames import DATE_POSTURE_COLUMNS, POSTURE_COLUMNS

        for c in POSTURE_COLUMNS:
            if c in DATE_POSTURE_COLUMNS:
                st = r[f"{c}_status"]
                post[c] = pd.Timestamp(r[c]).date().isoformat() if st == "date" else st
            else:
                v = r[c]
                post[c] = float(v) if c == "security_staff_share" and v != "unknown" else v
        vend = book.vendors[book.vendors["exchange_id"] == r["exchange_id"]]
        seen, vendors = set(), []
        for _, v in vend.iterrows():
            if v["vendor"].casefold() not in seen:
                seen.add(v["vendor"].casefold())
                vendors.append({"name": v["vendor"], "role": v["role"], "registered": v["registered"]})
        jur = "US"  # no bundled reserve regime: the reserve block needs no FX for the book's start year
        subs.append(Submission.model_validate({
            "exchange": {"name": r["name"], "jurisdiction": jur,
                         "launch_date": pd.Timestamp(r["launch_date"]).date().isoformat()},
            "as_of": pd.Timestamp(r["as_of"]).date().isoformat(),
            "exposure": {"currency": "USD",
                         "customer_assets": {"hot": float(r["assets_hot"]), "warm": float(r["assets_warm"]),
                                             "cold": float(r["assets_cold"]),
                                             "total": float(r["assets_hot"] + r["assets_warm"] + r["assets_cold"])},
                         "trading_volume_12m": float(r["trading_volume_12m"]), "own_funds": float(r["own_funds"]),
                         "fixed_overheads_prior_year": float(r["fixed_overheads_prior_year"])},
            "posture": post, "vendors": vendors, "incidents": []}))
    return subs


def reference_book(n_synthetic: int = 20, seed: int = 7) -> list[tuple[str, Any, Any]]:
    """``(label, submission, terms)``: the bundled examples with ``policy_jp_primary.toml`` and
    ``n_synthetic`` synthetic exchanges with ground-up terms."""
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.resources import example_path

    folder = example_path("policy_jp_primary.toml").parent
    terms = load_policy(str(folder / "policy_jp_primary.toml"))
    out = [(f"examples/{p.name}", load_submission(str(p)), terms) for p in sorted(folder.glob("*.json"))]
    out += [(f"synthetic/{s.exchange.name}", s, None) for s in synthetic_submissions(n_synthetic, seed)]
    return out


def premium_impact(reg: Registry, name: str, a: str, b: str, book=None, *, seed: int = 0) -> dict[str, Any]:
    """Quote every entry of ``book`` (default :func:`reference_book`) with version ``a`` then ``b``."""
    from underwriting.quote.make import make_quote
    from underwriting.registry import pinned

    book = book if book is not None else reference_book()
    rows = []
    for label, sub, terms in book:
        q = {}
        for tag, v in (("A", a), ("B", b)):
            with _registry_env(reg), pinned({name: v}):
                q[tag] = make_quote(sub, terms, seed=seed)
        rows.append({"entry": label, "currency": q["A"].currency,
                     **{f"{k}_{t}": getattr(q[t], attr) for k, attr in (("p_breach", "p_breach_1y"),
                                                                       ("risk_score", "risk_score"),
                                                                       ("band", "risk_band"), ("premium", "premium"))
                        for t in ("A", "B")},
                     "p_score_A": q["A"].score.p_breach, "p_score_B": q["B"].score.p_breach})
    df = pd.DataFrame(rows)
    df["premium_change"] = np.where(df["premium_A"] > 0, df["premium_B"] / df["premium_A"].where(df["premium_A"] > 0) - 1, 0.0)
    return {"rows": df.to_dict(orient="records"),
            "summary": {"entries": int(len(df)), "band_changes": int((df["band_A"] != df["band_B"]).sum()),
                        "mean_abs_score_p_change": float(np.mean(np.abs(df["p_score_B"] - df["p_score_A"]))),
                        "premium_changed": int((np.abs(df["premium_change"]) > 1e-12).sum()),
                        "max_abs_premium_change": float(np.max(np.abs(df["premium_change"]))) if len(df) else 0.0}}


class _registry_env:
    """Point ``UNDERWRITING_REGISTRY`` at ``reg`` for the quote path (restored afterwards)."""

    def __init__(self, reg: Registry):
        self.root = str(reg.root)

    def __enter__(self):
        from underwriting.registry import ENV_ROOT

        self.old = os.environ.get(ENV_ROOT)
        os.environ[ENV_ROOT] = self.root

    def __exit__(self, *exc):
        from underwriting.registry import ENV_ROOT

        if self.old is None:
            os.environ.pop(ENV_ROOT, None)
        else:
            os.environ[ENV_ROOT] = self.old


def compare(a: str | None, b: str, data, *, name: str = "risk_scorer", registry=None, config=None,
            n_boot: int = 500, seed: int = 0, reference=None) -> dict[str, Any]:
    """Champion ``a`` (default: the current default) vs challenger ``b`` on ``data`` and the reference book."""
    reg = _registry(registry)
    _check_run(n_boot, seed)
    a = reg.resolve(name, a)
    sa, sb = reg.load(name, a), reg.load(name, b)
    if float(sa.horizon_years) != float(sb.horizon_years):
        raise InputError(f"{a} and {b} predict different horizons ({sa.horizon_years} vs {sb.horizon_years} years)")
    book, ts = _book_rows(data, sa, config)
    pa, pb = sa.p_breach(ts.features), sb.p_breach(ts.features)
    return {"name": name, "A": a, "B": b, "data": book.description, "rows": int(len(ts.y)),
            "events": int(ts.y.sum()),
            "metrics": paired_differences(ts.y, pa, pb, groups=ts.groups, n_boot=n_boot, seed=seed),
            "premium_impact": premium_impact(reg, name, a, b, reference, seed=seed)}
