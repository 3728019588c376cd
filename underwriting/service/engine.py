"""The one adapter between the service and the quote engine: the same functions the CLI calls.

``underwriting quote`` calls :func:`underwriting.quote.make.make_quote` with a
:class:`~underwriting.quote.request.QuoteRequest` (whose JSON Schema is the ``POST /v1/quotes`` body,
:func:`quote_request_components`), ``underwriting reserve`` calls
:func:`underwriting.reserve.assess`, ``underwriting price`` calls
:func:`underwriting.pricing.premium.price_layer` and ``underwriting reproduce`` calls
:func:`underwriting.lifecycle.reproduction.reproduce`; so does the service, through this module only.
This module turns JSON request bodies into those functions' arguments and reports every bad field
with the CLI's own messages (:class:`FieldErrors`).
"""

from __future__ import annotations

import math
from typing import Any

from underwriting.errors import InputError
from underwriting.quote.options import DEFAULT_FREQUENCY_MODEL, FREQUENCY_MODELS  # noqa: F401 (the form's choices)


def default_principle() -> str:
    """The package's one default premium principle (the form's pre-filled value), read now."""
    from underwriting.quote.request import default_principle as _default

    return _default()


def quote_request_components() -> dict[str, Any]:
    """The same schema as OpenAPI components: ``{"QuoteRequest": {...}, <each nested model>: {...}}``, every
    reference pointing at ``#/components/schemas/...`` (the request body of ``POST /v1/quotes`` in ``/openapi.json``)."""
    from underwriting.quote.request import QuoteRequest

    schema = QuoteRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "QuoteRequest": schema}


class FieldErrors(InputError):
    """One or more bad fields: ``errors`` is ``[{"field": ..., "message": ...}]``; ``str()`` is the CLI's message."""

    def __init__(self, errors: list[dict[str, str]], message: str | None = None):
        self.errors = errors
        super().__init__(message or "; ".join(f"{e['field']}: {e['message']}" if e.get("field") else e["message"]
                                              for e in errors))


class _Collector:
    """Gathers the errors of several parts of a request, keeping each part's CLI-worded message."""

    def __init__(self):
        self.errors: list[dict[str, str]] = []
        self.parts: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})
        self.parts.append(f"{field}: {message}")

    def take(self, exc: FieldErrors) -> None:
        self.errors += exc.errors
        self.parts.append(str(exc))

    def raise_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors, "; ".join(self.parts))


