"""External systems clubflow talks to over HTTP (lead sources, the call centre)."""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, HttpUrl, SecretStr, field_validator

from clubflow.core.settings import PLACEHOLDER_SECRETS


class ExternalSystem(Block):
    """A base URL and a bearer token; tasks/http.py builds the client from it."""

    _block_type_name: ClassVar[str] = "clubflow external system"
    _block_type_slug: ClassVar[str] = "clubflow-external-system"
    _description: ClassVar[str] = "An HTTP API clubflow reads from (lead source, call centre)."

    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: HttpUrl
    token: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    page_size: int = Field(default=500, ge=1, le=10_000)

    @field_validator("token")
    @classmethod
    def _not_placeholder(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("token is empty or a placeholder")
        return value
