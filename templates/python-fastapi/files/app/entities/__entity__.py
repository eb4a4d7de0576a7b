[%- set kinds = entity.fields | map(attribute="kind") | list %]
[# A label the issue left as a bare identifier (`issued_on`) is shown as words ("Issued on"). #]
[% macro label(f) %][[ f.label if f.label != f.ident else f.ident | replace("_", " ") | capitalize ]][% endmacro %]
"""[[ entity.name ]]: the `[[ entity.table ]]` table and its field metadata."""

[% set has_string = "text" in kinds or "enum" in kinds or "email" in kinds or "url" in kinds %]
[% set sa_names = [
    "BigInteger" if "int" in kinds else "",
    "Boolean" if "bool" in kinds else "",
    "Date" if "date" in kinds else "",
    "DateTime",
    "ForeignKey",
    "Numeric" if "decimal" in kinds else "",
    "String" if has_string else "",
    "Text" if "longtext" in kinds else "",
    "UniqueConstraint" if entity.fields | selectattr("unique") | list | length > 0 else "",
] %]
[% set db_names = [
    "Base",
    "PyBool" if "bool" in kinds else "",
    "PyDate" if "date" in kinds else "",
    "PyDateTime",
    "PyDecimal" if "decimal" in kinds else "",
    "PyInt",
    "PyStr" if has_string or "longtext" in kinds else "",
    "utcnow",
] %]
[% set field_names = [
    "DECIMAL_DIGITS, DECIMAL_PLACES" if "decimal" in kinds else "",
    "EMAIL_MAX" if "email" in kinds else "",
    "TEXT_MAX" if "text" in kinds or "enum" in kinds else "",
    "URL_MAX" if "url" in kinds else "",
    "EntityMeta",
    "FieldSpec",
] %]
from sqlalchemy import [[ sa_names | select | join(", ") ]]
from sqlalchemy.orm import Mapped, mapped_column

from app.db import [[ db_names | select | join(", ") ]]
from app.fields import [[ field_names | select | join(", ") ]]

LABEL = [[ entity.label | py ]]
PLURAL_LABEL = [[ entity.plural_label | py ]]


class [[ entity.name ]](Base):
    __tablename__ = "[[ entity.table ]]"
[% if entity.fields | selectattr("unique") | list | length > 0 %]
    __table_args__ = (
[% if app.features.teams %]
        # `unique` fields are unique within one workspace.
[% for f in entity.fields if f.unique %]
        UniqueConstraint("team_id", "[[ f.ident ]]"),
[% endfor %]
[% else %]
        # `unique` fields are unique within one account.
[% for f in entity.fields if f.unique %]
        UniqueConstraint("account_id", "[[ f.ident ]]"),
[% endfor %]
[% endif %]
    )
[% endif %]

    id: Mapped[PyInt] = mapped_column(primary_key=True)
[% if app.features.teams %]
    # The workspace the row belongs to; its members share it.
    team_id: Mapped[PyInt] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
[% else %]
    account_id: Mapped[PyInt] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
[% endif %]
[% for f in entity.fields %]
[% set req = f.required and not (f.kind == "ref" and f.target == entity.name) %]
[% set opt = "" if req else " | None" %]
[% if f.kind == "text" or f.kind == "enum" %]
    [[ f.ident ]]: Mapped[PyStr[[ opt ]]] = mapped_column(String(TEXT_MAX))
[% elif f.kind == "longtext" %]
    [[ f.ident ]]: Mapped[PyStr[[ opt ]]] = mapped_column(Text)
[% elif f.kind == "email" %]
    [[ f.ident ]]: Mapped[PyStr[[ opt ]]] = mapped_column(String(EMAIL_MAX))
[% elif f.kind == "url" %]
    [[ f.ident ]]: Mapped[PyStr[[ opt ]]] = mapped_column(String(URL_MAX))
[% elif f.kind == "int" %]
    [[ f.ident ]]: Mapped[PyInt[[ opt ]]] = mapped_column(BigInteger)
[% elif f.kind == "decimal" %]
    [[ f.ident ]]: Mapped[PyDecimal[[ opt ]]] = mapped_column(Numeric(DECIMAL_DIGITS, DECIMAL_PLACES))
[% elif f.kind == "bool" %]
    [[ f.ident ]]: Mapped[PyBool] = mapped_column(Boolean, default=False)
[% elif f.kind == "date" %]
    [[ f.ident ]]: Mapped[PyDate[[ opt ]]] = mapped_column(Date)
[% elif f.kind == "datetime" %]
    [[ f.ident ]]: Mapped[PyDateTime[[ opt ]]] = mapped_column(DateTime)
[% elif f.kind == "ref" %]
    # -> [[ f.ref.name ]] ([[ "a referenced row cannot be deleted" if req else "cleared when the referenced row is deleted" ]])
    [[ f.ident ]]: Mapped[PyInt[[ opt ]]] = mapped_column(
        ForeignKey("[[ f.ref.table ]].id", ondelete="[[ 'RESTRICT' if req else 'SET NULL' ]]"), index=True
    )
[% endif %]
[% endfor %]
    created_at: Mapped[PyDateTime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[PyDateTime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# What the generic pages, the CSV export and the tests know about each field.
FIELDS: tuple[FieldSpec, ...] = (
[% for f in entity.fields %]
[% set req = f.required and not (f.kind == "ref" and f.target == entity.name) %]
    FieldSpec(name="[[ f.ident ]]", label=[[ label(f) | py ]], kind="[[ f.kind ]]"[% if req %], required=True[% endif %][% if f.unique %], unique=True[% endif %][% if f.kind == "enum" %], choices=[[ f.choices | py ]][% endif %][% if f.kind == "ref" %], target="[[ f.ref.ident ]]"[% endif %]),
[% endfor %]
)

META = EntityMeta(
    name="[[ entity.ident ]]",
    label=LABEL,
    plural_label=PLURAL_LABEL,
    route="[[ entity.route ]]",
    fields=FIELDS,
    model=[[ entity.name ]],
    display_field=[[ entity.display_field | py ]],
    search_fields=[[ entity.fields | selectattr("kind", "in", ["text", "longtext", "email", "url"]) | map(attribute="ident") | list | py ]],
)
