//! Reads the `### Rules` and `### Views` sections against the data model: each line is a
//! label (`Entity.field label "…"`, in either section), a rule ([`crate::issue::rules`]) or a
//! view ([`crate::issue::views`]), parsed and then type-checked ([`crate::spec::check`]) at
//! once, so an error names the line it came from. Labels are applied to the entities.

use crate::ident;
use crate::issue::error::{FormError, MAX_RULES, MAX_VIEWS, StatementProblem};
use crate::issue::model::RawEntity;
use crate::issue::names::{Model, label_statement};
use crate::issue::rules::parse_rule;
use crate::issue::sections::{quote, statement_lines};
use crate::issue::views::{RawView, parse_view};
use crate::spec::check::{self, Problem};
use crate::spec::{Entity, Rule, View};

/// Rules and views of a form, labels applied to `entities`.
pub(super) fn read(
    raw: &[RawEntity],
    entities: &mut [Entity],
    rules_block: &[&str],
    views_block: &[&str],
) -> Result<(Vec<Rule>, Vec<View>), FormError> {
    let built: Vec<Entity> = entities.to_vec();
    let model = Model {
        raw,
        entities: &built,
    };
    let name: check::Namer = &|e, f| model.written(e, f);
    // (entity, field) → (label, section, line) of the first label statement.
    let mut labels: Vec<((usize, usize), String)> = Vec::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut raw_views: Vec<(RawView, String)> = Vec::new();

    for (section, block) in [("rules", rules_block), ("views", views_block)] {
        for (line, trimmed, text) in statement_lines(block) {
            let fail = |problem: StatementProblem| FormError::Statement {
                section,
                line,
                text: quote(trimmed),
                problem: Box::new(problem),
            };
            if let Some(label) = label_statement(&model, text) {
                let (at, label) = label.map_err(fail)?;
                let key = (at.entity, at.field);
                if let Some((_, first)) = labels.iter().find(|(k, _)| *k == key) {
                    return Err(fail(StatementProblem::DuplicateLabel {
                        field: name(&built[at.entity], Some(model.built(at))),
                        first: first.clone(),
                    }));
                }
                labels.push((key, label));
                continue;
            }
            if section == "rules" {
                if rules.len() == MAX_RULES {
                    return Err(fail(StatementProblem::TooManyRules));
                }
                let rule = parse_rule(&model, text).map_err(fail)?;
                let entity = model
                    .entities
                    .iter()
                    .find(|e| e.name == rule.entity)
                    .expect("parse_rule names a known entity");
                let earlier: Vec<&Rule> =
                    rules.iter().filter(|r| r.entity == rule.entity).collect();
                check::rule(entity, &rule.check, &earlier, name).map_err(|p| fail(p.into()))?;
                rules.push(rule);
            } else {
                if raw_views.len() == MAX_VIEWS {
                    return Err(fail(StatementProblem::TooManyViews));
                }
                let view = parse_view(&model, text).map_err(fail)?;
                let entity = &built[view.entity];
                for condition in &view.conditions {
                    check::condition(entity, condition, name).map_err(|p| fail(p.into()))?;
                }
                let key = view.name.to_lowercase();
                if raw_views.iter().any(|(v, _)| v.name.to_lowercase() == key) {
                    return Err(fail(
                        Problem::DuplicateView {
                            name: view.name.clone(),
                        }
                        .into(),
                    ));
                }
                let probe = View {
                    name: view.name.clone(),
                    slug: String::new(),
                    ident: String::new(),
                    entity: entity.name.clone(),
                    statement: text.to_string(),
                    conditions: Vec::new(),
                    sort: view.sort.clone(),
                    sums: view.sums.clone(),
                };
                check::view_tail(entity, &probe, name).map_err(|p| fail(p.into()))?;
                raw_views.push((view, text.to_string()));
            }
        }
    }

    for ((e, f), label) in labels {
        entities[e].fields[f].label = label;
    }
    let names: Vec<&str> = raw_views.iter().map(|(v, _)| v.name.as_str()).collect();
    let views = ident::view_names(&names)
        .into_iter()
        .zip(raw_views)
        .map(|((slug, ident), (view, statement))| View {
            name: view.name,
            slug,
            ident,
            entity: built[view.entity].name.clone(),
            statement,
            conditions: view.conditions,
            sort: view.sort,
            sums: view.sums,
        })
        .collect();
    Ok((rules, views))
}

