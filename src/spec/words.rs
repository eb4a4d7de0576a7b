//! Rules and views in words, for `SPEC.md`, the requirement sentences and `ARCHITECTURE.md`:
//! field and entity names are the display labels, values as they will be compared.

use super::{CompareOp, Entity, FieldKind, Operand, Rule, RuleCheck, Spec, View, ViewOp};

/// The display label of field `ident` of `entity` (the ident when unknown).
fn label<'a>(entity: &'a Entity, ident: &'a str) -> &'a str {
    entity.field(ident).map_or(ident, |f| f.label.as_str())
}

/// A value in words.
fn value(entity: &Entity, operand: &Operand) -> String {
    match operand {
        Operand::Number(n) => n.clone(),
        Operand::Text(t) => format!("“{t}”"),
        Operand::Bool(true) => "yes".into(),
        Operand::Bool(false) => "no".into(),
        Operand::Choice(c) => c.clone(),
        Operand::Field(f) => label(entity, f).to_string(),
        Operand::Today => "today".into(),
        Operand::Now => "now".into(),
    }
}

/// `op` in words for a field of `kind` ("on or after" for dates, "at least" for numbers).
fn comparison(kind: FieldKind, op: CompareOp) -> &'static str {
    let temporal = kind.is_temporal();
    match op {
        CompareOp::Gt if temporal => "after",
        CompareOp::Ge if temporal => "on or after",
        CompareOp::Lt if temporal => "before",
        CompareOp::Le if temporal => "on or before",
        CompareOp::Gt => "more than",
        CompareOp::Ge => "at least",
        CompareOp::Lt => "less than",
        CompareOp::Le => "at most",
        CompareOp::Eq => "",
        CompareOp::Ne => "not",
    }
}

/// The scope of `unique` and `no overlap`: the account or the team workspace.
fn tenant(spec: &Spec) -> &'static str {
    if spec.app.features.teams {
        "workspace"
    } else {
        "account"
    }
}

/// One rule as a sentence: "Invoice: Amount must be at least 0 (when given)."
pub fn rule(spec: &Spec, rule: &Rule) -> String {
    let Some(entity) = spec.entity(&rule.entity) else {
        return rule.statement.clone();
    };
    let optional = |ident: &str| entity.field(ident).is_some_and(|f| !f.required);
    let when_given = |ident: &str| if optional(ident) { " when given" } else { "" };
    let text = match &rule.check {
        RuleCheck::Compare {
            field,
            op,
            value: v,
        } => {
            let kind = entity.field(field).map_or(FieldKind::Text, |f| f.kind);
            let words = comparison(kind, *op);
            let words = if words.is_empty() {
                String::new()
            } else {
                format!("{words} ")
            };
            format!(
                "{} must be {words}{}{}",
                label(entity, field),
                value(entity, v),
                when_given(field)
            )
        }
        RuleCheck::Between { field, min, max } => format!(
            "{} must be between {} and {} (both included){}",
            label(entity, field),
            value(entity, min),
            value(entity, max),
            when_given(field)
        ),
        RuleCheck::Length { field, min, max } => format!(
            "{} must have {min} to {max} characters{}",
            label(entity, field),
            when_given(field)
        ),
        RuleCheck::Default { field, value: v } => {
            let v = match v {
                Operand::Today => "today's date".to_string(),
                Operand::Now => "the current date and time".to_string(),
                other => value(entity, other),
            };
            format!("{} is {v} unless given", label(entity, field))
        }
        RuleCheck::Unique { fields } => {
            let labels: Vec<&str> = fields.iter().map(|f| label(entity, f)).collect();
            format!(
                "no two {} of the same {} share the same {}",
                entity.plural_label,
                tenant(spec),
                labels.join(" and ")
            )
        }
        RuleCheck::NoOverlap { start, end, per } => {
            let scope = if per.is_empty() {
                format!("of the same {}", tenant(spec))
            } else {
                let labels: Vec<&str> = per.iter().map(|f| label(entity, f)).collect();
                format!("with the same {}", labels.join(" and "))
            };
            format!(
                "two {} {scope} may not overlap from {} to {} (back-to-back is fine)",
                entity.plural_label,
                label(entity, start),
                label(entity, end)
            )
        }
    };
    format!("{}: {text}.", entity.label)
}

