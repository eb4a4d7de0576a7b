[%- set refs = entity.fields | selectattr("kind", "equalto", "ref") | list %]
[% set rules = rules | selectattr("entity", "equalto", entity.name) | list %]
[% set defaults = rules | selectattr("kind", "equalto", "default") | list %]
[% set M = entity.name %]
[# With team workspaces, rows belong to the caller's current workspace (a checked Membership). #]
[% if app.features.teams %]
[% set who, who_type, api_dep, page_dep = "member", "Membership", "ApiMembership", "PageMembership" %]
[% set owner, scope, actor, tenant = "team_id", "member.team_id", "member.account", "workspace" %]
[% else %]
[% set who, who_type, api_dep, page_dep = "account", "Account", "ApiAccount", "PageAccount" %]
[% set owner, scope, actor, tenant = "account_id", "account.id", "account", "account" %]
[% endif %]
"""[[ M ]]: JSON API at /api/[[ entity.route ]] and pages at /[[ entity.route ]].

Every query is scoped to the current [[ tenant ]]; a row of another [[ tenant ]] answers 404.
"""

from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api import PrefixRouter
from app import crud[% if app.features.csv_export %], export[% endif %], forms
from app.api.deps import [[ api_dep ]], CsrfForm, Db, [[ page_dep ]]
from app.models import [[ entity.ident ]] as model
[% for t in refs | map(attribute="ref") | unique(attribute="name") if t.name != entity.name %]
from app.models import [[ t.ident ]] as ref_[[ t.ident ]]
[% endfor %]
from app.fields import EntityMeta
from app.models import [[ who_type ]]
from app.rules import RuleViolation
[% if defaults %]
from app.rules import defaults as rule_defaults
[% endif %]
from app.rules import [[ entity.ident ]] as rules
from app.schemas import [[ entity.ident ]] as schemas
from app.i18n import _
from app.templating import flash, render

api = PrefixRouter(prefix="/api/[[ entity.route ]]", tags=[model.PLURAL_LABEL])
pages = PrefixRouter(prefix="/[[ entity.route ]]", include_in_schema=False)

# `sort` values: a field name for ascending order, `-field` for descending. Repeat `sort` to
# order by several fields in turn (`?sort=-due&sort=title`).
SortKey = Literal[
    "id", "-id",
[% for f in entity.fields %]
    "[[ f.ident ]]", "-[[ f.ident ]]",
[% endfor %]
    "created_at", "-created_at", "updated_at", "-updated_at",
]
Sort = Annotated[list[SortKey], Query(max_length=40, description="Sort keys in order: `field` ascending, `-field` descending")]

# `ref` fields -> the entity their value must be a row of (in the same [[ tenant ]]).
REFS: dict[str, EntityMeta] = {
[% for f in refs %]
    "[[ f.ident ]]": [[ "model" if f.ref.name == entity.name else "ref_" ~ f.ref.ident ]].META,
[% endfor %]
}


def _get(db: Session, [[ who ]]: [[ who_type ]], item_id: int) -> model.[[ M ]]:
    row = crud.get_owned(db, model.[[ M ]], [[ scope ]], item_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="[[ M ]] not found")
    return row


def _check(db: Session, [[ who ]]: [[ who_type ]], data: dict[str, Any], item_id: int | None = None) -> dict[str, Any]:
    """Checks after schema validation, shared by API and pages: refs, business rules, uniqueness."""
    crud.check_refs(db, [[ scope ]], data, {name: meta.model for name, meta in REFS.items()})
    try:
        data = rules.validate(data, [[ actor ]])
    except RuleViolation as exc:
        raise crud.FieldErrors({exc.field or "__all__": exc.message}, kind="rule") from None
[% if rules %]
    # The issue's rules (model.RULES): the same check for the pages and the API.
    crud.check_rules(db, model.META, [[ scope ]], data, exclude_id=item_id)
[% endif %]
    crud.check_unique(db, model.META, [[ scope ]], data, exclude_id=item_id)
    return data


def _apply(row: model.[[ M ]], data: dict[str, Any]) -> None:
    for name, value in data.items():
        setattr(row, name, value)


# --- JSON API ------------------------------------------------------------------------


@api.get(
    "",
    response_model=schemas.[[ M ]]Page,
    summary=f"List {model.PLURAL_LABEL}",
    description="Field filters: `?<field>=value` (exact), `?<field>__gte=` / `?<field>__lte=` (numbers, dates).",
    openapi_extra=crud.filter_openapi(model.META),
)
def list_[[ entity.plural ]](
    request: Request,
    [[ who ]]: [[ api_dep ]],
    db: Db,
    page: crud.PageNo = 1,
    per_page: crud.PerPage = crud.DEFAULT_PER_PAGE,
    sort: Sort = ["-id"],  # noqa: B006 (FastAPI copies a default)
    q: crud.SearchText = None,
) -> dict[str, Any]:
    where = crud.filter_clauses(model.META, crud.parse_filters(model.META, request.query_params))
    result = crud.list_rows(db, model.META, [[ scope ]], page=page, per_page=per_page, sort=sort, q=q, where=where)
    return {"items": result.items, "total": result.total, "page": result.page, "per_page": result.per_page, "pages": result.pages}


[% if app.features.csv_export %]
@api.get(".csv", summary=f"Export {model.PLURAL_LABEL} as CSV", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_[[ entity.plural ]]_csv([[ who ]]: [[ api_dep ]], db: Db) -> Response:
    return _csv(db, [[ who ]])


[% endif %]
@api.post("", response_model=schemas.[[ M ]]Out, status_code=status.HTTP_201_CREATED, summary=f"Create: {model.LABEL}")
def create_[[ entity.ident ]](body: schemas.[[ M ]]Create, [[ who ]]: [[ api_dep ]], db: Db) -> model.[[ M ]]:
    data = _check(db, [[ who ]], body.model_dump())
    row = model.[[ M ]]([[ owner ]]=[[ scope ]], **data)
    db.add(row)
    crud.save(db, row, model.META)
    return row


@api.get("/{item_id}", response_model=schemas.[[ M ]]Out, summary=f"Get: {model.LABEL}")
def get_[[ entity.ident ]](item_id: crud.ItemId, [[ who ]]: [[ api_dep ]], db: Db) -> model.[[ M ]]:
    return _get(db, [[ who ]], item_id)


@api.put("/{item_id}", response_model=schemas.[[ M ]]Out, summary=f"Replace: {model.LABEL}")
def replace_[[ entity.ident ]](item_id: crud.ItemId, body: schemas.[[ M ]]Create, [[ who ]]: [[ api_dep ]], db: Db) -> model.[[ M ]]:
    row = _get(db, [[ who ]], item_id)
    _apply(row, _check(db, [[ who ]], body.model_dump(), item_id))
    crud.save(db, row, model.META)
    return row


@api.patch("/{item_id}", response_model=schemas.[[ M ]]Out, summary=f"Update some fields: {model.LABEL}")
def update_[[ entity.ident ]](item_id: crud.ItemId, body: schemas.[[ M ]]Update, [[ who ]]: [[ api_dep ]], db: Db) -> model.[[ M ]]:
    row = _get(db, [[ who ]], item_id)
    current = {f.name: getattr(row, f.name) for f in model.FIELDS}
    merged = crud.revalidate(schemas.[[ M ]]Create, {**current, **body.model_dump(exclude_unset=True)})
    _apply(row, _check(db, [[ who ]], merged, item_id))
    crud.save(db, row, model.META)
    return row


@api.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete: {model.LABEL}")
def delete_[[ entity.ident ]](item_id: crud.ItemId, [[ who ]]: [[ api_dep ]], db: Db) -> Response:
    crud.delete(db, _get(db, [[ who ]], item_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- pages ---------------------------------------------------------------------------


def _form_page(
    request: Request,
    db: Session,
    [[ who ]]: [[ who_type ]],
    values: dict[str, Any],
    errors: dict[str, str],
    row: model.[[ M ]] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    options = {name: crud.options_for(db, meta, [[ scope ]]) for name, meta in REFS.items()}
    context = {"entity": model.META, "values": values, "errors": errors, "options": options, "row": row}
    return render(request, "entity_form.html", context, status_code=status_code)


def _from_form(db: Session, [[ who ]]: [[ who_type ]], values: dict[str, Any], item_id: int | None = None) -> dict[str, Any]:
    """Validate submitted form values exactly like the API does; FieldErrors on problems."""
    data, errors = forms.form_data(model.FIELDS, values)
    try:
        data = schemas.[[ M ]]Create.model_validate(data).model_dump()
    except ValidationError as exc:
        errors = {**forms.validation_errors(exc), **errors}
    if errors:
        raise crud.FieldErrors(errors)
    return _check(db, [[ who ]], data, item_id)


@pages.get("")
def [[ entity.ident ]]_list_page(
    request: Request, [[ who ]]: [[ page_dep ]], db: Db, page: crud.PageNo = 1, sort: crud.PageSort = [], q: crud.SearchText = ""  # noqa: B006
) -> Response:
    result = crud.list_rows(db, model.META, [[ scope ]], page=page, sort=sort, q=q)
    labels = {
        name: crud.labels_for(db, meta, [[ scope ]], (getattr(row, name) for row in result.items))
        for name, meta in REFS.items()
    }
    # The column headers show (and toggle) the first key.
    context = {"entity": model.META, "result": result, "sort": sort[0] if sort else "-id", "q": q, "labels": labels}
    return render(request, "entity_list.html", context)


[% if app.features.csv_export %]
@pages.get("/export.csv")
def [[ entity.ident ]]_export_page([[ who ]]: [[ page_dep ]], db: Db) -> Response:
    return _csv(db, [[ who ]])


def _csv(db: Session, [[ who ]]: [[ who_type ]]) -> Response:
    return export.csv_response(model.FIELDS, crud.all_rows(db, model.[[ M ]], [[ scope ]]), "[[ entity.route ]].csv")


[% endif %]
@pages.get("/new")
def [[ entity.ident ]]_new_page(request: Request, [[ who ]]: [[ page_dep ]], db: Db) -> Response:
[% if defaults %]
    # The issue's defaults fill the create form (`today`/`now` as of this request).
    return _form_page(request, db, [[ who ]], forms.default_values(model.FIELDS, rule_defaults(model.RULES)), {})
[% else %]
    return _form_page(request, db, [[ who ]], forms.empty_values(model.FIELDS), {})
[% endif %]


@pages.post("/new")
def [[ entity.ident ]]_create_page(request: Request, [[ who ]]: [[ page_dep ]], form: CsrfForm, db: Db) -> Response:
    values = forms.form_values(model.FIELDS, form)
    try:
        row = model.[[ M ]]([[ owner ]]=[[ scope ]], **_from_form(db, [[ who ]], values))
        db.add(row)
        crud.save(db, row, model.META)
    except crud.FieldErrors as exc:
        return _form_page(request, db, [[ who ]], values, exc.errors, status_code=exc.status_code)
    flash(request, _("{label} created.", label=model.LABEL), "success")
    return RedirectResponse(pages.prefix, status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/{item_id}/edit")
def [[ entity.ident ]]_edit_page(item_id: crud.ItemId, request: Request, [[ who ]]: [[ page_dep ]], db: Db) -> Response:
    row = _get(db, [[ who ]], item_id)
    return _form_page(request, db, [[ who ]], forms.row_values(model.FIELDS, row), {}, row=row)


@pages.post("/{item_id}/edit")
def [[ entity.ident ]]_update_page(
    item_id: crud.ItemId, request: Request, [[ who ]]: [[ page_dep ]], form: CsrfForm, db: Db
) -> Response:
    row = _get(db, [[ who ]], item_id)
    values = forms.form_values(model.FIELDS, form)
    try:
        _apply(row, _from_form(db, [[ who ]], values, item_id))
        crud.save(db, row, model.META)
    except crud.FieldErrors as exc:
        db.rollback()
        return _form_page(request, db, [[ who ]], values, exc.errors, row=row, status_code=exc.status_code)
    flash(request, _("{label} saved.", label=model.LABEL), "success")
    return RedirectResponse(pages.prefix, status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/{item_id}/delete")
def [[ entity.ident ]]_delete_confirm_page(item_id: crud.ItemId, request: Request, [[ who ]]: [[ page_dep ]], db: Db) -> Response:
    """Asks before deleting (the list links here; the POST below deletes)."""
    return render(request, "entity_delete.html", {"entity": model.META, "row": _get(db, [[ who ]], item_id)})


@pages.post("/{item_id}/delete")
def [[ entity.ident ]]_delete_page(
    item_id: crud.ItemId, request: Request, [[ who ]]: [[ page_dep ]], _form: CsrfForm, db: Db
) -> Response:
    try:
        crud.delete(db, _get(db, [[ who ]], item_id))
    except crud.FieldErrors as exc:
        flash(request, exc.errors["__all__"], "error")
    else:
        flash(request, _("{label} deleted.", label=model.LABEL), "success")
    return RedirectResponse(pages.prefix, status_code=status.HTTP_303_SEE_OTHER)
