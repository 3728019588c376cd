"""Named scenario choices of a regime file: where sources disagree, each reading is an option.

A regime file may declare ``[[choices]]``: a ``name``, the ``default`` option, a ``description`` and
``options``, each with a ``status``, a ``source`` (where that reading comes from), a ``reading`` in
words and the parameter ``overrides`` that turn the file into that reading (the same paths as
``--param``). ``--param choices.<name>=<option>`` selects an option; the assessment prints every
option with its source and which one is in effect. The default option's overrides must leave the
file as it is (checked when the file is loaded).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from underwriting.errors import InputError


class ChoiceOption(BaseModel):
    """One reading: its provenance and the overrides that implement it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str = Field(pattern=r"^(confirmed|reported|assumption)$")
    source: str = Field(min_length=1)
    reading: str = Field(min_length=1)
    overrides: dict[str, Any] = Field(default_factory=dict)


class Choice(BaseModel):
    """A scenario parameter with one option per reading of the sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    description: str = Field(min_length=1)
    default: str
    selected: str | None = None
    options: dict[str, ChoiceOption] = Field(min_length=2)

    @model_validator(mode="after")
    def _known(self) -> Choice:
        for label, v in (("default", self.default), ("selected", self.selected)):
            if v is not None and v not in self.options:
                raise ValueError(f"{label}: {v!r} is not an option ({', '.join(self.options)})")
        for opt in self.options.values():
            if any(k.startswith("choices.") for k in opt.overrides):
                raise ValueError("an option's overrides may not select another choice")
        return self

    @property
    def in_effect(self) -> str:
        return self.selected or self.default


def expand(choices: list[Choice], path: str, value: Any) -> tuple[str, dict[str, Any]]:
    """``("choices.scope", "cold_only")`` → ``(name, that option's overrides)``; errors name the path."""
    name = path.split(".", 1)[1] if "." in path else ""
    match = [c for c in choices if c.name == name]
    if not match:
        known = ", ".join(c.name for c in choices) or "none in this regime"
        raise InputError(f"no scenario choice named {name!r}; choices: {known}", field=f"--param {path}")
    c = match[0]
    if value not in c.options:
        raise InputError(f"{value!r} is not an option of {name}; options: {', '.join(c.options)}",
                         field=f"--param {path}")
    return name, dict(c.options[value].overrides)
