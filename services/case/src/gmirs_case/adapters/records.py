"""The one field mapping of the case record: a domain dataclass read field by field.

Rows and published events are derived from the domain dataclasses' own fields (enums as their
values), so a field added to `Case` or `Appointment` reaches its column and its events without
being written out again; only names that differ are listed (`rename`). The API's schemas read
the same objects with `from_attributes`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_type_hints

from pydantic import BaseModel

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
Model = TypeVar("Model", bound=BaseModel)


def record_of(
    obj: Any, *, leave_out: Collection[str] = (), rename: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`obj`'s dataclass fields as a flat dict (enums as their values), some renamed."""
    rename = rename or {}
    return {
        rename.get(name, name): _plain(getattr(obj, name))
        for name, _ in _field_types(obj.__class__)
        if name not in leave_out
    }


def columns_of(
    cls: type[DataclassInstance], *, rename: Mapping[str, str] | None = None
) -> list[str]:
    """The keys `record_of` gives for an instance of `cls`."""
    rename = rename or {}
    return [rename.get(name, name) for name, _ in _field_types(cls)]


def from_record(
    cls: type[T],
    row: Any,
    *,
    leave_out: Collection[str] = (),
    rename: Mapping[str, str] | None = None,
    **given: Any,
) -> T:
    """Rebuild a `cls` dataclass from `row`'s attributes (the inverse of `record_of`)."""
    rename = rename or {}
    values = {
        name: _typed(enum_type, getattr(row, rename.get(name, name)))
        for name, enum_type in _field_types(cls)
        if name not in leave_out and name not in given
    }
    return cls(**values, **given)


@functools.cache
def _field_types(cls: type[Any]) -> tuple[tuple[str, type[enum.Enum] | None], ...]:
    """`cls`'s fields with the enum each holds, resolved once per class.

    Resolving the (string, `from __future__`) annotations with `get_type_hints` on every call
    cost about 40% of the caseload list's CPU at 50 rows a page (measured with py-spy).
    """
    hints = get_type_hints(cls)
    return tuple((f.name, _enum_of(hints[f.name])) for f in fields(cls))


def contract(model: type[Model], values: Mapping[str, Any]) -> Model:
    """The published `model` filled from `values`: exactly the fields the contract declares."""
    return model(**{name: values[name] for name in model.model_fields})


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _enum_of(hint: Any) -> type[enum.Enum] | None:
    """The enum a field's type names (directly or in a union), if any."""
    for candidate in (hint, *get_args(hint)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate
    return None


def _typed(enum_type: type[enum.Enum] | None, value: Any) -> Any:
    """A stored value back in its field's type (an enum member for an enum field)."""
    if value is None or enum_type is None:
        return value
    return enum_type(value)
