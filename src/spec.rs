//! The `Spec`: what the product strategist stage produces and every later stage reads.
//!
//! A `Spec` is pure data, serialisable to `spec.yaml`. Display labels keep the issue's own
//! words (any language); identifiers (`name`, `ident`, `plural`, `route`, `table`) are
//! derived, ASCII, collision-free and safe for Python, SQL and URLs (see `crate::ident`).
//!
//! Format 2 (issue 11) adds what the issue asks beyond its data model:
//! - [`Spec::rules`]: checks on one entity's rows ([`RuleCheck`]: comparisons, ranges, text
//!   lengths, defaults, unique-together, no-overlap of intervals). A rule whose field value
//!   is missing (an optional field left empty) holds; `today`/`now` are evaluated when the
//!   row is written; `no overlap` intervals are half-open `[start, end)`; `unique` and
//!   `no overlap` are scoped to the tenant (account or workspace).
//! - [`Spec::views`]: saved, filtered lists of one entity ([`View`]), conditions joined by
//!   AND, an optional sort and totals.
//! - [`Field::label`] is always readable: the explicit label (`Invoice.issued_on label
//!   "Issued on"`), else the issue's words, else (when those are a bare identifier such as
//!   `issued_on`) a derived "Issued on" ([`crate::ident::readable_label`]).
//!
//! Entities are named by [`Entity::name`] and fields by [`Field::ident`] everywhere in rules
//! and views. Enum values ([`Operand::Choice`], [`Condition::values`]) are the choices exactly
//! as [`Field::choices`] spells them. Numbers ([`Operand::Number`]) are decimal strings
//! (`-12.50`), never floats, so that no precision is lost on the way to the pack.
//!
//! Issue text stays data: [`Rule::statement`], [`View::name`], [`View::statement`],
//! [`Operand::Text`], [`Operand::Choice`] and [`Condition::values`] are the issue's words
//! (sanitised, any characters) and must be escaped wherever they are rendered; identifiers
//! ([`View::slug`], [`View::ident`], field idents, entity names) are safe as they are.
//! The render context gives templates `rules` and `views` as in `spec.yaml`, each with a
//! `words` sentence (see [`words`]).
//!
//! Format 1 documents (no rules, no views) still load: [`Spec::from_yaml`] upgrades them
//! to format 2 (labels made readable, nothing else changes). A format newer than
//! [`SPEC_FORMAT`] is refused with a message naming both versions; rules and views that name
//! an unknown entity or field, or use a field of the wrong type, are refused by
//! [`Spec::check`].
//!
//! Layout: the data model and loading here; rules in `rules`, views in `views`, their type checks
//! in `check` (with `problem`), their sentences in `words`.

use serde::{Deserialize, Serialize};

pub mod check;
mod problem;
mod rules;
mod views;
pub mod words;

pub use rules::{CompareOp, Operand, Rule, RuleCheck};
pub use views::{Condition, Sort, View, ViewOp};

/// Version of the `spec.yaml` format; bumped when a field changes meaning.
pub const SPEC_FORMAT: u32 = 2;

/// The whole product description of one issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Format version of this document ([`SPEC_FORMAT`]).
    pub format: u32,
    /// The issue this spec was made from.
    pub issue: IssueRef,
    /// The application as the issue names it.
    pub app: App,
    /// Entities in the order the issue lists them.
    pub entities: Vec<Entity>,
    /// Requirements derived from the issue (functional, then non-functional).
    pub requirements: Requirements,
    /// Rules on the entities' rows, in the order the issue lists them.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Views (filtered lists), in the order the issue lists them.
    #[serde(default)]
    pub views: Vec<View>,
}

/// Which issue a spec came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRef {
    /// Issue number in its repository.
    pub number: u64,
    /// Issue title as it was at trigger time.
    pub title: String,
    /// `html_url` of the issue, when known.
    #[serde(default)]
    pub url: String,
}

