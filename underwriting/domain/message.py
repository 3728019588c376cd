"""Engine texts as message templates with arguments, so a quote's prose renders in any catalogue language.

A text the engine builds deep inside a stage (a method, an assumption, a frequency factor's answer and
reason, an FX basis, the goodness-of-fit method) reaches the quote JSON as English. Beside it the quote
carries a :class:`Message`: a template id of :data:`TEMPLATES` and its arguments (strings, or nested
messages). The English is formatted from the same template (:meth:`Message.text`), so the two cannot
drift, and a saved quote renders in Japanese later (:meth:`Message.render` under
:func:`underwriting.i18n.use_lang`).

The template ``"data"`` holds a data text (a shipped schedule's reason, a posture answer such as
``"never"``): it is looked up in the catalogue as it is, and shown unchanged when the catalogue lacks it
(a user's own schedule keeps its wording). The template ``"term"`` holds a vocabulary key
(``"hot_wallet_theft"``, a vendor role): written as is in English, in another language the catalogue's
entry for its words (underscores read as spaces, as :mod:`underwriting.domain.reasons` does), else the
key. The template ``"list"`` joins its arguments ``"0"``, ``"1"``, ... in order with ``"list.join"``
(``", "`` in English, ``"、"`` in Japanese).

Renderers call :func:`localise` with the English text and its message (a :class:`Message` or its JSON):
English returns the text exactly as stored (the golden reports), another language the rendered message,
else the catalogue's entry for the text, else the text.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from underwriting.i18n import DEFAULT_LANG, N_, _, current_lang

__all__ = ["TEMPLATES", "Message", "msg", "data", "term", "seq", "answer", "localise", "ANSWER_WORDS", "TERM_WORDS"]

#: Every template a quote's engine text is built from, by id (English; marked for the catalogue).
#: Ids are stable: a saved quote names them. Changing a template's English changes the quote's text.
TEMPLATES: dict[str, str] = {
    "data": "{text}",
    "term": "{key}",
    "list": "",
    "list.join": N_("{head}, {tail}"),
    "peril.share": N_("{peril} {share}"),
    "peril.share.interval": N_("{peril} {share} ({low}-{high})"),
    "range": N_("{low} to {high}"),
    "infinity": N_("infinity"),
    "schedule.name": N_("{name} v{version}"),
    "version.schedule": "{schedule}@{sha}",
    # frequency: experience, schedule, cap (factor table and reasons)
    "frequency.experience.answer": N_("{breaches} breach(es) weighing {weighted} in {years} y ({decayed} decayed), "
                                      "Z = {z}"),
    "frequency.experience.source": N_("Poisson-gamma credibility"),
    "frequency.experience.reason": N_("{breaches} breach(es) weighing {weighted} in {years} years, credibility {z}"),
    "frequency.factor.credit": N_("{answer} (credit)"),
    "frequency.factor.debit": N_("{answer} (debit)"),
    "frequency.factor.neutral": N_("{answer} (neutral)"),
    "frequency.cap.answer": N_("raw {raw}"),
    "frequency.cap.source": N_("schedule cap"),
    "frequency.cap.reason": N_("schedule {raw} capped to {capped}"),
    "schedule.vendor.answer": N_("role={role}, registered={registered}"),
    "baseline.unknown": N_("{why}; answer unknown, scored as '{used}'"),
    "baseline.pentest_stale": N_("no penetration test in the last {months} months"),
    "baseline.incidents.answer": N_("{n} in {years}y"),
    "baseline.incidents.reason": N_("a breach in the last {years} years"),
    # methods (the quote's provenance)
    "method.risk_score": N_("one risk model: log-linear in the annual breach rate of base x experience x schedule "
                            "(bands on the rate, reasons = largest log-rate factors)"),
    "method.frequency": N_("one risk model: base (real cohorts) x experience x schedule (docs/schedule.md)"),
    "method.frequency.baseline": N_("baseline (roster base rate x posture multipliers, docs/baseline.md)"),
    "method.frequency.survival": N_("survival {version} (landmark piecewise-exponential, docs/survival.md)"),
    "method.aggregate": N_("{method} compound over {n} perils"),
    "method.aggregate.tower": N_("{aggregate}, each of {n} layers on the same loss model (tower std and TVaR: "
                                 "comonotonic sums of the layers')"),
    "method.severity": N_("{family} (left-truncated MLE on public incidents); hot-wallet breaches: median raised to "
                          "{drain} x hot-wallet assets where larger ({status}, losses/perils.toml), capped at the "
                          "hot-wallet assets; other breaches capped at all custodied assets"),
    "method.state_actor_exclusion": N_("war_and_state_actor excluded: the state-attributed share of each peril's "
                                       "breaches is removed from its frequency, {parts} (90% Jeffreys intervals; "
                                       "datasets/incidents.csv attribution, one source per row)"),
    # assumptions
    "assumption.basis": N_("premium principle {principle} at TVaR {level}; expense {expense}, commission "
                           "{commission}, tax {tax} of premium"),
    "assumption.severity": N_("severity: {family} fitted by maximum likelihood to {n} public incident amounts >= "
                              "{threshold} USD (left-truncated), capped by the assets of the custody tier hit"),
    "assumption.peril_split": N_("breach frequency split into perils by the vector mix of the public incident "
                                 "record: {shares}"),
    "assumption.hot_share": N_("breaches reaching vendor, insider and social-engineering paths hit hot assets with "
                               "probability {share} (custody mix of the record)"),
    "assumption.frequency": N_("breach frequency = base rate (Poisson regression on real exchange cohorts, frequency "
                               "{version}) x experience (Poisson-gamma credibility on size- and age-weighted "
                               "breaches, prior strength alpha = {alpha} chosen by cross-validated predictive "
                               "likelihood on the same cohorts within the bounds {bounds}, 90% profile-likelihood "
                               "interval {interval}) x posture schedule ({schedule}: every factor an ASSUMPTION, "
                               "capped)"),
    "assumption.interval": N_("the {level} interval carries the base model's parameter uncertainty only; the "
                              "expected loss uses the negative binomial count from gamma mixing of the term's "
                              "expected breaches with that spread"),
    "assumption.baseline": N_("base breach rate {rate} a year = {events} breaches over {years} exchange-years of the "
                              "roster (exchanges with a known launch date); the roster over-represents breached "
                              "exchanges, so this is an upper estimate"),
    "assumption.survival": N_("breach frequency from the shipped landmark survival model (piecewise exponential on "
                              "time since the as-of date), fitted on a synthetic book whose base rate is calibrated "
                              "to the real roster and whose posture effects are assumptions"),
    # FX and goodness of fit
    "fx.basis.yearly": N_("yearly average {year}"),
    "fx.basis.latest": N_("{basis} (latest available for {year})"),
    "fx.basis.user": N_("user-supplied"),
    "fx.basis.identity": N_("identity"),
    "fx.purpose.conversion": N_("submission amounts converted from {from_currency} to {to_currency}"),
    "fx.purpose.incidents": N_("incident amounts of {year} (risk-score features)"),
    "gof.bootstrap": N_("parametric bootstrap, {n} refitted samples, seed {seed}"),
}

#: Posture answers and words that appear as data texts (translated when shown in another language).
ANSWER_WORDS: tuple[str, ...] = (N_("yes"), N_("no"), N_("unknown"), N_("never"), N_("default posture schedule"))
#: Words of vocabulary keys passed as ``term`` that no other message supplies (vendor roles).
TERM_WORDS: tuple[str, ...] = (N_("wallet software"), N_("custody technology"), N_("cloud"), N_("signing ui"),
                               N_("other"))


class Message(BaseModel):
    """A text as a template id of :data:`TEMPLATES` and its arguments.

    Attributes
    ----------
    id : str
        The template's id (``"data"``: a data text in ``args["text"]``, looked up in the catalogue as is).
    args : dict of str to (str or Message)
        The template's fields: numbers already formatted as their English text shows them (so the text of a
        saved quote never depends on rounding), identifiers, or nested messages.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Template id (underwriting.domain.message.TEMPLATES).")
    args: dict[str, str | Message] = Field(default_factory=dict, description="The template's fields: text, "
                                           "or nested messages.")

    def _format(self, translate: bool) -> str:
        template = TEMPLATES[self.id]
        if self.id == "data":
            text = str(self.args.get("text", ""))
            return _(text) if translate and text else text
        if self.id == "term":
            key = str(self.args["key"])
            words = key.replace("_", " ")
            said = _(words) if translate and key else words
            return key if said == words else said
        if self.id == "list":
            items = [self.args[str(i)] for i in range(len(self.args))]  # KeyError: not numbered 0..n-1
            texts = [v._format(translate) if isinstance(v, Message) else v for v in items]
            join = _(TEMPLATES["list.join"]) if translate else TEMPLATES["list.join"]
            out = texts[0] if texts else ""
            for t in texts[1:]:
                out = join.format(head=out, tail=t)
            return out
        args = {k: (v._format(translate) if isinstance(v, Message) else v) for k, v in self.args.items()}
        return (_(template) if translate else template).format(**args)

    def text(self) -> str:
        """The English text (the quote's stored text is exactly this).

        Raises
        ------
        KeyError
            An id this version does not know, or a field the template needs and ``args`` lacks.
        """
        return self._format(False)

    def render(self) -> str:
        """The text in the current language (:func:`underwriting.i18n.use_lang`); English is :meth:`text`."""
        return self._format(current_lang() != DEFAULT_LANG)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (for the quote's untyped dict blocks: frequency factors, FX rows)."""
        return self.model_dump(mode="json")


def msg(id: str, **args: str | Message) -> Message:
    """``Message(id, args)`` after checking the id and that the template formats with ``args``."""
    m = Message(id=id, args=args)
    m.text()  # raises on an unknown id or a missing field: a programming error, caught by the tests
    return m


def term(key: str) -> Message:
    """A vocabulary key (written as is in English, as its catalogue words in another language)."""
    return Message(id="term", args={"key": str(key)})


def seq(items: list[str | Message]) -> Message:
    """Items joined in order by ``list.join`` (``"a, b, c"`` in English)."""
    return Message(id="list", args={str(i): v for i, v in enumerate(items)})


def answer(text: str) -> Message:
    """A questionnaire answer: a vocabulary key (``hardware_key``, ``no``) as a :func:`term`, any other
    answer (a date, a number, a name) as a :func:`data` text."""
    t = str(text)
    return term(t) if re.fullmatch(r"[a-z][a-z0-9_]*", t) else data(t)


def data(text: str) -> Message:
    """A data text (looked up in the catalogue as it is when shown in another language)."""
    return Message(id="data", args={"text": str(text)})


def localise(text: Any, message: Any = None) -> str:
    """``text`` in the current language.

    Parameters
    ----------
    text : str
        The English text as the quote stores it (returned unchanged in English).
    message : Message or dict, optional
        Its message (a :class:`Message` or its JSON); rendered in another language. Without one (an older
        saved quote, a user's own data) the catalogue's translation of ``text`` is used when it has one.
    """
    s = "" if text is None else str(text)
    if current_lang() == DEFAULT_LANG:
        return s
    if message is not None:
        try:
            m = message if isinstance(message, Message) else Message.model_validate(message)
            return m.render()
        except (ValidationError, KeyError, IndexError, ValueError):
            pass  # a message this version cannot render: the text, translated when the catalogue has it
    return _(s) if s else s
