"""JSON Schema (draft 2020-12) documents generated from the contract models.

The files under contracts/events and contracts/webhooks are what other teams read; they are
generated from the models so the two cannot disagree, and a check mode catches edits to either
side that were not regenerated.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from gmirs_contracts.base import ContractModel
from gmirs_contracts.registry import EVENTS, WEBHOOKS

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    """Pydantic's generator without per-property titles (derived from names, they add noise)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_document(model: type[ContractModel], *, schema_id: str, title: str) -> dict[str, Any]:
    """The full schema document for `model`, with dialect, `$id` and `title` first."""
    body = model.model_json_schema(schema_generator=_Generator)
    body.pop("title", None)
    head = {"$schema": DIALECT, "$id": schema_id, "title": title}
    if "description" in body:
        head["description"] = body.pop("description")
    return {**head, **body}


def render(document: dict[str, Any]) -> str:
    """Stable text for a schema file (2-space indent, trailing newline) so diffs stay small."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[PurePosixPath, str]:
    """Every schema file's path (relative to contracts/) and exact expected text."""
    files: dict[PurePosixPath, str] = {}
    for event in EVENTS.values():
        doc = schema_document(event.model, schema_id=event.dataschema, title=event.ce_type)
        files[event.schema_path] = render(doc)
    for hook in WEBHOOKS.values():
        doc = schema_document(hook.model, schema_id=hook.dataschema, title=hook.name)
        files[hook.schema_path] = render(doc)
    return files