/// What a view lists, in words: "Invoices where Due on is before today …, with the total
/// of Amount" (no name, no final period).
pub fn view(spec: &Spec, view: &View) -> String {
    let Some(entity) = spec.entity(&view.entity) else {
        return view.statement.clone();
    };
    let mut text = entity.plural_label.clone();
    let conditions: Vec<String> = view
        .conditions
        .iter()
        .map(|c| {
            let field = label(entity, &c.field);
            let kind = entity.field(&c.field).map_or(FieldKind::Text, |f| f.kind);
            match (c.op, c.op.compare_op(), &c.value) {
                (ViewOp::In, ..) => format!("{field} is one of {}", c.values.join(", ")),
                (ViewOp::IsEmpty, ..) => format!("{field} is empty"),
                (ViewOp::IsNotEmpty, ..) => format!("{field} is not empty"),
                (_, Some(op), Some(v)) => {
                    let words = comparison(kind, op);
                    let words = if words.is_empty() {
                        String::new()
                    } else {
                        format!("{words} ")
                    };
                    format!("{field} is {words}{}", value(entity, v))
                }
                _ => format!("{field} {}", c.op.symbol()),
            }
        })
        .collect();
    if !conditions.is_empty() {
        text.push_str(&format!(" where {}", conditions.join(" and ")));
    }
    if let Some(sort) = &view.sort {
        text.push_str(&format!(
            ", sorted by {}{}",
            label(entity, &sort.field),
            if sort.desc { " (descending)" } else { "" }
        ));
    }
    if !view.sums.is_empty() {
        let labels: Vec<&str> = view.sums.iter().map(|f| label(entity, f)).collect();
        text.push_str(&format!(", with the total of {}", labels.join(" and ")));
    }
    text
}

/// The requirement sentence of a view.
pub fn view_requirement(spec: &Spec, view: &View) -> String {
    format!(
        "The view “{}” lists {}; it has its own page, API endpoint and dashboard card.",
        view.name,
        self::view(spec, view)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_in_words() {
        let spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/invoices.yaml")).unwrap();
        let rules: Vec<String> = spec.rules.iter().map(|r| rule(&spec, r)).collect();
        assert_eq!(
            rules,
            [
                "Invoice: Amount must be at least 0.",
                "Invoice: Amount must be between 0 and 100000 (both included).",
                "Invoice: Due on must be on or after Issue date.",
                "Invoice: Status is draft unless given.",
                "Client: Name must have 2 to 80 characters.",
                "Invoice: no two Invoices of the same account share the same Number.",
            ]
        );
        assert_eq!(
            view(&spec, &spec.views[0]),
            "Invoices where Due on is before today and Status is not paid, sorted by Due on, with the total of Amount"
        );
        let spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/bookings.yaml")).unwrap();
        let rules: Vec<String> = spec.rules.iter().map(|r| rule(&spec, r)).collect();
        assert_eq!(
            rules,
            [
                "Booking: Ends at must be after Starts at.",
                "Booking: two Bookings with the same Room may not overlap from Starts at to Ends at (back-to-back is fine).",
                "Booking: no two Bookings of the same account share the same Room and Starts at.",
                "Room: Capacity must be between 1 and 500 (both included) when given.",
            ]
        );
        assert_eq!(
            view(&spec, &spec.views[1]),
            "Rooms where Capacity is at least 10, sorted by Capacity (descending), with the total of Capacity"
        );
        assert_eq!(
            view_requirement(&spec, &spec.views[0]),
            "The view “Upcoming” lists Bookings where Starts at is on or after now, sorted by Starts at; it has its own page, API endpoint and dashboard card."
        );
    }
}
