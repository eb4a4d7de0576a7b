//! The step summary's endings: nothing to do, a refusal, a failure before the stages, and
//! what to do next after a build. The stage table itself comes from [`super::progress`].

use crate::event::Trigger;
use crate::github::GitHub;
use crate::pipeline::deploy::Delivery;
use crate::pipeline::progress::append_summary;
use crate::report::Reporter;
use crate::scaffold::filters;

/// Nothing to do, for `reason`.
pub fn skipped(reporter: &Reporter, reason: &str) {
    reporter.notice(&format!("e2e-action: nothing to do: {reason}"));
    append_summary(
        reporter,
        &format!(
            "## e2e-action: nothing to do\n\n{}\n",
            filters::md(reason.into())
        ),
    );
}

/// The run failed before any stage (configuration, intake).
pub fn failed(reporter: &Reporter, e: &anyhow::Error) {
    append_summary(
        reporter,
        &format!(
            "## e2e-action failed\n\n{}\n\n**What to do next:** {}\n",
            filters::md(format!("{e:#}").as_str().into()),
            crate::error::next_step_of(e)
        ),
    );
}

/// The guard could not read a permission.
pub fn guard_failed(reporter: &Reporter, issue: u64, e: &anyhow::Error) {
    append_summary(
        reporter,
        &format!(
            "## e2e-action failed: issue #{issue}\n\nThe permission check failed: {}\n\n**What to do next:** {}\n",
            filters::md(format!("{e:#}").as_str().into()),
            crate::error::next_step_of(e)
        ),
    );
}

/// The guard refused: a notice, a reply on the issue (when there is a client), the summary.
pub async fn refused(
    reporter: &Reporter,
    trigger: &Trigger,
    github: Option<&GitHub>,
    reason: &str,
) {
    reporter.notice(&format!("e2e-action: not building: {reason}"));
    if let Some(gh) = github
        && let Err(e) = crate::guard::reply(gh, trigger, reason).await
    {
        reporter.warning(&format!("cannot reply on the issue: {e}"));
    }
    let next = if trigger.action == "closed" {
        "someone with write access to the repository can close the pull request."
    } else {
        "someone with write access to the repository can comment `/e2e build` on the issue to build it."
    };
    append_summary(
        reporter,
        &format!(
            "## e2e-action: not building issue #{}\n\n{}.\n\n**What to do next:** {next}\n",
            trigger.issue.number,
            filters::md(reason.into())
        ),
    );
}

/// What to do after a build: review the pull request, or why nothing was pushed, or open the
/// pull request yourself; after a failure, the error's next step.
pub fn next_step(result: Result<&Delivery, &anyhow::Error>) -> String {
    match result {
        Ok(d) => match (&d.pull, &d.not_pushed_because) {
            (Some(pr), _) => format!(
                "\n**What to do next:** review pull request #{} ({}), then merge it; its description says how to enable the deploy workflow.\n",
                pr.number, pr.url
            ),
            (None, Some(why)) => format!(
                "\n**Not pushed:** {}. The app is in `{}` on the local branch `{}`.\n",
                filters::md(why.as_str().into()),
                d.app_path,
                d.branch
            ),
            (None, None) => format!(
                "\n**What to do next:** open a pull request from `{}` (no token was given to open one).\n",
                d.branch
            ),
        },
        Err(e) => format!("\n**What to do next:** {}\n", crate::error::next_step_of(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_step_follows_the_delivery() {
        let mut d = Delivery::closed(1);
        d.branch = "e2e/issue-1-x".into();
        d.app_path = "apps/x".into();
        d.not_pushed_because = Some("push is *off*".into());
        let s = next_step(Ok(&d));
        assert!(s.contains("**Not pushed:** push is \\*off\\*. The app is in `apps/x` on the local branch `e2e/issue-1-x`."), "{s}");
        d.not_pushed_because = None;
        assert!(next_step(Ok(&d)).contains("open a pull request from `e2e/issue-1-x`"));
        d.pull = Some(crate::pipeline::pull::PullOutcome {
            number: 4,
            url: "https://x/pull/4".into(),
            operation: "created".into(),
        });
        assert!(next_step(Ok(&d)).contains("review pull request #4 (https://x/pull/4)"));
        let e = anyhow::Error::from(crate::error::E2eError::Config("bad".into()));
        assert!(next_step(Err(&e)).starts_with("\n**What to do next:** "));
    }
}
