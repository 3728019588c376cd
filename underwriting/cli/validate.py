"""Validate a submission, policy terms or pricing-basis file and say what is wrong, field by field."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="submission (.json/.toml), policy terms or pricing basis (.toml/.json)")
    p.add_argument("--kind", choices=["submission", "policy", "pricing-basis", "auto"], default="auto",
                   help="what the file is (default: guessed from its top-level keys)")


def run(args: argparse.Namespace) -> int:
    from underwriting.domain.policy import PolicyTerms, Programme
    from underwriting.domain.pricing_basis import PricingBasisFile
    from underwriting.domain.submission import Submission
    from underwriting.domain.validation import validate_model
    from underwriting.fileio import read_document

    data = read_document(args.file)
    kind = args.kind
    if kind == "auto":
        # a pricing basis has only load and letter keys (no limit, no exposure)
        basis_keys = set(PricingBasisFile.model_fields)
        kind = ("submission" if "exposure" in data or "posture" in data else
                "pricing-basis" if data and set(data) <= basis_keys else "policy")
    if kind == "pricing-basis":
        validate_model(PricingBasisFile, data, source=args.file)
        print(f"{args.file}: valid pricing-basis")
        return 0
    model = Submission if kind == "submission" else Programme if "layers" in data else PolicyTerms
    obj = validate_model(model, data, source=args.file)
    label = (obj.exchange.name if kind == "submission" else
             f"{obj.programme_id}, {len(obj.layers)} layers" if isinstance(obj, Programme) else obj.policy_id)
    print(f"{args.file}: valid {kind} ({label})")
    return 0
