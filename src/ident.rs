//! Identifier derivation: slugs, snake_case/PascalCase names, plurals, routes and table
//! names for the app, its entities and their fields. Pure functions, deterministic.
//!
//! # Words
//! A display label (any language) is split into ASCII words: ASCII letters and digits are
//! kept (lowercased), other letters and digits are transliterated with `deunicode`
//! (`Книга` → `kniga`, `图书` → `tu shu`, `Größe` → `grosse`), apostrophes and combining
//! marks are dropped, and everything else (spaces, punctuation, emoji, symbols) separates
//! words. Identifiers also split camelCase (`OrderItem` → `order item`); slugs do not.
//!
//! # Forms
//! - slug: words joined by `-`, at most [`MAX_SLUG_LEN`] chars, cut at a `-` when possible;
//!   empty → the caller's fallback.
//! - snake ident: words joined by `_`, at most [`MAX_IDENT_BASE_LEN`] chars (cut at a `_`
//!   when possible, so SQL names stay under PostgreSQL's 63-byte limit with suffixes);
//!   empty → `entity<N>` / `field<N>` (N = 1-based position); a leading digit gets the
//!   prefix `e_` (entities) or `f_` (fields).
//! - class name: PascalCase of the ident (`order_item` → `OrderItem`, `kniga_2` → `Kniga2`).
//! - plural: English rules on the last word (`s/x/z/ch/sh` → `es`, consonant + `y` →
//!   `ies`, a few irregulars such as `person` → `people`, else `s`); trailing numbers stay
//!   at the end (`kniga_2` → `knigas_2`); when the plural equals the singular (uncountables
//!   such as `series`, `data`) `_list` is appended (`series_list`).
//! - table: the plural. Route: the plural in kebab case (`order_items` → `order-items`).
//!
//! # Renaming rules
//! Every derived form is checked against the lists below, and checked again after renaming:
//! - An **entity** whose ident, plural/table, route or class name is reserved (a Python
//!   keyword, soft keyword or builtin; an SQL:2016, SQLite or PostgreSQL reserved word; a
//!   built-in model, table or module of the stack pack; a framework class name such as
//!   `BaseModel`; a reserved URL segment such as `api`, `docs` or `settings`) gets the
//!   suffix `_record` / `Record`: `User` → `UserRecord`, `user_record`, `user_records`,
//!   route `user-records`.
//! - A **field** whose ident is reserved (Python keywords and builtins, SQL reserved words,
//!   the pack's built-in columns `id`, `account_id`, `owner_id`, `created_at`, … and
//!   pydantic/SQLAlchemy attributes such as `metadata` or `model_dump`) gets `_value`:
//!   `class` → `class_value`, `id` → `id_value`. A `ref` field also owns the column
//!   `<ident>_id`, which is checked too (`account (ref Account)` → `account_value`).
//! - A remaining duplicate (two entities with the same ident, plural or class name, or two
//!   fields of one entity with the same ident or `ref` column) gets `_2`, `_3`, … in order
//!   of appearance: `Книга` then `Kniga` → `kniga`, `kniga_2` (`Kniga2`, `knigas_2`).
//!   The schema classes the pack derives from a class name (`BookCreate`, `BookUpdate`,
//!   `BookOut`, `BookPage`) count as taken too, so `Book` then `Book page` → `BookPage2`.
//!   An ident and a plural share one namespace: `Book` then `Books` → `books_2`.

use std::collections::HashSet;

use deunicode::deunicode_char;

use crate::spec::FieldKind;

/// Longest slug [`slugify`] returns (the fallback aside).
pub const MAX_SLUG_LEN: usize = 40;

/// Longest snake_case base for an entity or field, before renaming suffixes.
pub const MAX_IDENT_BASE_LEN: usize = 40;

/// The identifiers of one entity (see [`crate::spec::Entity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityNames {
    /// PascalCase class name, e.g. `OrderItem`.
    pub name: String,
    /// snake_case singular, e.g. `order_item`.
    pub ident: String,
    /// snake_case plural, e.g. `order_items`.
    pub plural: String,
    /// kebab-case URL segment, e.g. `order-items`.
    pub route: String,
    /// SQL table name, e.g. `order_items`.
    pub table: String,
}

impl EntityNames {
    /// Derives every form from a snake_case ident, without any collision check.
    pub fn from_ident(ident: &str) -> Self {
        let plural = pluralize(ident);
        EntityNames {
            name: pascal_case(ident),
            ident: ident.to_string(),
            route: plural.replace('_', "-"),
            table: plural.clone(),
            plural,
        }
    }
}

/// ASCII slug of `name`: `[a-z0-9]` runs joined by `-`, at most [`MAX_SLUG_LEN`] chars,
/// cut at a `-` when possible. Returns `fallback` unchanged when nothing usable is left
/// (an emoji-only or punctuation-only name).
pub fn slugify(name: &str, fallback: &str) -> String {
    let slug = truncate_at(&words(name, false).join("-"), MAX_SLUG_LEN, '-');
    if slug.is_empty() {
        fallback.to_string()
    } else {
        slug
    }
}

/// snake_case ASCII words of `text` (camelCase split), at most [`MAX_IDENT_BASE_LEN`]
/// chars; empty when `text` has no letter or digit. May start with a digit.
pub fn snake_case(text: &str) -> String {
    truncate_at(&words(text, true).join("_"), MAX_IDENT_BASE_LEN, '_')
}

