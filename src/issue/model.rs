//! The data-model language of the issue form's `### Data model` section: one entity per
//! line, `Entity: field (type[, required][, unique]), field (type), …` → [`Entity`]s.

use crate::ident;
use crate::issue::error::{FormError, LineProblem, MAX_ENTITIES, MAX_FIELDS};
use crate::issue::sections::{
    NO_RESPONSE, clean_label, collapse_whitespace, find_word, is_fence, name_key, quote,
    strip_bullet,
};
use crate::spec::{Entity, Field, FieldKind};

/// A field as written, before identifiers are assigned.
#[derive(Debug)]
pub(super) struct RawField {
    pub(super) label: String,
    pub(super) kind: FieldKind,
    pub(super) required: bool,
    pub(super) unique: bool,
    pub(super) choices: Vec<String>,
    /// For `ref`: the target label as written.
    pub(super) target: Option<String>,
    /// `label "…"` among the modifiers.
    pub(super) explicit_label: Option<String>,
}

/// An entity as written, with the line it came from.
#[derive(Debug)]
pub(super) struct RawEntity {
    pub(super) label: String,
    pub(super) fields: Vec<RawField>,
    /// Resolved `ref` targets: index into the entity list, per field (None for non-refs).
    pub(super) targets: Vec<Option<usize>>,
}

pub(super) fn parse_data_model(lines: &[&str]) -> Result<Vec<RawEntity>, FormError> {
    let mut entities: Vec<RawEntity> = Vec::new();
    // Per entity: (line number, quoted line), for errors found after all lines are read.
    let mut origins: Vec<(usize, String)> = Vec::new();
    let mut number = 0;
    let mut started = false;
    for raw_line in lines {
        let trimmed = raw_line.trim();
        if is_fence(trimmed) {
            continue;
        }
        if !started && trimmed.is_empty() {
            continue;
        }
        started = true;
        number += 1;
        if trimmed.is_empty() || (trimmed == NO_RESPONSE && entities.is_empty()) {
            continue;
        }
        let line_error = |problem| FormError::Line {
            line: number,
            text: quote(trimmed),
            problem,
        };
        let entity = parse_entity_line(strip_bullet(trimmed)).map_err(line_error)?;
        let key = name_key(&entity.label);
        if let Some(first) = entities.iter().position(|e| name_key(&e.label) == key) {
            return Err(line_error(LineProblem::DuplicateEntity {
                entity: entity.label,
                first_line: origins[first].0,
            }));
        }
        if entities.len() == MAX_ENTITIES {
            return Err(line_error(LineProblem::TooManyEntities));
        }
        entities.push(entity);
        origins.push((number, quote(trimmed)));
    }
    if entities.is_empty() {
        return Err(FormError::EmptyDataModel);
    }
    resolve_refs(&mut entities, &origins)?;
    Ok(entities)
}

fn resolve_refs(entities: &mut [RawEntity], origins: &[(usize, String)]) -> Result<(), FormError> {
    // The same matching as names in rules and views (`crate::issue::names`).
    let keys: Vec<String> = entities.iter().map(|e| name_key(&e.label)).collect();
    let known = known_entities(entities);
    for (index, entity) in entities.iter_mut().enumerate() {
        let mut targets = Vec::with_capacity(entity.fields.len());
        for field in &entity.fields {
            let Some(target) = &field.target else {
                targets.push(None);
                continue;
            };
            let key = name_key(target);
            match keys.iter().position(|k| *k == key) {
                Some(found) => targets.push(Some(found)),
                None => {
                    let (line, text) = origins[index].clone();
                    return Err(FormError::Line {
                        line,
                        text,
                        problem: LineProblem::UnknownRef {
                            field: field.label.clone(),
                            target: target.clone(),
                            known,
                        },
                    });
                }
            }
        }
        entity.targets = targets;
    }
    Ok(())
}

/// The entity labels for an error message, the first dozen at most.
fn known_entities(entities: &[RawEntity]) -> String {
    const SHOWN: usize = 12;
    let mut known: Vec<&str> = entities
        .iter()
        .take(SHOWN)
        .map(|e| e.label.as_str())
        .collect();
    if entities.len() > SHOWN {
        known.push("…");
    }
    known.join(", ")
}

