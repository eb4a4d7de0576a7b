//! The `### Views` language: one view per line,
//! `Name: Entity [where condition and condition …] [sorted by field [desc]] [, sum field, …]`.
//!
//! Conditions: `field op value` (as in rules: a number, quoted text, choice, `true`/`false`,
//! another field, `today`, `now`), `field in a|b|c`, `field is empty`, `field is not
//! empty`. The name is kept as written; its slug (URL) and ident (Python) are assigned by
//! [`crate::ident::view_names`] once every view is read.

use crate::issue::error::StatementProblem;
use crate::issue::names::{At, Model};
use crate::issue::rules::{SYMBOLS, compare_op, strip_keywords};
use crate::issue::sections::{clean_label, find_symbol, find_word, split_word, unquote};
use crate::spec::check::Problem;
use crate::spec::{Condition, FieldKind, Operand, Sort, ViewOp};

/// A view as read, before its slug and ident are assigned.
#[derive(Debug)]
pub(super) struct RawView {
    pub(super) name: String,
    pub(super) entity: usize,
    pub(super) conditions: Vec<Condition>,
    pub(super) sort: Option<Sort>,
    pub(super) sums: Vec<String>,
}

/// Parses one view line (bullet removed). Types are checked by the caller.
pub(super) fn parse_view(model: &Model, line: &str) -> Result<RawView, StatementProblem> {
    let (head, mut rest) = line.split_once(':').ok_or(StatementProblem::NotAView)?;
    let name = clean_label(head);
    if name.is_empty() {
        return Err(StatementProblem::EmptyViewName);
    }
    let mut sums = Vec::new();
    if let Some(at) = find_word(rest, "sum")
        && rest[..at].trim_end().ends_with(',')
    {
        let list = &rest[at + "sum".len()..];
        rest = rest[..at].trim_end().trim_end_matches(',');
        for item in list.split(',') {
            let item = strip_keywords(item, &["sum"]).unwrap_or(item).trim();
            if item.is_empty() {
                return Err(StatementProblem::NotAView);
            }
            sums.push(item);
        }
    }
    let mut sort_text = None;
    if let Some(at) = find_word(rest, "sorted")
        && let Some(text) = strip_keywords(&rest[at..], &["sorted", "by"])
    {
        sort_text = Some(text.trim());
        rest = &rest[..at];
    }
    let (entity_text, conditions_text) = match find_word(rest, "where") {
        Some(at) => (&rest[..at], Some(&rest[at + "where".len()..])),
        None => (rest, None),
    };
    if entity_text.trim().is_empty() {
        return Err(StatementProblem::NotAView);
    }
    let entity = model.entity(entity_text)?;
    let ident = |text: &str| -> Result<String, StatementProblem> {
        let at = view_field(model, entity, text)?;
        Ok(model.built(at).ident.clone())
    };
    let mut conditions = Vec::new();
    if let Some(text) = conditions_text {
        for part in split_word(text, "and") {
            conditions.push(condition(model, entity, part)?);
        }
    }
    let sort = sort_text
        .map(|text| {
            let bad = || StatementProblem::BadSort {
                found: text.to_string(),
            };
            let (field, desc) = match text.rsplit_once(char::is_whitespace) {
                Some((field, last)) if last.eq_ignore_ascii_case("desc") => (field, true),
                Some((field, last)) if last.eq_ignore_ascii_case("asc") => (field, false),
                _ => (text, false),
            };
            if field.trim().is_empty() {
                return Err(bad());
            }
            Ok(Sort {
                field: ident(field)?,
                desc,
            })
        })
        .transpose()?;
    let sums = sums.into_iter().map(ident).collect::<Result<Vec<_>, _>>()?;
    Ok(RawView {
        name,
        entity,
        conditions,
        sort,
        sums,
    })
}

