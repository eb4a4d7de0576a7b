//! Views: saved, filtered lists of one entity ([`View`]) with their conditions and sort.

use serde::{Deserialize, Serialize};

use super::{CompareOp, Operand};

/// A saved, filtered list of one entity: a page, an API endpoint and a dashboard card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// Display name as written (`Overdue`, `연체`).
    pub name: String,
    /// Lowercase ASCII kebab-case, transliterated as branch slugs are: page `/views/<slug>`,
    /// API `GET /api/views/<slug>`. Unique among views.
    pub slug: String,
    /// Python-safe snake_case, unique among views.
    pub ident: String,
    /// The entity listed, by [`Entity::name`](super::Entity::name).
    pub entity: String,
    /// The statement as written.
    pub statement: String,
    /// Conditions a row must all meet (joined by AND); empty = every row.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Order of the rows (default: the entity list's order).
    #[serde(default)]
    pub sort: Option<Sort>,
    /// Fields (`int`/`decimal` idents) whose totals over the matching rows are shown.
    #[serde(default)]
    pub sums: Vec<String>,
}

/// One condition of a [`View`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The field, by [`Field::ident`](super::Field::ident).
    pub field: String,
    /// The test.
    pub op: ViewOp,
    /// The right side for comparisons (`gt` … `ne`); `None` for `in` and the emptiness tests.
    #[serde(
        default,
        with = "yaml_serde::with::singleton_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Operand>,
    /// For `in`: the accepted values (enum choices as spelled in [`Field::choices`](super::Field::choices)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The test of a view [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `in a|b|c`
    In,
    /// `is empty` (no value)
    IsEmpty,
    /// `is not empty`
    IsNotEmpty,
}

impl ViewOp {
    /// The operator as written in the issue (`>=`, `in`, `is empty`).
    pub fn symbol(self) -> &'static str {
        match self {
            ViewOp::Gt => ">",
            ViewOp::Ge => ">=",
            ViewOp::Lt => "<",
            ViewOp::Le => "<=",
            ViewOp::Eq => "=",
            ViewOp::Ne => "!=",
            ViewOp::In => "in",
            ViewOp::IsEmpty => "is empty",
            ViewOp::IsNotEmpty => "is not empty",
        }
    }

    /// The comparison operator, for `gt` … `ne`.
    pub fn compare_op(self) -> Option<CompareOp> {
        Some(match self {
            ViewOp::Gt => CompareOp::Gt,
            ViewOp::Ge => CompareOp::Ge,
            ViewOp::Lt => CompareOp::Lt,
            ViewOp::Le => CompareOp::Le,
            ViewOp::Eq => CompareOp::Eq,
            ViewOp::Ne => CompareOp::Ne,
            ViewOp::In | ViewOp::IsEmpty | ViewOp::IsNotEmpty => return None,
        })
    }
}

/// The order of a view's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    /// The field, by [`Field::ident`](super::Field::ident).
    pub field: String,
    /// Descending (largest, latest first) when true.
    #[serde(default)]
    pub desc: bool,
}

// Beside `ViewOp` rather than with `CompareOp`, so that rules do not depend on views.
impl CompareOp {
    /// The same comparison as a view condition operator.
    pub fn view_op(self) -> ViewOp {
        match self {
            CompareOp::Gt => ViewOp::Gt,
            CompareOp::Ge => ViewOp::Ge,
            CompareOp::Lt => ViewOp::Lt,
            CompareOp::Le => ViewOp::Le,
            CompareOp::Eq => ViewOp::Eq,
            CompareOp::Ne => ViewOp::Ne,
        }
    }
}