/// Slug and ident of each view, given the views' names in order: the slug as branch slugs
/// are made (`Overdue` → `overdue`, `Просроченные` → `prosrochennye`, `view-<n>` when nothing
/// is left), numbered (`-2`) when taken; the ident is the slug in snake_case, with `view_`
/// before a leading digit and `_view` after a Python keyword or builtin.
pub fn view_names<S: AsRef<str>>(names: &[S]) -> Vec<(String, String)> {
    let mut taken: Vec<String> = Vec::new();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let base = slugify(name.as_ref(), &format!("view-{}", i + 1));
            let mut slug = base.clone();
            let mut n = 1;
            while taken.contains(&slug) {
                n += 1;
                slug = format!("{base}-{n}");
            }
            taken.push(slug.clone());
            let mut ident = slug.replace('-', "_");
            if ident.starts_with(|c: char| c.is_ascii_digit()) {
                ident = format!("view_{ident}");
            }
            if in_list(PYTHON_KEYWORDS, &ident) || in_list(PYTHON_BUILTINS, &ident) {
                ident.push_str("_view");
            }
            (slug, ident)
        })
        .collect()
}

/// A readable label for a field named by a bare identifier: `issued_on` → `Issued on`,
/// `dueDate` → `Due date`. Anything else (words with spaces, `Title`, `ISBN`, any non-ASCII
/// text such as `Название`) is the issue's own wording and comes back unchanged.
pub fn readable_label(label: &str) -> String {
    let bare = label.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let raw = label.contains('_') || label.starts_with(|c: char| c.is_ascii_lowercase());
    if !(bare && raw) {
        return label.to_string();
    }
    let words = words(label, true);
    let mut text = words.join(" ");
    if let Some(first) = text.get(..1) {
        text = first.to_ascii_uppercase() + &text[1..];
    }
    if text.is_empty() {
        label.to_string()
    } else {
        text
    }
}

/// PascalCase of a snake_case identifier: `order_item` → `OrderItem`.
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// English plural of a snake_case identifier (last word pluralised, trailing numbers kept
/// at the end, `_list` appended when the plural would equal the singular).
pub fn pluralize(ident: &str) -> String {
    let stem = ident.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
    let suffix = &ident[stem.len()..];
    if stem.is_empty() {
        return format!("{ident}_list");
    }
    let (head, last) = match stem.rsplit_once('_') {
        Some((head, last)) => (Some(head), last),
        None => (None, stem),
    };
    let last_plural = plural_word(last);
    let mut plural = match head {
        Some(head) => format!("{head}_{last_plural}"),
        None => last_plural,
    };
    if plural == stem {
        plural.push_str("_list");
    }
    plural + suffix
}

/// Plural display label: English rules on the last word when the label is ASCII and ends
/// with a letter (`Order item` → `Order items`, `Category` → `Categories`, `API` → `APIs`);
/// any other label is returned unchanged (`Книга` → `Книга`).
pub fn plural_label(label: &str) -> String {
    let label = label.trim_end();
    if !label.is_ascii() {
        return label.to_string();
    }
    let word_start = label
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphabetic())
        .last()
        .map(|(i, _)| i);
    match word_start {
        Some(start) => format!("{}{}", &label[..start], plural_word(&label[start..])),
        None => label.to_string(),
    }
}

/// Python package-safe identifier for the app, derived from its slug: `book-club` →
/// `book_club`; a leading digit gets `app_`; a Python keyword, builtin or common module
/// name gets `_app` (`json` → `json_app`).
pub fn app_ident(slug: &str) -> String {
    let mut ident = words(slug, false).join("_");
    if ident.is_empty() {
        ident = "app".to_string();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("app_{ident}");
    }
    if is_reserved_app_ident(&ident) {
        ident.push_str("_app");
    }
    ident
}

/// Whether `ident` is unusable as the app's package name.
pub fn is_reserved_app_ident(ident: &str) -> bool {
    in_list(PYTHON_KEYWORDS, ident)
        || in_list(PYTHON_BUILTINS, ident)
        || in_list(PYTHON_MODULES, ident)
}

/// Assigns collision-free identifiers to entities given their display labels, in order
/// (see the module doc for the renaming rules).
pub fn entity_names<S: AsRef<str>>(labels: &[S]) -> Vec<EntityNames> {
    let mut taken_snake: HashSet<String> = HashSet::new();
    let mut taken_class: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(labels.len());
    for (i, label) in labels.iter().enumerate() {
        let mut base = snake_case(label.as_ref());
        if base.is_empty() {
            base = format!("entity{}", i + 1);
        }
        if base.starts_with(|c: char| c.is_ascii_digit()) {
            base = format!("e_{base}");
        }
        if is_reserved_entity(&EntityNames::from_ident(&base)) {
            base.push_str("_record");
        }
        let names = (1..)
            .map(|n| EntityNames::from_ident(&numbered(&base, n)))
            .find(|names| {
                !is_reserved_entity(names)
                    && !taken_snake.contains(&names.ident)
                    && !taken_snake.contains(&names.plural)
                    && !class_family(&names.name).any(|c| taken_class.contains(&c))
            })
            .expect("some numbered candidate is free");
        taken_snake.insert(names.ident.clone());
        taken_snake.insert(names.plural.clone());
        taken_class.extend(class_family(&names.name));
        out.push(names);
    }
    out
}

/// Assigns collision-free snake_case identifiers to the fields of one entity, given each
/// field's display label and kind, in order (see the module doc for the renaming rules).
pub fn field_idents<S: AsRef<str>>(fields: &[(S, FieldKind)]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(fields.len());
    for (i, (label, kind)) in fields.iter().enumerate() {
        let is_ref = *kind == FieldKind::Ref;
        let mut base = snake_case(label.as_ref());
        if base.is_empty() {
            base = format!("field{}", i + 1);
        }
        if base.starts_with(|c: char| c.is_ascii_digit()) {
            base = format!("f_{base}");
        }
        if is_reserved_field(&base, *kind) {
            base.push_str("_value");
        }
        let ident = (1..)
            .map(|n| numbered(&base, n))
            .find(|ident| {
                let column_taken = is_ref && taken.contains(&ref_column(ident));
                !is_reserved_field(ident, *kind) && !taken.contains(ident) && !column_taken
            })
            .expect("some numbered candidate is free");
        if is_ref {
            taken.insert(ref_column(&ident));
        }
        taken.insert(ident.clone());
        out.push(ident);
    }
    out
}

