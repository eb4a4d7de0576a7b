//! Type checks of rules and views against the data model, shared by the issue-form parser
//! (which reports a [`Problem`] with the line it came from) and [`Spec::check`](super::Spec::check)
//! (which reports it with the rule's or view's statement).
//!
//! Names in messages come from a [`Namer`]: the parser names entities and fields as the issue
//! wrote them, `spec.yaml` by class name and ident. Defaults are values (never another
//! field), so defaults cannot form a cycle.

use super::{Condition, Entity, Field, FieldKind, Operand, Rule, RuleCheck, View, ViewOp};

pub use super::problem::Problem;

/// How messages name an entity and, optionally, one of its fields.
pub type Namer<'a> = &'a dyn Fn(&Entity, Option<&Field>) -> String;

/// The type of `field` in words: "a date", "a reference to Client".
pub fn kind_words(field: &Field) -> String {
    match field.kind {
        FieldKind::Text => "a text".into(),
        FieldKind::Longtext => "a long text".into(),
        FieldKind::Int => "an int".into(),
        FieldKind::Decimal => "a decimal".into(),
        FieldKind::Bool => "a bool".into(),
        FieldKind::Date => "a date".into(),
        FieldKind::Datetime => "a datetime".into(),
        FieldKind::Email => "an email".into(),
        FieldKind::Url => "a url".into(),
        FieldKind::Enum => "an enum".into(),
        FieldKind::Ref => format!(
            "a reference to {}",
            field.target.as_deref().unwrap_or("another entity")
        ),
    }
}

/// Finds `ident` in `entity`, or says which fields exist.
pub fn field<'e>(entity: &'e Entity, ident: &str, name: Namer) -> Result<&'e Field, Problem> {
    entity.field(ident).ok_or_else(|| Problem::UnknownField {
        entity: name(entity, None),
        field: ident.to_string(),
        known: known_fields(entity, name),
    })
}

/// The entity's field names for a message, the first dozen at most.
pub fn known_fields(entity: &Entity, name: Namer) -> String {
    const SHOWN: usize = 12;
    let mut known: Vec<String> = entity
        .fields
        .iter()
        .take(SHOWN)
        .map(|f| name(entity, Some(f)))
        .collect();
    if entity.fields.len() > SHOWN {
        known.push("…".into());
    }
    known.join(", ")
}

