"""One settings object for the service: every ``UNDERWRITING_*`` environment variable it reads, typed
and checked (pydantic-settings), with the values ``underwriting serve`` passes overriding them.

========================================  ======================================================
variable                                  setting
========================================  ======================================================
``UNDERWRITING_DATABASE``                 ``database_url`` (SQLAlchemy URL)
``UNDERWRITING_DATA``                     ``data_dir`` (folder of the default SQLite file)
``UNDERWRITING_REGISTRY``                 ``registry`` (model registry folder)
``UNDERWRITING_RATE_LIMIT``               ``rate_limit_per_minute`` (per API key, all workers)
``UNDERWRITING_MAX_BODY``                 ``max_body_bytes``
``UNDERWRITING_SIGNIN_PER_MINUTE``        ``signin_per_minute`` (sign-ins per source / per key id)
``UNDERWRITING_SESSION_HOURS``            ``session_hours``
``UNDERWRITING_ALLOWED_ORIGINS``          ``allowed_origins`` (JSON list, e.g. a proxy's address)
``UNDERWRITING_WORKBENCH``                ``workbench``
``UNDERWRITING_WARM``                     ``warm``
``UNDERWRITING_SERVE_CONFIG``             JSON of the above, written by ``serve --workers N`` for
                                          its worker processes (:func:`from_env`)
========================================  ======================================================
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Environment variable carrying ``serve``'s settings (JSON) to each uvicorn worker process.
SERVE_CONFIG_ENV = "UNDERWRITING_SERVE_CONFIG"


def _env(name: str, field: str) -> AliasChoices:
    return AliasChoices(field, f"UNDERWRITING_{name}")


class ServiceSettings(BaseSettings):
    """Settings of the quote service (see the module for the environment variables)."""

    model_config = SettingsConfigDict(extra="forbid", populate_by_name=True, case_sensitive=True)

    database_url: str | None = Field(None, validation_alias=_env("DATABASE", "database_url"),
                                     description="SQLAlchemy URL; default a SQLite file in data_dir")
    data_dir: str | None = Field(None, validation_alias=_env("DATA", "data_dir"),
                                 description="folder of the default SQLite database (default ./underwriting-data)")
    registry: str | None = Field(None, validation_alias=_env("REGISTRY", "registry"),
                                 description="model registry folder (default: the shipped models/)")
    rate_limit_per_minute: float = Field(600.0, ge=0, validation_alias=_env("RATE_LIMIT", "rate_limit_per_minute"),
                                         description="requests a minute per API key, shared by all workers; 0: off")
    max_body_bytes: int = Field(1_000_000, gt=0, validation_alias=_env("MAX_BODY", "max_body_bytes"),
                                description="largest request body (bytes), enforced while streaming")
    signin_per_minute: float = Field(10.0, ge=0, validation_alias=_env("SIGNIN_PER_MINUTE", "signin_per_minute"),
                                     description="sign-in attempts (and failed API authentications) a minute per "
                                                 "source address and per key id; 0: off")
    session_hours: float = Field(8.0, gt=0, le=24 * 30, validation_alias=_env("SESSION_HOURS", "session_hours"),
                                 description="lifetime of a workbench session (hours)")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("ALLOWED_ORIGINS", "allowed_origins"),
        description="origins besides the server's own that may post workbench forms (e.g. https://uw.example.com)")
    workbench: bool = Field(True, validation_alias=_env("WORKBENCH", "workbench"),
                            description="serve the browser workbench under /workbench")
    warm: bool = Field(False, validation_alias=_env("WARM", "warm"),
                       description="load the models before the first request (serve sets it)")

    @classmethod
    def from_env(cls, **overrides: Any) -> ServiceSettings:
        """Settings from the environment, then ``$UNDERWRITING_SERVE_CONFIG`` (JSON), then ``overrides``."""
        given = json.loads(os.environ.get(SERVE_CONFIG_ENV) or "{}")
        return cls(**{**given, **overrides})

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        # from the environment: a JSON list or comma-separated origins
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [o.strip() for o in text.split(",") if o.strip()]
        return value

    def resolved_database_url(self) -> str:
        """``database_url``, else a SQLite file in ``data_dir`` (or ``./underwriting-data``)."""
        from pathlib import Path

        if self.database_url:
            return self.database_url
        folder = Path(self.data_dir or "underwriting-data")
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(folder / 'service.sqlite3').resolve()}"

