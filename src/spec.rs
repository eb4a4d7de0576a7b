//! The `Spec`: what the product strategist stage produces and every later stage reads.
//!
//! A `Spec` is pure data, serialisable to `spec.yaml`. Display labels keep the issue's own
//! words (any language); identifiers (`name`, `ident`, `plural`, `route`, `table`) are
//! derived, ASCII, collision-free and safe for Python, SQL and URLs (see `crate::ident`).

use serde::{Deserialize, Serialize};

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
    /// TEMP local copy of the contract (pack helper).
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// TEMP.
    #[serde(default)]
    pub views: Vec<View>,
}

/// TEMP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// e
    pub entity: String,
    /// s
    pub statement: String,
    /// c
    #[serde(flatten)]
    pub check: RuleCheck,
}
/// TEMP.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleCheck {
    Compare { field: String, op: String, value: Operand },
    Between { field: String, min: Operand, max: Operand },
    Length { field: String, min: u32, max: u32 },
    Default { field: String, value: Operand },
    Unique { fields: Vec<String> },
    NoOverlap { start: String, end: String, #[serde(default)] per: Vec<String> },
}
/// TEMP.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operand { Number(String), Text(String), Bool(bool), Choice(String), Field(String), Today, Now }
/// TEMP.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View { pub name: String, pub slug: String, pub ident: String, pub entity: String, pub statement: String, pub conditions: Vec<Condition>, pub sort: Option<Sort>, pub sums: Vec<String> }
/// TEMP.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition { pub field: String, pub op: String, #[serde(default)] pub value: Option<serde_json::Value>, #[serde(default)] pub values: Vec<String> }
/// TEMP.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sort { pub field: String, pub desc: bool }

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
    /// Display label as written in the issue.
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
}
