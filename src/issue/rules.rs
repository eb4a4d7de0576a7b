//! The `### Rules` language: one rule per line, about one entity's rows.
//!
//! - `Entity.field op value` with `op` one of `> >= < <= = !=` (also `≥ ≤ ≠ ==`) and a value
//!   that is a number, a quoted text (an ISO date or datetime for those fields), `true`/`false`,
//!   an enum choice, another field of the same entity (`Entity.field` or `field`), `today` or
//!   `now`;
//! - `Entity.field between low and high` (both included);
//! - `Entity.field length min..max` (characters);
//! - `Entity.field default value` (`today`/`now` for dates and datetimes; never a field, so
//!   defaults cannot form a cycle);
//! - `Entity: unique field, field` (together, per account or workspace);
//! - `Entity: no overlap start..end [per field, …]` (half-open intervals).
//!
//! Labels (`Entity.field label "…"`) are read by the caller, in either section.

use crate::issue::error::StatementProblem;
use crate::issue::names::{At, Model};
use crate::issue::sections::{find_symbol, find_word, split_word};
use crate::spec::{CompareOp, Rule, RuleCheck};

/// The comparison symbols, longest first at any position.
pub(super) const SYMBOLS: &[&str] = &[">=", "<=", "!=", "==", "≥", "≤", "≠", ">", "<", "="];

/// The operator a symbol stands for.
pub(super) fn compare_op(symbol: &str) -> CompareOp {
    match symbol {
        ">=" | "≥" => CompareOp::Ge,
        "<=" | "≤" => CompareOp::Le,
        "!=" | "≠" => CompareOp::Ne,
        ">" => CompareOp::Gt,
        "<" => CompareOp::Lt,
        _ => CompareOp::Eq,
    }
}

/// `text` after the keywords `words` (ASCII, case-insensitive, whitespace between them).
pub(super) fn strip_keywords<'a>(text: &'a str, words: &[&str]) -> Option<&'a str> {
    let mut rest = text.trim_start();
    for word in words {
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = &rest[word.len()..];
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            return None;
        }
        rest = rest.trim_start();
    }
    Some(rest)
}

/// Parses one rule line (bullet removed). Types are checked by the caller.
pub(super) fn parse_rule(model: &Model, line: &str) -> Result<Rule, StatementProblem> {
    let rule = |at: At, check| Rule {
        entity: model.entities[at.entity].name.clone(),
        statement: line.to_string(),
        check,
    };
    if let Some((head, tail)) = line.split_once(':')
        && !head.contains(['.', '<', '>', '=', '!', '"'])
    {
        if let Some(rest) = strip_keywords(tail, &["unique"]) {
            let entity = model.entity(head)?;
            let fields = field_list(model, entity, rest)?;
            return Ok(Rule {
                entity: model.entities[entity].name.clone(),
                statement: line.to_string(),
                check: RuleCheck::Unique { fields },
            });
        }
        if let Some(rest) = strip_keywords(tail, &["no", "overlap"]) {
            let entity = model.entity(head)?;
            let parts = split_word(rest, "per");
            let (range, per) = match parts.as_slice() {
                [range] => (*range, Vec::new()),
                [range, per] if !per.is_empty() => (*range, field_list(model, entity, per)?),
                _ => return Err(StatementProblem::BadOverlap),
            };
            let (start, end) = range
                .split_once("..")
                .filter(|(s, e)| !s.trim().is_empty() && !e.trim().is_empty())
                .ok_or(StatementProblem::BadOverlap)?;
            let ident = |text: &str| -> Result<String, StatementProblem> {
                let field = model.field(entity, text)?;
                Ok(model.entities[entity].fields[field].ident.clone())
            };
            return Ok(Rule {
                entity: model.entities[entity].name.clone(),
                statement: line.to_string(),
                check: RuleCheck::NoOverlap {
                    start: ident(start)?,
                    end: ident(end)?,
                    per,
                },
            });
        }
    }

    // `Entity.field <op or keyword> …`: the first operator or keyword splits the line.
    // A keyword may also be a word of a field's name (`Account.is default = true`): the
    // first operator or keyword whose left side names a field wins, else the first one (for
    // its error message).
    let mut candidates: Vec<(usize, &str)> = ["between", "length", "default"]
        .into_iter()
        .filter_map(|w| find_word(line, w).map(|at| (at, w)))
        .chain(find_symbol(line, SYMBOLS))
        .collect();
    candidates.sort();
    let Some(&first) = candidates.first() else {
        return Err(StatementProblem::NotARule);
    };
    let (at, word) = candidates
        .iter()
        .copied()
        .find(|(at, _)| model.entity_field(line[..*at].trim()).is_ok())
        .unwrap_or(first);
    let left = line[..at].trim();
    let right = line[at + word.len()..].trim();
    let place = model.entity_field(left)?;
    let ident = model.built(place).ident.clone();
    match word {
        "between" => {
            let parts = split_word(right, "and");
            let [low, high] = parts.as_slice() else {
                return Err(StatementProblem::BadBetween);
            };
            if low.is_empty() || high.is_empty() {
                return Err(StatementProblem::BadBetween);
            }
            let example = |v: &str| format!("{left} between {v} and {v}");
            let min = model.operand(place, low, "between", &example)?;
            let max = model.operand(place, high, "and", &example)?;
            Ok(rule(
                place,
                RuleCheck::Between {
                    field: ident,
                    min,
                    max,
                },
            ))
        }
        "length" => {
            let bad = || StatementProblem::BadLength {
                found: right.to_string(),
            };
            let (min, max) = right.split_once("..").ok_or_else(bad)?;
            let number = |t: &str| t.trim().parse::<u32>().map_err(|_| bad());
            Ok(rule(
                place,
                RuleCheck::Length {
                    field: ident,
                    min: number(min)?,
                    max: number(max)?,
                },
            ))
        }
        "default" => {
            let value =
                model.operand(place, right, "default", &|v| format!("{left} default {v}"))?;
            Ok(rule(
                place,
                RuleCheck::Default {
                    field: ident,
                    value,
                },
            ))
        }
        symbol => {
            let op = compare_op(symbol);
            let value = model.operand(place, right, symbol, &|v| {
                format!("{left} {} {v}", op.symbol())
            })?;
            Ok(rule(
                place,
                RuleCheck::Compare {
                    field: ident,
                    op,
                    value,
                },
            ))
        }
    }
}