/// A field of the view's entity, as `field` or `Entity.field`.
fn view_field(model: &Model, e: usize, text: &str) -> Result<At, StatementProblem> {
    if let Some(field) = model.find_field(e, text) {
        return Ok(At { entity: e, field });
    }
    if let Some((entity, name)) = text.split_once('.')
        && model.entity(entity).ok() == Some(e)
    {
        return Ok(At {
            entity: e,
            field: model.field(e, name)?,
        });
    }
    Ok(At {
        entity: e,
        field: model.field(e, text)?,
    })
}

/// `text` without a case-insensitive ASCII `suffix`, when it ends with it after a space.
fn strip_suffix_words<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let (head, tail) = (text.get(..cut)?, text.get(cut..)?);
    (tail.eq_ignore_ascii_case(suffix) && head.ends_with(char::is_whitespace)).then_some(head)
}

/// One condition of a view of entity `e`.
fn condition(model: &Model, e: usize, text: &str) -> Result<Condition, StatementProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StatementProblem::BadCondition {
            found: text.to_string(),
        });
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (suffix, op) in [
        ("is not empty", ViewOp::IsNotEmpty),
        ("is empty", ViewOp::IsEmpty),
    ] {
        if let Some(field) = strip_suffix_words(&collapsed, suffix) {
            let at = view_field(model, e, field)?;
            return Ok(Condition {
                field: model.built(at).ident.clone(),
                op,
                value: None,
                values: Vec::new(),
            });
        }
    }
    let symbol = find_symbol(text, SYMBOLS);
    // `in` may be a word of a field's name (`check in date < today`): it is the operator
    // only when what comes before it names a field, or when there is no other operator.
    let within = find_word(text, "in")
        .filter(|&i| symbol.is_none() || view_field(model, e, &text[..i]).is_ok());
    match (symbol, within) {
        (Some((s, _)), Some(i)) if i < s => in_condition(model, e, text, i),
        (None, Some(i)) => in_condition(model, e, text, i),
        (Some((s, symbol)), _) => {
            let left = text[..s].trim();
            let at = view_field(model, e, left)?;
            let op = compare_op(symbol);
            let value = model.operand(at, &text[s + symbol.len()..], symbol, &|v| {
                format!("{left} {} {v}", op.symbol())
            })?;
            Ok(Condition {
                field: model.built(at).ident.clone(),
                op: op.view_op(),
                value: Some(value),
                values: Vec::new(),
            })
        }
        (None, None) => Err(StatementProblem::BadCondition {
            found: text.to_string(),
        }),
    }
}

/// `field in a|b|c`, with `in` at byte `at`.
fn in_condition(
    model: &Model,
    e: usize,
    text: &str,
    at: usize,
) -> Result<Condition, StatementProblem> {
    let place = view_field(model, e, &text[..at])?;
    let field = model.built(place);
    let mut values = Vec::new();
    for item in text[at + "in".len()..].split('|') {
        let item = item.trim();
        let item = unquote(item).unwrap_or(item);
        if item.is_empty() {
            return Err(Problem::EmptyIn.into());
        }
        values.push(if field.kind == FieldKind::Enum {
            match model.choice(place, item)? {
                Operand::Choice(c) => c,
                _ => item.to_string(),
            }
        } else {
            item.to_string()
        });
    }
    Ok(Condition {
        field: field.ident.clone(),
        op: ViewOp::In,
        value: None,
        values,
    })
}

#[cfg(test)]
mod tests {
    use crate::issue::statements::testing::{error, parse};
    use crate::spec::{Condition, Operand, Sort, View, ViewOp};

    fn view(line: &str) -> View {
        let spec = parse("Views", &[line]).unwrap();
        assert_eq!(spec.views.len(), 1, "{line}");
        spec.views[0].clone()
    }

