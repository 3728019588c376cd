"""Inspect the model registry: list versions with their default and metrics, verify signatures and
hashes, show the signed history, or sign a registry made before signatures (``sign``)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["list", "verify", "history", "sign"], nargs="?", default="list",
                   help="list (default): versions, default, metrics; verify: check every signature and "
                        "file hash, one verdict per version; history: verified promotions; sign: sign every "
                        "version and the history with your key (trust on first use)")
    p.add_argument("--name", help="only this model")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--accept-rollback", action="store_true",
                   help="verify: record the registry's current signed history as the latest seen (after a "
                        "deliberate restore of an older state; otherwise an older history is refused)")


def run(args: argparse.Namespace) -> int:
    from underwriting.errors import InputError
    from underwriting.lifecycle.cli_support import print_json
    from underwriting.registry import Registry

    reg = Registry(args.registry)
    if args.registry is not None and not reg.root.is_dir():
        raise InputError(f"{reg.root}: no such registry folder", field="--registry")
    if args.name is not None and args.name not in reg.names():
        raise InputError(f"no model {args.name!r} in {reg.root} (models: {', '.join(reg.names()) or 'none'})",
                         field="--name")
    names = [args.name] if args.name else reg.names()
    if args.accept_rollback:
        if args.action != "verify":
            raise InputError("--accept-rollback goes with `models verify`", field="--accept-rollback")
        from underwriting.registry import watermark

        for n in names:
            chain = reg.chain(n)
            watermark.reset(reg.root, n, chain.hashes, chain.entries[-1].get("to") if chain.entries else None)
            print(f"{n}: {len(chain.hashes)} verified promotion(s) recorded as the latest seen "
                  f"({watermark.state_path()})")
    if args.action == "sign":
        for line in (reg.sign_all(args.name)):
            print(line)
        return 0
    if args.action == "history":
        hist = {n: reg.history(n) for n in names}
        if args.json:
            print_json(hist)
        else:
            for n, rows in hist.items():
                for h in rows:
                    print(f"{h['timestamp']}  {n}  {h.get('action', 'promote'):8s} {h.get('from') or '(none)'} -> "
                          f"{h['to']}  signed by {h.get('key_id')}")
                    if h.get("note"):
                        for part in str(h["note"]).split(" | "):
                            print(f"    {part}")
                for msg in reg.chain(n).problems:
                    print(f"  {msg}")
        return 0
    rows = [r for n in names for r in reg.describe(n)]
    bad = [r for r in rows if r["status"] != "ok"]
    pointers = _pointer_problems(reg, names)
    if args.json:
        print_json({"registry": str(reg.root), "models": rows, "default_problems": pointers})
    else:
        print(f"registry: {reg.root}")
        if not rows:
            print("  (no models)")
        for r in rows:
            mark = "*" if r["default"] else " "
            m = r.get("metrics") or {}
            met = "  ".join(f"{k} {v:.4f}" for k, v in m.items() if isinstance(v, float))
            if args.action == "verify":
                verdict = f"ok (signed by {r.get('signed_by')})" if r["status"] == "ok" else r["status"]
                print(f" {mark} {r['name']:12s} {r['version']:10s} {verdict}")
            else:
                status = "" if r["status"] == "ok" else f"  {r['status']}"
                print(f" {mark} {r['name']:12s} {r['version']:10s} {met}{status}")
        print("(* = default)")
        for msg in pointers:
            print(f"  {msg}")
    if args.action == "verify" and (bad or pointers or not rows):
        return 2
    return 0


def _pointer_problems(reg, names: list[str]) -> list[str]:
    """A DEFAULT pointer that is unreadable, not backed by the signed history, or naming a missing version."""
    from underwriting.errors import ModelIntegrityError

    out = []
    for n in names:
        try:
            d = reg.default(n)
        except ModelIntegrityError as exc:
            out.append(f"refused: {exc}")
            continue
        if d is not None and d not in reg.versions(n):
            out.append(f"refused: {reg.root / n / 'DEFAULT'} names {d}, which is not in the registry "
                       f"(versions: {', '.join(reg.versions(n)) or 'none'})")
    return out