/// Whether any form of an entity's names is reserved (Python, SQL, the pack's own models,
/// tables, modules, framework classes or URL segments).
pub fn is_reserved_entity(names: &EntityNames) -> bool {
    let snake_reserved = |s: &str| {
        in_list(PYTHON_KEYWORDS, s)
            || in_list(PYTHON_BUILTINS, s)
            || in_list(PYTHON_MODULES, s)
            || in_list(SQL_RESERVED, s)
            || in_list(PACK_IDENTS, s)
            || in_list(PACK_TABLES, s)
            || in_list(PACK_MODULES, s)
    };
    snake_reserved(&names.ident)
        || snake_reserved(&names.plural)
        || snake_reserved(&names.table)
        || in_list(RESERVED_ROUTES, &names.route)
        || in_list(PACK_CLASSES, &names.name)
        || in_list(FRAMEWORK_CLASSES, &names.name)
        || in_list(PYTHON_KEYWORDS, &names.name)
}

/// Whether a field ident is reserved (Python, SQL, built-in columns, pydantic/SQLAlchemy
/// attributes); for a `ref` field its `<ident>_id` column is checked too.
pub fn is_reserved_field(ident: &str, kind: FieldKind) -> bool {
    let reserved = |s: &str| {
        in_list(PYTHON_KEYWORDS, s)
            || in_list(PYTHON_BUILTINS, s)
            || in_list(FIELD_SHADOWS, s)
            || in_list(SQL_RESERVED, s)
            || in_list(BUILTIN_COLUMNS, s)
            || in_list(MODEL_ATTRIBUTES, s)
    };
    reserved(ident) || (kind == FieldKind::Ref && reserved(&ref_column(ident)))
}

/// An entity's class name and the schema classes the pack derives from it.
fn class_family(name: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(name.to_string()).chain(
        SCHEMA_CLASS_SUFFIXES
            .iter()
            .map(move |suffix| format!("{name}{suffix}")),
    )
}

/// The foreign-key column a `ref` field owns.
fn ref_column(ident: &str) -> String {
    format!("{ident}_id")
}

fn numbered(base: &str, n: usize) -> String {
    if n == 1 {
        base.to_string()
    } else {
        format!("{base}_{n}")
    }
}

fn in_list(list: &[&str], name: &str) -> bool {
    list.contains(&name)
}

/// Splits `text` into lowercase ASCII words (see the module doc).
fn words(text: &str, split_camel: bool) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if split_camel && i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || (prev.is_uppercase() && next_lower) {
                flush(&mut current, &mut words);
            }
        }
        if c.is_ascii() {
            push_ascii(c, &mut current, &mut words);
        } else if c.is_alphanumeric() {
            match deunicode_char(c) {
                Some(ascii) => ascii
                    .chars()
                    .for_each(|a| push_ascii(a, &mut current, &mut words)),
                None => flush(&mut current, &mut words),
            }
        } else {
            match deunicode_char(c) {
                // Combining marks, zero-width characters and typographic apostrophes join.
                Some("") | Some("'") => {}
                // Spaces, punctuation, emoji and symbols separate (an emoji's English name
                // is not part of the identifier).
                _ => flush(&mut current, &mut words),
            }
        }
    }
    flush(&mut current, &mut words);
    words
}

fn push_ascii(c: char, current: &mut String, words: &mut Vec<String>) {
    if c.is_ascii_alphanumeric() {
        current.push(c.to_ascii_lowercase());
    } else if c != '\'' {
        flush(current, words);
    }
}

fn flush(current: &mut String, words: &mut Vec<String>) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

/// Cuts an ASCII `joined` string to `max` chars, at a `sep` when possible, with no
/// trailing `sep`.
fn truncate_at(joined: &str, max: usize, sep: char) -> String {
    if joined.len() <= max {
        return joined.to_string();
    }
    let head = &joined[..max];
    let cut = if joined[max..].starts_with(sep) {
        head
    } else {
        match head.rfind(sep) {
            Some(pos) if pos > 0 => &head[..pos],
            _ => head,
        }
    };
    cut.trim_end_matches(sep).to_string()
}

/// English plural of one ASCII word, keeping the word's case.
fn plural_word(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if let Some((_, plural)) = IRREGULAR_PLURALS.iter().find(|(s, _)| *s == lower) {
        return match_case(word, plural);
    }
    if UNCOUNTABLE.contains(&lower.as_str()) || !word.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return word.to_string();
    }
    if word.len() > 1 && word.chars().all(|c| c.is_ascii_uppercase()) {
        // Acronyms: APIs, CSVs.
        return format!("{word}s");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        format!("{word}es")
    } else if lower.len() > 1
        && lower.ends_with('y')
        && !lower[..lower.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{}ies", &word[..word.len() - 1])
    } else {
        format!("{word}s")
    }
}

fn match_case(original: &str, plural: &str) -> String {
    if original.len() > 1 && original.chars().all(|c| c.is_ascii_uppercase()) {
        plural.to_ascii_uppercase()
    } else if original.starts_with(|c: char| c.is_ascii_uppercase()) {
        pascal_case(plural)
    } else {
        plural.to_string()
    }
}