    fn cond(field: &str, op: ViewOp, value: Option<Operand>, values: &[&str]) -> Condition {
        Condition {
            field: field.into(),
            op,
            value,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn the_overdue_view() {
        let line =
            "Overdue: Invoice where due_on < today and status != paid sorted by due_on, sum amount";
        assert_eq!(
            view(line),
            View {
                name: "Overdue".into(),
                slug: "overdue".into(),
                ident: "overdue".into(),
                entity: "Invoice".into(),
                statement: line.into(),
                conditions: vec![
                    cond("due_on", ViewOp::Lt, Some(Operand::Today), &[]),
                    cond(
                        "status",
                        ViewOp::Ne,
                        Some(Operand::Choice("paid".into())),
                        &[]
                    ),
                ],
                sort: Some(Sort {
                    field: "due_on".into(),
                    desc: false
                }),
                sums: vec!["amount".into()],
            }
        );
    }

    #[test]
    fn every_condition_form_sort_and_sums() {
        let v = view(
            "Open work: Invoice where status in Draft|\"sent\" AND due_on >= Invoice.issued_on and note is not empty and due_on IS  EMPTY and paid = false and copies > 2 sorted by amount DESC, sum amount, sum copies",
        );
        assert_eq!(
            (v.slug.as_str(), v.ident.as_str()),
            ("open-work", "open_work")
        );
        assert_eq!(
            v.conditions,
            vec![
                cond("status", ViewOp::In, None, &["draft", "sent"]),
                cond(
                    "due_on",
                    ViewOp::Ge,
                    Some(Operand::Field("issued_on".into())),
                    &[]
                ),
                cond("note", ViewOp::IsNotEmpty, None, &[]),
                cond("due_on", ViewOp::IsEmpty, None, &[]),
                cond("paid", ViewOp::Eq, Some(Operand::Bool(false)), &[]),
                cond("copies", ViewOp::Gt, Some(Operand::Number("2".into())), &[]),
            ]
        );
        assert_eq!(
            v.sort,
            Some(Sort {
                field: "amount".into(),
                desc: true
            })
        );
        assert_eq!(v.sums, ["amount", "copies"]);

        let v = view("All clients: Client");
        assert!(v.conditions.is_empty() && v.sort.is_none() && v.sums.is_empty());
        let v = view("Names: Client where name in Ann|Bob sorted by name asc");
        assert_eq!(
            v.conditions,
            vec![cond("name", ViewOp::In, None, &["Ann", "Bob"])]
        );
        assert_eq!(
            v.sort,
            Some(Sort {
                field: "name".into(),
                desc: false
            })
        );
        let v = view("Upcoming: Booking where starts_at >= now sorted by starts_at");
        assert_eq!(
            v.conditions,
            vec![cond("starts_at", ViewOp::Ge, Some(Operand::Now), &[])]
        );
        let v = view("Big: Room where capacity >= 10, sum capacity");
        assert_eq!(v.sums, ["capacity"]);
        let body = "### App name\nT\n### Data model\nStay: check in date (date), kind (enum: in|out)\n### Views\nSoon: Stay where check in date >= today and kind in in|out\n";
        let issue = crate::spec::IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        let spec = crate::issue::form::parse_issue_form(&issue, body).unwrap();
        assert_eq!(
            spec.views[0].conditions,
            vec![
                cond("check_in_date", ViewOp::Ge, Some(Operand::Today), &[]),
                cond("kind", ViewOp::In, None, &["in", "out"]),
            ]
        );
        let v = view("Dated: Invoice where due_on < \"2026-12-31\"");
        assert_eq!(
            v.conditions,
            vec![cond(
                "due_on",
                ViewOp::Lt,
                Some(Operand::Text("2026-12-31".into())),
                &[]
            )]
        );
    }

    #[test]
    fn slugs_and_idents_are_unique_and_safe() {
        let spec = parse(
            "Views",
            &[
                "Open: Invoice",
                "open!: Invoice",
                "Просроченные: Invoice where due_on < today",
                "2026: Room",
            ],
        )
        .unwrap();
        let names: Vec<(&str, &str)> = spec
            .views
            .iter()
            .map(|v| (v.slug.as_str(), v.ident.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("open", "open_view"),
                ("open-2", "open_2"),
                ("prosrochennye", "prosrochennye"),
                ("2026", "view_2026")
            ]
        );
        assert_eq!(
            parse("Views", &["Open: Invoice", "- open: Client"]).unwrap_err(),
            "views line 2 \"- open: Client\": a view named \"open\" already exists; expected distinct view names"
        );
    }

    #[test]
    fn errors_with_the_line_the_problem_and_an_example() {
        let cases = [
            (
                "Open: Invoice where status in draft|nope",
                "\"nope\" is not a choice of \"status\"; expected one of draft|sent|paid",
            ),
            (
                "Open: Invoice where amount in 1|2",
                "\"in\" needs an enum or text field, but \"amount\" is a decimal; expected e.g. \"status in draft|sent\"",
            ),
            (
                "Open: Invoice where status in",
                "\"in\" lists no value; expected values separated by \"|\", e.g. \"status in draft|sent\"",
            ),
            (
                "Open: Invoice where status in draft||sent",
                "\"in\" lists no value; expected values separated by \"|\", e.g. \"status in draft|sent\"",
            ),
            (
                "Undated: Invoice where due_on is full",
                "\"due_on is full\" is not a condition; expected \"field op value\" (op one of > >= < <= = !=), \"field in a|b|c\", \"field is empty\" or \"field is not empty\", e.g. \"due_on < today\"",
            ),
            (
                "Undated: Invoice where and paid = true",
                "\"\" is not a condition; expected \"field op value\" (op one of > >= < <= = !=), \"field in a|b|c\", \"field is empty\" or \"field is not empty\", e.g. \"due_on < today\"",
            ),
            (
                "Bad sum: Invoice where paid = false, sum number",
                "\"sum\" totals an int or decimal field, but \"number\" is a text; expected e.g. \", sum amount\"",
            ),
            (
                "Bad sum: Invoice, sum amount, amount",
                "\"amount\" is listed twice; expected each field once",
            ),
            (
                "Bad sort: Invoice sorted by",
                "\"\" is not a sort; expected \"sorted by field\" or \"sorted by field desc\", e.g. \"sorted by due_on desc\"",
            ),
            (
                "Bad sort: Invoice sorted by nope desc",
                "entity \"Invoice\" has no field \"nope\"; expected one of number, client, amount, issued_on, due_on, status, paid, note, copies",
            ),
            (
                ": Invoice where paid = true",
                "the view name before \":\" is empty; expected e.g. \"Overdue: Invoice where due_on < today\"",
            ),
            (
                "Overdue: Nope where x = 1",
                "no entity \"Nope\" in the data model; expected one of Client, Invoice, Room, Booking",
            ),
            (
                "Overdue: Invoice where due_on < now",
                "\"due_on\" is a date and cannot take now; expected today, a quoted date such as \"2026-01-31\" or another date field, e.g. \"due_on < today\"",
            ),
            (
                "Overdue: Invoice where client = 1",
                "\"client\" is a reference to Client and cannot be compared with a value; expected \"client is empty\" or \"client is not empty\" in a view",
            ),
            (
                "Flags: Invoice where paid >= true",
                "\">=\" needs a number, date or datetime, but \"paid\" is a bool; expected \"=\" or \"!=\" for it, e.g. \"paid = true\"",
            ),
            (
                "Flags: Invoice where paid =",
                "no value after \"=\"; expected a value, e.g. \"paid = true\"",
            ),
            (
                "Flags: Invoice where Client.name = \"x\"",
                "entity \"Invoice\" has no field \"Client.name\"; expected one of number, client, amount, issued_on, due_on, status, paid, note, copies",
            ),
        ];
        for (line, problem) in cases {
            assert_eq!(
                error("Views", line),
                format!("views line 1 {line:?}: {problem}"),
                "{line}"
            );
        }
        let not_a_view = "not a view; expected \"Name: Entity where field op value and … sorted by field [desc], sum field\", e.g. \"Overdue: Invoice where due_on < today and status != paid sorted by due_on, sum amount\"";
        for line in [
            "Overdue Invoice where x",
            "Overdue: where paid = true",
            "Totals: Invoice, sum",
        ] {
            assert_eq!(
                error("Views", line),
                format!("views line 1 {line:?}: {not_a_view}"),
                "{line}"
            );
        }
    }
}
