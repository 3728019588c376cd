"""User cohort data for the premium-setting ``frequency`` model: export, load, per-row fingerprints.

The user layout is a folder holding four tables, CSV or Parquet (same stem, either suffix)::

    DIR/cohorts.csv            exchanges alive on a dated list (underwriting.datasets.cohorts.COHORT_SCHEMA)
    DIR/exchanges.csv          roster: launch and closure dates (EXCHANGE_SCHEMA; ends follow-up)
    DIR/incidents.csv          incidents; event_type hack/insider count as breaches (INCIDENT_SCHEMA)
    DIR/exchange_aliases.csv   optional: how aggregator names were keyed to exchange_id (ALIAS_SCHEMA)

:func:`export_cohorts` writes the shipped real data in this layout; :func:`load_cohort_data` reads
a folder back with every cell checked (the first bad cell raises a
:class:`~underwriting.datasets.loaders.DatasetError` naming file, line or row, and column: exit 2).
:func:`row_keys` gives the per-row fingerprint that a trained version records, so an evaluation
can tell rows the model was fitted on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from underwriting.domain.vocabulary import DATA_CUTOFF
from underwriting.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Tables of the user layout, in load order; ``exchange_aliases`` is optional.
TABLES: tuple[str, ...] = ("cohorts", "exchanges", "incidents", "exchange_aliases")
REQUIRED: tuple[str, ...] = ("cohorts", "exchanges", "incidents")
SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".pq")
#: How a training row is keyed in ``training_rows.json``.
ROW_KEY = "sha256(exchange_id|start|stop)[:16]"


@dataclass
class CohortData:
    """The four tables of a cohort folder, checked and typed.

    Attributes
    ----------
    cohorts, exchanges, incidents : DataFrame
        As returned by ``load_cohorts``, ``load_exchanges``, ``load_incidents``.
    aliases : DataFrame or None
    files : dict
        ``{file name: sha256}`` of the files read.
    source : str
        The folder (or ``"shipped"``).
    end : Timestamp
        End of follow-up (data cut-off).
    """

    cohorts: pd.DataFrame
    exchanges: pd.DataFrame
    incidents: pd.DataFrame
    aliases: pd.DataFrame | None
    files: dict[str, str]
    source: str
    end: Any
    _panel: Any = field(default=None, repr=False)

    def panel(self) -> pd.DataFrame:
        """Exchange x calendar-piece rows (:func:`underwriting.frequency.base_panel.cohort_panel`)."""
        if self._panel is None:
            from underwriting.frequency.base_panel import cohort_panel

            self._panel = cohort_panel(end=self.end.date(), cohorts=self.cohorts, exchanges=self.exchanges,
                                       incidents=self.incidents)
        return self._panel

    def reference_volume(self) -> Any:
        """Daily USD volumes of the latest list, against which a submission's volume is ranked."""
        from underwriting.datasets.cohorts import SNAPSHOTS, cohort_followup

        snaps = set(self.cohorts["snapshot"].astype(str))
        latest = max((s for s in SNAPSHOTS if s in snaps), key=lambda s: SNAPSHOTS[s])
        return cohort_followup(latest, end=self.end.date(), cohorts=self.cohorts, exchanges=self.exchanges,
                               incidents=self.incidents, exits=False)["volume_24h_usd"].to_numpy(dtype=float)

    def breach_dates(self) -> dict[str, list]:
        """Breach dates (timestamps) per ``exchange_id``."""
        from underwriting.domain.vocabulary import BREACH_EVENT_TYPES

        br = self.incidents[self.incidents["event_type"].astype(str).isin(BREACH_EVENT_TYPES)]
        return {str(k): sorted(v) for k, v in br.groupby("exchange_id")["incident_date"].apply(list).items()}


