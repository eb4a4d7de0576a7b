"""Turning HTML form posts into API-shaped data, and validation errors into per-field messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pydantic
from starlette.datastructures import FormData

from app import i18n
from app.fields import FieldSpec
from app.msg import N_

REQUIRED_MESSAGE = N_("This field is required.")


def form_values(fields: Sequence[FieldSpec], form: FormData) -> dict[str, Any]:
    """The submitted values as strings (what the form shows again when there are errors)."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.kind == "bool":
            values[f.name] = f.name in form
        else:
            raw = form.get(f.name)
            values[f.name] = raw.strip() if isinstance(raw, str) else ""
    return values


def form_data(fields: Sequence[FieldSpec], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Values ready for the entity's pydantic schema: blanks become None; missing required values are errors."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value = values.get(f.name)
        if f.kind != "bool" and value == "":
            value = None
            if f.required:
                errors[f.name] = REQUIRED_MESSAGE
        data[f.name] = value
    return data, errors


def validation_errors(exc: pydantic.ValidationError) -> dict[str, str]:
    """pydantic errors as {field: message}, the first message of each field."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "__all__"
        errors.setdefault(name, i18n.error_message(err))  # in the app's language
    return errors


def _form_value(f: FieldSpec, value: Any) -> Any:
    if f.kind == "bool":
        return bool(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def row_values(fields: Sequence[FieldSpec], row: Any) -> dict[str, Any]:
    """A stored row as form values (the edit page)."""
    return {f.name: _form_value(f, getattr(row, f.name)) for f in fields}


def empty_values(fields: Sequence[FieldSpec]) -> dict[str, Any]:
    return {f.name: (False if f.kind == "bool" else "") for f in fields}


def default_values(fields: Sequence[FieldSpec], defaults: dict[str, Any]) -> dict[str, Any]:
    """The create form's values: empty, except the fields the issue gives a default."""
    values = empty_values(fields)
    for f in fields:
        if f.name in defaults:
            values[f.name] = _form_value(f, defaults[f.name])
    return values
