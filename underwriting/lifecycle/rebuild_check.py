"""Compare a rebuilt model registry with the shipped one, number by number (``make models --check``).

A model rebuilt from the same data and seeds on another CPU is the same model, but its floating-point
numbers can differ in the last bits: numpy's vectorised ``exp``/``log``/``pow`` take different code
paths on different instruction sets (``docs/reproducibility.md``). Byte equality of the files would
then fail for no reason, so files are compared as data:

* JSON: same structure, same strings, integers and booleans; floats within :data:`REL_TOL` relative
  (or :data:`ABS_TOL` absolute near zero), except the ill-conditioned numbers named in
  :data:`ILL_CONDITIONED`, each with its own tolerance and the reason;
* Markdown (model cards): the same text, every printed number equal or one unit apart in its last
  printed digit (a rounding tie);
* Parquet: the same columns and rows, numbers as for JSON;
* manifests: compared without their ``build`` block and without the files' hashes and sizes (the files
  are compared themselves); for a model trained on generated (synthetic) data, without the hash of that
  data (:data:`SYNTHETIC_DATA_HASHES`), whose floats are regenerated on each CPU.
"""

from __future__ import annotations

import fnmatch
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Relative tolerance of a well-conditioned float (cross-CPU noise measured at 1e-15 to 3e-10).
REL_TOL = 1e-8
#: Absolute tolerance below which two floats near zero are equal.
ABS_TOL = 1e-12
#: ``(JSON path pattern, relative tolerance, reason)`` for numbers that amplify floating-point noise.
ILL_CONDITIONED: tuple[tuple[str, float, str], ...] = (
    ("*experience_prior*.alpha", 5e-3,
     "the experience prior strength: the maximiser of a nearly flat marginal likelihood, found by a bounded "
     "scalar search that stops at its tolerance, so 1e-15 noise in the base fit moves it by ~2e-7 relative"),
    ("*state.covariance[*]", 1e-5,
     "the survival model's coefficient covariance, the inverse of an information matrix whose condition number "
     "is about 1e9 (survival 0.1.1): 1e-16 noise in the fit becomes ~2e-8 relative in its smallest elements "
     "(0.00024380176681943697 against ...77093048704 with and without numpy's AVX-512 dispatch)"),
    ("*experience_prior*.se_log_alpha", 5e-3, "its standard error, a numerical second derivative there (~3e-5)"),
    ("*experience_prior*.interval[*]", 5e-3,
     "Wald bounds exp(ln a -/+ z se) of the prior strength: the noise of se times z (~2e-4 relative; 567.02 "
     "against 567.12 on two CPUs)"),
)
#: Manifest fields that hash floating-point data regenerated from a seed (``data.source.kind == "synthetic"``):
#: the regenerated floats differ in their last bits between CPUs, so the hash differs; the data's row and
#: event counts stay exact and the model fitted on it is compared number by number.
SYNTHETIC_DATA_HASHES = ("fingerprint_sha256",)
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Mismatch:
    """One difference: the file, the place in it, and both values."""

    file: str
    where: str
    shipped: Any
    rebuilt: Any

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: shipped {self.shipped!r}, rebuilt {self.rebuilt!r}"


def _tolerance(path: str) -> float:
    for pattern, tol, _ in ILL_CONDITIONED:
        if fnmatch.fnmatchcase(path, pattern.replace("[", "[[]")):  # "*" is a wildcard, brackets literal
            return tol
    return REL_TOL


def _close(a: float, b: float, rel: float) -> bool:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    return math.isclose(a, b, rel_tol=rel, abs_tol=ABS_TOL)