fn parse_entity_line(line: &str) -> Result<RawEntity, LineProblem> {
    let (label, rest) = line.split_once(':').ok_or(LineProblem::MissingColon)?;
    if label.contains(['(', ')']) {
        return Err(LineProblem::MissingColon);
    }
    let label = clean_label(label);
    if label.is_empty() {
        return Err(LineProblem::EmptyEntityName);
    }
    let segments = split_fields(rest)?;
    if segments.is_empty() {
        return Err(LineProblem::NoFields { entity: label });
    }
    let mut fields: Vec<RawField> = Vec::with_capacity(segments.len());
    for segment in segments {
        let field = parse_field(segment)?;
        let key = name_key(&field.label);
        if fields.iter().any(|f| name_key(&f.label) == key) {
            return Err(LineProblem::DuplicateField {
                entity: label,
                field: field.label,
            });
        }
        if fields.len() == MAX_FIELDS {
            return Err(LineProblem::TooManyFields { entity: label });
        }
        fields.push(field);
    }
    Ok(RawEntity {
        label,
        fields,
        targets: Vec::new(),
    })
}

/// Splits the text after `Entity:` at commas outside parentheses; empty segments (a
/// trailing comma) are dropped.
fn split_fields(text: &str) -> Result<Vec<&str>, LineProblem> {
    let mut segments = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or(LineProblem::UnbalancedParens)?,
            ',' if depth == 0 => {
                segments.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(LineProblem::UnbalancedParens);
    }
    segments.push(&text[start..]);
    Ok(segments
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect())
}

/// Parses `label (type[, required][, unique])`; the parentheses are balanced already.
fn parse_field(segment: &str) -> Result<RawField, LineProblem> {
    let Some(open) = segment.find('(') else {
        let label = clean_label(segment);
        return Ok(RawField {
            label,
            kind: FieldKind::Text,
            required: false,
            unique: false,
            choices: Vec::new(),
            target: None,
            explicit_label: None,
        });
    };
    let label = clean_label(&segment[..open]);
    if label.is_empty() {
        return Err(LineProblem::EmptyFieldName);
    }
    let close = matching_paren(segment, open).ok_or(LineProblem::UnbalancedParens)?;
    let after = segment[close + 1..].trim();
    if !after.is_empty() {
        return Err(LineProblem::TrailingText {
            field: label,
            found: after.to_string(),
        });
    }
    let (inner, explicit_label) = take_label(&segment[open + 1..close], &label)?;
    let mut parts = inner.split(',').map(str::trim);
    let type_text = parts.next().unwrap_or_default();
    if type_text.is_empty() {
        return Err(LineProblem::MissingType { field: label });
    }
    let mut field = parse_type(&label, type_text)?;
    field.explicit_label = explicit_label;
    for part in parts.filter(|p| !p.is_empty()) {
        match part.to_lowercase().as_str() {
            "required" => field.required = true,
            "unique" => field.unique = true,
            _ if field.kind == FieldKind::Enum => {
                return Err(LineProblem::ChoiceAfterComma {
                    field: label,
                    found: part.to_string(),
                });
            }
            _ => {
                return Err(LineProblem::UnknownModifier {
                    field: label,
                    found: part.to_string(),
                });
            }
        }
    }
    Ok(field)
}

/// Takes a `label "…"` modifier out of a field's parentheses (its text may hold commas).
fn take_label(inner: &str, field: &str) -> Result<(String, Option<String>), LineProblem> {
    let Some(at) = find_word(inner, "label") else {
        return Ok((inner.to_string(), None));
    };
    let rest = inner[at + "label".len()..].trim_start();
    let close = match rest.chars().next() {
        Some('"') => '"',
        Some('“') => '”',
        _ => {
            return Err(LineProblem::BadLabel {
                field: field.to_string(),
            });
        }
    };
    let open_len = rest.chars().next().map_or(0, char::len_utf8);
    let Some(end) = rest[open_len..].find(close) else {
        return Err(LineProblem::BadLabel {
            field: field.to_string(),
        });
    };
    let text = collapse_whitespace(&rest[open_len..open_len + end]);
    if text.is_empty() {
        return Err(LineProblem::BadLabel {
            field: field.to_string(),
        });
    }
    let after = &rest[open_len + end + close.len_utf8()..];
    Ok((format!("{}{after}", &inner[..at]), Some(text)))
}

fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses the type keyword (and enum choices or ref target) of a field.
fn parse_type(label: &str, type_text: &str) -> Result<RawField, LineProblem> {
    let mut field = RawField {
        label: label.to_string(),
        kind: FieldKind::Text,
        required: false,
        unique: false,
        choices: Vec::new(),
        target: None,
        explicit_label: None,
    };
    if let Some(choices) = keyword_argument(type_text, "enum") {
        field.kind = FieldKind::Enum;
        field.choices = parse_choices(label, choices)?;
        return Ok(field);
    }
    if let Some(target) = keyword_argument(type_text, "ref") {
        let target = clean_label(target);
        if target.is_empty() {
            return Err(LineProblem::MissingRefTarget {
                field: label.to_string(),
            });
        }
        field.kind = FieldKind::Ref;
        field.target = Some(target);
        return Ok(field);
    }
    field.kind = match type_text.to_lowercase().as_str() {
        "text" => FieldKind::Text,
        "longtext" => FieldKind::Longtext,
        "int" => FieldKind::Int,
        "decimal" => FieldKind::Decimal,
        "bool" => FieldKind::Bool,
        "date" => FieldKind::Date,
        "datetime" => FieldKind::Datetime,
        "email" => FieldKind::Email,
        "url" => FieldKind::Url,
        _ => {
            return Err(LineProblem::UnknownType {
                found: type_text.to_string(),
            });
        }
    };
    Ok(field)
}

/// For `keyword`, `keyword: x` or `keyword x` (keyword case-insensitive): the text after
/// it, trimmed (possibly empty).
fn keyword_argument<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = &text[keyword.len()..];
    if rest.is_empty() {
        return Some("");
    }
    if let Some(arg) = rest.strip_prefix(':') {
        return Some(arg.trim());
    }
    rest.starts_with(char::is_whitespace).then(|| {
        let arg = rest.trim();
        arg.strip_prefix(':').map_or(arg, str::trim)
    })
}

fn parse_choices(label: &str, text: &str) -> Result<Vec<String>, LineProblem> {
    if text.trim().is_empty() {
        return Err(LineProblem::EmptyChoices {
            field: label.to_string(),
        });
    }
    let mut choices: Vec<String> = Vec::new();
    for choice in text.split('|').map(collapse_whitespace) {
        if choice.is_empty() {
            return Err(LineProblem::EmptyChoice {
                field: label.to_string(),
            });
        }
        let key = choice.to_lowercase();
        if choices.iter().any(|c| c.to_lowercase() == key) {
            return Err(LineProblem::DuplicateChoice {
                field: label.to_string(),
                choice,
            });
        }
        choices.push(choice);
    }
    Ok(choices)
}

pub(super) fn build_entities(raw: &[RawEntity], reserved: &ident::ReservedNames) -> Vec<Entity> {
    let labels: Vec<&str> = raw.iter().map(|e| e.label.as_str()).collect();
    let names = ident::entity_names(&labels, reserved);
    raw.iter()
        .zip(&names)
        .map(|(entity, own)| {
            let kinds: Vec<(&str, bool)> = entity
                .fields
                .iter()
                .map(|f| (f.label.as_str(), f.kind == FieldKind::Ref))
                .collect();
            let idents = ident::field_idents(&kinds, reserved);
            let fields: Vec<Field> = entity
                .fields
                .iter()
                .zip(idents)
                .zip(&entity.targets)
                .map(|((f, ident), target)| Field {
                    label: f
                        .explicit_label
                        .clone()
                        .unwrap_or_else(|| ident::readable_label(&f.label)),
                    ident,
                    kind: f.kind,
                    required: f.required,
                    unique: f.unique,
                    choices: f.choices.clone(),
                    target: target.map(|t| names[t].name.clone()),
                })
                .collect();
            Entity {
                label: entity.label.clone(),
                plural_label: ident::plural_label(&entity.label),
                name: own.name.clone(),
                ident: own.ident.clone(),
                plural: own.plural.clone(),
                route: own.route.clone(),
                table: own.table.clone(),
                display_field: display_field(&fields),
                fields,
            }
        })
        .collect()
}

