//! Why an issue body is not a valid issue form: one error type for every section, each
//! message one line that quotes the offending line and says what is expected.

use thiserror::Error;

use crate::spec::check::Problem;

/// Most entities one data model may declare.
pub const MAX_ENTITIES: usize = 60;

/// Most fields one entity may declare.
pub const MAX_FIELDS: usize = 80;

/// The field types, as the error messages list them.
pub const EXPECTED_TYPES: &str =
    "text, longtext, int, decimal, bool, date, datetime, email, url, enum: a|b|c, ref Entity";

/// Why an issue body is not a valid issue form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormError {
    /// A required `### …` section is missing.
    #[error(
        "missing required heading \"### {heading}\"; expected the issue form's \"### App name\" and \"### Data model\" sections"
    )]
    MissingHeading {
        /// The heading, e.g. `App name`.
        heading: &'static str,
    },
    /// The app name is empty.
    #[error(
        "the \"### App name\" section is empty; expected the application's name, e.g. \"Book club\""
    )]
    EmptyAppName,
    /// The data model declares no entity.
    #[error(
        "the \"### Data model\" section has no entity; expected one line per entity, e.g. \"Book: title (text, required), author (text)\""
    )]
    EmptyDataModel,
    /// One line of the `### Rules` or `### Views` section is wrong.
    #[error("{section} line {line} {text:?}: {problem}")]
    Statement {
        /// `rules` or `views`.
        section: &'static str,
        /// 1-based line number within the section's block.
        line: usize,
        /// The line as written (trimmed, cut when very long).
        text: String,
        /// What is wrong with it (boxed: the problems are large and errors are rare).
        problem: Box<StatementProblem>,
    },
    /// One line of the data model is wrong.
    #[error("data model line {line} {text:?}: {problem}")]
    Line {
        /// 1-based line number within the data model block.
        line: usize,
        /// The line as written (trimmed, cut when very long).
        text: String,
        /// What is wrong with it.
        problem: LineProblem,
    },
}

impl FormError {
    /// The 1-based line of `body` (the issue body as GitHub sends it) this error is about, when
    /// it is about one line: found by the section's heading and the section's own numbering, and
    /// given only when that line is the one the message quotes.
    pub fn body_line(&self, body: &str) -> Option<usize> {
        use super::sections::{heading, is_fence, quote};
        let (title, line, text) = match self {
            FormError::Line { line, text, .. } => ("data model", *line, text),
            FormError::Statement {
                section,
                line,
                text,
                ..
            } => (*section, *line, text),
            _ => return None,
        };
        let mut lines = body.lines().enumerate();
        lines.find(|(_, l)| heading(l).as_deref() == Some(title))?;
        let mut number = 0;
        for (index, raw) in lines {
            let trimmed = raw.trim();
            if heading(raw).is_some() {
                return None;
            }
            if is_fence(trimmed) || (number == 0 && trimmed.is_empty()) {
                continue;
            }
            number += 1;
            if number == line {
                return (quote(trimmed) == *text).then_some(index + 1);
            }
        }
        None
    }
}

/// Most rules one issue may state.
pub const MAX_RULES: usize = 200;

/// Most views one issue may define.
pub const MAX_VIEWS: usize = 50;