/// Suffixes of the schema classes the pack derives from an entity's class name.
const SCHEMA_CLASS_SUFFIXES: &[&str] = &["Create", "Update", "Out", "Page"];

const IRREGULAR_PLURALS: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("foot", "feet"),
];

#[rustfmt::skip]
const UNCOUNTABLE: &[&str] = &[
    "aircraft", "data", "deer", "equipment", "feedback", "fish", "hardware", "information",
    "metadata", "news", "series", "sheep", "software", "species", "staff",
];

/// Python keywords, soft keywords (`match`, `case`, `type`, `_`) and the literals.
#[rustfmt::skip]
pub const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// Python builtins (functions, types, constants) and conventional names that break code
/// when shadowed.
#[rustfmt::skip]
pub const PYTHON_BUILTINS: &[&str] = &[
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray",
    "bytes", "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits",
    "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "exit", "filter", "float",
    "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
    "int", "isinstance", "issubclass", "iter", "len", "license", "list", "locals", "map", "max",
    "memoryview", "min", "next", "object", "oct", "open", "ord", "pow", "print", "property", "quit",
    "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted", "staticmethod",
    "str", "sum", "super", "tuple", "vars", "zip", "self", "cls",
];

/// Modules the generated code imports (standard library and frameworks); an entity or the
/// app named like one would shadow it.
#[rustfmt::skip]
pub const PYTHON_MODULES: &[&str] = &[
    "alembic", "asyncio", "csv", "datetime", "decimal", "enum", "fastapi", "hashlib", "httpx", "io",
    "jinja2", "json", "logging", "math", "os", "prometheus_client", "pydantic", "pytest", "random",
    "re", "secrets", "sqlalchemy", "starlette", "string", "sys", "test", "time", "typing", "uuid",
    "uvicorn",
];

/// Names that would shadow a type or helper used inside a generated model class body.
#[rustfmt::skip]
pub const FIELD_SHADOWS: &[&str] = &[
    "annotated", "date", "datetime", "decimal", "enum", "field_validator", "func", "mapped",
    "mapped_column", "optional", "relationship", "time", "typing", "utcnow", "uuid", "validator",
];

/// SQL reserved words: SQL:2016 reserved, SQLite keywords, PostgreSQL reserved words,
/// `session`/`role`, and system column names (`rowid`, `oid`, `ctid`, …).
#[rustfmt::skip]
pub const SQL_RESERVED: &[&str] = &[
    // SQL:2016 reserved words.
    "abs", "acos", "all", "allocate", "alter", "and", "any", "are", "array", "array_agg",
    "array_max_cardinality", "as", "asensitive", "asin", "asymmetric", "at", "atan", "atomic",
    "authorization", "avg", "begin", "begin_frame", "begin_partition", "between", "bigint",
    "binary", "blob", "boolean", "both", "by", "call", "called", "cardinality", "cascaded", "case",
    "cast", "ceil", "ceiling", "char", "char_length", "character", "character_length", "check",
    "classifier", "clob", "close", "coalesce", "collate", "collect", "column", "commit",
    "condition", "connect", "constraint", "contains", "convert", "copy", "corr", "corresponding",
    "cos", "cosh", "count", "covar_pop", "covar_samp", "create", "cross", "cube", "cume_dist",
    "current", "current_catalog", "current_date", "current_default_transform_group", "current_path",
    "current_role", "current_row", "current_schema", "current_time", "current_timestamp",
    "current_transform_group_for_type", "current_user", "cursor", "cycle", "date", "day",
    "deallocate", "dec", "decfloat", "decimal", "declare", "default", "define", "delete",
    "dense_rank", "deref", "describe", "deterministic", "disconnect", "distinct", "double", "drop",
    "dynamic", "each", "element", "else", "empty", "end", "end_frame", "end_partition", "end_exec",
    "equals", "escape", "every", "except", "exec", "execute", "exists", "exp", "external",
    "extract", "false", "fetch", "filter", "first_value", "float", "floor", "for", "foreign",
    "frame_row", "free", "from", "full", "function", "fusion", "get", "global", "grant", "group",
    "grouping", "groups", "having", "hold", "hour", "identity", "in", "indicator", "initial",
    "inner", "inout", "insensitive", "insert", "int", "integer", "intersect", "intersection",
    "interval", "into", "is", "join", "json_array", "json_arrayagg", "json_exists", "json_object",
    "json_objectagg", "json_query", "json_table", "json_table_primitive", "json_value", "lag",
    "language", "large", "last_value", "lateral", "lead", "leading", "left", "like", "like_regex",
    "listagg", "ln", "local", "localtime", "localtimestamp", "log", "log10", "lower", "match",
    "match_number", "match_recognize", "matches", "max", "measures", "member", "merge", "method",
    "min", "minute", "mod", "modifies", "module", "month", "multiset", "national", "natural",
    "nchar", "nclob", "new", "no", "none", "normalize", "not", "nth_value", "ntile", "null",
    "nullif", "numeric", "occurrences_regex", "octet_length", "of", "offset", "old", "omit", "on",
    "one", "only", "open", "or", "order", "out", "outer", "over", "overlaps", "overlay",
    "parameter", "partition", "pattern", "per", "percent", "percent_rank", "percentile_cont",
    "percentile_disc", "period", "portion", "position", "position_regex", "power", "precedes",
    "precision", "prepare", "primary", "procedure", "ptf", "range", "rank", "reads", "real",
    "recursive", "ref", "references", "referencing", "regr_avgx", "regr_avgy", "regr_count",
    "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "release",
    "result", "return", "returns", "revoke", "right", "rollback", "rollup", "row", "row_number",
    "rows", "running", "savepoint", "scope", "scroll", "search", "second", "seek", "select",
    "sensitive", "session_user", "set", "show", "similar", "sin", "sinh", "skip", "smallint",
    "some", "specific", "specifictype", "sql", "sqlexception", "sqlstate", "sqlwarning", "sqrt",
    "start", "static", "stddev_pop", "stddev_samp", "submultiset", "subset", "substring",
    "substring_regex", "succeeds", "sum", "symmetric", "system", "system_time", "system_user",
    "table", "tablesample", "tan", "tanh", "then", "time", "timestamp", "timezone_hour",
    "timezone_minute", "to", "trailing", "translate", "translate_regex", "translation", "treat",
    "trigger", "trim", "trim_array", "true", "truncate", "uescape", "union", "unique", "unknown",
    "unnest", "update", "upper", "user", "using", "value", "values", "value_of", "var_pop",
    "var_samp", "varbinary", "varchar", "varying", "versioning", "when", "whenever", "where",
    "width_bucket", "window", "with", "within", "without", "year",
    // SQLite keywords not listed above.
    "abort", "action", "add", "after", "always", "analyze", "asc", "attach", "autoincrement",
    "before", "cascade", "conflict", "database", "deferrable", "deferred", "desc", "detach", "do",
    "exclude", "exclusive", "explain", "fail", "first", "following", "generated", "glob", "if",
    "ignore", "immediate", "index", "indexed", "initially", "instead", "isnull", "key", "last",
    "limit", "materialized", "nothing", "notnull", "nulls", "others", "plan", "pragma", "preceding",
    "query", "raise", "regexp", "reindex", "rename", "replace", "restrict", "returning", "temp",
    "temporary", "ties", "transaction", "unbounded", "vacuum", "view", "virtual",
    // PostgreSQL reserved words not listed above.
    "analyse", "collation", "concurrently", "freeze", "ilike", "placing", "variadic", "verbose",
    // Named as reserved by the pack, and system columns.
    "session", "role", "rowid", "oid", "_rowid_", "tableoid", "xmin", "xmax", "cmin", "cmax",
    "ctid",
];