/// The application's identity and optional features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Display name, exactly as written in the issue (any language).
    pub name: String,
    /// ASCII slug (`[a-z0-9-]`, at most 40 chars) used for the branch and the app folder.
    pub slug: String,
    /// Python package-safe identifier derived from the slug (`[a-z_][a-z0-9_]*`).
    pub ident: String,
    /// What the app is for (may be empty).
    #[serde(default)]
    pub summary: String,
    /// Features the pack knows how to build.
    #[serde(default)]
    pub features: Features,
    /// Every checked feature label as written, including ones no pack implements yet.
    #[serde(default)]
    pub requested_features: Vec<String>,
}

/// Optional features a stack pack may implement. Unknown checked features stay in
/// [`App::requested_features`] and become functional requirements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Features {
    /// CSV export of every entity list.
    pub csv_export: bool,
    /// Team workspaces: data belongs to a team the user can invite others to.
    pub teams: bool,
}

/// One entity (a table, a set of pages and an API collection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Display label as written in the issue, e.g. `Книга`.
    pub label: String,
    /// Plural display label, e.g. `Книги` (English pluralisation only when the label is ASCII).
    pub plural_label: String,
    /// Class name, PascalCase ASCII, e.g. `Kniga`; never a built-in model name.
    pub name: String,
    /// snake_case singular, e.g. `kniga`, `order_item`.
    pub ident: String,
    /// snake_case plural, e.g. `knigas`, `order_items`.
    pub plural: String,
    /// URL segment (kebab plural), e.g. `order-items`: API at `/api/<route>`, pages at `/<route>`.
    pub route: String,
    /// SQL table name (snake plural, never a reserved word).
    pub table: String,
    /// Fields in the order the issue lists them (built-in columns are not listed).
    pub fields: Vec<Field>,
    /// `ident` of the field used to show a row in lists and select boxes, if any.
    pub display_field: Option<String>,
}

/// One field of an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Display label, always readable: the explicit `label "…"`, else the issue's words,
    /// else (a bare identifier such as `issued_on`) a derived "Issued on".
    pub label: String,
    /// snake_case identifier, safe as a Python attribute, JSON key, form name and SQL column.
    pub ident: String,
    /// The field's type.
    pub kind: FieldKind,
    /// Must be present and non-empty.
    #[serde(default)]
    pub required: bool,
    /// Unique within the owning account.
    #[serde(default)]
    pub unique: bool,
    /// Allowed values for `enum` (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// For `ref`: the target entity's `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Field types of the issue form's data model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// Short single-line text.
    Text,
    /// Multi-line text.
    Longtext,
    /// Integer.
    Int,
    /// Exact decimal number.
    Decimal,
    /// Boolean.
    Bool,
    /// Calendar date.
    Date,
    /// Date and time.
    Datetime,
    /// E-mail address.
    Email,
    /// http(s) URL.
    Url,
    /// One of a fixed list of choices.
    Enum,
    /// Reference (foreign key) to another entity of the same account.
    Ref,
}

impl FieldKind {
    /// The keyword used in the issue form for this type.
    pub fn keyword(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Longtext => "longtext",
            FieldKind::Int => "int",
            FieldKind::Decimal => "decimal",
            FieldKind::Bool => "bool",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Email => "email",
            FieldKind::Url => "url",
            FieldKind::Enum => "enum",
            FieldKind::Ref => "ref",
        }
    }

    /// Whether values of this kind are numbers (`int`, `decimal`).
    pub fn is_number(self) -> bool {
        matches!(self, FieldKind::Int | FieldKind::Decimal)
    }

    /// Whether values of this kind are points in time (`date`, `datetime`).
    pub fn is_temporal(self) -> bool {
        matches!(self, FieldKind::Date | FieldKind::Datetime)
    }

    /// Whether values of this kind are ordered (`<`, `between`, sorting by value makes sense).
    pub fn is_ordered(self) -> bool {
        self.is_number() || self.is_temporal()
    }

    /// Whether values of this kind are searched by the list pages' text search.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldKind::Text | FieldKind::Longtext | FieldKind::Email | FieldKind::Url
        )
    }
}

/// Functional and non-functional requirements, as plain sentences.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Requirements {
    /// What the app must do.
    pub functional: Vec<String>,
    /// How well it must do it (security, performance, operability).
    pub non_functional: Vec<String>,
}

