"""Print the JSON Schema of a submission, of policy terms, of a quote request or of a quote (to publish the contracts)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=["submission", "policy", "programme", "quote-request", "quote"],
                   help="submission, policy (one layer) or programme (a tower of [[layers]]) (inputs), quote-request "
                   "(everything a quote takes: the body of the service's POST /v1/quotes), or quote "
                   "(what `underwriting quote --json` prints)")


def run(args: argparse.Namespace) -> int:
    import json

    from underwriting.domain.policy import PolicyTerms, Programme
    from underwriting.domain.quote import Quote
    from underwriting.domain.submission import Submission
    from underwriting.quote.request import QuoteRequest

    model = {"submission": Submission, "policy": PolicyTerms, "programme": Programme, "quote-request": QuoteRequest,
             "quote": Quote}[args.kind]
    # the quote's schema describes its JSON output (serialisation mode), the inputs' their validation
    mode = "serialization" if args.kind == "quote" else "validation"
    print(json.dumps(model.model_json_schema(mode=mode), indent=2, sort_keys=True))
    return 0
