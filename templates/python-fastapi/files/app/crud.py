[# With team workspaces, entity rows belong to a team (`team_id`), else to an account (`account_id`). #]
[% set owner = "team_id" if app.features.teams else "account_id" %]
[% set tenant = "workspace" if app.features.teams else "account" %]
[% set yours = "this workspace" if app.features.teams else "your account" %]
"""Generic, [[ tenant ]]-scoped data access used by every entity router.

Every query here filters on `[[ owner ]]`: a row of another [[ tenant ]] is indistinguishable
from a row that does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import pydantic
import sqlalchemy as sa
from fastapi.exceptions import RequestValidationError
from fastapi import Path, Query, status
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import QueryParams

from app import rules
from app.fields import ID_MAX, INT_MAX, Date, DateTime, Decimal, EntityMeta, FieldSpec, Int, RefId
from app.i18n import _, error_message
from app.msg import N_

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
OPTIONS_LIMIT = 1000  # rows offered in a select box
# The last page number whose row offset still fits the database's 64-bit integers.
MAX_PAGE = INT_MAX // MAX_PER_PAGE

# Path ids and page numbers bounded to what the database stores: larger ones answer 422, not 500.
ItemId = Annotated[int, Path(ge=1, le=ID_MAX, description="The record's id")]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number (past the last page: an empty page)")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page")]
SearchText = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$", description="Search the text fields")]
# Page list sort keys (`?sort=title&sort=-id`): unknown ones are ignored, as a stale link may hold one.
PageSort = Annotated[list[str], Query(max_length=40)]


class FieldErrors(Exception):
    """Field-level problems found after schema validation (unique, refs, business rules).

    The API answers `status_code` with `{"detail": [{"loc": ["body", field], "msg": …, "type": …}]}`
    (the same shape as FastAPI's 422); pages show each message next to its field.
    """

    def __init__(self, errors: dict[str, str], status_code: int = status.HTTP_422_UNPROCESSABLE_CONTENT, kind: str = "value_error") -> None:
        super().__init__(errors)
        self.errors = errors
        self.status_code = status_code
        self.kind = kind

    def detail(self) -> list[dict[str, Any]]:
        return [
            {"loc": ["body", name] if name != "__all__" else ["body"], "msg": msg, "type": self.kind}
            for name, msg in self.errors.items()
        ]


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def past_end(self) -> bool:
        """A page after the last one (rows exist, but none on this page)."""
        return self.page > self.pages


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- field filters (`?<field>=v`, `?<field>__gte=v`, `?<field>__lte=v`) -------------------

# Query parameters of the list endpoints that are not field filters.
LIST_PARAMS = frozenset({"page", "per_page", "sort", "q"})
RANGE_KINDS = frozenset({"int", "decimal", "date", "datetime"})
RANGE_OPS = ("gte", "lte")

_FILTER_TYPES: dict[str, pydantic.TypeAdapter[Any]] = {
    "int": pydantic.TypeAdapter(Int),
    "decimal": pydantic.TypeAdapter(Decimal),
    "date": pydantic.TypeAdapter(Date),
    "datetime": pydantic.TypeAdapter(DateTime),
    "bool": pydantic.TypeAdapter(bool),
    "ref": pydantic.TypeAdapter(RefId),
}


@dataclass(frozen=True)
class Filter:
    """One validated field filter: `op` is `eq`, `gte` or `lte`; `value` None means "no value"."""

    field: str
    op: str
    value: Any


def _filter_value(f: FieldSpec, raw: str) -> Any:
    if raw.strip() == "":
        return None
    if "\x00" in raw:  # no database stores NUL in text (PostgreSQL refuses it)
        raise ValueError(_("This value has characters that are not allowed."))
    if f.kind == "enum" and f.choices:
        if raw not in f.choices:
            raise ValueError(_("Choose one of: {choices}.", choices=", ".join(f.choices)))
        return raw
    adapter = _FILTER_TYPES.get(f.kind)
    if adapter is None:
        return raw
    try:
        return adapter.validate_strings(raw)
    except pydantic.ValidationError as exc:
        raise ValueError(error_message(exc.errors()[0])) from None


def _bad_filter(key: str, raw: str, message: str) -> dict[str, Any]:
    """A 422 error for a query parameter, its message already in the app's language."""
    return {"loc": ("query", key), "msg": message, "type": "value_error", "input": raw}


def parse_filters(meta: EntityMeta, params: QueryParams, known: Iterable[str] = LIST_PARAMS) -> list[Filter]:
    """The field filters of a list request; 422 naming every unknown parameter or bad value."""
    known = frozenset(known)
    fields = {f.name: f for f in meta.fields}
    filters: list[Filter] = []
    errors: list[dict[str, Any]] = []
    for key, raw in params.multi_items():
        if key in known:
            continue
        name, op = key, "eq"
        for suffix in RANGE_OPS:
            if key.endswith("__" + suffix):
                name, op = key[: -len(suffix) - 2], suffix
        f = fields.get(name)
        if f is None:
            errors.append(_bad_filter(key, raw, _("Unknown filter {name}: not a field of this list.", name=key)))
            continue
        if op != "eq" and f.kind not in RANGE_KINDS:
            errors.append(_bad_filter(key, raw, _("{label}: ranges (__gte, __lte) apply to numbers and dates only.", label=f.label)))
            continue
        try:
            value = _filter_value(f, raw)
        except ValueError as exc:
            errors.append(_bad_filter(key, raw, f"{f.label}: {exc}"))
            continue
        if value is None and op != "eq":
            errors.append(_bad_filter(key, raw, _("{label}: give a value.", label=f.label)))
            continue
        filters.append(Filter(f.name, op, value))
    if errors:
        raise RequestValidationError(errors)
    return filters


def filter_clauses(meta: EntityMeta, filters: Iterable[Filter]) -> list[Any]:
    """SQL conditions for validated filters (an empty `?field=` matches rows without a value)."""
    clauses: list[Any] = []
    for flt in filters:
        column = getattr(meta.model, flt.field)
        kind = meta.field(flt.field).kind
        if flt.value is None:
            clauses.append(column.is_(None))
        elif flt.op == "gte":
            clauses.append(column >= flt.value)
        elif flt.op == "lte":
            clauses.append(column <= flt.value)
        elif kind == "email":
            clauses.append(sa.func.lower(column) == str(flt.value).lower())
        else:
            clauses.append(column == flt.value)
    return clauses


def filter_openapi(meta: EntityMeta) -> dict[str, Any]:
    """The field filters as OpenAPI query parameters (documentation of the list endpoint)."""
    parameters: list[dict[str, Any]] = []
    for f in meta.fields:
        schema: dict[str, Any] = {"type": "string"}
        if f.kind == "enum" and f.choices:
            schema = {"type": "string", "enum": list(f.choices)}
        parameters.append({"name": f.name, "in": "query", "required": False, "schema": schema,
                           "description": f"Exact match on {f.label} (empty: rows without a value)"})
        if f.kind in RANGE_KINDS:
            for op, word in (("gte", "at least"), ("lte", "at most")):
                parameters.append({"name": f"{f.name}__{op}", "in": "query", "required": False, "schema": {"type": "string"},
                                   "description": f"{f.label} {word} this value"})
    return {"parameters": parameters}


def list_rows(
    db: orm.Session,
    meta: EntityMeta,
    [[ owner ]]: int,
    *,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    sort: str | Sequence[str] | None = None,
    q: str | None = None,
    where: Sequence[Any] = (),
) -> Page[Any]:
    """One page of the [[ tenant ]]'s rows, optionally searched (`q`), filtered (`where`) and sorted
    (`sort`: a key or keys in order, `field` ascending, `-field` descending; default newest first)."""
    model = meta.model
    stmt = sa.select(model).where(model.[[ owner ]] == [[ owner ]], *where)
    if q and q.strip() and meta.search_fields:
        pattern = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(sa.or_(*(getattr(model, name).ilike(pattern, escape="\\") for name in meta.search_fields)))
    total = db.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    sortable = sortable_keys(meta)
    keys = [sort] if isinstance(sort, str) else list(sort or ())
    order = [
        getattr(model, key.lstrip("-")).desc() if key.startswith("-") else getattr(model, key).asc()
        for key in keys
        if key.lstrip("-") in sortable
    ] or [model.id.desc()]
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = min(max(page, 1), MAX_PAGE)
    rows = db.scalars(stmt.order_by(*order, model.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=rows, total=total, page=page, per_page=per_page)


def sortable_keys(meta: EntityMeta) -> frozenset[str]:
    return frozenset(("id", *(f.name for f in meta.fields), "created_at", "updated_at"))


def get_owned(db: orm.Session, model: type[T], [[ owner ]]: int, item_id: int) -> T | None:
    return db.scalar(sa.select(model).where(model.id == item_id, model.[[ owner ]] == [[ owner ]]))  # type: ignore[attr-defined]


def owns(db: orm.Session, model: Any, [[ owner ]]: int, item_id: int) -> bool:
    """Whether `item_id` is a row of `model` owned by the [[ tenant ]] (used to check `ref` values)."""
    return db.scalar(sa.select(model.id).where(model.id == item_id, model.[[ owner ]] == [[ owner ]])) is not None


def unique_taken(db: orm.Session, model: Any, [[ owner ]]: int, column: str, value: Any, exclude_id: int | None,
                 *, casefold: bool = False) -> bool:
    """Whether another row holds `value`; `casefold`: compared case-insensitively (e-mail addresses)."""
    if casefold:
        condition = sa.func.lower(getattr(model, column)) == str(value).lower()
    else:
        condition = getattr(model, column) == value
    stmt = sa.select(model.id).where(model.[[ owner ]] == [[ owner ]], condition)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return db.scalar(stmt.limit(1)) is not None


def check_unique(db: orm.Session, meta: EntityMeta, [[ owner ]]: int, data: dict[str, Any], exclude_id: int | None = None) -> None:
    """Raise 409 FieldErrors when a `unique` field's value is already used in this [[ tenant ]]."""
    taken = {
        f.name: N_("This value is already used by another record.")
        for f in meta.fields
        if f.unique and data.get(f.name) is not None
        and unique_taken(db, meta.model, [[ owner ]], f.name, data[f.name], exclude_id, casefold=f.kind == "email")
    }
    if taken:
        raise FieldErrors(taken, status.HTTP_409_CONFLICT, "unique")


def check_rules(db: orm.Session, meta: EntityMeta, [[ owner ]]: int, data: dict[str, Any], exclude_id: int | None = None) -> None:
    """Raise 422 FieldErrors naming the field(s) of every rule of the entity the data breaks."""
    if not meta.rules:
        return
    errors = rules.check_values(meta, meta.rules, data)
    for name, message in rules.check_stored(db, meta, meta.rules, "[[ owner ]]", [[ owner ]], data, exclude_id).items():
        errors.setdefault(name, message)
    if errors:
        raise FieldErrors(errors, kind="rule")


def check_refs(db: orm.Session, [[ owner ]]: int, data: dict[str, Any], targets: dict[str, Any]) -> None:
    """Raise 422 FieldErrors when a `ref` value is not a row of the same [[ tenant ]]."""
    missing = {
        name: N_("No such record in [[ yours ]].")
        for name, model in targets.items()
        if data.get(name) is not None and not owns(db, model, [[ owner ]], data[name])
    }
    if missing:
        raise FieldErrors(missing, kind="ref")


def save(db: orm.Session, row: Any, meta: EntityMeta | None = None) -> None:
    """Commit and reload the row, so responses show the stored values (e.g. decimal scale).

    A constraint violation that slipped past the checks (a concurrent insert) is not a 500:
    a rule's constraint gives the rule's 422 naming its fields, any other one a 409.
    """
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        broken = rules.constraint_errors(meta, meta.rules, "[[ owner ]]", exc) if meta is not None and meta.rules else None
        if broken:
            raise FieldErrors(broken, kind="rule") from None
        raise FieldErrors({"__all__": N_("The change conflicts with existing data.")}, status.HTTP_409_CONFLICT, "conflict") from None
    db.refresh(row)


def delete(db: orm.Session, row: Any) -> None:
    """Delete a row; a row still referenced by a required `ref` elsewhere gives a 409."""
    db.delete(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise FieldErrors({"__all__": N_("This record is still referenced by other records.")}, status.HTTP_409_CONFLICT, "referenced") from None


def labels_for(db: orm.Session, meta: EntityMeta, [[ owner ]]: int, ids: Iterable[int | None]) -> dict[int, str]:
    """Display labels of the referenced rows, for list pages."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    model = meta.model
    rows = db.scalars(sa.select(model).where(model.[[ owner ]] == [[ owner ]], model.id.in_(wanted))).all()
    return {row.id: meta.display(row) for row in rows}


def options_for(db: orm.Session, meta: EntityMeta, [[ owner ]]: int) -> list[tuple[int, str]]:
    """(id, label) pairs of the [[ tenant ]]'s rows, for select boxes."""
    model = meta.model
    rows = db.scalars(sa.select(model).where(model.[[ owner ]] == [[ owner ]]).order_by(model.id).limit(OPTIONS_LIMIT)).all()
    return [(row.id, meta.display(row)) for row in rows]


def count(db: orm.Session, model: Any, [[ owner ]]: int) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(model.[[ owner ]] == [[ owner ]])) or 0


def all_rows(db: orm.Session, model: Any, [[ owner ]]: int) -> Sequence[Any]:
    return db.scalars(sa.select(model).where(model.[[ owner ]] == [[ owner ]]).order_by(model.id)).all()


def revalidate(schema: type[pydantic.BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Validate merged data (PATCH) with the full schema; errors answer 422 like any request body."""
    try:
        return schema.model_validate(data).model_dump()
    except pydantic.ValidationError as exc:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]) from None
