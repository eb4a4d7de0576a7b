[%- set kinds = entity.fields | map(attribute="kind") | list %]
[# A label the issue left as a bare identifier (`issued_on`) is shown as words ("Issued on"). #]
[% macro label(f) %][[ f.label if f.label != f.ident else f.ident | replace("_", " ") | capitalize ]][% endmacro %]
[# Rules the database can express: SQL of a CHECK (empty when a side is `today`/`now`, which a
   constraint cannot hold). Kept identical in app/models/__entity__.py and the migration. #]
[% macro sql_operand(v, kind) %][% if v.field is defined %][[ v.field ]][% elif v.number is defined %][% if (v.number | string | replace("0", "") | replace("1", "") | replace("2", "") | replace("3", "") | replace("4", "") | replace("5", "") | replace("6", "") | replace("7", "") | replace("8", "") | replace("9", "") | replace(".", "") | replace("-", "")) == "" %][[ v.number ]][% endif %][% elif v.text is defined and kind != "datetime" %]'[[ v.text | replace("'", "''") ]]'[% elif v.choice is defined %]'[[ v.choice | replace("'", "''") ]]'[% elif v.bool is defined %][[ "true" if v.bool else "false" ]][% endif %][% endmacro %]
[% macro check_sql(r, e) %][% set kind = (e.fields | selectattr("ident", "equalto", r.field) | first).kind if r.field is defined else "" %][% if r.kind == "compare" and sql_operand(r.value, kind) %][[ r.field ]] [[ "<>" if r.op == "!=" else r.op ]] [[ sql_operand(r.value, kind) ]][% elif r.kind == "between" and sql_operand(r.min, kind) and sql_operand(r.max, kind) %][[ r.field ]] BETWEEN [[ sql_operand(r.min, kind) ]] AND [[ sql_operand(r.max, kind) ]][% elif r.kind == "length" %]length([[ r.field ]]) BETWEEN [[ r.min ]] AND [[ r.max ]][% endif %][% endmacro %]
[% macro py_operand(v, kind) %][% if v == "today" %]TODAY[% elif v == "now" %]NOW[% elif v.field is defined %]FieldRef("[[ v.field ]]")[% elif v.number is defined %]decimal.Decimal([[ v.number | string | py ]])[% elif v.text is defined and kind == "date" %]dt.date.fromisoformat([[ v.text | py ]])[% elif v.text is defined and kind == "datetime" %]dt.datetime.fromisoformat([[ v.text | py ]])[% elif v.text is defined %][[ v.text | py ]][% elif v.choice is defined %][[ v.choice | py ]][% elif v.bool is defined %][[ v.bool | py ]][% endif %][% endmacro %]
[% macro range_sql(r, e) %][[ "daterange" if (e.fields | selectattr("ident", "equalto", r.start) | first).kind == "date" else "tsrange" ]]([[ r.start ]], [[ r.end ]], '[)')[% endmacro %]
[% macro overlap_where(r) %][[ r.start ]] IS NOT NULL AND [[ r.end ]] IS NOT NULL[% for p in r.per %] AND [[ p ]] IS NOT NULL[% endfor %][% endmacro %]
[% set rules = rules | selectattr("entity", "equalto", entity.name) | list %]
[% set owner = "team_id" if app.features.teams else "account_id" %]
[% set ns = namespace(checks=false, numbers=false, dates=false, field=false, today=false, now=false) %]
[% for r in rules %]
[% if check_sql(r, entity) %][% set ns.checks = true %][% endif %]
[% for key in ["value", "min", "max"] if r[key] is defined %]
[% if r[key].number is defined %][% set ns.numbers = true %][% endif %]
[% if r[key].field is defined %][% set ns.field = true %][% endif %]
[% if r[key] == "today" %][% set ns.today = true %][% endif %]
[% if r[key].text is defined and (entity.fields | selectattr("ident", "equalto", r.field) | first).kind in ["date", "datetime"] %][% set ns.dates = true %][% endif %]
[% if r[key] == "now" %][% set ns.now = true %][% endif %]
[% endfor %]
[% endfor %]
[% set rule_kinds = rules | map(attribute="kind") | list %]
[% set rule_names = [
    "Between" if "between" in rule_kinds else "",
    "Compare" if "compare" in rule_kinds else "",
    "Default" if "default" in rule_kinds else "",
    "FieldRef" if ns.field else "",
    "Length" if "length" in rule_kinds else "",
    "NOW" if ns.now else "",
    "NoOverlap" if "no_overlap" in rule_kinds else "",
    "Rule",
    "TODAY" if ns.today else "",
    "Unique" if "unique" in rule_kinds else "",
] %]
"""[[ entity.name ]]: the `[[ entity.table ]]` table[% if rules %], its rules[% endif %] and its field metadata."""

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
    "UniqueConstraint" if entity.fields | selectattr("unique") | list | length > 0 or "unique" in rule_kinds else "",
    "CheckConstraint" if ns.checks else "",
    "text" if "no_overlap" in rule_kinds else "",
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
    "exclusion_ready" if "no_overlap" in rule_kinds else "",
] %]
[% set field_names = [
    "DECIMAL_DIGITS, DECIMAL_PLACES" if "decimal" in kinds else "",
    "EMAIL_MAX" if "email" in kinds else "",
    "TEXT_MAX" if "text" in kinds or "enum" in kinds else "",
    "URL_MAX" if "url" in kinds else "",
    "EntityMeta",
    "FieldSpec",
] %]
[% if ns.dates %]
import datetime as dt
[% endif %]
[% if ns.numbers %]
import decimal
[% endif %]
[% if ns.dates or ns.numbers %]

