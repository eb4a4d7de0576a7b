"""CSV export: an entity's rows as a CSV file that spreadsheets open safely."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

from app.fields import FieldSpec


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):  # stored as naive UTC: written with its offset
        return value.replace(tzinfo=dt.UTC).isoformat(timespec="seconds") if value.tzinfo is None else value.isoformat(timespec="seconds")
    if isinstance(value, (dt.date, decimal.Decimal, int)):
        return str(value)
    text = str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def csv_text(fields: Sequence[FieldSpec], rows: Iterable[Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["id", *(f.name for f in fields), "created_at", "updated_at"]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, c)) for c in columns])
    return buffer.getvalue()


def csv_response(fields: Sequence[FieldSpec], rows: Iterable[Any], filename: str) -> Response:
    """The rows as a `text/csv` attachment named `filename`."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(csv_text(fields, rows), media_type="text/csv; charset=utf-8", headers=headers)
