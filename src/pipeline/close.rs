//! An issue closed as not planned: its open pull requests are closed (the branches stay),
//! and the outputs describe what was closed. Nothing is built.

use crate::error::E2eError;
use crate::event::Trigger;
use crate::github::GitHub;
use crate::pipeline::RunOutcome;
use crate::pipeline::deploy::Delivery;
use crate::pipeline::progress::append_summary;
use crate::pipeline::pull;
use crate::report::Reporter;
use crate::scaffold::filters;

/// The issue was closed as not planned: close its open pull request, set the outputs.
pub async fn close(
    trigger: &Trigger,
    github: Option<&GitHub>,
    reporter: &Reporter,
) -> anyhow::Result<RunOutcome> {
    let n = trigger.issue.number;
    let Some(gh) = github else {
        let reason = "closing the issue's pull request needs a github-token".to_string();
        reporter.notice(&format!("e2e-action: nothing to do: {reason}"));
        append_summary(
            reporter,
            &format!("## e2e-action: nothing to do\n\n{reason}.\n"),
        );
        return Ok(RunOutcome::Skipped { reason });
    };
    let closed = match pull::close_for_issue(gh, n, reporter).await {
        Ok(c) => c,
        Err(e) => {
            let e = anyhow::Error::from(e);
            append_summary(
                reporter,
                &format!(
                    "## e2e-action failed: issue #{n}\n\nClosing its pull request failed: {}\n\n**What to do next:** {}\n",
                    filters::md(format!("{e:#}").as_str().into()),
                    crate::error::next_step_of(&e)
                ),
            );
            return Err(e);
        }
    };
    let mut delivery = Delivery::closed(n);
    let mut md = format!("## e2e-action: issue #{n} closed as not planned\n\n");
    if closed.is_empty() {
        md.push_str("It had no open pull request: nothing to close.\n");
    }
    for (pr, outcome) in closed {
        reporter.notice(&format!(
            "e2e-action: closed pull request #{} ({}) of #{n}",
            pr.number, pr.branch
        ));
        md.push_str(&format!(
            "Closed pull request #{} ({}); the branch `{}` is kept.\n",
            pr.number, pr.html_url, pr.branch
        ));
        delivery.branch = pr.branch;
        delivery.sha = pr.sha;
        delivery.pull = Some(outcome);
    }
    reporter
        .set_outputs(&delivery.outputs())
        .map_err(|e| E2eError::Workspace(format!("cannot write GITHUB_OUTPUT: {e}")))?;
    md.push_str("\n**What to do next:** reopen the issue to build it again.\n");
    append_summary(reporter, &md);
    Ok(RunOutcome::Closed(delivery))
}
