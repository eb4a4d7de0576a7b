//! Spec (product strategist): the issue → a [`Spec`].
//!
//! In: the trigger's issue (title, body as it was at trigger time). Out: a `Spec`. With no
//! LLM, only an issue form can be read; its parser is deterministic (`crate::issue::form`).
//! Fails with [`E2eError::Issue`] quoting the bad line, or explaining how to use the form.

use crate::error::E2eError;
use crate::event::Trigger;
use crate::ident::ReservedNames;
use crate::issue::form;
use crate::spec::{IssueRef, Spec};

/// How to fix an issue the action cannot read, appended to every spec error.
pub const FORM_HINT: &str = "use the e2e issue form (copy templates/issue-form.yml of e2e-action to .github/ISSUE_TEMPLATE/), then edit the issue or comment `/e2e retry`";

/// Builds the spec of the trigger's issue; identifiers avoid the pack's `reserved` names.
pub fn from_issue(trigger: &Trigger, reserved: &ReservedNames) -> Result<Spec, E2eError> {
    let issue = IssueRef {
        number: trigger.issue.number,
        title: trigger.issue.title.clone(),
        url: trigger.issue.html_url.clone(),
    };
    if !form::is_issue_form(&trigger.issue.body) {
        return Err(E2eError::Issue(format!(
            "issue #{} is free text, which needs an LLM (llm-provider is none); {FORM_HINT}",
            issue.number
        )));
    }
    form::parse_issue_form_for(&issue, &trigger.issue.body, reserved).map_err(|e| {
        E2eError::Issue(format!(
            "{e}; fix the issue body and edit the issue to retry"
        ))
    })
}
