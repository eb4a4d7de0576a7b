"""Field metadata and validated value types shared by every entity.

Each entity module (`app/models/<name>.py`) describes its fields with `FieldSpec`s; the
generic list/form pages, the CSV export and the tests read that metadata. The pydantic
types below give the API the same validation rules as the forms.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import pydantic

# --- metadata ------------------------------------------------------------------------

TEXT_MAX = 200
LONGTEXT_MAX = 20_000
EMAIL_MAX = 320
URL_MAX = 2048
DECIMAL_DIGITS = 18
DECIMAL_PLACES = 4
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
ID_MAX = 2**31 - 1  # ids are 32-bit integers on every database

TEXTUAL_KINDS = frozenset({"text", "longtext", "email", "url"})


@dataclass(frozen=True)
class FieldSpec:
    """One field of an entity, as the issue described it."""

    name: str  # attribute, JSON key, form name and column
    label: str  # display label (from the issue; printed auto-escaped)
    kind: str  # text, longtext, int, decimal, bool, date, datetime, email, url, enum, ref
    required: bool = False
    unique: bool = False  # unique within one [[ "workspace" if app.features.teams else "account" ]]
    choices: Sequence[str] = ()  # for enum
    target: str | None = None  # for ref: the target entity's module name in app.models

    @property
    def textual(self) -> bool:
        return self.kind in TEXTUAL_KINDS


@dataclass(frozen=True)
class EntityMeta:
    """What the generic pages need to know about one entity."""

    name: str  # module name in app.models
    label: str
    plural_label: str
    route: str  # URL segment: pages at /<route>, API at /api/<route>
    fields: tuple[FieldSpec, ...]
    model: Any  # the SQLAlchemy model class
    display_field: str | None = None
    search_fields: Sequence[str] = ()  # text fields searched by `?q=`
    rules: Sequence[Any] = ()  # the rules (app.rules), enforced on every create and update

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def display(self, row: Any) -> str:
        """How a row is shown in lists and select boxes."""
        if self.display_field:
            value = getattr(row, self.display_field)
            if value not in (None, ""):
                return str(value)
        return f"{self.label} #{row.id}"


# --- value types -----------------------------------------------------------------------


def blank_to_none(value: Any) -> Any:
    """Optional fields: an empty or blank string means "no value"."""
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """Datetimes are stored as naive UTC; aware inputs are converted."""
    if value.tzinfo is not None:
        try:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValueError("is out of the supported range once converted to UTC") from None
    return value


def _no_nul(value: str) -> str:
    """PostgreSQL cannot store NUL in text: refuse it on every database alike (422, not 500)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _aware_utc(value: dt.datetime) -> dt.datetime:
    """Stored datetimes are naive UTC: the API answers them with their offset (RFC 3339, `Z`)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


BlankIsNone = pydantic.BeforeValidator(blank_to_none)
NoNul = pydantic.AfterValidator(_no_nul)

Text = Annotated[str, pydantic.StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX), NoNul]
LongText = Annotated[str, pydantic.StringConstraints(strip_whitespace=True, min_length=1, max_length=LONGTEXT_MAX), NoNul]
Int = Annotated[int, pydantic.Field(ge=INT_MIN, le=INT_MAX)]
Decimal = Annotated[decimal.Decimal, pydantic.Field(max_digits=DECIMAL_DIGITS, decimal_places=DECIMAL_PLACES)]
Bool = bool
Date = dt.date
DateTime = Annotated[dt.datetime, pydantic.AfterValidator(_naive_utc)]
# Input: an offset is honoured (`09:00+09:00` is 00:00 UTC); without one the time is UTC.
# Output (`StoredDateTime`): always with its offset, so clients never guess the zone.
StoredDateTime = Annotated[dt.datetime, pydantic.AfterValidator(_aware_utc)]
Email = Annotated[pydantic.EmailStr, pydantic.StringConstraints(max_length=EMAIL_MAX)]
Url = Annotated[
    str,
    pydantic.StringConstraints(strip_whitespace=True, min_length=1, max_length=URL_MAX),
    pydantic.AfterValidator(_http_url),
    NoNul,
]
RefId = Annotated[int, pydantic.Field(ge=1, le=ID_MAX)]