[% endif %]
from sqlalchemy import [[ sa_names | select | sort | join(", ") ]]
[% if "no_overlap" in rule_kinds %]
from sqlalchemy.dialects.postgresql import ExcludeConstraint
[% endif %]
from sqlalchemy.orm import Mapped, mapped_column
[% if rules %]
from sqlalchemy.schema import conv
[% endif %]

from app.core.db import [[ db_names | select | join(", ") ]]
from app.fields import [[ field_names | select | join(", ") ]]
[% if rules %]
from app.rules import [[ rule_names | select | join(", ") ]]
[% endif %]

LABEL = [[ entity.label | py ]]
PLURAL_LABEL = [[ entity.plural_label | py ]]


class [[ entity.name ]](Base):
    __tablename__ = "[[ entity.table ]]"
[% if entity.fields | selectattr("unique") | list | length > 0 or ns.checks or "unique" in rule_kinds or "no_overlap" in rule_kinds %]
    __table_args__ = (
[% if entity.fields | selectattr("unique") | list | length > 0 %]
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
[% endif %]
[% for r in rules %]
[% set n = loop.index %]
[% set sql = check_sql(r, entity) %]
[% if sql %]
        # [[ r.statement | replace("\n", " ") ]]
        CheckConstraint([[ sql | string | py ]], name=conv("ck_[[ entity.table[:50] ]]_r[[ n ]]")),
[% elif r.kind == "unique" %]
        # [[ r.statement | replace("\n", " ") ]]
        UniqueConstraint("[[ owner ]]", [% for f in r.fields %]"[[ f ]]", [% endfor %]name=conv("uq_[[ entity.table[:50] ]]_r[[ n ]]")),
[% elif r.kind == "no_overlap" %]
        # [[ r.statement | replace("\n", " ") ]] (PostgreSQL with btree_gist; checked by the app everywhere)
        ExcludeConstraint(
            ("[[ owner ]]", "="),
[% for p in r.per %]
            ("[[ p ]]", "="),
[% endfor %]
            (text([[ range_sql(r, entity) | string | py ]]), "&&"),
            name=conv("xc_[[ entity.table[:50] ]]_r[[ n ]]"),
            using="gist",
            where=text([[ overlap_where(r) | string | py ]]),
        ).ddl_if(callable_=exclusion_ready),
[% endif %]
[% endfor %]
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

[% if rules %]
# The issue's rules (`### Rules`), enforced by app.rules for the pages and the API alike.
RULES: tuple[Rule, ...] = (
[% for r in rules %]
[% set n = loop.index %]
[% set st = "statement=" ~ (r.statement | py) %]
[% if r.kind == "compare" %]
    Compare("[[ r.field ]]", [[ r.op | py ]], [[ py_operand(r.value, (entity.fields | selectattr("ident", "equalto", r.field) | first).kind) ]], [[ st ]][% if check_sql(r, entity) %], constraint="ck_[[ entity.table[:50] ]]_r[[ n ]]"[% endif %]),
[% elif r.kind == "between" %]
    Between("[[ r.field ]]", [[ py_operand(r.min, (entity.fields | selectattr("ident", "equalto", r.field) | first).kind) ]], [[ py_operand(r.max, (entity.fields | selectattr("ident", "equalto", r.field) | first).kind) ]], [[ st ]][% if check_sql(r, entity) %], constraint="ck_[[ entity.table[:50] ]]_r[[ n ]]"[% endif %]),
[% elif r.kind == "length" %]
    Length("[[ r.field ]]", [[ r.min ]], [[ r.max ]], [[ st ]], constraint="ck_[[ entity.table[:50] ]]_r[[ n ]]"),
[% elif r.kind == "default" %]
    Default("[[ r.field ]]", [[ py_operand(r.value, (entity.fields | selectattr("ident", "equalto", r.field) | first).kind) ]], [[ st ]]),
[% elif r.kind == "unique" %]
    Unique(([% for f in r.fields %]"[[ f ]]", [% endfor %]), [[ st ]], constraint="uq_[[ entity.table[:50] ]]_r[[ n ]]"),
[% elif r.kind == "no_overlap" %]
    NoOverlap("[[ r.start ]]", "[[ r.end ]]", ([% for f in r.per %]"[[ f ]]", [% endfor %]), [[ st ]], constraint="xc_[[ entity.table[:50] ]]_r[[ n ]]"),
[% endif %]
[% endfor %]
)

[% endif %]
META = EntityMeta(
    name="[[ entity.ident ]]",
    label=LABEL,
    plural_label=PLURAL_LABEL,
    route="[[ entity.route ]]",
    fields=FIELDS,
    model=[[ entity.name ]],
    display_field=[[ entity.display_field | py ]],
    search_fields=[[ entity.fields | selectattr("kind", "in", ["text", "longtext", "email", "url"]) | map(attribute="ident") | list | py ]],
[% if rules %]
    rules=RULES,
[% endif %]
)
