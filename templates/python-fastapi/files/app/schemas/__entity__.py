[%- set kinds = entity.fields | map(attribute="kind") | list %]
[# A label the issue left as a bare identifier (`issued_on`) is shown as words ("Issued on"). #]
[% macro label(f) %][[ f.label if f.label != f.ident else f.ident | replace("_", " ") | capitalize ]][% endmacro %]
[% set type_names = [
    "BlankIsNone",
    "Bool" if "bool" in kinds else "",
    "Date" if "date" in kinds else "",
    "DateTime" if "datetime" in kinds else "",
    "Decimal" if "decimal" in kinds else "",
    "Email" if "email" in kinds else "",
    "Int",
    "LongText" if "longtext" in kinds else "",
    "RefId" if "ref" in kinds else "",
    "StoredDateTime",
    "Text" if "text" in kinds or "enum" in kinds else "",
    "Url" if "url" in kinds else "",
] %]
[% set defaults = rules | selectattr("entity", "equalto", entity.name) | selectattr("kind", "equalto", "default") | list %]
[% set ns = namespace(today=false, now=false) %]
[% for d in defaults %][% if d.value == "today" %][% set ns.today = true %][% elif d.value == "now" %][% set ns.now = true %][% endif %][% endfor %]
[% macro value_type(f) -%]
[% if f.kind == "text" or (f.kind == "enum" and not f.choices) %]Text[% elif f.kind == "longtext" %]LongText[% elif f.kind == "int" %]Int[% elif f.kind == "decimal" %]Decimal[% elif f.kind == "bool" %]Bool[% elif f.kind == "date" %]Date[% elif f.kind == "datetime" %]DateTime[% elif f.kind == "email" %]Email[% elif f.kind == "url" %]Url[% elif f.kind == "enum" %]Literal[ [[- f.choices | map("py") | join(", ") -]] ][% elif f.kind == "ref" %]RefId[% endif %]
[%- endmacro %]
"""[[ entity.name ]]: the JSON shapes of /api/[[ entity.route ]] (validation matches the forms)."""

from typing import Annotated[% if "enum" in kinds %], Literal[% endif %]


from pydantic import BaseModel, ConfigDict, Field

from app.fields import [[ type_names | select | join(", ") ]]
[% if ns.today or ns.now %]
from app.rules import [[ (["now" if ns.now else "", "today" if ns.today else ""]) | select | join(", ") ]]
[% endif %]


class [[ entity.name ]]Create(BaseModel):
    """Body of POST /api/[[ entity.route ]] and PUT /api/[[ entity.route ]]/{id} (all fields[% if defaults %]; the issue's defaults fill the missing ones[% endif %])."""

    model_config = ConfigDict(extra="forbid")

[% for f in entity.fields %]
[% set req = f.required and not (f.kind == "ref" and f.target == entity.name) %]
[% set d = defaults | selectattr("field", "equalto", f.ident) | first %]
[% if d is defined and d.value == "today" or d is defined and d.value == "now" %]
    [[ f.ident ]]: Annotated[ [[- value_type(f) ]][% if not req %] | None, BlankIsNone[% endif %], Field(title=[[ label(f) | py ]], default_factory=[[ d.value ]])]
[% elif d is defined %]
[% set lit = (d.value.number | string) if d.value.number is defined else (d.value.text if d.value.text is defined else (d.value.choice if d.value.choice is defined else d.value.bool)) %]
    [[ f.ident ]]: Annotated[ [[- "Bool" if f.kind == "bool" else value_type(f) ]][% if not req and f.kind != "bool" %] | None, BlankIsNone[% endif %], Field(title=[[ label(f) | py ]], validate_default=True)] = [[ lit | py ]]
[% elif f.kind == "bool" %]
    [[ f.ident ]]: Annotated[Bool, Field(title=[[ label(f) | py ]])] = False
[% elif req %]
    [[ f.ident ]]: Annotated[ [[- value_type(f) ]], Field(title=[[ label(f) | py ]])]
[% else %]
    [[ f.ident ]]: Annotated[ [[- value_type(f) ]] | None, BlankIsNone, Field(title=[[ label(f) | py ]])] = None
[% endif %]
[% endfor %]


class [[ entity.name ]]Update(BaseModel):
    """Body of PATCH /api/[[ entity.route ]]/{id}: only the fields to change (then validated as a whole)."""

    model_config = ConfigDict(extra="forbid")

[% for f in entity.fields %]
[% if f.kind == "bool" %]
    [[ f.ident ]]: Annotated[Bool | None, Field(title=[[ label(f) | py ]])] = None
[% else %]
    [[ f.ident ]]: Annotated[ [[- value_type(f) ]] | None, BlankIsNone, Field(title=[[ label(f) | py ]])] = None
[% endif %]
[% endfor %]


class [[ entity.name ]]Out(BaseModel):
    """A stored [[ entity.name ]] as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: Int
[% for f in entity.fields %]
[% set req = f.required and not (f.kind == "ref" and f.target == entity.name) %]
[% set out_type = "StoredDateTime" if f.kind == "datetime" else value_type(f) %]
[% if f.kind == "bool" or req %]
    [[ f.ident ]]: Annotated[ [[- out_type ]], Field(title=[[ label(f) | py ]])]
[% else %]
    [[ f.ident ]]: Annotated[ [[- out_type ]] | None, Field(title=[[ label(f) | py ]])]
[% endif %]
[% endfor %]
    created_at: StoredDateTime
    updated_at: StoredDateTime


class [[ entity.name ]]Page(BaseModel):
    """One page of GET /api/[[ entity.route ]]."""

    items: list[ [[- entity.name ]]Out]
    total: Int
    page: Int
    per_page: Int
    pages: Int