/// `a, b, c` → the idents of those fields of entity `e` (order kept; checked for
/// repeats later).
fn field_list(model: &Model, e: usize, text: &str) -> Result<Vec<String>, StatementProblem> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (entity, name) = match t.split_once('.') {
                Some((entity, name)) if model.entity(entity).ok() == Some(e) => (e, name),
                _ => (e, t),
            };
            let field = model.field(entity, name)?;
            Ok(model.entities[e].fields[field].ident.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::issue::statements::testing::{error, parse};
    use crate::spec::{CompareOp, Operand, RuleCheck};

    fn check(line: &str) -> RuleCheck {
        let spec = parse("Rules", &[line]).unwrap();
        assert_eq!(spec.rules.len(), 1, "{line}");
        assert_eq!(spec.rules[0].statement, line.trim_start_matches("- "));
        spec.rules[0].check.clone()
    }

    fn compare(field: &str, op: CompareOp, value: Operand) -> RuleCheck {
        RuleCheck::Compare {
            field: field.into(),
            op,
            value,
        }
    }

    fn number(n: &str) -> Operand {
        Operand::Number(n.into())
    }

    #[test]
    fn comparisons_with_every_kind_of_value() {
        use CompareOp::*;
        let cases = [
            ("Invoice.amount >= 0", compare("amount", Ge, number("0"))),
            (
                "- invoice.AMOUNT > -12.50",
                compare("amount", Gt, number("-12.50")),
            ),
            ("Invoice.copies <= +3", compare("copies", Le, number("3"))),
            (
                "Invoice.amount ≥ Invoice.copies",
                compare("amount", Ge, Operand::Field("copies".into())),
            ),
            (
                "Invoice.due_on >= Invoice.issued_on",
                compare("due_on", Ge, Operand::Field("issued_on".into())),
            ),
            (
                "Invoice.due_on >= issued_on",
                compare("due_on", Ge, Operand::Field("issued_on".into())),
            ),
            (
                "Invoice.due_on >= today",
                compare("due_on", Ge, Operand::Today),
            ),
            (
                "Invoice.due_on < \"2030-01-31\"",
                compare("due_on", Lt, Operand::Text("2030-01-31".into())),
            ),
            (
                "Booking.ends_at > Booking.starts_at",
                compare("ends_at", Gt, Operand::Field("starts_at".into())),
            ),
            (
                "Booking.starts_at >= NOW",
                compare("starts_at", Ge, Operand::Now),
            ),
            (
                "Booking.starts_at < \"2030-01-31T09:00\"",
                compare("starts_at", Lt, Operand::Text("2030-01-31T09:00".into())),
            ),
            (
                "Invoice.status != \"Paid\"",
                compare("status", Ne, Operand::Choice("paid".into())),
            ),
            (
                "Invoice.status = sent",
                compare("status", Eq, Operand::Choice("sent".into())),
            ),
            (
                "Invoice.paid == false",
                compare("paid", Eq, Operand::Bool(false)),
            ),
            ("Client.vip ≠ true", compare("vip", Ne, Operand::Bool(true))),
            (
                "Invoice.number != \"a >= b\"",
                compare("number", Ne, Operand::Text("a >= b".into())),
            ),
            (
                "Client.email != Client.name",
                compare("email", Ne, Operand::Field("name".into())),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(check(line), expected, "{line}");
        }
    }

    #[test]
    fn a_keyword_inside_a_field_name_is_part_of_the_name() {
        let body = "### App name\nT\n### Data model\nAccount: is default (bool), max length (int), kind (enum: label|note)\n\
            ### Rules\nAccount.is default = true\nAccount.max length between 1 and 9\nAccount.kind default label\n";
        let issue = crate::spec::IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        let spec = crate::issue::form::parse_issue_form(&issue, body).unwrap();
        assert_eq!(
            spec.rules[0].check,
            compare("is_default", CompareOp::Eq, Operand::Bool(true))
        );
        assert_eq!(spec.rules[1].check.fields(), ["max_length"]);
        assert_eq!(
            spec.rules[2].check,
            RuleCheck::Default {
                field: "kind".into(),
                value: Operand::Choice("label".into())
            }
        );
    }

    #[test]
    fn between_length_default_unique_no_overlap() {
        assert_eq!(
            check("Invoice.amount between 0 and 100000"),
            RuleCheck::Between {
                field: "amount".into(),
                min: number("0"),
                max: number("100000"),
            }
        );
        assert_eq!(
            check("Invoice.due_on BETWEEN \"2026-01-01\" AND \"2026-12-31\""),
            RuleCheck::Between {
                field: "due_on".into(),
                min: Operand::Text("2026-01-01".into()),
                max: Operand::Text("2026-12-31".into()),
            }
        );
        assert_eq!(
            check("Client.name length 2..80"),
            RuleCheck::Length {
                field: "name".into(),
                min: 2,
                max: 80,
            }
        );
        let default = |field: &str, value| RuleCheck::Default {
            field: field.into(),
            value,
        };
        assert_eq!(
            check("Invoice.status default draft"),
            default("status", Operand::Choice("draft".into()))
        );
        assert_eq!(
            check("Invoice.issued_on default today"),
            default("issued_on", Operand::Today)
        );
        assert_eq!(
            check("Booking.starts_at default now"),
            default("starts_at", Operand::Now)
        );
        assert_eq!(
            check("Invoice.amount default -1.50"),
            default("amount", number("-1.50"))
        );
        assert_eq!(
            check("Invoice.paid default false"),
            default("paid", Operand::Bool(false))
        );
        assert_eq!(
            check("Invoice.note default \"Thanks, see you\""),
            default("note", Operand::Text("Thanks, see you".into()))
        );
        assert_eq!(
            check("Booking: unique room, starts_at"),
            RuleCheck::Unique {
                fields: vec!["room".into(), "starts_at".into()]
            }
        );
        assert_eq!(
            check("invoice:  UNIQUE number"),
            RuleCheck::Unique {
                fields: vec!["number".into()]
            }
        );
        assert_eq!(
            check("Booking: no overlap starts_at..ends_at per room"),
            RuleCheck::NoOverlap {
                start: "starts_at".into(),
                end: "ends_at".into(),
                per: vec!["room".into()],
            }
        );
        assert_eq!(
            check("Booking: No  Overlap starts_at .. ends_at"),
            RuleCheck::NoOverlap {
                start: "starts_at".into(),
                end: "ends_at".into(),
                per: vec![],
            }
        );
    }

    #[test]
    fn type_mismatches() {
        let cases = [
            (
                "Invoice.paid >= true",
                "\">=\" needs a number, date or datetime, but \"paid\" is a bool; expected \"=\" or \"!=\" for it, e.g. \"Invoice.paid = true\"",
            ),
            (
                "Invoice.note < \"b\"",
                "\"<\" needs a number, date or datetime, but \"note\" is a long text; expected \"=\" or \"!=\" for it, e.g. \"Invoice.note = \\\"x\\\"\"",
            ),
            (
                "Invoice.amount >= \"x\"",
                "\"amount\" is a decimal and cannot take the text \"x\"; expected a number or another int or decimal field, e.g. \"Invoice.amount >= 0\"",
            ),
            (
                "Invoice.amount >= Invoice.note",
                "\"amount\" is a decimal and cannot take the field \"note\" (a long text); expected a number or another int or decimal field, e.g. \"Invoice.amount >= 0\"",
            ),
            (
                "Invoice.copies >= 1.5",
                "\"copies\" is an int and cannot take the number 1.5; expected a whole number or another int or decimal field, e.g. \"Invoice.copies >= 0\"",
            ),
            (
                "Invoice.due_on >= now",
                "\"due_on\" is a date and cannot take now; expected today, a quoted date such as \"2026-01-31\" or another date field, e.g. \"Invoice.due_on >= today\"",
            ),
            (
                "Invoice.due_on >= \"2026-02-30\"",
                "\"due_on\" is a date and cannot take the text \"2026-02-30\"; expected today, a quoted date such as \"2026-01-31\" or another date field, e.g. \"Invoice.due_on >= today\"",
            ),
            (
                "Booking.starts_at > today",
                "\"starts_at\" is a datetime and cannot take today; expected now, a quoted date and time such as \"2026-01-31T09:00\" or another datetime field, e.g. \"Booking.starts_at > now\"",
            ),
            (
                "Invoice.client = 3",
                "\"client\" is a reference to Client and cannot be compared with a value; expected \"client is empty\" or \"client is not empty\" in a view",
            ),
            (
                "Invoice.amount >= amount",
                "\"amount\" is compared with itself; expected another field or a value",
            ),
            (
                "Invoice.note = hello",
                "\"hello\" is neither a value nor a field of \"Invoice\"; expected a quoted text or another text field, e.g. \"Invoice.note = \\\"x\\\"\"",
            ),
            (
                "Client.vip = yes",
                "\"yes\" is neither a value nor a field of \"Client\"; expected true or false, e.g. \"Client.vip = true\"",
            ),
            (
                "Invoice.note between 1 and 5",
                "\"between\" needs a number, date or datetime field, but \"note\" is a long text; expected e.g. \"Invoice.note length 2..80\"",
            ),
            (
                "Invoice.amount between 10 and 5",
                "the lower bound 10 is above the upper bound 5; expected \"between 5 and 10\"",
            ),
            (
                "Invoice.amount length 1..5",
                "\"length\" counts the characters of a text, but \"amount\" is a decimal; expected e.g. \"Invoice.amount between 0 and 100\"",
            ),
            (
                "Client.name length 80..2",
                "the length range 80..2 is empty; expected a minimum at most the maximum and a maximum of at least 1, e.g. \"length 2..80\"",
            ),
            (
                "Invoice.client default 1",
                "\"client\" is a reference to Client, which cannot have a default; expected a default on a text, number, bool, enum, date or datetime field, e.g. \"Invoice.status default draft\"",
            ),
            (
                "Invoice.due_on default Invoice.issued_on",
                "the default of \"due_on\" names the field \"issued_on\"; expected a value (defaults cannot copy another field), e.g. \"Invoice.due_on default today\"",
            ),
            (
                "Invoice.status default drafty",
                "\"drafty\" is not a choice of \"status\"; expected one of draft|sent|paid",
            ),
            (
                "Invoice: no overlap issued_on..amount",
                "\"no overlap\" needs date or datetime start and end fields, but \"amount\" is a decimal; expected e.g. \"Booking: no overlap starts_at..ends_at per room\"",
            ),
            (
                "Booking: no overlap starts_at..day",
                "the start \"starts_at\" is a datetime but the end \"day\" is a date; expected two dates or two datetimes",
            ),
            (
                "Booking: no overlap starts_at..starts_at",
                "the interval starts and ends with the same field \"starts_at\"; expected two fields, e.g. \"starts_at..ends_at\"",
            ),
            (
                "Booking: no overlap starts_at..ends_at per room, room",
                "\"room\" is listed twice; expected each field once",
            ),
            (
                "Invoice: unique number, number",
                "\"number\" is listed twice; expected each field once",
            ),
        ];
        for (line, problem) in cases {
            assert_eq!(
                error("Rules", line),
                format!("rules line 1 {line:?}: {problem}"),
                "{line}"
            );
        }
    }

    #[test]
    fn unknown_names_and_bad_forms() {
        let cases = [
            (
                "Invoice.amout >= 0",
                "entity \"Invoice\" has no field \"amout\"; expected one of number, client, amount, issued_on, due_on, status, paid, note, copies",
            ),
            (
                "Invoce.amount >= 0",
                "no entity \"Invoce\" in the data model; expected one of Client, Invoice, Room, Booking",
            ),
            (
                "Invoice.status = drafty",
                "\"drafty\" is not a choice of \"status\"; expected one of draft|sent|paid",
            ),
            (
                "Invoice.amount >= Client.name",
                "\"Client.name\" is not a field of \"Invoice\"; expected a value or a field of the same entity, e.g. \"Invoice.due_on >= Invoice.issued_on\"",
            ),
            (
                "Invoice.amount >=",
                "no value after \">=\"; expected a value, e.g. \"Invoice.amount >= 0\"",
            ),
            (
                "Invoice.status default",
                "no value after \"default\"; expected a value, e.g. \"Invoice.status default draft\"",
            ),
            (
                "amount >= 0",
                "\"amount\" does not name a field as \"Entity.field\"; expected e.g. \"Invoice.amount >= 0\"",
            ),
            (
                "Invoice.amount between 1",
                "expected \"between <low> and <high>\", e.g. \"Invoice.amount between 0 and 100000\"",
            ),
            (
                "Client.name length two..80",
                "\"two..80\" is not a length range; expected \"length <min>..<max>\" in whole numbers, e.g. \"Client.name length 2..80\"",
            ),
            (
                "Booking: no overlap starts_at",
                "expected \"Entity: no overlap start..end [per field, …]\", e.g. \"Booking: no overlap starts_at..ends_at per room\"",
            ),
            (
                "Booking: no overlap starts_at..ends_at per",
                "expected \"Entity: no overlap start..end [per field, …]\", e.g. \"Booking: no overlap starts_at..ends_at per room\"",
            ),
            (
                "Invoice: unique",
                "\"unique\" names no field; expected e.g. \"Booking: unique room, starts_at\"",
            ),
            (
                "Invoice: unique numbr",
                "entity \"Invoice\" has no field \"numbr\"; expected one of number, client, amount, issued_on, due_on, status, paid, note, copies",
            ),
        ];
        for (line, problem) in cases {
            assert_eq!(
                error("Rules", line),
                format!("rules line 1 {line:?}: {problem}"),
                "{line}"
            );
        }
        let not_a_rule = "not a rule; expected one of \"Invoice.amount >= 0\", \"Invoice.due_on >= Invoice.issued_on\", \"Invoice.amount between 0 and 100000\", \"Client.name length 2..80\", \"Invoice.status default draft\", \"Booking: unique room, starts_at\", \"Booking: no overlap starts_at..ends_at per room\" or 'Invoice.issued_on label \"Issued on\"'";
        for line in ["Invoice.amount", "amounts must be positive"] {
            assert_eq!(
                error("Rules", line),
                format!("rules line 1 {line:?}: {not_a_rule}")
            );
        }
    }

    #[test]
    fn duplicate_defaults_line_numbers_and_limits() {
        assert_eq!(
            parse(
                "Rules",
                &[
                    "",
                    "Invoice.amount >= 0",
                    "",
                    "- Invoice.status default draft",
                    "* Invoice.status default sent"
                ]
            )
            .unwrap_err(),
            "rules line 4 \"* Invoice.status default sent\": \"status\" already has a default (\"Invoice.status default draft\"); expected one default per field"
        );
        let many: Vec<String> = (0..=crate::issue::error::MAX_RULES)
            .map(|i| format!("Invoice.amount >= {i}"))
            .collect();
        let lines: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            parse("Rules", &lines).unwrap_err(),
            "rules line 201 \"Invoice.amount >= 200\": more than 200 rules; expected at most 200"
        );
        // An empty section (GitHub's `_No response_`) has no rules.
        assert!(parse("Rules", &["_No response_"]).unwrap().rules.is_empty());
    }
}