/// The pack's built-in models, as class names.
#[rustfmt::skip]
pub const PACK_CLASSES: &[&str] = &[
    "User", "Account", "Membership", "ApiToken", "Session", "Base", "Team", "Invitation",
    "Settings",
];

/// The pack's built-in models, as snake_case idents.
#[rustfmt::skip]
pub const PACK_IDENTS: &[&str] = &[
    "user", "account", "membership", "api_token", "session", "base", "team", "invitation",
];

/// The pack's built-in tables.
#[rustfmt::skip]
pub const PACK_TABLES: &[&str] = &[
    "users", "accounts", "memberships", "api_tokens", "sessions", "teams", "invitations",
    "alembic_version",
];

/// The pack's own Python modules and folders.
#[rustfmt::skip]
pub const PACK_MODULES: &[&str] = &[
    "app", "main", "models", "schemas", "db", "auth", "config", "settings", "tests", "conftest",
    "routers", "api", "deps", "security", "templates", "static", "migrations", "account_routes",
    "crud", "entities", "extra_routes", "fields", "forms", "meta", "metrics", "rules",
    "system_routes", "templating",
];

/// Class names the generated code imports (SQLAlchemy, pydantic, FastAPI, Prometheus,
/// Python builtins); an entity class named like one would shadow it.
#[rustfmt::skip]
pub const FRAMEWORK_CLASSES: &[&str] = &[
    "APIRouter", "Annotated", "Any", "AnyUrl", "BaseException", "BaseModel", "BaseSettings", "Body",
    "Boolean", "CheckConstraint", "Column", "Cookie", "Counter", "Date", "DateTime", "Decimal",
    "DeclarativeBase", "Depends", "Dict", "Ellipsis", "EmailStr", "Engine", "Enum", "Exception",
    "FastAPI", "Field", "File", "Float", "ForeignKey", "Form", "Gauge", "HTMLResponse",
    "HTTPException", "Header", "Histogram", "HttpUrl", "Index", "Integer", "JSONResponse",
    "Jinja2Templates", "List", "Mapped", "MetaData", "NotImplemented", "Numeric", "Optional",
    "Path", "PlainTextResponse", "Query", "RedirectResponse", "Request", "Response", "Security",
    "Select", "StaticFiles", "StreamingResponse", "String", "Table", "Text", "Time", "UUID",
    "UniqueConstraint", "UploadFile", "Warning",
    // The pack's own helpers, imported next to the entity classes.
    "AccountOut", "BigInteger", "BlankIsNone", "Bool", "ConfigDict", "CsrfForm", "Email",
    "EntityMeta", "FieldErrors", "FieldSpec", "FormData", "Generic", "Int", "Iterable", "Iterator",
    "Literal", "LongText", "Page", "PyBool", "PyDate", "PyDateTime", "PyDecimal", "PyInt", "PyStr",
    "RefId", "Sequence", "TokenOut", "TypeVar", "Url",
];

/// URL segments the pack serves itself (kebab case, as routes are compared).
#[rustfmt::skip]
pub const RESERVED_ROUTES: &[&str] = &[
    "account", "accounts", "admin", "api", "api-tokens", "auth", "docs", "favicon-ico", "health",
    "healthz", "invitations", "login", "logout", "metrics", "openapi", "openapi-json", "redoc",
    "register", "robots-txt", "settings", "signin", "signout", "signup", "static", "teams",
    "tokens", "users", "views",
];

/// Columns every generated table has, relationship names the pack adds, and form field
/// names the pack's pages post beside the entity's fields.
#[rustfmt::skip]
pub const BUILTIN_COLUMNS: &[&str] = &[
    "id", "account_id", "owner_id", "team_id", "user_id", "created_at", "updated_at", "account",
    "owner", "team", "csrf_token",
];

