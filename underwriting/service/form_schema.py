"""The workbench's forms: the questionnaire typed by the submission's JSON Schema, and the terms editor.

The questionnaire is generated from ``Submission``'s JSON Schema: a group per nested object, a typed
input per scalar (a number field with an "unknown" choice for number-or-unknown answers, a date
field with a "never"/"unknown" choice for date-or-word answers), and repeatable rows for lists of
objects (vendors, incidents) instead of JSON text. Labels come from :data:`LABELS` (human words,
translated by the catalogue), never from the schema's generated titles.

The terms editor builds the policy-terms document ``underwriting quote --terms`` reads: the fields
every layer shares (insurer, rating, period, currency, perils, exclusions) and one row per layer
(attachment, limit, deductible, reinstatements, share, aggregate limit, sub-limits by peril). One
layer gives a ``PolicyTerms`` mapping, two or more a tower (``Programme``: ``[[layers]]``).
Both forms post plain HTML (no JavaScript); "add a row" and "remove" are submit buttons that
re-render the form with the values kept.
"""

from __future__ import annotations

import math
import re
from typing import Any

from underwriting.i18n import N_

#: Human labels of the questionnaire's and the terms editor's fields, by dotted name (list rows
#: use the list's name: ``vendors.name``). English; translated by the catalogue.
LABELS: dict[str, str] = {
    "schema_version": N_("Questionnaire version"),
    "exchange": N_("Exchange"), "exchange.name": N_("Exchange name"),
    "exchange.jurisdiction": N_("Licensing country (ISO code, e.g. JP)"),
    "exchange.licence": N_("Licence or registration number"), "exchange.launch_date": N_("Launch date"),
    "as_of": N_("Answers as of"),
    "exposure": N_("Exposure"), "exposure.currency": N_("Currency of the amounts (ISO 4217, e.g. JPY)"),
    "exposure.customer_assets": N_("Customer assets by custody tier"),
    "exposure.customer_assets.hot": N_("Hot wallets"), "exposure.customer_assets.warm": N_("Warm wallets"),
    "exposure.customer_assets.cold": N_("Cold storage"), "exposure.customer_assets.total": N_("Total customer assets"),
    "exposure.trading_volume_12m": N_("Trading volume, last 12 months"), "exposure.own_funds": N_("Own funds"),
    "exposure.fixed_overheads_prior_year": N_("Fixed overheads, prior year"),
    "exposure.gross_income": N_("Gross income (optional)"),
    "posture": N_("Security posture"), "posture.custody_architecture": N_("Custody architecture"),
    "posture.signing_device_verification": N_("Signing on a dedicated device"),
    "posture.signing_screen_verification": N_("Signing screen checked independently"),
    "posture.withdrawal_allowlist": N_("Withdrawal allow-list"),
    "posture.withdrawal_velocity_limits": N_("Withdrawal velocity limits"),
    "posture.key_ceremony": N_("Witnessed key ceremony"), "posture.geographic_key_split": N_("Key shares in several places"),
    "posture.admin_mfa": N_("Administrator multi-factor authentication"),
    "posture.privileged_access_management": N_("Privileged access management"),
    "posture.last_penetration_test": N_("Last penetration test"), "posture.last_red_team": N_("Last red-team exercise"),
    "posture.bug_bounty": N_("Bug bounty programme"), "posture.soc2_type2": N_("SOC 2 Type II report"),
    "posture.iso27001": N_("ISO/IEC 27001 certification"), "posture.proof_of_reserves": N_("Proof of reserves"),
    "posture.incident_response_plan_tested": N_("Incident response plan tested"),
    "posture.security_staff_share": N_("Security staff share of all staff (0 to 1)"),
    "vendors": N_("Vendors"), "vendors.name": N_("Vendor name"), "vendors.role": N_("Role"),
    "vendors.registered": N_("Registered with the regulator"),
    "incidents": N_("Past incidents"), "incidents.date": N_("Date"), "incidents.amount": N_("Loss amount"),
    "incidents.currency": N_("Currency"), "incidents.custody_tier": N_("Custody tier"), "incidents.vector": N_("Vector"),
    "incidents.customers_reimbursed": N_("Customers reimbursed"),
    # the terms editor
    "policy_id": N_("Policy reference"), "insurer": N_("Insurer"), "insurer_rating": N_("Insurer rating"),
    "insurer_authorised": N_("Insurer authorised in the jurisdiction"), "inception": N_("Inception"),
    "expiry": N_("Expiry"), "cancellation_notice_days": N_("Cancellation notice (days)"),
    "currency": N_("Policy currency (ISO 4217)"), "perils": N_("Perils covered"), "exclusions": N_("Exclusions"),
    "attachment": N_("Attachment"), "limit": N_("Limit"), "deductible": N_("Deductible"),
    "reinstatements": N_("Reinstatements"), "coinsurance": N_("Share (0 to 1)"), "aggregate_limit": N_("Aggregate limit"),
    "sublimits": N_("Sub-limits by peril"),
}

