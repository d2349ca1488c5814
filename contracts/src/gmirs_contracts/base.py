"""The base every contract model shares: strict for producers, tolerant on request for consumers.

Producers must emit exactly the published shape, so unknown fields are an error by default. A
consumer reading a newer producer's event (one that added an optional field, which keeps the
version) must not fail on the field it does not know, so `parse_tolerant` drops unknown keys at
every level before validating.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

_TOLERANT = "gmirs_contracts.tolerant"


class ContractModel(BaseModel):
    """A published payload shape. Construct it to produce; `parse_tolerant` it to consume."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_when_tolerant(cls, data: Any, info: ValidationInfo) -> Any:
        """Strip unknown keys when validating in tolerant mode (the context reaches nested models)."""
        if isinstance(data, dict) and info.context and info.context.get(_TOLERANT):
            known = cls.__pydantic_fields__  # the dict itself: `model_fields` costs a lookup chain
            return {key: value for key, value in data.items() if key in known}
        return data

    @classmethod
    def parse_tolerant(cls, data: Any) -> Self:
        """Validate a consumed payload, ignoring fields this version does not know."""
        return cls.model_validate(data, context={_TOLERANT: True})

    @classmethod
    def parse_tolerant_json(cls, raw: str | bytes) -> Self:
        """Like `parse_tolerant`, straight from the JSON bytes of a record value or request body."""
        return cls.model_validate_json(raw, context={_TOLERANT: True})

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready payload a producer puts in an event or webhook body."""
        return self.model_dump(mode="json")
