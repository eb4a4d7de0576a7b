[% if views %]
[% if app.features.teams %]
[% set who, who_type, api_dep, page_dep, scope, tenant = "member", "Membership", "ApiMembership", "PageMembership", "member.team_id", "workspace" %]
[% else %]
[% set who, who_type, api_dep, page_dep, scope, tenant = "account", "Account", "ApiAccount", "PageAccount", "account.id", "account" %]
[% endif %]
"""The views' pages (/views/<slug>) and JSON API (/api/views/<slug>), scoped to the current [[ tenant ]].

Same list shape, search, sort, field filters and pagination as the entity's own list, plus
`sums` when the view totals fields.
"""

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import crud, views
from app.api.deps import [[ api_dep ]], Db, [[ page_dep ]]
from app.fields import Decimal, Int
[% for e in entities if views | selectattr("entity", "equalto", e.name) | list %]
from app.api.routes import [[ e.ident ]] as router_[[ e.ident ]]
from app.schemas import [[ e.ident ]] as schemas_[[ e.ident ]]
[% endfor %]
from app.templating import render

api = APIRouter(prefix="/api/views", tags=["views"])
pages = APIRouter(prefix="/views", include_in_schema=False)


def _list(request: Request, db: Session, view: views.View, scope: int, page: int, per_page: int, sort: str | list[str] | None, q: str | None) -> tuple[crud.Page[Any], list[Any]]:
    meta = view.entity
    where = [*views.clauses(view), *crud.filter_clauses(meta, crud.parse_filters(meta, request.query_params))]
    result = crud.list_rows(db, meta, scope, page=page, per_page=per_page, sort=sort or view.sort, q=q, where=where)
    return result, where


def _api(request: Request, db: Session, view: views.View, scope: int, page: int, per_page: int, sort: list[str], q: str | None) -> dict[str, Any]:
    result, where = _list(request, db, view, scope, page, per_page, sort, q)
    body: dict[str, Any] = {"items": result.items, "total": result.total, "page": result.page, "per_page": result.per_page, "pages": result.pages}
    if view.sums:
        body["sums"] = views.sums(db, view, scope, where)
    return body


def _page(request: Request, db: Session, view: views.View, scope: int, refs: dict[str, Any], page: int, sort: str | None, q: str) -> Response:
    result, where = _list(request, db, view, scope, page, crud.DEFAULT_PER_PAGE, sort, q)
    labels = {name: crud.labels_for(db, meta, scope, (getattr(row, name) for row in result.items)) for name, meta in refs.items()}
    context = {
        "entity": view.entity,
        "view": view,
        "sums": views.sums(db, view, scope, where),
        "result": result,
        "sort": sort or view.sort or "-id",
        "q": q,
        "labels": labels,
    }
    return render(request, "entity_list.html", context)
[% for v in views %]
[% set e = entities | selectattr("name", "equalto", v.entity) | first %]
[% set cls = "View_" ~ v.ident ~ "_" %]


# --- [[ v.name | replace("\n", " ") ]]: [[ v.statement | replace("\n", " ") ]]
[% if v.sums %]


class [[ cls ]]Sums(BaseModel):
[% for s in v.sums %]
    [[ s ]]: [[ "Int" if (e.fields | selectattr("ident", "equalto", s) | first).kind == "int" else "Decimal" ]]
[% endfor %]


class [[ cls ]]Page(schemas_[[ e.ident ]].[[ e.name ]]Page):
    sums: [[ cls ]]Sums
[% endif %]


@api.get(
    "/[[ v.slug ]]",
    response_model=[[ (cls ~ "Page") if v.sums else ("schemas_" ~ e.ident ~ "." ~ e.name ~ "Page") ]],
    summary=[[ ("View: " ~ v.name) | py ]],
    description=[[ v.statement | py ]],
    openapi_extra=crud.filter_openapi(views.BY_SLUG["[[ v.slug ]]"].entity),
)
def view_[[ v.ident ]](
    request: Request,
    [[ who ]]: [[ api_dep ]],
    db: Db,
    page: crud.PageNo = 1,
    per_page: crud.PerPage = crud.DEFAULT_PER_PAGE,
    sort: router_[[ e.ident ]].Sort = [],  # noqa: B006 (FastAPI copies a default)
    q: crud.SearchText = None,
) -> dict[str, Any]:
    return _api(request, db, views.BY_SLUG["[[ v.slug ]]"], [[ scope ]], page, per_page, sort, q)


@pages.get("/[[ v.slug ]]")
def view_[[ v.ident ]]_page(request: Request, [[ who ]]: [[ page_dep ]], db: Db, page: crud.PageNo = 1, sort: str = "", q: crud.SearchText = "") -> Response:
    return _page(request, db, views.BY_SLUG["[[ v.slug ]]"], [[ scope ]], router_[[ e.ident ]].REFS, page, sort or None, q)
[% endfor %]
[% endif %]