def _validate(model, data: Any, prefix: str):
    """Validate ``data`` as ``model``; raise :class:`FieldErrors` naming every bad field under ``prefix``."""
    from pydantic import ValidationError

    from underwriting.domain.validation import _path, format_validation_error

    if not isinstance(data, dict):
        raise FieldErrors([{"field": prefix, "message": f"expected an object, got {type(data).__name__}"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, _ = format_validation_error(exc)
        lines = message.split("; ")
        errors, seen = [], set()
        for err in exc.errors(include_url=False):
            loc = _path(err["loc"])
            line = next((ln for ln in lines if ln.startswith(f"{loc}: ")), None) if loc else None
            text = line[len(loc) + 2:] if line else next((ln for ln in lines if ": " not in ln), err["msg"])
            field = f"{prefix}.{loc}" if loc else prefix
            if (field, text) not in seen:
                seen.add((field, text))
                errors.append({"field": field, "message": text})
        raise FieldErrors(errors, f"{prefix}: {message}") from None


def load_submission(data: Any):
    """A validated :class:`~underwriting.domain.submission.Submission` from a JSON mapping."""
    from underwriting.domain.submission import Submission

    return _validate(Submission, data, "submission")


def load_policy(data: Any, field: str = "terms"):
    """Validated :class:`~underwriting.domain.policy.PolicyTerms` from a JSON mapping."""
    from underwriting.domain.policy import PolicyTerms

    return _validate(PolicyTerms, data, field)


def parse_document_bytes(raw: bytes, filename: str, field: str) -> dict[str, Any]:
    """Parse an uploaded JSON or TOML document (by its file name's suffix) into a mapping."""
    from underwriting.fileio import parse_document

    name = (filename or "").lower()
    fmt = "toml" if name.endswith(".toml") else "json" if name.endswith(".json") else None
    if fmt is None:
        raise InputError(f"unsupported file type of {filename!r}; use .json or .toml", field=field)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"file is not valid UTF-8 (byte {exc.start})", field=field) from None
    try:
        return _jsonable(parse_document(text, fmt=fmt, source=filename))
    except InputError as exc:
        raise InputError(exc.message, field=field, source=filename) from None


def _jsonable(value: Any) -> Any:
    """TOML dates and times as ISO strings, so an upload is the JSON body an API client would send."""
    import datetime as dt

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def bundled_regimes() -> list[str]:
    """Regime ids the service accepts (the bundled ones; the service never reads regime files by path)."""
    from underwriting.reserve.regime import bundled_regime_ids

    return bundled_regime_ids()


def _regime(regime: Any, field: str = "regime", *, required: bool = False) -> str | None:
    if regime is None or regime == "":
        if required:
            raise FieldErrors([{"field": field, "message": "required field is missing"}])
        return None
    if not isinstance(regime, str) or regime not in bundled_regimes():
        raise FieldErrors([{"field": field, "message": f"unknown regime {regime!r}; the service accepts the "
                                                       f"bundled regimes {', '.join(bundled_regimes())}"}])
    return regime


def _fx(fx: Any, field: str) -> dict[str, float]:
    if fx is None:
        return {}
    if not isinstance(fx, dict):
        raise FieldErrors([{"field": field, "message": "expected an object of currency: units per USD"}])
    out, errors = {}, []
    for cur, rate in fx.items():
        ok = isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate) and rate > 0
        if not ok or not isinstance(cur, str) or not cur.strip():
            errors.append({"field": f"{field}.{cur}", "message": f"expected a positive rate in units per USD "
                                                                  f"(e.g. JPY: 150), got {rate!r}"})
        else:
            out[cur.strip().upper()] = float(rate)
    if errors:
        raise FieldErrors(errors)
    return out


def quote(body: Any):
    """Quote a request body (a :class:`~underwriting.quote.request.QuoteRequest`: ``{"submission", "terms"?,
    "regime"?, "options"?}``; ``options.schedule``: a posture schedule table as a mapping, the layout of
    ``--schedule FILE``) as ``underwriting quote`` does.

    Every part is checked and every bad field reported at once (:class:`FieldErrors`, with the CLI's words
    for the submission and terms); the service accepts only the bundled regimes (no file paths).

    Returns
    -------
    Quote
        Exactly what :func:`underwriting.quote.make.make_quote` returns for the same request.
    """
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import QuoteOptions, QuoteRequest

    if not isinstance(body, dict):
        raise FieldErrors([{"field": "(body)", "message": "expected a JSON object"}])
    col = _Collector()
    for k in sorted(set(body) - set(QuoteRequest.model_fields)):
        col.add(k, "unknown field (not in the schema; check the spelling)")
    parts: dict[str, Any] = {}
    if "submission" not in body:
        col.add("submission", "required field is missing")
    else:
        try:
            parts["submission"] = load_submission(body["submission"])
        except FieldErrors as exc:
            col.take(exc)
    if body.get("terms") is not None:
        try:
            if isinstance(body["terms"], dict) and "layers" in body["terms"]:  # a tower (issue #16)
                from underwriting.domain.policy import Programme

                parts["terms"] = _validate(Programme, body["terms"], "terms")
            else:
                parts["terms"] = load_policy(body["terms"])
        except FieldErrors as exc:
            col.take(exc)
    try:
        parts["regime"] = _regime(body.get("regime"))
    except FieldErrors as exc:
        col.take(exc)
    try:
        parts["options"] = _validate(QuoteOptions, {} if body.get("options") is None else body["options"], "options")
    except FieldErrors as exc:
        col.take(exc)
    col.raise_any()
    try:
        return make_quote(QuoteRequest.checked(parts))
    except InputError as exc:
        raise FieldErrors([{"field": exc.field or "(quote)", "message": exc.message}], str(exc)) from None


def warm_up() -> None:
    """Quote the bundled sample once and discard it (``underwriting demo``'s inputs): loads the verified
    models, the record calibration and the severity's goodness-of-fit bootstrap (about 2 s once per
    process), so the first client of a new server process does not wait for them. Nothing is stored."""
    from underwriting.domain.policy import load_policy as policy_from_path
    from underwriting.domain.submission import load_submission as submission_from_path
    from underwriting.quote.make import make_quote
    from underwriting.resources import DEMO_REGIME, DEMO_SUBMISSION, DEMO_TERMS, example_path

    make_quote(submission_from_path(str(example_path(DEMO_SUBMISSION))),
               policy_from_path(str(example_path(DEMO_TERMS))), regime=DEMO_REGIME, seed=0)


def reproduce(document: dict[str, Any]):
    """Recompute a stored quote with its recorded inputs and model versions (``underwriting reproduce``)."""
    from underwriting.errors import ModelIntegrityError
    from underwriting.lifecycle.reproduction import reproduce as _reproduce

    try:
        return _reproduce(document)
    except ModelIntegrityError as exc:
        raise InputError(str(exc), field="versions") from None


def reserve(body: Any) -> dict[str, Any]:
    """Assess a reserve as ``underwriting reserve --json`` does, from ``{"submission", "policies", "regime", ...}``."""
    import datetime as dt

    from underwriting.domain.currency import FxTable
    from underwriting.quote.reserve import assess_reserve

    if not isinstance(body, dict):
        raise FieldErrors([{"field": "(body)", "message": "expected a JSON object"}])
    errors: list[dict[str, str]] = []
    unknown = sorted(set(body) - {"submission", "policies", "regime", "fx", "as_of", "params", "risk_sizing"})
    errors += [{"field": k, "message": "unknown field (not in the schema; check the spelling)"} for k in unknown]
    sub, pols, regime, fx, as_of = None, [], None, {}, None
    try:
        sub = load_submission(body.get("submission"))
    except FieldErrors as exc:
        errors += exc.errors
    policies = body.get("policies", [])
    if not isinstance(policies, list):
        errors.append({"field": "policies", "message": "expected a list of policy terms"})
        policies = []
    for i, p in enumerate(policies):
        try:
            pols.append(load_policy(p, f"policies[{i}]"))
        except FieldErrors as exc:
            errors += exc.errors
    try:
        regime = _regime(body.get("regime"), required=True)
    except FieldErrors as exc:
        errors += exc.errors
    try:
        fx = _fx(body.get("fx"), "fx")
    except FieldErrors as exc:
        errors += exc.errors
    if body.get("as_of") is not None:
        try:
            as_of = dt.date.fromisoformat(str(body["as_of"]))
        except ValueError:
            errors.append({"field": "as_of", "message": f"expected a date YYYY-MM-DD, got {body['as_of']!r}"})
    params = body.get("params") or {}
    if not isinstance(params, dict):
        errors.append({"field": "params", "message": "expected an object of PATH: VALUE overrides"})
        params = {}
    if errors:
        raise FieldErrors(errors)
    table = FxTable.bundled()
    try:
        result = assess_reserve(sub, pols, regime, table.with_user_rates(fx) if fx else table, as_of=as_of,
                                overrides=params, risk_sizing=bool(body.get("risk_sizing", True)))
    except InputError as exc:
        raise FieldErrors([{"field": exc.field or exc.source or "(reserve)", "message": exc.message}],
                          str(exc)) from None
    return result.to_dict()


_LAYER_FIELDS = ("deductible", "limit", "agg_deductible", "agg_limit", "share", "reinstatements",
                 "reinstatement_premium", "pro_rata_amount", "term_years")
_LOAD_FIELDS = ("expense", "commission", "tax", "minimum_premium")


def price(body: Any) -> dict[str, Any]:
    """Price a layer as ``underwriting price --json`` does (the same library calls), from a JSON body.

    ``{"frequency": {"family": "poisson", "lam": 0.3}, "severity": {"family": "lognormal", "mu": .., "sigma": ..},
    "layer": {"deductible": .., "limit": .., ...}, "principle": "cost_of_capital:0.10", "level": 0.995,
    "loadings": {"expense": ..}, "method": "fft", "seed": 0, "cap": null}``
    """
    from underwriting.losses.counts import make_frequency
    from underwriting.losses.severity import cap_at_exposure, make_severity
    from underwriting.pricing.layers import Layer
    from underwriting.pricing.premium import Loadings, parse_principle, price_layer

    if not isinstance(body, dict):
        raise FieldErrors([{"field": "(body)", "message": "expected a JSON object"}])
    unknown = sorted(set(body) - {"frequency", "severity", "layer", "principle", "level", "loadings", "method",
                                  "seed", "cap"})
    if unknown:
        raise FieldErrors([{"field": k, "message": "unknown field (not in the schema; check the spelling)"}
                           for k in unknown])

    def spec(name: str) -> tuple[str, dict[str, Any]]:
        s = body.get(name)
        if not isinstance(s, dict) or not isinstance(s.get("family"), str):
            raise FieldErrors([{"field": name, "message": "expected an object with a 'family' and its parameters"}])
        return s["family"], {k: v for k, v in s.items() if k != "family"}

    def call(field: str, fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except (InputError, TypeError) as exc:
            sub = getattr(exc, "field", None)
            msg = getattr(exc, "message", str(exc))
            raise FieldErrors([{"field": f"{field}.{sub}" if sub else field, "message": msg}]) from None

    fam, fpar = spec("frequency")
    freq = call("frequency", make_frequency, fam, **fpar)
    sfam, spar = spec("severity")
    sev = call("severity", make_severity, sfam, **spar)
    if body.get("cap") is not None:
        sev = call("cap", cap_at_exposure, sev, body["cap"])
    layer_in = body.get("layer") or {}
    loads_in = body.get("loadings") or {}
    for name, given, allowed in (("layer", layer_in, _LAYER_FIELDS), ("loadings", loads_in, _LOAD_FIELDS)):
        if not isinstance(given, dict):
            raise FieldErrors([{"field": name, "message": "expected an object"}])
        bad = sorted(set(given) - set(allowed))
        if bad:
            raise FieldErrors([{"field": f"{name}.{k}", "message": "unknown field (not in the schema; check the "
                                                                   "spelling)"} for k in bad])
    layer = call("layer", Layer, **layer_in)
    loadings = call("loadings", Loadings, **loads_in)
    principle = call("principle", parse_principle, body.get("principle", "cost_of_capital:0.10"))
    level = body.get("level", 0.995)
    method = body.get("method", "fft")
    if method not in ("fft", "mc", "panjer"):
        raise FieldErrors([{"field": "method", "message": f"unknown method {method!r}; choose fft, mc or panjer"}])
    kw: dict[str, Any] = {}
    if method == "mc":
        kw["random_state"] = int(body.get("seed") or 0)
    if method == "panjer":
        kw["n_buckets"] = 2**14
    res = call("(price)", price_layer, freq, sev, layer, principle=principle, level=level, loadings=loadings,
               method=method, **kw)
    out = res.to_dict()
    out["frequency"] = {"family": freq.family, **freq.params}
    from underwriting.losses.severity.exposure import severity_echo

    out["severity"] = severity_echo(sev)
    return out


def schema(kind: str) -> dict[str, Any] | None:
    """JSON Schema of ``submission``, ``policy``, ``quote`` (as ``underwriting schema``) or ``quote-request``
    (the ``POST /v1/quotes`` body), else ``None``."""
    from underwriting.domain.policy import PolicyTerms
    from underwriting.domain.quote import Quote
    from underwriting.domain.submission import Submission
    from underwriting.quote.request import QuoteRequest

    model = {"submission": Submission, "policy": PolicyTerms, "quote": Quote, "quote-request": QuoteRequest}.get(kind)
    return None if model is None else model.model_json_schema()


def promote(body: Any, registry: str | None = None):
    """Check a promotion request ``{"name", "version"?, "rollback"?, "note"?}``; return a callable that
    performs it as ``underwriting promote`` does (returns the registry's history entry)."""
    from underwriting.registry import Registry

    if not isinstance(body, dict):
        raise FieldErrors([{"field": "(body)", "message": "expected a JSON object"}])
    col = _Collector()
    for k in sorted(set(body) - {"name", "version", "rollback", "note"}):
        col.add(k, "unknown field (not in the schema; check the spelling)")
    name, version, rollback, note = body.get("name"), body.get("version"), body.get("rollback", False), body.get("note")
    if not isinstance(name, str) or not name:
        col.add("name", "required: the model's name (e.g. risk_scorer)")
    if not isinstance(rollback, bool):
        col.add("rollback", "expected true or false")
    elif bool(version) == bool(rollback):
        col.add("version", "give a version or rollback: true (not both)")
    if note is not None and not isinstance(note, str):
        col.add("note", "expected text")
    col.raise_any()
    reg = Registry(registry)

    def run() -> dict[str, Any]:
        from underwriting.errors import ModelIntegrityError

        try:
            return reg.rollback(name) if rollback else reg.promote(name, str(version), note=note)
        except ModelIntegrityError as exc:
            raise FieldErrors([{"field": "version", "message": str(exc)}]) from None
        except InputError as exc:
            raise FieldErrors([{"field": exc.field or "name", "message": exc.message}]) from None

    return run


def models(registry: str | None = None) -> list[dict[str, Any]]:
    """The registry's models: name, versions and the default (as ``underwriting models list``)."""
    import underwriting.lifecycle.loaders  # noqa: F401  (the packages owning each model kind register it)
    from underwriting.registry import KINDS, Registry

    reg = Registry(registry)
    out = []
    for name in sorted(KINDS):
        try:
            versions = reg.versions(name)
        except Exception:  # noqa: BLE001 - an unreadable registry entry is reported, not fatal
            versions = []
        default = None
        try:
            default = reg.default(name) if versions else None
        except Exception:  # noqa: BLE001
            default = None
        out.append({"name": name, "versions": versions, "default": default})
    return out