impl Spec {
    /// Finds an entity by its class `name`.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }

    /// Reads a `spec.yaml`: format 2 as is, format 1 upgraded (see the module doc), a newer
    /// format refused. The result is [`Spec::check`]ed.
    pub fn from_yaml(text: &str) -> Result<Spec, String> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        if version.format == 0 || version.format > SPEC_FORMAT {
            return Err(format!(
                "spec format {} is not supported; this e2e-action reads formats 1 to {SPEC_FORMAT} (format 2 adds rules and views); regenerate the spec with this version or upgrade e2e-action",
                version.format
            ));
        }
        let mut spec: Spec = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        if spec.format == 1 {
            spec.format = SPEC_FORMAT;
            for field in spec.entities.iter_mut().flat_map(|e| e.fields.iter_mut()) {
                field.label = crate::ident::readable_label(&field.label);
            }
        }
        spec.check()?;
        Ok(spec)
    }

    /// Checks that rules and views name existing entities and fields of fitting types
    /// (what the issue-form parser guarantees; a hand-edited `spec.yaml` may not).
    pub fn check(&self) -> Result<(), String> {
        let name: check::Namer = &|entity, field| match field {
            Some(f) => f.ident.clone(),
            None => entity.name.clone(),
        };
        let entity = |wanted: &str| {
            self.entity(wanted)
                .ok_or_else(|| check::Problem::UnknownEntity {
                    entity: wanted.to_string(),
                    known: self
                        .entities
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        };
        for (i, rule) in self.rules.iter().enumerate() {
            let earlier: Vec<&Rule> = self.rules[..i]
                .iter()
                .filter(|r| r.entity == rule.entity)
                .collect();
            entity(&rule.entity)
                .and_then(|e| check::rule(e, &rule.check, &earlier, name))
                .map_err(|problem| format!("rule {} {:?}: {problem}", i + 1, rule.statement))?;
        }
        for (i, view) in self.views.iter().enumerate() {
            let fail =
                |problem: check::Problem| format!("view {} {:?}: {problem}", i + 1, view.statement);
            let e = entity(&view.entity).map_err(fail)?;
            for condition in &view.conditions {
                check::condition(e, condition, name).map_err(fail)?;
            }
            check::view_tail(e, view, name).map_err(fail)?;
            let clash = self.views[..i].iter().any(|v| {
                v.slug == view.slug
                    || v.ident == view.ident
                    || v.name.to_lowercase() == view.name.to_lowercase()
            });
            if clash {
                return Err(fail(check::Problem::DuplicateView {
                    name: view.name.clone(),
                }));
            }
            let slug_ok = !view.slug.is_empty()
                && view
                    .slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            let ident_ok = view
                .ident
                .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && view
                    .ident
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !(slug_ok && ident_ok) {
                return Err(format!(
                    "view {} {:?}: slug {:?} or ident {:?} is not safe; expected a lowercase kebab-case slug and a snake_case ident, e.g. slug: large-rooms, ident: large_rooms",
                    i + 1,
                    view.statement,
                    view.slug,
                    view.ident
                ));
            }
        }
        Ok(())
    }
}

impl Entity {
    /// Finds a field by its `ident`.
    pub fn field(&self, ident: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.ident == ident)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVOICES: &str = include_str!("../tests/fixtures/specs/invoices.yaml");
    const BOOKINGS: &str = include_str!("../tests/fixtures/specs/bookings.yaml");

    #[test]
    fn fixtures_load_and_round_trip() {
        for text in [INVOICES, BOOKINGS] {
            let spec = Spec::from_yaml(text).unwrap();
            assert_eq!(spec.format, SPEC_FORMAT);
            let again = Spec::from_yaml(&yaml_serde::to_string(&spec).unwrap()).unwrap();
            assert_eq!(again, spec);
        }
    }

    #[test]
    fn operands_are_one_key_maps_or_bare_words_in_yaml() {
        let spec = Spec::from_yaml(INVOICES).unwrap();
        assert_eq!(
            spec.rules[0].check,
            RuleCheck::Compare {
                field: "amount".into(),
                op: CompareOp::Ge,
                value: Operand::Number("0".into()),
            }
        );
        assert_eq!(spec.views[0].conditions[0].value, Some(Operand::Today));
        let text = yaml_serde::to_string(&spec.views[0]).unwrap();
        assert!(text.contains("value: today\n"), "{text}");
        assert!(text.contains("value:\n    choice: paid\n"), "{text}");
        let text = yaml_serde::to_string(&spec.rules[0]).unwrap();
        assert!(text.contains("op: '>='\nvalue:\n  number: '0'\n"), "{text}");
        // `=` quoted too (PyYAML reads a plain `=` as the YAML 1.1 value tag), and read back.
        let eq = RuleCheck::Compare {
            field: "amount".into(),
            op: CompareOp::Eq,
            value: Operand::Number("1".into()),
        };
        let text = yaml_serde::to_string(&eq).unwrap();
        assert!(text.contains("op: '='\n"), "{text}");
        assert_eq!(yaml_serde::from_str::<RuleCheck>(&text).unwrap(), eq);
        assert_eq!(serde_json::to_value(CompareOp::Eq).unwrap(), "=");
        assert_eq!(spec.rules[0].check.fields(), ["amount"]);
        assert_eq!(spec.rules[2].check.fields(), ["due_on", "issued_on"]);
    }

    #[test]
    fn format_1_is_upgraded_and_a_newer_format_refused() {
        let old = INVOICES
            .replace("format: 2", "format: 1")
            .replace("label: Issue date", "label: issued_on");
        let old = &old[..old.find("rules:").unwrap()];
        let spec = Spec::from_yaml(old).unwrap();
        assert_eq!(spec.format, 2);
        assert!(spec.rules.is_empty() && spec.views.is_empty());
        assert_eq!(
            spec.entities[1].field("issued_on").unwrap().label,
            "Issued on"
        );

        let err = Spec::from_yaml(&INVOICES.replace("format: 2", "format: 3")).unwrap_err();
        assert_eq!(
            err,
            "spec format 3 is not supported; this e2e-action reads formats 1 to 2 (format 2 adds rules and views); regenerate the spec with this version or upgrade e2e-action"
        );
    }

    #[test]
    fn check_refuses_hand_edited_mistakes() {
        let bad = |from: &str, to: &str| {
            assert!(INVOICES.contains(from), "{from}");
            Spec::from_yaml(&INVOICES.replacen(from, to, 1)).unwrap_err()
        };
        assert_eq!(
            bad("  field: amount\n  op: '>='", "  field: amont\n  op: '>='"),
            "rule 1 \"Invoice.amount >= 0\": entity \"Invoice\" has no field \"amont\"; expected one of number, client, amount, issued_on, due_on, status"
        );
        assert_eq!(
            bad(
                "- entity: Invoice\n  statement: Invoice.amount >= 0",
                "- entity: Bill\n  statement: Invoice.amount >= 0"
            ),
            "rule 1 \"Invoice.amount >= 0\": no entity \"Bill\" in the data model; expected one of Client, Invoice"
        );
        assert_eq!(
            bad("choice: draft", "choice: Draft"),
            "rule 4 \"Invoice.status default draft\": \"Draft\" is not a choice of \"status\"; expected one of draft|sent|paid"
        );
        assert_eq!(
            bad("  sums:\n  - amount", "  sums:\n  - number"),
            "view 1 \"Overdue: Invoice where due_on < today and status != paid sorted by due_on, sum amount\": \"sum\" totals an int or decimal field, but \"number\" is a text; expected e.g. \", sum amount\""
        );
        assert_eq!(
            bad("    value: today", "    value: now"),
            "view 1 \"Overdue: Invoice where due_on < today and status != paid sorted by due_on, sum amount\": \"due_on\" is a date and cannot take now; expected today, a quoted date such as \"2026-01-31\" or another date field, e.g. \"due_on < today\""
        );
        assert!(bad("slug: overdue", "slug: Over due").contains("is not safe"));
    }
}
