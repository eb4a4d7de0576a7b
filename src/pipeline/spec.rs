//! Spec (product strategist): the issue → a [`Spec`].
//!
//! In: the trigger's issue (title, body as it was at trigger time, sanitised at intake) and
//! the LLM, if any. Out: a `Spec`, and whether the strategist wrote it. An issue form is
//! parsed deterministically (`crate::issue::form`); free text needs the strategist, whose
//! draft in the form's own format (data model, rules, views) goes through the same parser
//! (its errors are quoted back to the model). Fails with [`E2eError::Issue`] quoting the bad
//! line, or explaining how to use the form.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::error::E2eError;
use crate::event::Issue;
use crate::ident::ReservedNames;
use crate::issue::{form, sanitize};
use crate::llm::schema::answer_schema;
use crate::llm::{Ask, Llm, Role};
use crate::pipeline::prompt::{data, parse_answer, prompt};
use crate::spec::Spec;

/// How to fix an issue the action cannot read, appended to every spec error.
pub const FORM_HINT: &str = "use the e2e issue form (copy templates/issue-form.yml of e2e-action to .github/ISSUE_TEMPLATE/), then edit the issue or comment `/e2e retry`";

/// The spec stage: the form when the issue is one (or when there is no LLM), else the
/// strategist. Returns the spec and whether the strategist wrote it. Identifiers avoid the
/// pack's `reserved` names.
pub async fn spec(
    issue: &Issue,
    llm: Option<&Llm>,
    reserved: &ReservedNames,
) -> Result<(Spec, bool), E2eError> {
    match llm {
        Some(llm) if !form::is_issue_form(&issue.body) => {
            Ok((strategist(llm, issue, reserved).await?, true))
        }
        _ => Ok((from_issue(issue, reserved)?, false)),
    }
}

/// Builds the spec of an issue written with the issue form; identifiers avoid the pack's
/// `reserved` names.
pub fn from_issue(issue: &Issue, reserved: &ReservedNames) -> Result<Spec, E2eError> {
    if !form::is_issue_form(&issue.body) {
        return Err(E2eError::Issue(format!(
            "issue #{} is free text, which needs an LLM (llm-provider is none); {FORM_HINT}",
            issue.number
        )));
    }
    form::parse_issue_form_for(&issue.reference(), &issue.body, reserved).map_err(|e| {
        // Annotations can point only at repository files: the issue body's line goes in the text.
        let at = e
            .body_line(&issue.body)
            .map(|n| format!(" (line {n} of the issue body)"))
            .unwrap_or_default();
        E2eError::Issue(format!(
            "{e}{at}; fix the issue body and edit the issue to retry"
        ))
    })
}

/// The strategist's draft, in the issue form's terms.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Draft {
    /// Short product name
    app_name: String,
    /// One or two sentences: what the app is for
    #[serde(default)]
    summary: String,
    /// One entity per line in the issue-form format
    data_model: Vec<String>,
    /// Requested features, one per item
    #[serde(default)]
    features: Vec<String>,
    /// One rule per line in the issue form's Rules format; empty when the request states none
    #[serde(default)]
    rules: Vec<String>,
    /// One view per line in the issue form's Views format; empty when the request asks for none
    #[serde(default)]
    views: Vec<String>,
}

/// Most rules and views a strategist draft may hold (a draft is a starting point, not a
/// rule book; the issue form takes more).
const MAX_DRAFT_STATEMENTS: usize = 30;

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Draft {
    fn form_body(&self) -> String {
        let mut body = format!(
            "### App name\n\n{}\n\n### Summary\n\n{}\n\n### Data model\n\n",
            one_line(&self.app_name),
            if self.summary.trim().is_empty() {
                "_No response_".into()
            } else {
                self.summary.trim().to_string()
            }
        );
        for line in &self.data_model {
            body.push_str(&one_line(line));
            body.push('\n');
        }
        // Rules and views go through the same parser as the issue form's sections, so their
        // errors (quoted back to the model) carry the same line numbers and examples.
        for (heading, lines) in [("Rules", &self.rules), ("Views", &self.views)] {
            if !lines.is_empty() {
                body.push_str(&format!("\n### {heading}\n\n"));
                for line in lines {
                    body.push_str(&one_line(line));
                    body.push('\n');
                }
            }
        }
        body.push_str("\n### Features\n\n");
        for f in &self.features {
            body.push_str(&format!("- [X] {}\n", one_line(f)));
        }
        body
    }
}

