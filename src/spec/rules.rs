//! Rules: checks on the rows of one entity ([`Rule`], [`RuleCheck`]) and the values they
//! compare ([`Operand`], [`CompareOp`]).

use serde::{Deserialize, Serialize};

/// One rule on the rows of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The entity's class [`Entity::name`](super::Entity::name).
    pub entity: String,
    /// The statement as written in the issue, for `SPEC.md` and messages.
    pub statement: String,
    /// What the rule checks.
    #[serde(flatten)]
    pub check: RuleCheck,
}

/// What a [`Rule`] checks; field names are [`Field::ident`](super::Field::ident)s of the rule's entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleCheck {
    /// `field op value`, e.g. `amount >= 0`, `due_on >= issued_on`, `ends_at > now`.
    Compare {
        /// The field on the left.
        field: String,
        /// The comparison.
        op: CompareOp,
        /// The right side.
        #[serde(with = "yaml_serde::with::singleton_map")]
        value: Operand,
    },
    /// `min <= field <= max` (both ends included), for numbers, dates and datetimes.
    Between {
        /// The field.
        field: String,
        /// Lower bound (included).
        #[serde(with = "yaml_serde::with::singleton_map")]
        min: Operand,
        /// Upper bound (included).
        #[serde(with = "yaml_serde::with::singleton_map")]
        max: Operand,
    },
    /// The text's length in characters is within `min..=max`.
    Length {
        /// The field (text, longtext, email, url).
        field: String,
        /// Fewest characters.
        min: u32,
        /// Most characters.
        max: u32,
    },
    /// The value a new row gets when none is given (fills the create form and API body).
    Default {
        /// The field (never a `ref`).
        field: String,
        /// The default; `today`/`now` are evaluated when the row is created.
        #[serde(with = "yaml_serde::with::singleton_map")]
        value: Operand,
    },
    /// No two rows of the tenant share these values (together).
    Unique {
        /// The fields, at least one.
        fields: Vec<String>,
    },
    /// No two rows of the tenant (with equal `per` fields) have intersecting half-open
    /// intervals `[start, end)`; back-to-back intervals are allowed.
    NoOverlap {
        /// Interval start (date or datetime).
        start: String,
        /// Interval end (same type as `start`).
        end: String,
        /// Fields that scope the check (e.g. the room); empty = all rows of the tenant.
        #[serde(default)]
        per: Vec<String>,
    },
}

impl RuleCheck {
    /// The fields the check names, in order (for messages and `loc` of violations).
    pub fn fields(&self) -> Vec<&str> {
        match self {
            RuleCheck::Compare { field, value, .. } => {
                let mut fields = vec![field.as_str()];
                if let Operand::Field(other) = value {
                    fields.push(other);
                }
                fields
            }
            RuleCheck::Between { field, .. }
            | RuleCheck::Length { field, .. }
            | RuleCheck::Default { field, .. } => vec![field.as_str()],
            RuleCheck::Unique { fields } => fields.iter().map(String::as_str).collect(),
            RuleCheck::NoOverlap { start, end, per } => [start.as_str(), end.as_str()]
                .into_iter()
                .chain(per.iter().map(String::as_str))
                .collect(),
        }
    }
}

/// A value in a rule or a view condition. In YAML a one-key map (`{number: '0'}`,
/// `{field: issued_on}`) or a bare word (`today`, `now`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operand {
    /// A decimal number as written, normalised (`-12.5`, `100000`); never a float.
    Number(String),
    /// A quoted text; for a date or datetime field, an ISO date (`2026-01-31`) or
    /// datetime (`2026-01-31T09:00`).
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// One of the field's enum choices, spelled as in [`Field::choices`](super::Field::choices).
    Choice(String),
    /// Another field of the same entity, by [`Field::ident`](super::Field::ident).
    Field(String),
    /// The current date (server date), for `date` fields.
    Today,
    /// The current date and time (UTC), for `datetime` fields.
    Now,
}

/// A comparison operator, written as its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum CompareOp {
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `=`
    #[serde(rename = "=")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
}

impl Serialize for CompareOp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // A lone `=` is a plain string in YAML 1.2, but PyYAML (YAML 1.1) reads it as the
            // `value` tag and refuses the file: as a char it is emitted quoted (`'='`).
            CompareOp::Eq => s.serialize_char('='),
            other => s.serialize_str(other.symbol()),
        }
    }
}

impl CompareOp {
    /// The operator as written (`>=`).
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
        }
    }

    /// Whether the operator needs ordered values (`<`, `<=`, `>`, `>=`).
    pub fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::Ne)
    }
}
