"""Print the JSON Schema of a submission or of policy terms (to publish the questionnaire)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=["submission", "policy"])


def run(args: argparse.Namespace) -> int:
    import json

    from underwriting.domain.policy import PolicyTerms
    from underwriting.domain.submission import Submission

    model = Submission if args.kind == "submission" else PolicyTerms
    print(json.dumps(model.model_json_schema(), indent=2, sort_keys=True))
    return 0