/// The first required `text` field, else the first `text`/`email`/`url` field.
fn display_field(fields: &[Field]) -> Option<String> {
    fields
        .iter()
        .find(|f| f.kind == FieldKind::Text && f.required)
        .or_else(|| {
            fields
                .iter()
                .find(|f| matches!(f.kind, FieldKind::Text | FieldKind::Email | FieldKind::Url))
        })
        .map(|f| f.ident.clone())
}

#[cfg(test)]
mod tests {
    use crate::issue::error::{FormError, LineProblem, MAX_ENTITIES, MAX_FIELDS};
    use crate::issue::form::parse_issue_form;
    use crate::spec::{IssueRef, Spec};

    fn issue() -> IssueRef {
        IssueRef {
            number: 42,
            title: "Reading list".into(),
            url: "https://github.com/o/r/issues/42".into(),
        }
    }

    fn parse(model: &str) -> Result<Spec, FormError> {
        let body = format!(
            "### App name\n\nBook club\n\n### Summary\n\nTrack books.\n\n### Data model\n\n```text\n{model}\n```\n\n### Features\n\n_No response_\n"
        );
        parse_issue_form(&issue(), &body)
    }

    fn error(model: &str) -> String {
        parse(model).unwrap_err().to_string()
    }

    #[test]
    fn unknown_type() {
        assert_eq!(
            error("Author: name (text)\n\nBook: title (strng)"),
            "data model line 3 \"Book: title (strng)\": unknown type \"strng\"; expected one of text, longtext, int, decimal, bool, date, datetime, email, url, enum: a|b|c, ref Entity"
        );
    }

    #[test]
    fn missing_type() {
        assert_eq!(
            error("Book: title ()"),
            "data model line 1 \"Book: title ()\": field \"title\" has no type; expected one of text, longtext, int, decimal, bool, date, datetime, email, url, enum: a|b|c, ref Entity"
        );
    }

    #[test]
    fn unknown_ref() {
        assert_eq!(
            error("Book: author (ref Writer)\nReader: name (text)"),
            "data model line 1 \"Book: author (ref Writer)\": field \"author\" refers to \"Writer\", which is not an entity of the data model; expected one of Book, Reader"
        );
        assert_eq!(
            error("Book: author (ref)"),
            "data model line 1 \"Book: author (ref)\": field \"author\" has no target; expected \"ref Entity\" naming an entity of the data model"
        );
    }

    #[test]
    fn duplicate_field_and_entity() {
        assert_eq!(
            error("Book: Title (text), title (int)"),
            "data model line 1 \"Book: Title (text), title (int)\": duplicate field \"title\" in entity \"Book\"; expected each field once per entity"
        );
        assert_eq!(
            error("- Book: a (text)\n- Shelf: b (text)\n- book: c (int)"),
            "data model line 3 \"- book: c (int)\": duplicate entity \"book\", first declared on line 1; expected each entity once"
        );
    }

    #[test]
    fn missing_colon_and_no_fields() {
        assert_eq!(
            error("Book title (text)"),
            "data model line 1 \"Book title (text)\": no \":\" after the entity name; expected \"Entity: field (type), field (type), …\""
        );
        assert_eq!(
            error("Book (enum: a|b)"),
            "data model line 1 \"Book (enum: a|b)\": no \":\" after the entity name; expected \"Entity: field (type), field (type), …\""
        );
        assert_eq!(
            error("Book:  , "),
            "data model line 1 \"Book:  ,\": entity \"Book\" has no fields; expected \"Book: field (type), field (type), …\""
        );
        assert_eq!(
            error(": a (text)"),
            "data model line 1 \": a (text)\": the entity name before \":\" is empty; expected \"Entity: field (type), …\""
        );
    }