#: Words of the choices (schema enum values); a value not listed is shown as its words.
CHOICES: dict[str, str] = {
    "yes": N_("yes"), "no": N_("no"), "unknown": N_("unknown"), "never": N_("never"), "none": N_("none"),
    "mpc": N_("MPC"), "hsm": N_("HSM"), "single_key": N_("single key"), "multisig": N_("multisig"),
    "hardware_key": N_("hardware key"), "totp": N_("TOTP app"), "sms": N_("SMS"),
    "annual": N_("annual"), "quarterly": N_("quarterly"), "monthly": N_("monthly"), "realtime": N_("real time"),
    "wallet_software": N_("wallet software"), "custody_technology": N_("custody technology"), "cloud": N_("cloud"),
    "signing_ui": N_("signing interface"), "other": N_("other"), "hot": N_("hot"), "warm": N_("warm"),
    "cold": N_("cold"), "hot_wallet_key": N_("hot wallet key"), "cold_wallet_key": N_("cold wallet key"),
    "multisig_signing": N_("multisig signing"), "third_party_vendor": N_("third party vendor"),
    "insider": N_("insider"), "api_or_account_takeover": N_("API or account takeover"),
    "exit_scam_or_fraud": N_("exit scam or fraud"), "full": N_("full"), "partial": N_("partial"),
}

PERILS = ("hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering")
EXCLUSIONS = ("supervisory_action", "insolvency_of_insured", "cold_wallet", "third_party_vendor", "insider",
              "social_engineering", "war_and_state_actor", "gross_negligence", "management_crime", "credential_theft")
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-", "B+", "B", "B-",
           "CCC", "NR")
#: Most layers the editor offers (the policy model's own bound is larger).
MAX_EDITOR_LAYERS = 10
#: Most rows of a repeatable list.
MAX_ROWS = 50
LAYER_FIELDS = ("policy_id", "attachment", "limit", "deductible", "reinstatements", "coinsurance", "aggregate_limit")
SHARED_FIELDS = ("policy_id", "insurer", "insurer_rating", "insurer_authorised", "inception", "expiry",
                 "cancellation_notice_days", "currency")


def label(name: str) -> str:
    """The English label of a dotted field name (list indices dropped); generated words as a last resort."""
    key = re.sub(r"\.\d+(?=\.|$)", "", name)
    return LABELS.get(key) or key.rsplit(".", 1)[-1].replace("_", " ").capitalize()


class FormDict(dict):
    """A plain dict with the two read methods of a Starlette form the builders use."""

    def getlist(self, key: str) -> list[str]:
        v = self.get(key)
        return v if isinstance(v, list) else ([] if v is None else [v])

    def multi_items(self):
        for k, v in self.items():
            for x in (v if isinstance(v, list) else [v]):
                yield k, x


