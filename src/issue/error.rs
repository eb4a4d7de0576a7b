//! Why an issue body is not a valid issue form: one error type for every section, each
//! message one line that quotes the offending line and says what is expected.

use thiserror::Error;

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
        "unknown modifier {found:?} for field {field:?}; expected required or unique after the type"
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
