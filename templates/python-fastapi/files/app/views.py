[% if views %]
[% set owner = "team_id" if app.features.teams else "account_id" %]
[% set tenant = "workspace" if app.features.teams else "account" %]
[% set ns = namespace(today=false, now=false) %]
[% for v in views %][% for c in v.conditions if c.value is defined %][% if c.value == "today" %][% set ns.today = true %][% elif c.value == "now" %][% set ns.now = true %][% endif %][% endfor %][% endfor %]
[% macro py_operand(v, kind) %][% if v == "today" %]TODAY[% elif v == "now" %]NOW[% elif v.field is defined %]FieldRef("[[ v.field ]]")[% elif v.number is defined %]decimal.Decimal([[ v.number | string | py ]])[% elif v.text is defined and kind == "date" %]dt.date.fromisoformat([[ v.text | py ]])[% elif v.text is defined and kind == "datetime" %]dt.datetime.fromisoformat([[ v.text | py ]])[% elif v.text is defined %][[ v.text | py ]][% elif v.choice is defined %][[ v.choice | py ]][% elif v.bool is defined %][[ v.bool | py ]][% endif %][% endmacro %]
"""The issue's views (`### Views`): saved lists of one entity, each with a page, an API
endpoint and a dashboard card.

A view is its entity's list (same search, sort, pagination and [[ tenant ]] scope) narrowed by
its conditions (joined by AND); `today` and `now` are evaluated for every request.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from app.models import BY_NAME
from app.fields import DECIMAL_PLACES, EntityMeta
from app.rules import [[ (["NOW" if ns.now else "", "TODAY" if ns.today else "", "FieldRef", "Now", "Today", "now", "today"]) | select | join(", ") ]]


@dataclass(frozen=True)
class Condition:
    """`field op value`: op is gt, ge, lt, le, eq, ne, in (`values`), is_empty or is_not_empty."""

    field: str
    op: str
    value: Any = None  # a literal, FieldRef, TODAY or NOW
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    name: str  # display name as the issue wrote it
    slug: str  # page /views/<slug>, API /api/views/<slug>
    entity: EntityMeta
    statement: str
    conditions: tuple[Condition, ...]
    sort: str | None = None  # default order: `field` ascending, `-field` descending
    sums: tuple[str, ...] = ()  # int/decimal fields totalled over every matching row


VIEWS: tuple[View, ...] = (
[% for v in views %]
[% set e = entities | selectattr("name", "equalto", v.entity) | first %]
    View(
        name=[[ v.name | py ]],
        slug="[[ v.slug ]]",
        entity=BY_NAME["[[ e.ident ]]"],
        statement=[[ v.statement | py ]],
        conditions=(
[% for c in v.conditions %]
            Condition("[[ c.field ]]", "[[ c.op ]]"[% if c.value is defined and c.value is not none %], [[ py_operand(c.value, (e.fields | selectattr("ident", "equalto", c.field) | first).kind) ]][% endif %][% if c.values is defined and c.values %], values=([% for x in c.values %][[ x | py ]], [% endfor %])[% endif %]),
[% endfor %]
        ),
[% if v.sort %]
        sort="[[ '-' if v.sort.desc else '' ]][[ v.sort.field ]]",
[% endif %]
[% if v.sums %]
        sums=([% for s in v.sums %]"[[ s ]]", [% endfor %]),
[% endif %]
    ),
[% endfor %]
)
BY_SLUG: dict[str, View] = {view.slug: view for view in VIEWS}


def _literal(meta: EntityMeta, field: str, value: Any) -> Any:
    """A condition's value as the column compares it (numbers by the field's kind)."""
    kind = meta.field(field).kind
    if kind == "int" and isinstance(value, (decimal.Decimal, str)):
        number = decimal.Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "decimal" and isinstance(value, str):
        return decimal.Decimal(value)
    return value


def _operand(meta: EntityMeta, field: str, value: Any) -> Any:
    kind = meta.field(field).kind
    if isinstance(value, FieldRef):
        return getattr(meta.model, value.name)
    if isinstance(value, Today):
        return dt.datetime.combine(today(), dt.time()) if kind == "datetime" else today()
    if isinstance(value, Now):
        return now().date() if kind == "date" else now()
    return _literal(meta, field, value)


def clauses(view: View) -> list[Any]:
    """The view's conditions as SQL, for this request (`today`, `now`)."""
    meta = view.entity
    out: list[Any] = []
    for c in view.conditions:
        column = getattr(meta.model, c.field)
        if c.op == "is_empty":
            out.append(column.is_(None))
        elif c.op == "is_not_empty":
            out.append(column.is_not(None))
        elif c.op == "in":
            out.append(column.in_([_literal(meta, c.field, v) for v in c.values]))
        else:
            value = _operand(meta, c.field, c.value)
            if c.op == "gt":
                out.append(column > value)
            elif c.op == "ge":
                out.append(column >= value)
            elif c.op == "lt":
                out.append(column < value)
            elif c.op == "le":
                out.append(column <= value)
            elif c.op == "eq":
                out.append(column == value)
            else:  # ne: a row without a value is "not equal" too
                out.append(sa.or_(column != value, column.is_(None)))
    return out


def sums(db: orm.Session, view: View, [[ owner ]]: int, where: list[Any]) -> dict[str, Any]:
    """Totals of the view's sum fields over every matching row (in the field's own form)."""
    if not view.sums:
        return {}
    model = view.entity.model
    totals = db.execute(
        sa.select(*(sa.func.sum(getattr(model, name)) for name in view.sums)).where(model.[[ owner ]] == [[ owner ]], *where)
    ).one()
    out: dict[str, Any] = {}
    for name, total in zip(view.sums, totals, strict=True):
        if view.entity.field(name).kind == "int":
            out[name] = int(total or 0)
        else:
            out[name] = decimal.Decimal(str(total or 0)).quantize(decimal.Decimal(1).scaleb(-DECIMAL_PLACES))
    return out


def count(db: orm.Session, view: View, [[ owner ]]: int) -> int:
    model = view.entity.model
    stmt = sa.select(sa.func.count()).select_from(model).where(model.[[ owner ]] == [[ owner ]], *clauses(view))
    return db.scalar(stmt) or 0


def cards(db: orm.Session, [[ owner ]]: int) -> list[tuple[View, int, dict[str, Any]]]:
    """(view, count, sums) for the dashboard."""
    return [(view, count(db, view, [[ owner ]]), sums(db, view, [[ owner ]], clauses(view))) for view in VIEWS]
[% endif %]
