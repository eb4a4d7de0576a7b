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
//! Every derived form is checked against the reserved names ([`reserved`]: the language's
//! words, and the names the stack pack declares in its `pack.yaml`), and checked again after
//! renaming. The examples are the `python-fastapi` pack's:
//! - An **entity** whose ident, plural/table, route or class name is reserved (a Python
//!   keyword, soft keyword or builtin; an SQL:2016, SQLite or PostgreSQL reserved word; a
//!   built-in model, table or module of the pack; a framework class name such as
//!   `BaseModel`; a URL segment the pack serves such as `api`, `docs` or `settings`) gets the
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
//!   The classes the pack derives from a class name (its `class_suffixes`: `BookCreate`,
//!   `BookUpdate`, `BookOut`, `BookPage`) count as taken too, so `Book` then `Book page` →
//!   `BookPage2`.
//!   An ident and a plural share one namespace: `Book` then `Books` → `books_2`.

use std::collections::HashSet;

use deunicode::deunicode_char;

pub mod reserved;

pub use reserved::{
    ReservedNames, is_python_word, is_reserved_app_ident, is_reserved_entity, is_reserved_field,
};

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
            if is_python_word(&ident) {
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
/// `book_club`; a leading digit gets `app_`; a Python keyword, builtin or standard-library
/// module name gets `_app` (`json` → `json_app`).
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

/// Assigns collision-free identifiers to entities given their display labels, in order
/// (see the module doc for the renaming rules), avoiding the language's and the pack's
/// `reserved` names.
pub fn entity_names<S: AsRef<str>>(labels: &[S], reserved: &ReservedNames) -> Vec<EntityNames> {
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
        if is_reserved_entity(&EntityNames::from_ident(&base), reserved) {
            base.push_str("_record");
        }
        let names = (1..)
            .map(|n| EntityNames::from_ident(&numbered(&base, n)))
            .find(|names| {
                !is_reserved_entity(names, reserved)
                    && !taken_snake.contains(&names.ident)
                    && !taken_snake.contains(&names.plural)
                    && !reserved
                        .class_family(&names.name)
                        .any(|c| taken_class.contains(&c))
            })
            .expect("some numbered candidate is free");
        taken_snake.insert(names.ident.clone());
        taken_snake.insert(names.plural.clone());
        taken_class.extend(reserved.class_family(&names.name));
        out.push(names);
    }
    out
}

/// Assigns collision-free snake_case identifiers to the fields of one entity, given each
/// field's display label and whether it references another entity, in order (see the module doc for the renaming rules),
/// avoiding the language's and the pack's `reserved` names.
pub fn field_idents<S: AsRef<str>>(fields: &[(S, bool)], reserved: &ReservedNames) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(fields.len());
    for (i, &(ref label, is_ref)) in fields.iter().enumerate() {
        let mut base = snake_case(label.as_ref());
        if base.is_empty() {
            base = format!("field{}", i + 1);
        }
        if base.starts_with(|c: char| c.is_ascii_digit()) {
            base = format!("f_{base}");
        }
        if is_reserved_field(&base, is_ref, reserved) {
            base.push_str("_value");
        }
        let ident = (1..)
            .map(|n| numbered(&base, n))
            .find(|ident| {
                let column_taken = is_ref && taken.contains(&ref_column(ident));
                !is_reserved_field(ident, is_ref, reserved)
                    && !taken.contains(ident)
                    && !column_taken
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

#[cfg(test)]
pub(crate) mod tests;
