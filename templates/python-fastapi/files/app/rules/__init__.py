"""Business rules: the spec's rules as data, enforced in ONE place for the pages and the API.

Each entity module lists its rules (`RULES` in `app/models/<name>.py`, from the issue's
`### Rules`); the entity routers call `enforce()` on every create and update, pages and API
alike. Rules the database can express are also constraints of the table (CHECK, UNIQUE, and
on PostgreSQL an exclusion constraint for `no overlap`); `constraint_errors()` turns a
violation the database caught (a concurrent insert) into the same field errors.

Semantics: a rule whose value is missing (an optional field left empty) holds; `today` is the
server's date and `now` the current UTC time, both taken when the request is checked;
`no overlap` intervals are half-open `[start, end)`, so back-to-back intervals are allowed.

Per-entity modules (`app/rules/<name>.py`) hold `validate()`, a hook for extra rules.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm


class RuleViolation(ValueError):
    """Raise from a rules module to reject a value; `field` is the field's name (None: the whole record)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- operands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRef:
    """The value of another field of the same record."""

    name: str


@dataclass(frozen=True)
class Today:
    """The server's date when the request is checked."""


@dataclass(frozen=True)
class Now:
    """The current UTC time (naive, as datetimes are stored) when the request is checked."""


TODAY = Today()
NOW = Now()


def today() -> dt.date:
    return dt.date.today()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# --- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    """`field op value`: op is one of > >= < <= = !=; value a literal, FieldRef, TODAY or NOW."""

    field: str
    op: str
    value: Any
    statement: str = ""
    constraint: str | None = None  # name of the CHECK constraint, when the database has one


@dataclass(frozen=True)
class Between:
    """`min <= field <= max`."""

    field: str
    min: Any
    max: Any
    statement: str = ""
    constraint: str | None = None


@dataclass(frozen=True)
class Length:
    """Text length in characters, `min..max`."""

    field: str
    min: int
    max: int
    statement: str = ""
    constraint: str | None = None


@dataclass(frozen=True)
class Default:
    """The value a new record gets when none is given (create form and API create body)."""

    field: str
    value: Any
    statement: str = ""


@dataclass(frozen=True)
class Unique:
    """No two records of the same tenant share all of these values."""

    fields: tuple[str, ...]
    statement: str = ""
    constraint: str | None = None  # the UNIQUE constraint's name


@dataclass(frozen=True)
class NoOverlap:
    """No two records (of the same tenant and the same `per` values) have intersecting `[start, end)`."""

    start: str
    end: str
    per: tuple[str, ...] = ()
    statement: str = ""
    constraint: str | None = None  # the PostgreSQL exclusion constraint's name


Rule = Compare | Between | Length | Default | Unique | NoOverlap