def _find(folder: Path, stem: str) -> Path | None:
    hits = [folder / f"{stem}{s}" for s in SUFFIXES if (folder / f"{stem}{s}").is_file()]
    if len(hits) > 1:
        raise InputError(f"both {hits[0].name} and {hits[1].name} exist: keep one", source=str(folder))
    return hits[0] if hits else None


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def load_cohort_data(directory: str | os.PathLike[str] | None, *, end: str | dt.date | None = None) -> CohortData:
    """Read a cohort folder (see the module docstring); ``None`` reads the shipped tables.

    Parameters
    ----------
    directory : path or None
    end : date, optional
        End of follow-up (default the data cut-off, 2025-11-30). Incidents after it are ignored.

    Raises
    ------
    InputError
        Not a folder, a required table missing, or a bad cell (file, line, column named).
    """
    import pandas as pd

    from underwriting.datasets.cohorts import load_aliases, load_cohorts
    from underwriting.datasets.loaders import load_exchanges, load_incidents
    from underwriting.resources import dataset_path

    end_ts = pd.Timestamp(DATA_CUTOFF if end is None else end)
    if directory is None:
        paths = {t: dataset_path(f"{t}.csv") for t in TABLES}
        source = "shipped datasets/"
    else:
        d = Path(directory)
        if not d.is_dir():
            raise InputError("must be a folder holding cohorts, exchanges and incidents tables "
                             "(see `underwriting datasets export-cohorts`)", source=str(d))
        paths = {t: _find(d, t) for t in TABLES}
        missing = [t for t in REQUIRED if paths[t] is None]
        if missing:
            raise InputError(f"no {', '.join(f'{m}.csv' for m in missing)} (or .parquet) in the folder "
                             "(the layout is written by `underwriting datasets export-cohorts DIR`)", source=str(d))
        source = str(d)
    cohorts = load_cohorts(paths["cohorts"])
    exchanges = load_exchanges(paths["exchanges"])
    incidents = load_incidents(paths["incidents"], exchanges=exchanges)
    aliases = load_aliases(paths["exchange_aliases"]) if paths["exchange_aliases"] is not None else None
    if not cohorts["snapshot"].astype(str).isin(["cryptocompare", "coinpaprika"]).any():  # pragma: no cover
        raise InputError("the cohorts table has no rows", source=str(paths["cohorts"]))
    files = {p.name: _sha(p) for p in paths.values() if p is not None}
    return CohortData(cohorts, exchanges, incidents, aliases, files, source, end_ts)


def export_cohorts(directory: str | os.PathLike[str], fmt: str = "csv", *, overwrite: bool = False) -> list[Path]:
    """Write the shipped real cohort data (cohorts, roster, incidents, aliases) in the user layout.

    CSV files are copied byte for byte; Parquet files hold the same cells as text columns (blank =
    null), read back by the same checks.

    Returns the paths written. Refuses to overwrite an existing table unless ``overwrite``.
    """
    import shutil

    import pandas as pd

    from underwriting.resources import dataset_path

    if fmt not in ("csv", "parquet"):
        raise InputError(f"must be csv or parquet, got {fmt!r}", field="--format")
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise InputError("exists and is not a folder", source=str(d))
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for t in TABLES:
        target = d / f"{t}.{fmt}"
        others = [d / f"{t}{s}" for s in SUFFIXES if (d / f"{t}{s}").exists()]
        if others and not overwrite:
            raise InputError(f"{others[0].name} already exists (pass --overwrite)", source=str(d))
        for o in others:
            o.unlink()
        src = dataset_path(f"{t}.csv")
        if fmt == "csv":
            shutil.copyfile(src, target)
        else:
            df = pd.read_csv(src, dtype=str, keep_default_na=False)
            df = df.map(lambda v: None if v == "" else v)
            df.astype(object).to_parquet(target, index=False)
        out.append(target)
    return out


def row_keys(panel: pd.DataFrame) -> list[str]:
    """Per-row fingerprint of a cohort panel: ``sha256(exchange_id|start|stop)`` (16 hex digits).

    A row is an exchange's exposure over one calendar piece; two panels share a row when they
    observe the same exchange over the same dates (whatever the breaches recorded in it).
    """
    out = []
    for e, s, t in zip(panel["exchange_id"], panel["start"], panel["stop"], strict=True):
        text = f"{e}|{s.date().isoformat()}|{t.date().isoformat()}"
        out.append(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])
    return out