/// What is wrong with one line of the `### Rules` or `### Views` section.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StatementProblem {
    /// Names or types that do not fit the data model.
    #[error(transparent)]
    Invalid(#[from] Problem),
    /// A rules line of no known form.
    #[error(
        "not a rule; expected one of \"Invoice.amount >= 0\", \"Invoice.due_on >= Invoice.issued_on\", \"Invoice.amount between 0 and 100000\", \"Client.name length 2..80\", \"Invoice.status default draft\", \"Booking: unique room, starts_at\", \"Booking: no overlap starts_at..ends_at per room\" or 'Invoice.issued_on label \"Issued on\"'"
    )]
    NotARule,
    /// A views line of no known form.
    #[error(
        "not a view; expected \"Name: Entity where field op value and … sorted by field [desc], sum field\", e.g. \"Overdue: Invoice where due_on < today and status != paid sorted by due_on, sum amount\""
    )]
    NotAView,
    /// The left side is not `Entity.field`.
    #[error(
        "{found:?} does not name a field as \"Entity.field\"; expected e.g. \"Invoice.amount >= 0\""
    )]
    NotAField {
        /// The text as written.
        found: String,
    },
    /// A field of another entity on the right side.
    #[error(
        "{found:?} is not a field of {entity:?}; expected a value or a field of the same entity, e.g. \"Invoice.due_on >= Invoice.issued_on\""
    )]
    OtherEntity {
        /// The text as written.
        found: String,
        /// The rule's entity.
        entity: String,
    },
    /// Nothing where a value belongs.
    #[error("no value after {after:?}; expected a value, e.g. {example:?}")]
    MissingValue {
        /// The operator or keyword.
        after: String,
        /// A statement that works.
        example: String,
    },
    /// A bare word that is neither a value nor a field.
    #[error(
        "{found:?} is neither a value nor a field of {entity:?}; expected {expected}, e.g. {example:?}"
    )]
    UnknownValue {
        /// The text as written.
        found: String,
        /// The entity.
        entity: String,
        /// What fits, in words.
        expected: String,
        /// A statement that works.
        example: String,
    },
    /// `between` without `and`.
    #[error("expected \"between <low> and <high>\", e.g. \"Invoice.amount between 0 and 100000\"")]
    BadBetween,
    /// `length` without `min..max`.
    #[error(
        "{found:?} is not a length range; expected \"length <min>..<max>\" in whole numbers, e.g. \"Client.name length 2..80\""
    )]
    BadLength {
        /// The text after `length`.
        found: String,
    },
    /// `no overlap` without `start..end`.
    #[error(
        "expected \"Entity: no overlap start..end [per field, …]\", e.g. \"Booking: no overlap starts_at..ends_at per room\""
    )]
    BadOverlap,
    /// `label` without a quoted text.
    #[error("expected a quoted, non-empty label, e.g. 'Invoice.issued_on label \"Issued on\"'")]
    BadLabel,
    /// A second label for one field.
    #[error("{field:?} already has the label {first:?}; expected one label per field")]
    DuplicateLabel {
        /// The field.
        field: String,
        /// The first label.
        first: String,
    },
    /// Nothing before a view's `:`.
    #[error(
        "the view name before \":\" is empty; expected e.g. \"Overdue: Invoice where due_on < today\""
    )]
    EmptyViewName,
    /// A view condition of no known form.
    #[error(
        "{found:?} is not a condition; expected \"field op value\" (op one of > >= < <= = !=), \"field in a|b|c\", \"field is empty\" or \"field is not empty\", e.g. \"due_on < today\""
    )]
    BadCondition {
        /// The condition as written.
        found: String,
    },
    /// `sorted by` without a field, or with more than `desc`/`asc` after it.
    #[error(
        "{found:?} is not a sort; expected \"sorted by field\" or \"sorted by field desc\", e.g. \"sorted by due_on desc\""
    )]
    BadSort {
        /// The text after `sorted by`.
        found: String,
    },
    /// More than [`MAX_RULES`] rules.
    #[error("more than {MAX_RULES} rules; expected at most {MAX_RULES}")]
    TooManyRules,
    /// More than [`MAX_VIEWS`] views.
    #[error("more than {MAX_VIEWS} views; expected at most {MAX_VIEWS}")]
    TooManyViews,
}