OPS: dict[str, Callable[..., bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    "!=": operator.ne,
}
_WORDS = {">": "greater than", ">=": "at least", "<": "less than", "<=": "at most", "=": "equal to", "!=": "different from"}
_TIME_WORDS = {">": "after", ">=": "on or after", "<": "before", "<=": "on or before", "=": "on", "!=": "other than"}


# --- evaluation --------------------------------------------------------------------------


def _resolve(value: Any, data: dict[str, Any]) -> Any:
    if isinstance(value, FieldRef):
        return data.get(value.name)
    if isinstance(value, Today):
        return today()
    if isinstance(value, Now):
        return now()
    return value


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Dates against datetimes (e.g. a datetime field `>= today`): compare as datetimes."""
    if isinstance(left, dt.datetime) and not isinstance(right, dt.datetime) and isinstance(right, dt.date):
        right = dt.datetime.combine(right, dt.time())
    elif isinstance(right, dt.datetime) and not isinstance(left, dt.datetime) and isinstance(left, dt.date):
        left = dt.datetime.combine(left, dt.time())
    if isinstance(left, (int, decimal.Decimal)) and isinstance(right, (int, float, str, decimal.Decimal)) and not isinstance(right, bool):
        right = decimal.Decimal(str(right))
    return left, right


def _label(meta: Any, name: str) -> str:
    return meta.field(name).label


def _shown(meta: Any, value: Any) -> str:
    if isinstance(value, FieldRef):
        return _label(meta, value.name)
    if isinstance(value, Today):
        return "today"
    if isinstance(value, Now):
        return "now"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def message(meta: Any, rule: Rule) -> str:
    """The message shown next to the field(s) a rule names."""
    if isinstance(rule, Compare):
        kind = meta.field(rule.field).kind
        words = _TIME_WORDS if kind in ("date", "datetime") else _WORDS
        return f"{_label(meta, rule.field)} must be {words[rule.op]} {_shown(meta, rule.value)}."
    if isinstance(rule, Between):
        return f"{_label(meta, rule.field)} must be between {_shown(meta, rule.min)} and {_shown(meta, rule.max)}."
    if isinstance(rule, Length):
        return f"{_label(meta, rule.field)} must be {rule.min} to {rule.max} characters long."
    if isinstance(rule, Unique):
        names = " and ".join(_label(meta, f) for f in rule.fields)
        return f"Another {meta.label} already has this {names}."
    if isinstance(rule, NoOverlap):
        per = " and ".join(_label(meta, f) for f in rule.per)
        same = f" with the same {per}" if per else ""
        return f"{_label(meta, rule.start)} – {_label(meta, rule.end)} overlaps another {meta.label}{same}."
    return rule.statement


def errors_of(meta: Any, rule: Rule) -> dict[str, str]:
    """{field: message} for every field a broken rule names."""
    text = message(meta, rule)
    if isinstance(rule, Unique):
        return {name: text for name in rule.fields}
    if isinstance(rule, NoOverlap):
        return {rule.start: text, rule.end: text}
    return {rule.field: text}  # type: ignore[union-attr]


def check_values(meta: Any, rules: Sequence[Rule], data: dict[str, Any]) -> dict[str, str]:
    """Rules on one record's own values (comparisons, between, length, interval order)."""
    errors: dict[str, str] = {}
    for rule in rules:
        if isinstance(rule, Compare):
            left, right = data.get(rule.field), _resolve(rule.value, data)
            if left is not None and right is not None:
                left, right = _comparable(left, right)
                if not OPS[rule.op](left, right):
                    errors.setdefault(rule.field, message(meta, rule))
        elif isinstance(rule, Between):
            value = data.get(rule.field)
            low, high = _resolve(rule.min, data), _resolve(rule.max, data)
            if value is not None and low is not None and high is not None:
                value, low = _comparable(value, low)
                value, high = _comparable(value, high)
                if not low <= value <= high:
                    errors.setdefault(rule.field, message(meta, rule))
        elif isinstance(rule, Length):
            value = data.get(rule.field)
            if value is not None and not rule.min <= len(str(value)) <= rule.max:
                errors.setdefault(rule.field, message(meta, rule))
        elif isinstance(rule, NoOverlap):
            start, end = data.get(rule.start), data.get(rule.end)
            if start is not None and end is not None and end < start:
                errors.setdefault(rule.end, f"{_label(meta, rule.end)} must not be before {_label(meta, rule.start)}.")
    return errors


def check_stored(db: orm.Session, meta: Any, rules: Sequence[Rule], owner: str, scope: int, data: dict[str, Any],
                 exclude_id: int | None = None) -> dict[str, str]:
    """Rules against the tenant's other records (unique together, no overlap)."""
    model = meta.model
    errors: dict[str, str] = {}
    for rule in rules:
        if isinstance(rule, Unique):
            values = [data.get(name) for name in rule.fields]
            if any(v is None for v in values):
                continue
            stmt = sa.select(model.id).where(getattr(model, owner) == scope,
                                             *(getattr(model, n) == v for n, v in zip(rule.fields, values, strict=True)))
        elif isinstance(rule, NoOverlap):
            start, end = data.get(rule.start), data.get(rule.end)
            per = [data.get(name) for name in rule.per]
            if start is None or end is None or not start < end or any(v is None for v in per):
                continue  # a missing value holds; an empty interval overlaps nothing
            s, e = getattr(model, rule.start), getattr(model, rule.end)
            stmt = sa.select(model.id).where(getattr(model, owner) == scope, s < end, e > start, e > s,
                                             *(getattr(model, n) == v for n, v in zip(rule.per, per, strict=True)))
        else:
            continue
        if exclude_id is not None:
            stmt = stmt.where(model.id != exclude_id)
        if db.scalar(stmt.limit(1)) is not None:
            for name, text in errors_of(meta, rule).items():
                errors.setdefault(name, text)
    return errors


def defaults(rules: Sequence[Rule]) -> dict[str, Any]:
    """The defaults (literals, `today`, `now`), evaluated now: what a create starts from."""
    return {r.field: _resolve(r.value, {}) for r in rules if isinstance(r, Default)}


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")


def constraint_errors(meta: Any, rules: Sequence[Rule], owner: str, exc: Exception) -> dict[str, str] | None:
    """The field errors of the rule whose database constraint `exc` (an IntegrityError) reports."""
    orig = getattr(exc, "orig", exc)
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    text = str(orig)
    for rule in rules:
        constraint = getattr(rule, "constraint", None)
        if constraint and (name == constraint or re.search(rf"\b{re.escape(constraint)}\b", text)):
            return errors_of(meta, rule)
    match = _SQLITE_UNIQUE.search(text)
    if match:
        columns = {c.strip().rsplit(".", 1)[-1] for c in match.group(1).split(",")}
        for rule in rules:
            if isinstance(rule, Unique) and columns == {owner, *rule.fields}:
                return errors_of(meta, rule)
    return None