/// Free-text issue → spec, through a draft the form parser accepts.
pub async fn strategist(
    llm: &Llm,
    issue: &Issue,
    reserved: &ReservedNames,
) -> Result<Spec, E2eError> {
    let reference = issue.reference();
    let (system, user) = prompt(
        "strategist",
        json!({"title": data(&issue.title), "body": data(&issue.body), "problem": ""}),
    )?;
    let ask = Ask {
        role: Role::Strategist,
        stage: "spec",
        system,
        user,
        schema_name: "draft",
        schema: answer_schema::<Draft>(),
        max_tokens: 2000,
    };
    llm.ask(&ask, |v| {
        let draft: Draft = parse_answer(v, "draft")?;
        if draft.data_model.len() > 12 {
            return Err(format!("{} entities; at most 12", draft.data_model.len()));
        }
        if draft.rules.len() > MAX_DRAFT_STATEMENTS || draft.views.len() > MAX_DRAFT_STATEMENTS {
            return Err(format!(
                "{} rules and {} views; at most {MAX_DRAFT_STATEMENTS} of each",
                draft.rules.len(),
                draft.views.len()
            ));
        }
        // The model's answer is new untrusted text: it is sanitised where it comes in, as the
        // issue was at intake.
        let body = sanitize::sanitize(&draft.form_body()).text;
        form::parse_issue_form_for(&reference, &body, reserved).map_err(|e| e.to_string())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(views: &[&str]) -> Draft {
        serde_json::from_value(json!({
            "app_name": "Invoices",
            "summary": "",
            "data_model": [
                "Client: name (text, required)",
                "Invoice: client (ref Client), amount (decimal, required), due_on (date), status (enum: draft|sent|paid)"
            ],
            "features": [],
            "rules": ["Invoice.amount >= 0", "Invoice.status default draft"],
            "views": views,
        }))
        .unwrap()
    }

    #[test]
    fn a_draft_carries_rules_and_views_through_the_form_parser() {
        let issue = crate::spec::IssueRef {
            number: 7,
            title: "t".into(),
            url: String::new(),
        };
        let body = draft(&["Overdue: Invoice where due_on < today and status != paid, sum amount"])
            .form_body();
        assert!(
            body.contains("\n### Rules\n\nInvoice.amount >= 0\nInvoice.status default draft\n"),
            "{body}"
        );
        let spec = form::parse_issue_form(&issue, &body).unwrap();
        assert_eq!(spec.rules.len(), 2);
        assert_eq!(spec.views[0].slug, "overdue");
        assert_eq!(spec.views[0].sums, ["amount"]);
        // A draft without the keys (an older answer) has no such sections.
        let old: Draft =
            serde_json::from_value(json!({"app_name": "A", "data_model": ["A: b"]})).unwrap();
        assert!(!old.form_body().contains("### Rules") && !old.form_body().contains("### Views"));
        // The parser's error, exactly as the issue form would show it, is what the model reads.
        let err = form::parse_issue_form(
            &issue,
            &draft(&["Overdue: Invoice where due < today"]).form_body(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "views line 1 \"Overdue: Invoice where due < today\": entity \"Invoice\" has no field \"due\"; expected one of client, amount, due_on, status"
        );
    }

    #[test]
    fn the_draft_schema_is_derived_strict_and_parses_back() {
        use crate::llm::schema::{property_names, strict_compatible};
        let schema = answer_schema::<Draft>();
        let sample = json!({"app_name": "A", "summary": "s", "data_model": ["Book: title (text)"], "features": [], "rules": [], "views": []});
        assert!(strict_compatible(&schema), "{schema:#}");
        assert_eq!(
            property_names(&schema),
            [
                "app_name",
                "data_model",
                "features",
                "rules",
                "summary",
                "views"
            ]
        );
        assert!(parse_answer::<Draft>(&sample, "draft").is_ok());
        assert_eq!(
            schema["properties"]["app_name"]["description"],
            "Short product name"
        );
    }

    #[test]
    fn free_text_without_an_llm_says_how_to_use_the_form() {
        let issue = Issue::from_text(3, "Books", "I want an app for my books");
        let err = from_issue(&issue, crate::ident::tests::pack_names())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("free text") && err.contains(FORM_HINT),
            "{err}"
        );
        let form = Issue::from_text(
            3,
            "Books",
            "### App name\n\nBooks\n\n### Data model\n\nBook: title (text, required)\n",
        );
        let spec = from_issue(&form, crate::ident::tests::pack_names()).unwrap();
        assert_eq!((spec.issue.number, spec.issue.title.as_str()), (3, "Books"));
        assert_eq!(spec.entities[0].name, "Book");
    }
}
