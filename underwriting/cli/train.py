"""Train a model on your data (or a synthetic book spec) and publish it as a new registry version.

--data is a folder with exchanges / incidents / vendors frames (CSV or Parquet, the documented
flat schema; see docs/lifecycle.md) or a TOML file with a [data.synthetic] book spec. With
--name frequency (the premium-setting model) it is a cohort folder (cohorts, exchanges,
incidents, optional exchange_aliases) as written by `underwriting datasets export-cohorts DIR`. The new
version gets manifest.json (SHA-256 of every file, data fingerprint, seed, configuration,
metrics, library versions) and MODEL_CARD.md. It is not the default until promoted (--promote).
"""

from __future__ import annotations

import argparse

from underwriting.cli._common import n_jobs_arg, seed_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="PATH", help="data folder or file, or a .toml book spec (default: the config's [data])")
    p.add_argument("--config", metavar="CONFIG.toml", help="training configuration (model, search, validation)")
    p.add_argument("--seed", type=seed_arg, help="seed (overrides the config's seed)")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--name", default="risk_scorer", choices=["risk_scorer", "survival", "frequency"],
                   help="model (default risk_scorer; frequency = the premium-setting breach frequency)")
    p.add_argument("--version", help="version number (default: next minor version)")
    p.add_argument("--promote", action="store_true", help="make the new version the default")
    p.add_argument("--backend", choices=["local", "dask"], default="local", help="where cross-validation runs")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (with --backend dask)")
    p.add_argument("--n-jobs", type=n_jobs_arg, default=1, help="local worker processes (default 1; -1 = all cores)")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")


def run(args: argparse.Namespace) -> int:
    from underwriting.lifecycle.cli_support import integrity_errors_as_input, print_json
    from underwriting.lifecycle.training import train

    with integrity_errors_as_input():
        res = train(args.data, args.config, seed=args.seed, registry=args.registry, name=args.name,
                    version=args.version, backend=args.backend, scheduler=args.scheduler, n_jobs=args.n_jobs,
                    promote=args.promote)
    if args.json:
        print_json({"name": res.name, "version": res.version, "path": str(res.path), "promoted": res.promoted,
                    "manifest": res.manifest})
    else:
        print(f"trained {res.summary()}")
        print(f"model card: {res.path / 'MODEL_CARD.md'}")
        print("default: " + (f"now {res.version}" if res.promoted else
                             f"unchanged (run `underwriting promote {res.version} --name {res.name}`)"))
    return 0