/// What is wrong with one data-model line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineProblem {
    /// No `:` after the entity name.
    #[error("no \":\" after the entity name; expected \"Entity: field (type), field (type), …\"")]
    MissingColon,
    /// Nothing before the `:`.
    #[error("the entity name before \":\" is empty; expected \"Entity: field (type), …\"")]
    EmptyEntityName,
    /// Nothing after the `:`.
    #[error(
        "entity {entity:?} has no fields; expected \"{entity}: field (type), field (type), …\""
    )]
    NoFields {
        /// Entity label.
        entity: String,
    },
    /// `(` and `)` do not pair up.
    #[error(
        "unbalanced parentheses; expected \"field (type[, required][, unique])\" for each field"
    )]
    UnbalancedParens,
    /// A field segment has no name before `(`.
    #[error("a field has no name; expected \"name (type)\"")]
    EmptyFieldName,
    /// `()` with nothing inside.
    #[error("field {field:?} has no type; expected one of {EXPECTED_TYPES}")]
    MissingType {
        /// Field label.
        field: String,
    },
    /// A type keyword that does not exist.
    #[error("unknown type {found:?}; expected one of {EXPECTED_TYPES}")]
    UnknownType {
        /// The type as written.
        found: String,
    },
    /// Something other than `required`/`unique` after the type.
    #[error(
        "unknown modifier {found:?} for field {field:?}; expected required, unique or label \"…\" after the type"
    )]
    UnknownModifier {
        /// Field label.
        field: String,
        /// The modifier as written.
        found: String,
    },
    /// Enum choices separated by commas instead of `|`.
    #[error(
        "{found:?} after the choices of field {field:?} is not required or unique; expected choices separated by \"|\", e.g. \"enum: a|b|c\""
    )]
    ChoiceAfterComma {
        /// Field label.
        field: String,
        /// The text after the comma.
        found: String,
    },
    /// `label` without a quoted text among a field's modifiers.
    #[error(
        "the label of field {field:?} is not a quoted, non-empty text; expected '{field} (type, label \"Readable name\")'"
    )]
    BadLabel {
        /// Field label.
        field: String,
    },
    /// Text after the closing `)`.
    #[error(
        "unexpected {found:?} after \")\" of field {field:?}; expected \"{field} (type[, required][, unique])\""
    )]
    TrailingText {
        /// Field label.
        field: String,
        /// The text after `)`.
        found: String,
    },
    /// `enum` without choices.
    #[error("field {field:?} has an empty choice list; expected \"enum: a|b|c\"")]
    EmptyChoices {
        /// Field label.
        field: String,
    },
    /// `enum: a||b`.
    #[error(
        "field {field:?} has an empty choice; expected non-empty choices separated by \"|\", e.g. \"enum: a|b|c\""
    )]
    EmptyChoice {
        /// Field label.
        field: String,
    },
    /// The same choice twice (case-insensitive).
    #[error("field {field:?} lists the choice {choice:?} twice; expected distinct choices")]
    DuplicateChoice {
        /// Field label.
        field: String,
        /// The repeated choice.
        choice: String,
    },
    /// `ref` without an entity name.
    #[error(
        "field {field:?} has no target; expected \"ref Entity\" naming an entity of the data model"
    )]
    MissingRefTarget {
        /// Field label.
        field: String,
    },
    /// `ref X` where no entity is labelled X.
    #[error(
        "field {field:?} refers to {target:?}, which is not an entity of the data model; expected one of {known}"
    )]
    UnknownRef {
        /// Field label.
        field: String,
        /// The target as written.
        target: String,
        /// The entity labels, comma-separated.
        known: String,
    },
    /// Two fields with the same label (case-insensitive) in one entity.
    #[error("duplicate field {field:?} in entity {entity:?}; expected each field once per entity")]
    DuplicateField {
        /// Entity label.
        entity: String,
        /// Field label.
        field: String,
    },
    /// Two entities with the same label (case-insensitive).
    #[error(
        "duplicate entity {entity:?}, first declared on line {first_line}; expected each entity once"
    )]
    DuplicateEntity {
        /// Entity label.
        entity: String,
        /// Line of the first declaration.
        first_line: usize,
    },
    /// More than [`MAX_ENTITIES`] entities.
    #[error("more than {MAX_ENTITIES} entities; expected at most {MAX_ENTITIES} per app")]
    TooManyEntities,
    /// More than [`MAX_FIELDS`] fields in one entity.
    #[error("entity {entity:?} has more than {MAX_FIELDS} fields; expected at most {MAX_FIELDS}")]
    TooManyFields {
        /// Entity label.
        entity: String,
    },
}

#[cfg(test)]
mod body_line_tests {
    use super::*;

    #[test]
    fn a_line_error_names_its_line_of_the_issue_body() {
        let body = "### App name\n\nShop\n\n### Data model\n\n```\nItem: name (text)\n\nOrder: item (nonsense)\n```\n\n### Rules\n\n- Item.name length <= 3\n";
        let err = FormError::Line {
            line: 3,
            text: quote_of("Order: item (nonsense)"),
            problem: LineProblem::MissingColon,
        };
        assert_eq!(err.body_line(body), Some(10));
        // A quote that does not match the line found: no line rather than a wrong one.
        let other = FormError::Line {
            line: 3,
            text: quote_of("something else"),
            problem: LineProblem::MissingColon,
        };
        assert_eq!(other.body_line(body), None);
        assert_eq!(FormError::EmptyAppName.body_line(body), None);
    }

    fn quote_of(line: &str) -> String {
        super::super::sections::quote(line)
    }
}
