"""Keys: registry signing keys (generate a key pair, trust a public key, list trusted keys) and the
service's API keys (``keys create --role R``, see :mod:`underwriting.cli.apikeys`).

Every version and promotion a writer publishes is signed with its key (``UNDERWRITING_SIGNING_KEY``
or the user's ``signing_key.pem``); readers accept only signatures by keys in their keyring: the
project's release keys pinned in the package plus the keys trusted with ``keys trust`` (each with an expiry).
"""

from __future__ import annotations

import argparse

#: action -> help; ``create`` (service API keys) lives in :mod:`underwriting.cli.apikeys`.
ACTIONS = {
    "create": "create a service API key with a role (printed once, stored hashed)",
    "generate": "make an Ed25519 signing key pair (private key mode 0600) and trust its public key",
    "trust": "trust a public key file (PEM): registries it signs are accepted",
    "list": "list trusted keys (the release keys pinned in the package and yours) with their expiry",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="keys_action", metavar="ACTION", required=True, parser_class=type(p))
    g = sub.add_parser("generate", help=ACTIONS["generate"])
    g.add_argument("--key", metavar="FILE", help="private key file (default: signing_key.pem in "
                   "$UNDERWRITING_HOME or ~/.config/underwriting); the public key goes beside it as .pub")
    g.add_argument("--force", action="store_true", help="replace an existing key")
    g.add_argument("--no-trust", action="store_true", help="do not add the public key to your trusted keys")
    t = sub.add_parser("trust", help=ACTIONS["trust"])
    t.add_argument("file", metavar="FILE", help="public key (PEM, Ed25519)")
    t.add_argument("--valid-days", type=int, default=None, metavar="N",
                   help="accept its signatures made up to N days from now (default 730); the expiry is kept "
                        "in trusted/<key id>.json")
    a = sub.add_parser("list", help=ACTIONS["list"])
    a.add_argument("--json", action="store_true", help="print JSON")
    from underwriting.cli.apikeys import add_create_parser

    add_create_parser(sub)


def run(args: argparse.Namespace) -> int:
    if args.keys_action == "create":
        from underwriting.cli.apikeys import run_create

        return run_create(args)
    return {"generate": _generate, "trust": _trust, "list": _list}[args.keys_action](args)


def _generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from underwriting.registry import signing

    path = Path(args.key) if args.key else signing.default_private_key_path()
    key = signing.SigningKey.generate()
    priv, pub = signing.write_private_key(key, path, force=args.force)
    print(f"private key: {priv} (keep it secret; mode 0600)")
    print(f"public key:  {pub}")
    print(f"key id:      {key.key_id}")
    if not args.no_trust:
        signing.trust(pub)
        print(f"trusted:     {signing.trusted_dir() / (key.key_id + '.pub')}")
    return 0


def _trust(args: argparse.Namespace) -> int:
    from underwriting.registry import signing

    days = signing.USER_KEY_VALID_DAYS if args.valid_days is None else args.valid_days
    key = signing.trust(args.file, valid_days=days)
    print(f"trusted {key.key_id} ({key.path}), its signatures accepted until {key.not_after}")
    return 0


def _list(args: argparse.Namespace) -> int:
    import json

    from underwriting.registry import signing

    ring = signing.Keyring.default()
    rows = [{"key_id": k.key_id, "origin": k.origin, "path": k.path, "not_before": k.not_before,
             "not_after": k.not_after} for k in ring.keys.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            valid = (f"signs until {r['not_after']}" if r["not_after"]
                     else "no expiry (trusted before expiry was recorded: `keys trust` it again)")
            print(f"{r['key_id']}  {r['origin']:8s} {r['path']}  {valid}")
    return 0