def compare_json(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Differences ``(path, shipped, rebuilt)`` between two JSON values under the tolerances above."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                out.append((p, a.get(k, "(absent)"), b.get(k, "(absent)")))
            else:
                out += compare_json(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [(f"{path} (length)", len(a), len(b))]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in compare_json(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        return [] if _close(a, float(b), _tolerance(path)) else [(path, a, b)]
    if isinstance(b, float) and isinstance(a, int) and not isinstance(a, bool):
        return [] if _close(float(a), b, _tolerance(path)) else [(path, a, b)]
    return [] if (a == b and type(a) is type(b)) else [(path, a, b)]


def _last_digit_unit(token: str) -> float:
    mant = token.split("e")[0].split("E")[0]
    return 10.0 ** -len(mant.split(".")[1]) if "." in mant else 1.0


def compare_text(a: str, b: str) -> list[tuple[str, Any, Any]]:
    """Differences between two model cards: the text outside numbers must be the same; numbers may
    differ by one unit in their last printed digit (a rounding tie)."""
    ta, tb = _NUMBER.split(a), _NUMBER.split(b)
    na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
    if ta != tb or len(na) != len(nb):
        la, lb = a.splitlines(), b.splitlines()
        for i, (x, y) in enumerate(zip(la, lb, strict=False)):
            if _NUMBER.split(x) != _NUMBER.split(y):
                return [(f"line {i + 1}", x, y)]
        return [("line count", len(la), len(lb))]
    out = []
    for x, y in zip(na, nb, strict=True):
        if x == y:
            continue
        fx, fy = float(x.replace(",", "")), float(y.replace(",", ""))
        unit = max(_last_digit_unit(x), _last_digit_unit(y)) * 10.0 ** (
            int(x.lower().split("e")[1]) if "e" in x.lower() else 0)
        if abs(fx - fy) > unit * (1 + 1e-9) and not _close(fx, fy, REL_TOL):
            line = a[: a.find(x)].count("\n") + 1
            out.append((f"number near line {line}", x, y))
    return out


def _parquet_rows(data: bytes) -> dict[str, list[Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data), use_threads=False).to_pydict()


def compare_file(rel: str, shipped: bytes, rebuilt: bytes) -> list[Mismatch]:
    """Mismatches between two versions of one registry file (by its suffix)."""
    if shipped == rebuilt:
        return []
    if rel.endswith(".json"):
        a, b = json.loads(shipped), json.loads(rebuilt)
        if rel.endswith("manifest.json"):
            from underwriting.registry import reproducible_view

            a, b = reproducible_view(a), reproducible_view(b)
            for d in (a, b):
                for meta in (d.get("files") or {}).values():
                    for k in ("sha256", "size", "bytes"):
                        meta.pop(k, None)
                data = d.get("data") or {}
                if (data.get("source") or {}).get("kind") == "synthetic":
                    for k in SYNTHETIC_DATA_HASHES:
                        data.pop(k, None)
        diffs = compare_json(a, b)
    elif rel.endswith(".md"):
        diffs = compare_text(shipped.decode("utf-8"), rebuilt.decode("utf-8"))
    elif rel.endswith(".parquet"):
        diffs = compare_json(_parquet_rows(shipped), _parquet_rows(rebuilt))
    else:
        diffs = [("bytes", f"{len(shipped)} bytes", f"{len(rebuilt)} bytes")]
    return [Mismatch(rel, w, x, y) for w, x, y in diffs]


def compare_registries(shipped_root: str | Path, rebuilt_root: str | Path, *,
                       names: list[str] | None = None) -> tuple[list[str], list[Mismatch]]:
    """Compare every file of every model version in ``rebuilt_root`` with ``shipped_root``.

    Parameters
    ----------
    shipped_root, rebuilt_root : path
        Registry folders (``models/`` and a temporary rebuild).
    names : list of str, optional
        Only these models.

    Returns
    -------
    (files compared, mismatches)
    """
    from underwriting.registry import Registry

    new = Registry(rebuilt_root)
    old = Registry(shipped_root)
    files: list[str] = []
    out: list[Mismatch] = []
    for n in new.names():
        if names and n not in names:
            continue
        for v in new.versions(n):
            doc = new.verify(n, v)
            for rel in [*sorted(doc["files"]), "manifest.json"]:
                key = f"{n}/{v}/{rel}"
                files.append(key)
                a, b = Path(old.root) / n / v / rel, Path(new.root) / n / v / rel
                if not a.exists():
                    out.append(Mismatch(key, "file", "(absent)", "present"))
                    continue
                out += [Mismatch(key, m.where, m.shipped, m.rebuilt) for m in compare_file(rel, a.read_bytes(),
                                                                                            b.read_bytes())]
    return files, out
