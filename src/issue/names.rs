//! Names in the `### Rules` and `### Views` sections, matched against the data model the way
//! `ref` targets are (any language): an entity by its label as written (case-insensitive,
//! whitespace collapsed, emphasis dropped) or its class name, a field by its label as
//! written, its ident or its display label. Also the pieces both languages share: values
//! on the right of an operator and `Entity.field label "…"` statements.

use crate::issue::error::StatementProblem;
use crate::issue::model::RawEntity;
use crate::issue::sections::{clean_label, find_word, name_key, unquote};
use crate::spec::check::{self, Problem};
use crate::spec::{Entity, Field, FieldKind, Operand};

/// The data model as written and as built, side by side (same order).
pub(super) struct Model<'a> {
    pub(super) raw: &'a [RawEntity],
    pub(super) entities: &'a [Entity],
}

/// A field named in a statement: entity and field indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct At {
    pub(super) entity: usize,
    pub(super) field: usize,
}

impl<'a> Model<'a> {
    /// Names as the issue wrote them, for messages.
    pub(super) fn written(&self, entity: &Entity, field: Option<&Field>) -> String {
        let Some(e) = self.entities.iter().position(|x| x.name == entity.name) else {
            return field.map_or_else(|| entity.name.clone(), |f| f.ident.clone());
        };
        match field {
            None => self.raw[e].label.clone(),
            Some(f) => entity
                .fields
                .iter()
                .position(|x| x.ident == f.ident)
                .map_or_else(|| f.ident.clone(), |i| self.raw[e].fields[i].label.clone()),
        }
    }

    /// The entity `text` names.
    pub(super) fn entity(&self, text: &str) -> Result<usize, Problem> {
        let key = name_key(text);
        self.raw
            .iter()
            .position(|e| name_key(&e.label) == key)
            .or_else(|| {
                self.entities
                    .iter()
                    .position(|e| e.name.to_lowercase() == key || e.ident == key)
            })
            .ok_or_else(|| Problem::UnknownEntity {
                entity: clean_label(text),
                known: self
                    .raw
                    .iter()
                    .take(12)
                    .map(|e| e.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The field of entity `e` that `text` names, if any.
    pub(super) fn find_field(&self, e: usize, text: &str) -> Option<usize> {
        let key = name_key(text);
        let raw = &self.raw[e];
        let built = &self.entities[e];
        raw.fields
            .iter()
            .position(|f| name_key(&f.label) == key)
            .or_else(|| built.fields.iter().position(|f| f.ident == key))
            .or_else(|| built.fields.iter().position(|f| name_key(&f.label) == key))
    }

    /// The field of entity `e` that `text` names.
    pub(super) fn field(&self, e: usize, text: &str) -> Result<usize, Problem> {
        self.find_field(e, text).ok_or_else(|| {
            let entity = &self.entities[e];
            Problem::UnknownField {
                entity: self.raw[e].label.clone(),
                field: clean_label(text),
                known: check::known_fields(entity, &|x, f| self.written(x, f)),
            }
        })
    }

    /// `Entity.field` → where it is.
    pub(super) fn entity_field(&self, text: &str) -> Result<At, StatementProblem> {
        let (entity, field) = text
            .split_once('.')
            .ok_or_else(|| StatementProblem::NotAField {
                found: text.trim().to_string(),
            })?;
        let entity = self.entity(entity)?;
        let field = self.field(entity, field)?;
        Ok(At { entity, field })
    }

    /// The built field at `at`.
    pub(super) fn built(&self, at: At) -> &'a Field {
        &self.entities[at.entity].fields[at.field]
    }

    /// The value `text` on the right of an operator about the field at `at`; `example`
    /// builds a working statement from an example value. Types are checked later (by
    /// [`check`]); this only decides what `text` is.
    pub(super) fn operand(
        &self,
        at: At,
        text: &str,
        after: &str,
        example: &dyn Fn(&str) -> String,
    ) -> Result<Operand, StatementProblem> {
        let field = self.built(at);
        let text = text.trim();
        if text.is_empty() {
            let (_, sample) = check::fitting(field);
            return Err(StatementProblem::MissingValue {
                after: after.to_string(),
                example: example(&sample),
            });
        }
        if let Some(inner) = unquote(text) {
            return Ok(match field.kind {
                FieldKind::Enum => self.choice(at, inner)?,
                _ => Operand::Text(inner.to_string()),
            });
        }
        let lower = text.to_lowercase();
        match lower.as_str() {
            "today" => return Ok(Operand::Today),
            "now" => return Ok(Operand::Now),
            "true" => return Ok(Operand::Bool(true)),
            "false" => return Ok(Operand::Bool(false)),
            _ => {}
        }
        let number = text.strip_prefix('+').unwrap_or(text);
        if check::is_number(number) {
            return Ok(Operand::Number(number.to_string()));
        }
        if field.kind == FieldKind::Enum
            && let Some(choice) = field.choices.iter().find(|c| c.to_lowercase() == lower)
        {
            return Ok(Operand::Choice(choice.clone()));
        }
        // `Entity.field` of the same entity, or a bare field name.
        let own = match text.split_once('.') {
            Some((entity, name)) if self.entity(entity).is_ok() => {
                if self.entity(entity).ok() != Some(at.entity) {
                    return Err(StatementProblem::OtherEntity {
                        found: text.to_string(),
                        entity: self.raw[at.entity].label.clone(),
                    });
                }
                Some(self.field(at.entity, name)?)
            }
            _ => self.find_field(at.entity, text),
        };
        if let Some(other) = own {
            return Ok(Operand::Field(
                self.entities[at.entity].fields[other].ident.clone(),
            ));
        }
        if field.kind == FieldKind::Enum {
            return self.choice(at, text);
        }
        let (expected, sample) = check::fitting(field);
        Err(StatementProblem::UnknownValue {
            found: text.to_string(),
            entity: self.raw[at.entity].label.clone(),
            expected,
            example: example(&sample),
        })
    }

    /// The enum choice `text` names (case-insensitive), spelled as declared.
    pub(super) fn choice(&self, at: At, text: &str) -> Result<Operand, StatementProblem> {
        let field = self.built(at);
        let key = text.trim().to_lowercase();
        field
            .choices
            .iter()
            .find(|c| c.to_lowercase() == key)
            .map(|c| Operand::Choice(c.clone()))
            .ok_or_else(|| {
                Problem::UnknownChoice {
                    field: self.raw[at.entity].fields[at.field].label.clone(),
                    found: text.trim().to_string(),
                    choices: field.choices.join("|"),
                }
                .into()
            })
    }
}

/// `Entity.field label "…"`, when the line is one: where, and the label.
pub(super) fn label_statement(
    model: &Model,
    line: &str,
) -> Option<Result<(At, String), StatementProblem>> {
    let at = find_word(line, "label")?;
    let (left, right) = (&line[..at], line[at + "label".len()..].trim());
    // A label statement names a field on the left and nothing else; `label` without a
    // quote after it is a label only when the left side is a field (else it may be a value,
    // as in `Task.kind default label`).
    if !left.contains('.') || left.contains([':', '<', '>', '=', '!']) {
        return None;
    }
    if unquote(right).is_none() && model.entity_field(left).is_err() {
        return None;
    }
    Some(model.entity_field(left).and_then(|place| {
        let text = unquote(right)
            .map(clean_label)
            .filter(|t| !t.is_empty())
            .ok_or(StatementProblem::BadLabel)?;
        Ok((place, text))
    }))
}
