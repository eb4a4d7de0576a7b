//! What can be wrong with a rule or a view ([`Problem`]): each message says what is wrong and
//! gives an example of the right form; the caller adds where (line or statement).

use thiserror::Error;

/// What is wrong with one rule or view.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    /// An entity name that is not in the data model.
    #[error("no entity {entity:?} in the data model; expected one of {known}")]
    UnknownEntity {
        /// The name as written.
        entity: String,
        /// Known entity names, comma-separated.
        known: String,
    },
    /// A field name that the entity does not have.
    #[error("entity {entity:?} has no field {field:?}; expected one of {known}")]
    UnknownField {
        /// The entity.
        entity: String,
        /// The field as written.
        field: String,
        /// Known field names, comma-separated.
        known: String,
    },
    /// `<`, `<=`, `>`, `>=` on a field that has no order.
    #[error(
        "{op:?} needs a number, date or datetime, but {field:?} is {kind}; expected \"=\" or \"!=\" for it, e.g. {example:?}"
    )]
    NotOrdered {
        /// The operator.
        op: &'static str,
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
        /// A statement that works.
        example: String,
    },
    /// A reference compared with a value.
    #[error(
        "{field:?} is {kind} and cannot be compared with a value; expected \"{field} is empty\" or \"{field} is not empty\" in a view"
    )]
    NotComparable {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
    },
    /// A value of the wrong type for the field.
    #[error("{field:?} is {kind} and cannot take {found}; expected {expected}, e.g. {example:?}")]
    WrongValue {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
        /// The value found, in words.
        found: String,
        /// What fits, in words.
        expected: String,
        /// A statement that works.
        example: String,
    },
    /// An enum value that is not one of the field's choices.
    #[error("{found:?} is not a choice of {field:?}; expected one of {choices}")]
    UnknownChoice {
        /// The field.
        field: String,
        /// The value as written.
        found: String,
        /// The choices, `|`-separated.
        choices: String,
    },
    /// A field compared with itself.
    #[error("{field:?} is compared with itself; expected another field or a value")]
    SameField {
        /// The field.
        field: String,
    },
    /// `between` on a field that has no order.
    #[error(
        "\"between\" needs a number, date or datetime field, but {field:?} is {kind}; expected e.g. {example:?}"
    )]
    BetweenKind {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
        /// A statement that works.
        example: String,
    },
    /// `between a and b` with a > b.
    #[error(
        "the lower bound {min} is above the upper bound {max}; expected \"between {max} and {min}\""
    )]
    BoundsOrder {
        /// Lower bound as written.
        min: String,
        /// Upper bound as written.
        max: String,
    },
    /// `length` on a field that is not text.
    #[error(
        "\"length\" counts the characters of a text, but {field:?} is {kind}; expected e.g. {example:?}"
    )]
    LengthKind {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
        /// A statement that works.
        example: String,
    },
    /// `length a..b` with a > b or b = 0.
    #[error(
        "the length range {min}..{max} is empty; expected a minimum at most the maximum and a maximum of at least 1, e.g. \"length 2..80\""
    )]
    LengthBounds {
        /// Fewest characters.
        min: u32,
        /// Most characters.
        max: u32,
    },
    /// A default for a reference.
    #[error(
        "{field:?} is {kind}, which cannot have a default; expected a default on a text, number, bool, enum, date or datetime field, e.g. \"Invoice.status default draft\""
    )]
    DefaultRef {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
    },
    /// A default that copies another field (defaults are values, so they never form a cycle).
    #[error(
        "the default of {field:?} names the field {other:?}; expected a value (defaults cannot copy another field), e.g. {example:?}"
    )]
    DefaultField {
        /// The field.
        field: String,
        /// The other field.
        other: String,
        /// A statement that works.
        example: String,
    },
    /// Two defaults for one field.
    #[error("{field:?} already has a default ({first:?}); expected one default per field")]
    DuplicateDefault {
        /// The field.
        field: String,
        /// The first default's statement.
        first: String,
    },
    /// `no overlap` on fields that are not dates or datetimes.
    #[error(
        "\"no overlap\" needs date or datetime start and end fields, but {field:?} is {kind}; expected e.g. \"Booking: no overlap starts_at..ends_at per room\""
    )]
    OverlapKind {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
    },
    /// `no overlap` from a date to a datetime.
    #[error(
        "the start {start:?} is {start_kind} but the end {end:?} is {end_kind}; expected two dates or two datetimes"
    )]
    OverlapMixed {
        /// Start field.
        start: String,
        /// Its type in words.
        start_kind: String,
        /// End field.
        end: String,
        /// Its type in words.
        end_kind: String,
    },
    /// `no overlap a..a`.
    #[error(
        "the interval starts and ends with the same field {field:?}; expected two fields, e.g. \"starts_at..ends_at\""
    )]
    OverlapSame {
        /// The field.
        field: String,
    },
    /// A field listed twice in `unique` or `per`.
    #[error("{field:?} is listed twice; expected each field once")]
    RepeatedField {
        /// The field.
        field: String,
    },
    /// `unique` with no field.
    #[error("\"unique\" names no field; expected e.g. \"Booking: unique room, starts_at\"")]
    NoFields,
    /// `in` on a field that is neither enum nor text.
    #[error(
        "\"in\" needs an enum or text field, but {field:?} is {kind}; expected e.g. \"status in draft|sent\""
    )]
    InKind {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
    },
    /// `in` with no value.
    #[error(
        "\"in\" lists no value; expected values separated by \"|\", e.g. \"status in draft|sent\""
    )]
    EmptyIn,
    /// `sum` on a field that is not a number.
    #[error(
        "\"sum\" totals an int or decimal field, but {field:?} is {kind}; expected e.g. \", sum amount\""
    )]
    SumKind {
        /// The field.
        field: String,
        /// The field's type, in words.
        kind: String,
    },
    /// Two views with the same name (case-insensitive) or slug.
    #[error("a view named {name:?} already exists; expected distinct view names")]
    DuplicateView {
        /// The name.
        name: String,
    },
    /// A condition without the value its operator needs (or with one it does not take).
    #[error(
        "the condition on {field:?} with {op:?} has the wrong operands; expected e.g. \"due_on < today\", \"status in draft|sent\" or \"note is empty\""
    )]
    ConditionShape {
        /// The field.
        field: String,
        /// The operator.
        op: &'static str,
    },
}