def form_dict(form) -> FormDict:
    """A posted form as a :class:`FormDict` (repeated keys as lists; files left out)."""
    out = FormDict()
    for k, v in form.multi_items():
        if not isinstance(v, str):
            continue
        if k in out:
            out[k] = (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
        else:
            out[k] = v
    return out


# ---- the questionnaire -------------------------------------------------------------------------

def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    return node


def schema_fields(schema: dict[str, Any], node: dict[str, Any] | None = None, prefix: str = "",
                  required: bool = True) -> list[dict[str, Any]]:
    """Form fields of a JSON Schema object.

    Each field is a dict with ``kind`` (``group``, ``rows``, ``select``, ``number``, ``integer``,
    ``number_or_unknown``, ``date``, ``date_or_choice``, ``text``), ``name`` (dotted path), ``label``
    (English, from :data:`LABELS`), ``description``, ``enum`` (choices), ``required`` and, for groups
    and rows, ``children`` (a row's children are named relative to the row).
    """
    node = _resolve(schema, node if node is not None else schema)
    out = []
    req = set(node.get("required", []))
    for key, sub in node.get("properties", {}).items():
        name = f"{prefix}{key}"
        sub_r = _resolve(schema, sub)
        optional = key not in req
        desc = sub.get("description") or sub_r.get("description") or ""
        kind, enum = None, None
        options = sub_r.get("anyOf") or sub_r.get("oneOf")
        if options:
            non_null = [_resolve(schema, o) for o in options if o.get("type") != "null"]
            optional = optional or len(non_null) < len(options)
            words = [str(x) for o in non_null for x in (o.get("enum") or ([o["const"]] if "const" in o else []))]
            numeric = [o for o in non_null if o.get("type") in ("number", "integer") and "const" not in o]
            dates = [o for o in non_null if o.get("format") == "date"]
            if len(non_null) == 1:
                sub_r = {**non_null[0], **{k: v for k, v in sub_r.items() if k not in ("anyOf", "oneOf")}}
            elif numeric and words:
                kind, enum = "number_or_unknown", words
            elif dates and words:
                kind, enum = "date_or_choice", words
            else:
                kind = "text"
        typ = sub_r.get("type")
        if kind is None:
            if typ == "object" and "properties" in sub_r:
                out.append({"kind": "group", "name": name, "label": label(name), "description": desc,
                            "children": schema_fields(schema, sub_r, name + ".", not optional)})
                continue
            if typ == "array" and "$ref" in (sub_r.get("items") or {}):
                item = _resolve(schema, sub_r["items"])
                out.append({"kind": "rows", "name": name, "label": label(name), "description": desc,
                            "children": schema_fields(schema, item, "", True), "required": False})
                continue
            if "const" in sub_r:  # one possible value (the questionnaire's version): sent, not asked
                kind, enum = "hidden", [str(sub_r["const"])]
            elif "enum" in sub_r:
                kind, enum = "select", [str(x) for x in sub_r["enum"]]
            elif typ == "boolean":
                kind, enum = "select", ["true", "false"]
            elif typ in ("number", "integer"):
                kind = typ
            elif typ == "string":
                kind = "date" if sub_r.get("format") == "date" else "text"
            else:
                kind = "text"
        out.append({"kind": kind, "name": name, "label": label(name), "description": desc, "enum": enum,
                    "required": (not optional) and required, "default": sub_r.get("default")})
    return out


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    cur = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


def _scalar(f: dict[str, Any], form, name: str, raw: dict[str, str], errors: list[dict[str, str]],
            prefix: str) -> tuple[bool, Any]:
    """``(given, value)`` of one scalar field; records the raw text (and the choice) for re-display."""
    text = str(form.get("q." + name) or "").strip()
    raw[name] = text
    kind = f["kind"]
    if kind in ("number_or_unknown", "date_or_choice"):
        choice = str(form.get("q." + name + ".choice") or "").strip()
        raw[name + ".choice"] = choice
        if choice:
            if text:
                errors.append({"field": f"{prefix}{name}", "message": f"give a value or choose {choice!r}, not both"})
                return False, None
            return True, choice
    if text == "":
        return False, None
    if kind in ("integer", "number", "number_or_unknown"):
        try:
            return True, int(text) if kind == "integer" else _finite(float(text))
        except ValueError:
            errors.append({"field": f"{prefix}{name}", "message": f"expected a finite number, got {_short(text)}"})
            return False, None
    if kind == "select" and f.get("enum") == ["true", "false"]:
        return True, text == "true"
    return True, text


def _finite(v: float) -> float:
    """``v`` when finite; a ``ValueError`` for ``inf`` and ``nan`` (``float("9" * 400)`` is ``inf``: never a
    number a submission may carry, and not JSON)."""
    if not math.isfinite(v):
        raise ValueError("not finite")
    return v


def _short(text: str) -> str:
    """``text`` quoted for an error message, cut to 40 characters (a 5,000-digit answer is not echoed whole)."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def row_count(form, name: str, given: int | None = None) -> int:
    """Rows of list ``name`` on the posted form (its hidden ``rows.<name>`` count), at most :data:`MAX_ROWS`."""
    if given is not None:
        return max(0, min(MAX_ROWS, given))
    try:
        return max(0, min(MAX_ROWS, int(str(form.get(f"rows.{name}") or "0"))))
    except ValueError:
        return 0


def build_from_form(fields: list[dict[str, Any]], form, counts: dict[str, int] | None = None,
                    prefix: str = "submission.") -> tuple[dict[str, Any], dict[str, str], list[dict[str, str]]]:
    """The nested document typed by the schema, the raw values (for re-display), and errors for
    values that are not of their field's type (named ``submission.<field>``)."""
    doc: dict[str, Any] = {}
    raw: dict[str, str] = {}
    errors: list[dict[str, str]] = []

    def walk(fs: list[dict[str, Any]]) -> None:
        for f in fs:
            if f["kind"] == "group":
                walk(f["children"])
            elif f["kind"] == "rows":
                n = row_count(form, f["name"], (counts or {}).get(f["name"]))
                raw[f"rows.{f['name']}"] = str(n)
                rows = []
                for i in range(n):
                    row: dict[str, Any] = {}
                    for c in f["children"]:
                        given, value = _scalar(c, form, f"{f['name']}.{i}.{c['name']}", raw, errors, prefix)
                        if given:
                            row[c["name"]] = value
                    if row:
                        rows.append(row)
                if rows or f["name"] in ("vendors", "incidents"):
                    _set(doc, f["name"], rows)
            else:
                given, value = _scalar(f, form, f["name"], raw, errors, prefix)
                if given:
                    _set(doc, f["name"], value)

    walk(fields)
    return doc, raw, errors


def rows_action(form) -> tuple[str, str, int] | None:
    """``("add" | "remove", list name, row index)`` when an add/remove button was pressed, else None."""
    act = str(form.get("action") or "")
    m = re.fullmatch(r"(add|remove):([a-z_.]{1,100})(?::(\d{1,6}))?", act)  # bounded: no 5,000-digit index
    if not m:
        return None
    return m.group(1), m.group(2), int(m.group(3) or -1)


def shifted_form(form: FormDict, name: str, index: int, n: int, key_prefix: str = "q.") -> FormDict:
    """``form`` with row ``index`` of list ``name`` (of ``n`` rows) removed and the later rows moved up."""
    out = FormDict(form)
    base = f"{key_prefix}{name}."
    for i in range(index, n):
        for k in [k for k in out if k.startswith(f"{base}{i}.")]:
            del out[k]
        for k, v in [(k, v) for k, v in form.items() if k.startswith(f"{base}{i + 1}.")]:
            out[f"{base}{i}." + k[len(f"{base}{i + 1}."):]] = v
    return out


# ---- the terms editor ---------------------------------------------------------------------------

def terms_defaults(currency: str = "", as_of: str = "") -> dict[str, Any]:
    """Initial values of the terms editor (one primary layer, all perils, war excluded)."""
    return {"enabled": "", "layers": "1", "policy_id": "workbench-policy", "insurer": "", "insurer_rating": "A",
            "insurer_authorised": "true", "inception": "", "expiry": "", "cancellation_notice_days": "90",
            "currency": currency, "perils": list(PERILS), "exclusions": ["war_and_state_actor"],
            "layer": [{"policy_id": "", "attachment": "", "limit": "", "deductible": "", "reinstatements": "0",
                       "coinsurance": "1", "aggregate_limit": "", "sublimits": {}}]}


def terms_values(form, layers: int | None = None) -> dict[str, Any]:
    """The editor's values as posted (text, for re-display), with ``layers`` rows."""

    def g(k: str) -> str:
        return str(form.get("t." + k) or "").strip()

    try:
        n = int(g("layers") or "1") if layers is None else layers
    except ValueError:
        n = 1
    n = max(1, min(MAX_EDITOR_LAYERS, n))
    out: dict[str, Any] = {k: g(k) for k in SHARED_FIELDS}
    out["enabled"] = g("enabled")
    out["layers"] = str(n)
    out["perils"] = [p for p in form.getlist("t.perils") if p in PERILS]
    out["exclusions"] = [x for x in form.getlist("t.exclusions") if x in EXCLUSIONS]
    out["layer"] = []
    for i in range(n):
        lay = {k: g(f"layers.{i}.{k}") for k in LAYER_FIELDS}
        lay["sublimits"] = {p: g(f"layers.{i}.sublimits.{p}") for p in PERILS if g(f"layers.{i}.sublimits.{p}")}
        if not lay["reinstatements"] and not any(lay.values()):
            lay.update({"reinstatements": "0", "coinsurance": "1"})
        out["layer"].append(lay)
    return out


def terms_document(values: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The policy-terms document of the editor's values (``None`` when the editor is off and no layer
    has a limit) and type errors.

    One layer gives a flat ``PolicyTerms`` mapping; two or more a ``Programme`` (shared fields at the
    top, one entry per layer in ``layers``). Errors are named as the engine names them
    (``terms.<field>``, ``terms.layers.<i>.<field>``).
    """
    if not values.get("enabled") and not any(lay.get("limit") for lay in values["layer"]):
        return None, []  # the editor is off and empty (a limit entered counts as asking for the terms)
    errors: list[dict[str, str]] = []
    n = len(values["layer"])

    def typed(where: str, text: str, kind: str) -> Any:
        if text == "":
            return None
        try:
            return int(text) if kind == "int" else _finite(float(text))
        except ValueError:
            errors.append({"field": where, "message": f"expected a finite {'whole ' if kind == 'int' else ''}number, "
                                                      f"got {_short(text)}"})
            return None

    shared: dict[str, Any] = {}
    for k in ("policy_id", "insurer", "insurer_rating", "inception", "expiry", "currency"):
        if values.get(k):
            shared[k] = values[k].upper() if k == "currency" else values[k]
    if values.get("insurer_authorised") in ("true", "false"):
        shared["insurer_authorised"] = values["insurer_authorised"] == "true"
    days = typed("terms.cancellation_notice_days", values.get("cancellation_notice_days", ""), "int")
    if days is not None:
        shared["cancellation_notice_days"] = days
    shared["perils"] = list(values.get("perils") or [])
    shared["exclusions"] = list(values.get("exclusions") or [])
    layers = []
    for i, lay in enumerate(values["layer"]):
        where = "terms." if n == 1 else f"terms.layers.{i}."
        out: dict[str, Any] = {}
        if lay.get("policy_id"):
            out["policy_id"] = lay["policy_id"]
        for k in ("attachment", "limit", "deductible", "coinsurance", "aggregate_limit"):
            v = typed(where + k, lay.get(k, ""), "float")
            if v is not None:
                out[k] = v
        r = typed(where + "reinstatements", lay.get("reinstatements", ""), "int")
        if r is not None:
            out["reinstatements"] = r
        subs = {}
        for p, text in (lay.get("sublimits") or {}).items():
            v = typed(f"{where}sublimits.{p}", text, "float")
            if v is not None:
                subs[p] = v
        out["sublimits"] = subs
        layers.append(out)
    if n == 1:
        return {**shared, **layers[0]}, errors
    return {**shared, "layers": layers}, errors


def terms_error_slot(field: str, layers: int) -> str | None:
    """The editor input an engine error names: ``"t.limit"`` (shared), ``"t.layers.1.limit"``; None if none."""
    if not field.startswith("terms"):
        return None
    rest = field[len("terms"):].lstrip(".")
    rest = re.sub(r"\[(\d+)\]", r".\1", rest)
    if rest.startswith("layers."):
        return "t." + rest
    head = rest.split(".")[0]
    if layers == 1 and (head in LAYER_FIELDS or head == "sublimits") and head != "policy_id":
        return "t.layers.0." + rest
    return "t." + rest if rest else "t.enabled"