/// Test helpers shared by the rules and views tests: a data model covering every type.
#[cfg(test)]
pub(super) mod testing {
    use crate::issue::form::parse_issue_form;
    use crate::spec::{IssueRef, Spec};

    /// Client, Invoice (every scalar type), Room, Booking.
    pub(crate) const MODEL: &str = "Client: name (text, required), email (email), vip (bool)\n\
        Invoice: number (text, required), client (ref Client), amount (decimal, required), issued_on (date, required), due_on (date), status (enum: draft|sent|paid), paid (bool), note (longtext), copies (int)\n\
        Room: name (text), capacity (int)\n\
        Booking: room (ref Room, required), starts_at (datetime, required), ends_at (datetime, required), day (date)";

    /// The spec of a form with [`MODEL`] and `lines` under `### {section}`.
    pub(crate) fn parse(section: &str, lines: &[&str]) -> Result<Spec, String> {
        let body = format!(
            "### App name\n\nT\n\n### Data model\n\n{MODEL}\n\n### {section}\n\n```\n{}\n```\n",
            lines.join("\n")
        );
        let issue = IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        let spec = parse_issue_form(&issue, &body).map_err(|e| e.to_string())?;
        // What the parser accepts, a spec.yaml check accepts too.
        spec.check().expect("a parsed spec passes Spec::check");
        Ok(spec)
    }