    #[test]
    fn unbalanced_parentheses() {
        let expected = "unbalanced parentheses; expected \"field (type[, required][, unique])\" for each field";
        assert_eq!(
            error("Book: title (text, author (text)"),
            format!("data model line 1 \"Book: title (text, author (text)\": {expected}")
        );
        assert_eq!(
            error("Book: title text), author (text)"),
            format!("data model line 1 \"Book: title text), author (text)\": {expected}")
        );
    }

    #[test]
    fn choice_errors() {
        assert_eq!(
            error("Task: status (enum:)"),
            "data model line 1 \"Task: status (enum:)\": field \"status\" has an empty choice list; expected \"enum: a|b|c\""
        );
        assert_eq!(
            error("Task: status (enum)"),
            "data model line 1 \"Task: status (enum)\": field \"status\" has an empty choice list; expected \"enum: a|b|c\""
        );
        assert_eq!(
            error("Task: status (enum: a||b)"),
            "data model line 1 \"Task: status (enum: a||b)\": field \"status\" has an empty choice; expected non-empty choices separated by \"|\", e.g. \"enum: a|b|c\""
        );
        assert_eq!(
            error("Task: status (enum: Open|closed|open)"),
            "data model line 1 \"Task: status (enum: Open|closed|open)\": field \"status\" lists the choice \"open\" twice; expected distinct choices"
        );
        assert_eq!(
            error("Task: status (enum: open, closed)"),
            "data model line 1 \"Task: status (enum: open, closed)\": \"closed\" after the choices of field \"status\" is not required or unique; expected choices separated by \"|\", e.g. \"enum: a|b|c\""
        );
    }

    #[test]
    fn modifier_and_trailing_text_errors() {
        assert_eq!(
            error("Task: title (text, optional)"),
            "data model line 1 \"Task: title (text, optional)\": unknown modifier \"optional\" for field \"title\"; expected required, unique or label \"…\" after the type"
        );
        assert_eq!(
            error("Task: title (text) required"),
            "data model line 1 \"Task: title (text) required\": unexpected \"required\" after \")\" of field \"title\"; expected \"title (type[, required][, unique])\""
        );
        assert_eq!(
            error("Task: (text)"),
            "data model line 1 \"Task: (text)\": a field has no name; expected \"name (type)\""
        );
    }

    #[test]
    fn too_many_entities_and_fields() {
        let model: Vec<String> = (0..=MAX_ENTITIES)
            .map(|i| format!("E{i}: f (text)"))
            .collect();
        assert_eq!(
            error(&model.join("\n")),
            "data model line 61 \"E60: f (text)\": more than 60 entities; expected at most 60 per app"
        );
        assert!(parse(&model[..MAX_ENTITIES].join("\n")).is_ok());
        let fields: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("f{i} (int)")).collect();
        let line = format!("Wide: {}", fields.join(", "));
        let message = error(&line);
        assert!(
            message.ends_with(": entity \"Wide\" has more than 80 fields; expected at most 80"),
            "{message}"
        );
        assert!(message.starts_with("data model line 1 \"Wide: f0 (int), f1 (int)"));
        assert!(
            message.contains("…\":"),
            "a long line is cut in the message: {message}"
        );
        let fields: Vec<String> = (0..MAX_FIELDS).map(|i| format!("f{i} (int)")).collect();
        assert!(parse(&format!("Wide: {}", fields.join(", "))).is_ok());
    }

    #[test]
    fn error_line_numbers_skip_the_fence_and_leading_blanks() {
        let text = "### App name\nX\n### Data model\n\n```yaml\nA: a (text)\n\nB: b (nope)\n```\n";
        assert_eq!(
            parse_issue_form(&issue(), text).unwrap_err(),
            FormError::Line {
                line: 3,
                text: "B: b (nope)".into(),
                problem: LineProblem::UnknownType {
                    found: "nope".into()
                }
            }
        );
    }

    #[test]
    fn labels_keep_their_words_and_drop_emphasis() {
        let spec = parse("**Order  item**: `Unit price` (decimal, unique, required)").unwrap();
        let e = &spec.entities[0];
        assert_eq!(e.label, "Order item");
        assert_eq!(e.plural_label, "Order items");
        assert_eq!(e.route, "order-items");
        assert_eq!(e.fields[0].label, "Unit price");
        assert!(e.fields[0].required && e.fields[0].unique);
    }
}