/// Whether `text` is a decimal number as [`Operand::Number`] holds it (`-12.5`, `3`).
pub fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` is an ISO date `YYYY-MM-DD` that exists in the calendar.
pub fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1
        && (1..=days).contains(&day)
        && text[..10].bytes().filter(u8::is_ascii_digit).count() == 8
}

/// Whether `text` is an ISO datetime `YYYY-MM-DDTHH:MM[:SS]`.
pub fn is_iso_datetime(text: &str) -> bool {
    let Some((date, time)) = text.split_once('T') else {
        return false;
    };
    let parts: Vec<&str> = time.split(':').collect();
    let limits = [23, 59, 59];
    is_iso_date(date)
        && (2..=3).contains(&parts.len())
        && parts.iter().zip(limits).all(|(p, max)| {
            p.len() == 2
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|v| v <= max)
        })
}

/// The ordering of two number operands, when both are numbers.
fn number_order(a: &Operand, b: &Operand) -> Option<std::cmp::Ordering> {
    let (Operand::Number(a), Operand::Number(b)) = (a, b) else {
        return None;
    };
    Some(a.parse::<f64>().ok()?.total_cmp(&b.parse::<f64>().ok()?))
}

/// `value` in words, for messages.
fn found_words(entity: &Entity, value: &Operand, name: Namer) -> String {
    match value {
        Operand::Number(n) => format!("the number {n}"),
        Operand::Text(t) => format!("the text {t:?}"),
        Operand::Bool(b) => b.to_string(),
        Operand::Choice(c) => format!("the choice {c:?}"),
        Operand::Field(f) => match entity.field(f) {
            Some(other) => format!(
                "the field {:?} ({})",
                name(entity, Some(other)),
                kind_words(other)
            ),
            None => format!("the field {f:?}"),
        },
        Operand::Today => "today".into(),
        Operand::Now => "now".into(),
    }
}

/// What values fit `field`, in words, and an example value (as written in a statement).
pub fn fitting(field: &Field) -> (String, String) {
    match field.kind {
        FieldKind::Int => (
            "a whole number or another int or decimal field".into(),
            "0".into(),
        ),
        FieldKind::Decimal => (
            "a number or another int or decimal field".into(),
            "0".into(),
        ),
        FieldKind::Date => (
            "today, a quoted date such as \"2026-01-31\" or another date field".into(),
            "today".into(),
        ),
        FieldKind::Datetime => (
            "now, a quoted date and time such as \"2026-01-31T09:00\" or another datetime field"
                .into(),
            "now".into(),
        ),
        FieldKind::Bool => ("true or false".into(), "true".into()),
        FieldKind::Enum => (
            format!("one of its choices {}", field.choices.join("|")),
            field.choices.first().cloned().unwrap_or_default(),
        ),
        FieldKind::Ref => ("nothing (a reference)".into(), String::new()),
        FieldKind::Text | FieldKind::Longtext | FieldKind::Email | FieldKind::Url => {
            ("a quoted text or another text field".into(), "\"x\"".into())
        }
    }
}

/// Checks that `value` fits `field` of `entity`; `example` builds a working statement from
/// an example value.
pub fn operand(
    entity: &Entity,
    field: &Field,
    value: &Operand,
    name: Namer,
    example: &dyn Fn(&str) -> String,
) -> Result<(), Problem> {
    let field_name = name(entity, Some(field));
    if field.kind == FieldKind::Ref {
        return Err(Problem::NotComparable {
            field: field_name,
            kind: kind_words(field),
        });
    }
    let fits = match value {
        Operand::Number(n) => match field.kind {
            FieldKind::Int => is_number(n) && !n.contains('.'),
            FieldKind::Decimal => is_number(n),
            _ => false,
        },
        Operand::Text(t) => match field.kind {
            FieldKind::Date => is_iso_date(t),
            FieldKind::Datetime => is_iso_datetime(t),
            kind => kind.is_textual(),
        },
        Operand::Bool(_) => field.kind == FieldKind::Bool,
        Operand::Choice(c) => {
            if field.kind == FieldKind::Enum && !field.choices.contains(c) {
                return Err(Problem::UnknownChoice {
                    field: field_name,
                    found: c.clone(),
                    choices: field.choices.join("|"),
                });
            }
            field.kind == FieldKind::Enum
        }
        Operand::Field(other) => {
            let other = self::field(entity, other, name)?;
            if other.ident == field.ident {
                return Err(Problem::SameField { field: field_name });
            }
            match field.kind {
                k if k.is_number() => other.kind.is_number(),
                k if k.is_textual() => other.kind.is_textual(),
                FieldKind::Enum => other.kind == FieldKind::Enum && other.choices == field.choices,
                k => other.kind == k,
            }
        }
        Operand::Today => field.kind == FieldKind::Date,
        Operand::Now => field.kind == FieldKind::Datetime,
    };
    if fits {
        return Ok(());
    }
    let (expected, sample) = fitting(field);
    Err(Problem::WrongValue {
        found: found_words(entity, value, name),
        field: field_name,
        kind: kind_words(field),
        expected,
        example: example(&sample),
    })
}

/// Checks one rule of `entity` (whose other rules, before this one, are `earlier`).
pub fn rule(
    entity: &Entity,
    check: &RuleCheck,
    earlier: &[&Rule],
    name: Namer,
) -> Result<(), Problem> {
    let at = |f: &Field| format!("{}.{}", name(entity, None), name(entity, Some(f)));
    match check {
        RuleCheck::Compare { field, op, value } => {
            let f = self::field(entity, field, name)?;
            if op.is_ordering() && !f.kind.is_ordered() && f.kind != FieldKind::Ref {
                let (_, sample) = fitting(f);
                return Err(Problem::NotOrdered {
                    op: op.symbol(),
                    field: name(entity, Some(f)),
                    kind: kind_words(f),
                    example: format!("{} = {sample}", at(f)),
                });
            }
            operand(entity, f, value, name, &|v| {
                format!("{} {} {v}", at(f), op.symbol())
            })
        }
        RuleCheck::Between { field, min, max } => {
            let f = self::field(entity, field, name)?;
            if !f.kind.is_ordered() {
                let example = if f.kind.is_textual() {
                    format!("{} length 2..80", at(f))
                } else {
                    "Invoice.amount between 0 and 100000".into()
                };
                return Err(Problem::BetweenKind {
                    field: name(entity, Some(f)),
                    kind: kind_words(f),
                    example,
                });
            }
            for bound in [min, max] {
                operand(entity, f, bound, name, &|v| {
                    format!("{} between {v} and {v}", at(f))
                })?;
            }
            let reversed = match (min, max) {
                (Operand::Text(a), Operand::Text(b)) => a > b,
                _ => number_order(min, max) == Some(std::cmp::Ordering::Greater),
            };
            if reversed {
                let words = |o: &Operand| match o {
                    Operand::Number(n) | Operand::Text(n) => n.clone(),
                    _ => String::new(),
                };
                return Err(Problem::BoundsOrder {
                    min: words(min),
                    max: words(max),
                });
            }
            Ok(())
        }
        RuleCheck::Length { field, min, max } => {
            let f = self::field(entity, field, name)?;
            if !f.kind.is_textual() {
                let example = if f.kind.is_number() {
                    format!("{} between 0 and 100", at(f))
                } else {
                    "Client.name length 2..80".into()
                };
                return Err(Problem::LengthKind {
                    field: name(entity, Some(f)),
                    kind: kind_words(f),
                    example,
                });
            }
            if min > max || *max == 0 {
                return Err(Problem::LengthBounds {
                    min: *min,
                    max: *max,
                });
            }
            Ok(())
        }
        RuleCheck::Default { field, value } => {
            let f = self::field(entity, field, name)?;
            if f.kind == FieldKind::Ref {
                return Err(Problem::DefaultRef {
                    field: name(entity, Some(f)),
                    kind: kind_words(f),
                });
            }
            if let Operand::Field(other) = value {
                let (_, sample) = fitting(f);
                return Err(Problem::DefaultField {
                    field: name(entity, Some(f)),
                    other: entity
                        .field(other)
                        .map_or_else(|| other.clone(), |o| name(entity, Some(o))),
                    example: format!("{} default {sample}", at(f)),
                });
            }
            if let Some(first) = earlier.iter().find(
                |r| matches!(&r.check, RuleCheck::Default { field: other, .. } if other == field),
            ) {
                return Err(Problem::DuplicateDefault {
                    field: name(entity, Some(f)),
                    first: first.statement.clone(),
                });
            }
            operand(entity, f, value, name, &|v| {
                format!("{} default {v}", at(f))
            })
        }
        RuleCheck::Unique { fields } => {
            if fields.is_empty() {
                return Err(Problem::NoFields);
            }
            distinct(entity, fields, name)
        }
        RuleCheck::NoOverlap { start, end, per } => {
            let s = self::field(entity, start, name)?;
            let e = self::field(entity, end, name)?;
            for f in [s, e] {
                if !f.kind.is_temporal() {
                    return Err(Problem::OverlapKind {
                        field: name(entity, Some(f)),
                        kind: kind_words(f),
                    });
                }
            }
            if s.ident == e.ident {
                return Err(Problem::OverlapSame {
                    field: name(entity, Some(s)),
                });
            }
            if s.kind != e.kind {
                return Err(Problem::OverlapMixed {
                    start: name(entity, Some(s)),
                    start_kind: kind_words(s),
                    end: name(entity, Some(e)),
                    end_kind: kind_words(e),
                });
            }
            distinct(entity, per, name)
        }
    }
}

/// Checks that `fields` exist and are distinct.
fn distinct(entity: &Entity, fields: &[String], name: Namer) -> Result<(), Problem> {
    for (i, ident) in fields.iter().enumerate() {
        let f = self::field(entity, ident, name)?;
        if fields[..i].contains(ident) {
            return Err(Problem::RepeatedField {
                field: name(entity, Some(f)),
            });
        }
    }
    Ok(())
}

/// Checks one condition of a view of `entity`.
pub fn condition(entity: &Entity, condition: &Condition, name: Namer) -> Result<(), Problem> {
    let f = field(entity, &condition.field, name)?;
    let field_name = name(entity, Some(f));
    let shape = || Problem::ConditionShape {
        field: field_name.clone(),
        op: condition.op.symbol(),
    };
    match condition.op {
        ViewOp::IsEmpty | ViewOp::IsNotEmpty => {
            if condition.value.is_some() || !condition.values.is_empty() {
                return Err(shape());
            }
            Ok(())
        }
        ViewOp::In => {
            if condition.value.is_some() {
                return Err(shape());
            }
            if !(f.kind == FieldKind::Enum || f.kind.is_textual()) {
                return Err(Problem::InKind {
                    field: field_name,
                    kind: kind_words(f),
                });
            }
            if condition.values.is_empty() {
                return Err(Problem::EmptyIn);
            }
            for (i, value) in condition.values.iter().enumerate() {
                if f.kind == FieldKind::Enum && !f.choices.contains(value) {
                    return Err(Problem::UnknownChoice {
                        field: field_name,
                        found: value.clone(),
                        choices: f.choices.join("|"),
                    });
                }
                if condition.values[..i].contains(value) {
                    return Err(Problem::RepeatedField {
                        field: value.clone(),
                    });
                }
            }
            Ok(())
        }
        op => {
            let (Some(value), true) = (&condition.value, condition.values.is_empty()) else {
                return Err(shape());
            };
            let symbol = op.symbol();
            if op.compare_op().is_some_and(|c| c.is_ordering())
                && !f.kind.is_ordered()
                && f.kind != FieldKind::Ref
            {
                let (_, sample) = fitting(f);
                return Err(Problem::NotOrdered {
                    op: symbol,
                    field: field_name.clone(),
                    kind: kind_words(f),
                    example: format!("{field_name} = {sample}"),
                });
            }
            operand(entity, f, value, name, &|v| {
                format!("{field_name} {symbol} {v}")
            })
        }
    }
}

/// Checks the sort and sums of a view of `entity` (its conditions are checked one by one
/// with [`condition`]).
pub fn view_tail(entity: &Entity, view: &View, name: Namer) -> Result<(), Problem> {
    if let Some(sort) = &view.sort {
        field(entity, &sort.field, name)?;
    }
    for (i, ident) in view.sums.iter().enumerate() {
        let f = field(entity, ident, name)?;
        if !f.kind.is_number() {
            return Err(Problem::SumKind {
                field: name(entity, Some(f)),
                kind: kind_words(f),
            });
        }
        if view.sums[..i].contains(ident) {
            return Err(Problem::RepeatedField {
                field: name(entity, Some(f)),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_iso_dates() {
        for good in ["0", "-12.5", "100000", "3.0"] {
            assert!(is_number(good), "{good}");
        }
        for bad in ["", "-", "1.", ".5", "1e3", "+1", "1,5", "١"] {
            assert!(!is_number(bad), "{bad}");
        }
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("2026-1-01"));
        assert!(is_iso_datetime("2026-01-31T09:00"));
        assert!(is_iso_datetime("2026-01-31T23:59:59"));
        assert!(!is_iso_datetime("2026-01-31T24:00"));
        assert!(!is_iso_datetime("2026-01-31 09:00"));
        assert!(!is_iso_datetime("2026-01-31"));
    }
}