    /// The error of one line under `### {section}`.
    pub(crate) fn error(section: &str, line: &str) -> String {
        parse(section, &[line]).expect_err(line)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{error, parse};

    #[test]
    fn labels_in_either_section_or_on_the_data_model_line() {
        let spec = parse(
            "Rules",
            &[
                "Invoice.issued_on label \"Issue date\"",
                "invoice.Due_On label “Payable by”",
            ],
        )
        .unwrap();
        let invoice = &spec.entities[1];
        assert_eq!(invoice.field("issued_on").unwrap().label, "Issue date");
        assert_eq!(invoice.field("due_on").unwrap().label, "Payable by");
        // Without a label, a bare identifier is made readable.
        assert_eq!(invoice.field("copies").unwrap().label, "Copies");
        assert!(spec.rules.is_empty());
        assert!(spec.requirements.functional[1].contains("Issue date, Payable by"));

        let spec = parse("Views", &["Client.vip label \"VIP\""]).unwrap();
        assert_eq!(spec.entities[0].field("vip").unwrap().label, "VIP");
        assert!(spec.views.is_empty());

        let body = "### App name\nT\n### Data model\nInvoice: issued_on (date, required, label \"Issued, on\"), n (int, label “Count”)\n";
        let issue = crate::spec::IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        let spec = crate::issue::form::parse_issue_form(&issue, body).unwrap();
        let f = &spec.entities[0].fields;
        assert_eq!((f[0].label.as_str(), f[0].required), ("Issued, on", true));
        assert_eq!(f[1].label, "Count");
    }

    #[test]
    fn label_errors() {
        assert_eq!(
            error("Rules", "Invoice.issued_on label \"\""),
            "rules line 1 \"Invoice.issued_on label \\\"\\\"\": expected a quoted, non-empty label, e.g. 'Invoice.issued_on label \"Issued on\"'"
        );
        assert_eq!(
            error("Views", "Invoice.issued_on label Issued"),
            "views line 1 \"Invoice.issued_on label Issued\": expected a quoted, non-empty label, e.g. 'Invoice.issued_on label \"Issued on\"'"
        );
        assert_eq!(
            error("Rules", "Invoice.issued label \"Issued\""),
            "rules line 1 \"Invoice.issued label \\\"Issued\\\"\": entity \"Invoice\" has no field \"issued\"; expected one of number, client, amount, issued_on, due_on, status, paid, note, copies"
        );
        assert_eq!(
            parse(
                "Rules",
                &["Invoice.note label \"A\"", "", "Invoice.note label \"B\""]
            )
            .unwrap_err(),
            "rules line 3 \"Invoice.note label \\\"B\\\"\": \"note\" already has the label \"A\"; expected one label per field"
        );
        // `label` as an enum choice is a value, not a label statement.
        let body = "### App name\nT\n### Data model\nTask: kind (enum: label|note)\n### Rules\nTask.kind default label\n";
        let issue = crate::spec::IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        let spec = crate::issue::form::parse_issue_form(&issue, body).unwrap();
        assert_eq!(spec.rules[0].statement, "Task.kind default label");
        let body = "### App name\nT\n### Data model\nInvoice: issued_on (date, label Issued)\n";
        let issue = crate::spec::IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        assert_eq!(
            crate::issue::form::parse_issue_form(&issue, body)
                .unwrap_err()
                .to_string(),
            "data model line 1 \"Invoice: issued_on (date, label Issued)\": the label of field \"issued_on\" is not a quoted, non-empty text; expected 'issued_on (type, label \"Readable name\")'"
        );
    }

    #[test]
    fn names_match_like_data_model_names_in_any_language() {
        let body = "### App name\nСчета\n### Data model\nСчёт: Сумма (decimal), Срок оплаты (date), Статус (enum: черновик|оплачен)\n\
            ### Rules\n- счёт.сумма >= 0\n- Schiot.srok_oplaty >= today\n- Счёт.статус default Черновик\n\
            ### Views\n- Неоплаченные: **Счёт** where статус != оплачен and срок   оплаты < today sorted by Срок оплаты desc, sum сумма\n";
        let issue = crate::spec::IssueRef {
            number: 1,
            title: String::new(),
            url: String::new(),
        };
        let spec = crate::issue::form::parse_issue_form(&issue, body).unwrap();
        let fields: Vec<&str> = spec.rules.iter().flat_map(|r| r.check.fields()).collect();
        assert_eq!(fields, ["summa", "srok_oplaty", "status"]);
        assert!(spec.rules.iter().all(|r| r.entity == "Schiot"));
        let view = &spec.views[0];
        assert_eq!(
            (
                view.name.as_str(),
                view.slug.as_str(),
                view.ident.as_str(),
                view.entity.as_str()
            ),
            ("Неоплаченные", "neoplachennye", "neoplachennye", "Schiot")
        );
        assert_eq!(view.sums, ["summa"]);
        let err = crate::issue::form::parse_issue_form(
            &issue,
            &body.replace("- счёт.сумма >= 0", "- Счёт.статус >= 0"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "rules line 1 \"- Счёт.статус >= 0\": \">=\" needs a number, date or datetime, but \"Статус\" is an enum; expected \"=\" or \"!=\" for it, e.g. \"Счёт.Статус = черновик\""
        );
    }
}

#[cfg(test)]
mod props {
    use super::testing::parse;
    use proptest::prelude::*;

    /// Lines made of the languages' own words, names, operators and odd characters.
    fn statement() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "Invoice",
            "Invoice.",
            "Client.name",
            "Booking:",
            "Room",
            "amount",
            "due_on",
            "status",
            "starts_at",
            "ends_at",
            "room",
            "note",
            ">=",
            "<",
            "=",
            "!=",
            "≥",
            "between",
            "and",
            "length",
            "default",
            "label",
            "unique",
            "no overlap",
            "per",
            "where",
            "in",
            "is",
            "not",
            "empty",
            "sorted by",
            "desc",
            ", sum",
            "today",
            "now",
            "draft",
            "paid",
            "0",
            "-1.5",
            "2..80",
            "..",
            "\"",
            "“",
            "'",
            "|",
            ",",
            ":",
            ".",
            " ",
            "Счёт",
            "🦄",
            "\u{301}",
        ]);
        prop::collection::vec(token, 0..12).prop_map(|t| t.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn rules_and_views_never_panic_and_errors_are_one_line(
            rules in prop::collection::vec(statement(), 0..4),
            views in prop::collection::vec(statement(), 0..4),
            noise in any::<String>(),
        ) {
            for (section, lines) in [("Rules", &rules), ("Views", &views)] {
                let mut lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                lines.push(&noise);
                // `parse` also checks that an accepted spec passes Spec::check.
                if let Err(message) = parse(section, &lines) {
                    prop_assert!(!message.contains('\n'), "{message}");
                    prop_assert!(message.starts_with(&format!("{} line ", section.to_lowercase())), "{message}");
                }
            }
        }
    }
}