/// pydantic and SQLAlchemy model attributes a field must not shadow.
#[rustfmt::skip]
pub const MODEL_ATTRIBUTES: &[&str] = &[
    "metadata", "registry", "query", "query_class", "model_config", "model_fields",
    "model_computed_fields", "model_extra", "model_fields_set", "model_construct", "model_copy",
    "model_dump", "model_dump_json", "model_json_schema", "model_parametrized_name",
    "model_post_init", "model_rebuild", "model_validate", "model_validate_json",
    "model_validate_strings", "dict", "json", "copy", "parse_obj", "parse_raw", "parse_file",
    "from_orm", "construct", "schema", "schema_json", "validate", "update_forward_refs", "fields",
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn view_names_are_unique_kebab_slugs_and_safe_idents() {
        let names = [
            "Overdue",
            "overdue!",
            "Просроченные",
            "2026 plan",
            "class",
            "📚",
            "Large rooms",
        ];
        let got: Vec<(String, String)> = view_names(&names);
        let pairs: Vec<(&str, &str)> = got.iter().map(|(s, i)| (s.as_str(), i.as_str())).collect();
        assert_eq!(
            pairs,
            vec![
                ("overdue", "overdue"),
                ("overdue-2", "overdue_2"),
                ("prosrochennye", "prosrochennye"),
                ("2026-plan", "view_2026_plan"),
                ("class", "class_view"),
                ("view-6", "view_6"),
                ("large-rooms", "large_rooms"),
            ]
        );
    }

    #[test]
    fn readable_label_for_bare_identifiers_only() {
        assert_eq!(readable_label("issued_on"), "Issued on");
        assert_eq!(readable_label("due_on"), "Due on");
        assert_eq!(readable_label("title"), "Title");
        assert_eq!(readable_label("dueDate"), "Due date");
        assert_eq!(readable_label("_private"), "Private");
        assert_eq!(readable_label("customer_id2"), "Customer id2");
        // The issue's own words stay as written.
        assert_eq!(readable_label("Title"), "Title");
        assert_eq!(readable_label("ISBN"), "ISBN");
        assert_eq!(readable_label("Due date"), "Due date");
        assert_eq!(readable_label("due date"), "due date");
        assert_eq!(readable_label("Название"), "Название");
        assert_eq!(readable_label("название_книги"), "название_книги");
        assert_eq!(readable_label("e-mail"), "e-mail");
    }

    #[test]
    fn slugify_basic_and_unicode() {
        assert_eq!(slugify("Book Club", "x"), "book-club");
        assert_eq!(slugify("  --Hello,   World!!  ", "x"), "hello-world");
        assert_eq!(slugify("Книжный клуб", "x"), "knizhnyi-klub");
        assert_eq!(slugify("Größe Übung", "x"), "grosse-ubung");
        assert_eq!(slugify("图书馆", "x"), "tu-shu-guan");
        assert_eq!(slugify("Café", "x"), "cafe");
        // Combining acute accent joins, it does not split.
        assert_eq!(slugify("Cafe\u{301} Bar", "x"), "cafe-bar");
        assert_eq!(slugify("Don't panic", "x"), "dont-panic");
        assert_eq!(slugify("GitHub Helper", "x"), "github-helper");
    }

    #[test]
    fn slugify_fallback_for_empty_or_emoji() {
        assert_eq!(slugify("", "issue-7"), "issue-7");
        assert_eq!(slugify("📚🦄", "issue-7"), "issue-7");
        assert_eq!(slugify("!!! ---", "issue-7"), "issue-7");
        assert_eq!(slugify("📚 Books", "issue-7"), "books");
    }

    #[test]
    fn slugify_cuts_at_a_dash() {
        let name = "alpha beta gamma delta epsilon zeta eta theta iota";
        let slug = slugify(name, "x");
        assert_eq!(slug, "alpha-beta-gamma-delta-epsilon-zeta-eta");
        assert!(slug.len() <= MAX_SLUG_LEN);
        // Exactly at a boundary.
        let exact = format!("{} {}", "a".repeat(40), "b");
        assert_eq!(slugify(&exact, "x"), "a".repeat(40));
        // One long word is cut hard.
        assert_eq!(slugify(&"x".repeat(50), "y"), "x".repeat(40));
        // No trailing dash even when the cut lands right after one.
        let name = format!("{} {}", "a".repeat(39), "bcd");
        assert_eq!(slugify(&name, "x"), "a".repeat(39));
    }

    #[test]
    fn snake_and_pascal() {
        assert_eq!(snake_case("Order item"), "order_item");
        assert_eq!(snake_case("OrderItem"), "order_item");
        assert_eq!(snake_case("APIToken"), "api_token");
        assert_eq!(snake_case("book_title"), "book_title");
        assert_eq!(snake_case("Book  title!"), "book_title");
        assert_eq!(snake_case("Книга"), "kniga");
        assert_eq!(snake_case("Дата выдачи"), "data_vydachi");
        assert_eq!(snake_case("书"), "shu");
        assert_eq!(snake_case("🎉"), "");
        assert_eq!(pascal_case("order_item"), "OrderItem");
        assert_eq!(pascal_case("kniga_2"), "Kniga2");
        assert_eq!(pascal_case("e_2024"), "E2024");
    }

    #[test]
    fn plurals() {
        for (one, many) in [
            ("book", "books"),
            ("box", "boxes"),
            ("bus", "buses"),
            ("quiz", "quizes"),
            ("match", "matches"),
            ("wish", "wishes"),
            ("category", "categories"),
            ("day", "days"),
            ("order_item", "order_items"),
            ("person", "people"),
            ("series", "series_list"),
            ("kniga_2", "knigas_2"),
            ("entity1", "entities1"),
            ("sales_data", "sales_data_list"),
        ] {
            assert_eq!(pluralize(one), many, "{one}");
        }
        assert_eq!(plural_label("Order item"), "Order items");
        assert_eq!(plural_label("Category"), "Categories");
        assert_eq!(plural_label("Person"), "People");
        assert_eq!(plural_label("API"), "APIs");
        assert_eq!(plural_label("BOX"), "BOXs");
        assert_eq!(plural_label("Series"), "Series");
        assert_eq!(plural_label("Книга"), "Книга");
        assert_eq!(plural_label("Room 101"), "Room 101");
    }

    #[test]
    fn app_idents() {
        assert_eq!(app_ident("book-club"), "book_club");
        assert_eq!(app_ident("2048-game"), "app_2048_game");
        assert_eq!(app_ident("class"), "class_app");
        assert_eq!(app_ident("json"), "json_app");
        assert_eq!(app_ident("issue-12"), "issue_12");
    }

    fn names(labels: &[&str]) -> Vec<(String, String, String, String, String)> {
        entity_names(labels)
            .into_iter()
            .map(|n| (n.name, n.ident, n.plural, n.route, n.table))
            .collect()
    }

    fn tuple(
        name: &str,
        ident: &str,
        plural: &str,
        route: &str,
    ) -> (String, String, String, String, String) {
        (
            name.into(),
            ident.into(),
            plural.into(),
            route.into(),
            plural.into(),
        )
    }

    #[test]
    fn entity_plain_names() {
        assert_eq!(
            names(&["Book", "Order item", "Книга", "图书"]),
            vec![
                tuple("Book", "book", "books", "books"),
                tuple("OrderItem", "order_item", "order_items", "order-items"),
                tuple("Kniga", "kniga", "knigas", "knigas"),
                tuple("TuShu", "tu_shu", "tu_shus", "tu-shus"),
            ]
        );
    }

    #[test]
    fn an_entity_named_view_does_not_take_the_views_route() {
        // `/views/<slug>` and `/api/views/<slug>` are the spec's saved views.
        assert_eq!(
            names(&["View"]),
            vec![tuple(
                "ViewRecord",
                "view_record",
                "view_records",
                "view-records"
            )]
        );
    }

    #[test]
    fn entity_reserved_names_get_record() {
        assert_eq!(
            names(&["User", "Order", "Class", "Setting", "Test", "Form", "None"]),
            vec![
                tuple("UserRecord", "user_record", "user_records", "user-records"),
                tuple(
                    "OrderRecord",
                    "order_record",
                    "order_records",
                    "order-records"
                ),
                tuple(
                    "ClassRecord",
                    "class_record",
                    "class_records",
                    "class-records"
                ),
                // Only the route `settings` collides.
                tuple(
                    "SettingRecord",
                    "setting_record",
                    "setting_records",
                    "setting-records"
                ),
                // Only the plural `tests` (a pack module) collides.
                tuple("TestRecord", "test_record", "test_records", "test-records"),
                // Only the class name `Form` (FastAPI) collides.
                tuple("FormRecord", "form_record", "form_records", "form-records"),
                tuple("NoneRecord", "none_record", "none_records", "none-records"),
            ]
        );
    }

    #[test]
    fn entity_collisions_get_numbers() {
        assert_eq!(
            names(&["Книга", "Kniga", "kniga 2", "Book", "Books"]),
            vec![
                tuple("Kniga", "kniga", "knigas", "knigas"),
                tuple("Kniga2", "kniga_2", "knigas_2", "knigas-2"),
                tuple("Kniga22", "kniga_2_2", "knigas_2_2", "knigas-2-2"),
                tuple("Book", "book", "books", "books"),
                // `books` is already Book's plural.
                tuple("Books2", "books_2", "bookses_2", "bookses-2"),
            ]
        );
        // A user entity named like a renamed one does not steal it.
        assert_eq!(
            names(&["User", "User record"]),
            vec![
                tuple("UserRecord", "user_record", "user_records", "user-records"),
                tuple(
                    "UserRecord2",
                    "user_record_2",
                    "user_records_2",
                    "user-records-2"
                ),
            ]
        );
        // Class names that only collide in PascalCase.
        assert_eq!(names(&["a b1", "a_b_1"])[1].0, "AB12");
        // A class name that equals a schema class of another entity.
        assert_eq!(names(&["Book", "Book page"])[1].0, "BookPage2");
        assert_eq!(names(&["Book out", "Book"])[1].0, "Book2");
    }

    #[test]
    fn entity_fallbacks() {
        assert_eq!(
            names(&["📚", "2024 plan", "🎉"]),
            vec![
                tuple("Entity1", "entity1", "entities1", "entities1"),
                tuple("E2024Plan", "e_2024_plan", "e_2024_plans", "e-2024-plans"),
                tuple("Entity3", "entity3", "entities3", "entities3"),
            ]
        );
    }

    #[test]
    fn field_renaming() {
        let fields = [
            ("Title", FieldKind::Text),
            ("class", FieldKind::Text),
            ("from", FieldKind::Date),
            ("id", FieldKind::Int),
            ("Book title", FieldKind::Text),
            ("book_title", FieldKind::Text),
            ("Created at", FieldKind::Datetime),
            ("metadata", FieldKind::Longtext),
            ("42", FieldKind::Int),
            ("✨", FieldKind::Bool),
            ("Author", FieldKind::Ref),
            ("author_id", FieldKind::Int),
            ("Account", FieldKind::Ref),
            ("Email", FieldKind::Email),
            ("Date", FieldKind::Date),
        ];
        assert_eq!(
            field_idents(&fields),
            vec![
                "title",
                "class_value",
                "from_value",
                "id_value",
                "book_title",
                "book_title_2",
                "created_at_value",
                "metadata_value",
                "f_42",
                "field10",
                "author",
                "author_id_2",
                "account_value",
                "email",
                "date_value",
            ]
        );
    }

    #[test]
    fn ref_field_owns_its_id_column() {
        let fields = [
            ("owner_ref_id", FieldKind::Int),
            ("owner ref", FieldKind::Ref),
        ];
        assert_eq!(field_idents(&fields), vec!["owner_ref_id", "owner_ref_2"]);
    }

    #[test]
    fn long_labels_are_cut_at_a_word() {
        let label = "the quick brown fox jumps over the lazy dog again and again";
        let ident = snake_case(label);
        assert_eq!(ident, "the_quick_brown_fox_jumps_over_the_lazy");
        let n = &entity_names(&[label])[0];
        assert!(n.table.len() <= 63);
    }

    #[test]
    fn reserved_lists_are_lowercase_where_compared_lowercase() {
        for list in [
            PYTHON_BUILTINS,
            PYTHON_MODULES,
            FIELD_SHADOWS,
            SQL_RESERVED,
            PACK_IDENTS,
            PACK_TABLES,
            PACK_MODULES,
            RESERVED_ROUTES,
            BUILTIN_COLUMNS,
            MODEL_ATTRIBUTES,
        ] {
            for word in list {
                assert_eq!(*word, word.to_ascii_lowercase());
            }
        }
    }

    /// `[a-z_][a-z0-9_]*`
    pub(crate) fn is_snake(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    /// `[A-Z][A-Za-z0-9]*`
    pub(crate) fn is_pascal(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_alphanumeric())
    }

    /// `[a-z0-9]+(-[a-z0-9]+)*`
    pub(crate) fn is_kebab(s: &str) -> bool {
        !s.is_empty()
            && s.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    }

    /// Labels that exercise the renaming rules, mixed with arbitrary text.
    pub(crate) fn label_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            prop::sample::select(vec![
                "User",
                "Order",
                "class",
                "from",
                "id",
                "type",
                "Книга",
                "Kniga",
                "📚",
                "2024",
                "Book title",
                "book_title",
                "A",
                "None",
                "Setting",
                "Form",
                "Page",
                "Series",
                "Book",
                "Books",
                "Book page",
                "model_config",
                "account",
                "created at",
                "status",
                "api",
                "Doc",
                "Test",
                "order_record",
                "user_records",
            ])
            .prop_map(String::from),
            "\\PC{0,16}",
            "[A-Za-z ]{0,12}",
        ]
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn kind_strategy() -> impl Strategy<Value = FieldKind> {
            prop::sample::select(vec![
                FieldKind::Text,
                FieldKind::Longtext,
                FieldKind::Int,
                FieldKind::Decimal,
                FieldKind::Bool,
                FieldKind::Date,
                FieldKind::Datetime,
                FieldKind::Email,
                FieldKind::Url,
                FieldKind::Enum,
                FieldKind::Ref,
            ])
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn slugify_is_a_slug_or_the_fallback(name in any::<String>()) {
                let slug = slugify(&name, "issue-1");
                prop_assert!(is_kebab(&slug), "{slug:?}");
                prop_assert!(slug.len() <= MAX_SLUG_LEN);
                let ident = app_ident(&slug);
                prop_assert!(is_snake(&ident) && !is_reserved_app_ident(&ident), "{ident:?}");
            }

            #[test]
            fn entity_names_are_safe_and_distinct(
                labels in prop::collection::vec(label_strategy(), 0..10)
            ) {
                let all = entity_names(&labels);
                prop_assert_eq!(all.len(), labels.len());
                let mut snake = HashSet::new();
                let mut classes = HashSet::new();
                for n in &all {
                    prop_assert!(is_snake(&n.ident) && is_snake(&n.plural), "{n:?}");
                    prop_assert!(is_snake(&n.table), "{n:?}");
                    prop_assert!(is_kebab(&n.route) && is_pascal(&n.name), "{n:?}");
                    prop_assert!(!is_reserved_entity(n), "{n:?}");
                    prop_assert!(n.table.len() <= 63, "{n:?}");
                    prop_assert!(snake.insert(n.ident.clone()), "{n:?}");
                    prop_assert!(snake.insert(n.plural.clone()), "{n:?}");
                    prop_assert!(classes.insert(n.name.clone()), "{n:?}");
                }
            }

            #[test]
            fn field_idents_are_safe_and_distinct(
                fields in prop::collection::vec((label_strategy(), kind_strategy()), 0..12)
            ) {
                let idents = field_idents(&fields);
                prop_assert_eq!(idents.len(), fields.len());
                let mut seen = HashSet::new();
                for (ident, (_, kind)) in idents.iter().zip(&fields) {
                    prop_assert!(is_snake(ident), "{ident:?}");
                    prop_assert!(!is_reserved_field(ident, *kind), "{ident:?}");
                    prop_assert!(seen.insert(ident.clone()), "{ident:?}");
                }
            }

            #[test]
            fn snake_case_never_panics(text in any::<String>()) {
                let s = snake_case(&text);
                let ascii = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
                prop_assert!(s.chars().all(ascii), "{s:?}");
                prop_assert!(!s.starts_with('_') && !s.ends_with('_'), "{s:?}");
                prop_assert!(s.len() <= MAX_IDENT_BASE_LEN);
                let _ = plural_label(&text);
            }
        }
    }
}
