//! Guard: who may trigger a build.
//!
//! In: a complete [`Trigger`] (intake fetched a dispatched issue) and the allowed author
//! associations. Out: a [`Verdict`]: build, or the reason to refuse (the run then ends with
//! exit 0, a notice and a short reply on the issue). The guard only decides: it changes
//! nothing.
//! Bots never trigger a build, so the action cannot trigger itself.
//!
//! Every trigger is checked against the repository permission GitHub reports through the API
//! (write, maintain or admin): the issue's author for issue events (the issue text is what gets
//! built), the account that closed the issue for a close (it closes the pull request), the commenter for `/e2e` commands, the actor for manual dispatches. The payload's
//! `author_association` is only a first filter, because `COLLABORATOR` includes read-only
//! collaborators and `MEMBER` every member of the organisation, with or without access to this
//! repository. Without an API client (a local run, no token) only that filter applies.

use crate::error::E2eError;
use crate::event::Trigger;
use crate::github::GitHub;

/// Repository permissions that may trigger a build.
pub const WRITE_PERMISSIONS: &[&str] = &["admin", "maintain", "write"];

/// Marks the reply to a refused issue event, so later events on the issue do not repeat it.
pub const REFUSAL_MARKER: &str = "<!-- e2e-action:refused -->";

/// What the guard decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Build.
    Build,
    /// Do not build, for this reason (a notice and a reply, exit 0).
    Refuse(String),
}

/// Decides whether `trigger` may build, checking permissions through `github`. Fails only
/// when the permission cannot be read.
pub async fn authorize(
    trigger: &Trigger,
    allowed: &[String],
    github: Option<&GitHub>,
) -> Result<Verdict, E2eError> {
    use Verdict::{Build, Refuse};
    if trigger.sender.is_bot() {
        return Ok(Refuse(format!(
            "`{}` is a bot; bots never trigger a build",
            trigger.sender.login
        )));
    }
    if trigger.command.is_none() && !trigger.is_dispatch() {
        // Closing the pull request is the closer's act; building uses the author's text.
        // Without a client there is nothing to close; the pipeline says so.
        if trigger.action == "closed" {
            let Some(gh) = github else {
                return Ok(Build);
            };
            let closer = &trigger.sender.login;
            let permission = gh.permission(closer).await?;
            if !WRITE_PERMISSIONS.contains(&permission.as_str()) {
                return Ok(Refuse(format!(
                    "`{closer}` has {permission} access to this repository; closing the issue's pull request needs write access"
                )));
            }
            return Ok(Build);
        }
        if let Err(reason) = check(trigger, allowed) {
            return Ok(Refuse(reason));
        }
        let Some(gh) = github else {
            return Ok(Build);
        };
        let author = &trigger.issue.author.login;
        let permission = gh.permission(author).await?;
        if !WRITE_PERMISSIONS.contains(&permission.as_str()) {
            return Ok(Refuse(format!(
                "the issue author `{author}` has {permission} access to this repository and only accounts with write access trigger a build; someone with write access can comment `/e2e build` to build it"
            )));
        }
        return Ok(Build);
    }
    let Some(gh) = github else {
        return Ok(Refuse(format!(
            "{} events need a github-token and GITHUB_REPOSITORY to check the actor's permission",
            trigger.event_name
        )));
    };
    let permission = gh.permission(&trigger.sender.login).await?;
    if !WRITE_PERMISSIONS.contains(&permission.as_str()) {
        return Ok(Refuse(format!(
            "`{}` has {permission} access to this repository; {} need write access",
            trigger.sender.login,
            if trigger.command.is_some() {
                "`/e2e` commands"
            } else {
                "manual runs"
            }
        )));
    }
    if trigger.issue.author.is_bot() && trigger.command.is_none() {
        return Ok(Refuse(format!(
            "the issue was opened by the bot `{}`",
            trigger.issue.author.login
        )));
    }
    Ok(Build)
}

/// Replies to a refusal on the issue: always to a command (its author waits for an answer),
/// once per issue for issue events (every later edit would otherwise add the same reply).
/// Nothing is posted for bots, so two bots cannot keep answering each other.
pub async fn reply(gh: &GitHub, trigger: &Trigger, reason: &str) -> Result<bool, E2eError> {
    if trigger.sender.is_bot() {
        return Ok(false);
    }
    let number = trigger.issue.number;
    let who = if trigger.command.is_some() {
        &trigger.sender.login
    } else {
        &trigger.issue.author.login
    };
    if trigger.command.is_none() && gh.find_comment(number, REFUSAL_MARKER).await?.is_some() {
        return Ok(false);
    }
    let body = format!("{REFUSAL_MARKER}\n@{who} e2e-action did not run: {reason}.");
    gh.create_comment(number, &body).await?;
    Ok(true)
}

/// Author associations allowed to trigger a build by default.
pub const DEFAULT_ALLOWED: &[&str] = &["OWNER", "MEMBER", "COLLABORATOR"];

/// Decides whether `trigger` may start a build.
pub fn check(trigger: &Trigger, allowed: &[String]) -> Result<(), String> {
    if trigger.sender.is_bot() {
        return Err(format!(
            "`{}` is a bot; bots never trigger a build",
            trigger.sender.login
        ));
    }
    if trigger.issue.author.is_bot() {
        return Err(format!(
            "the issue was opened by the bot `{}`; bots never trigger a build",
            trigger.issue.author.login
        ));
    }
    let assoc = trigger.issue.author_association.as_str();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(assoc)) {
        Ok(())
    } else {
        Err(format!(
            "the issue author `{}` is {} and only {} may trigger a build",
            trigger.issue.author.login,
            if assoc.is_empty() {
                "of unknown association"
            } else {
                assoc
            },
            allowed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, Issue};

    fn trigger(assoc: &str, login: &str, kind: &str) -> Trigger {
        let actor = Actor {
            login: login.into(),
            kind: kind.into(),
        };
        Trigger {
            event_name: "issues".into(),
            action: "opened".into(),
            issue: Issue {
                number: 1,
                title: "t".into(),
                body: String::new(),
                html_url: String::new(),
                author: actor.clone(),
                author_association: assoc.into(),
                labels: vec![],
            },
            repository: "o/r".into(),
            sender: actor,
            command: None,
            default_branch: "main".into(),
        }
    }

    fn allowed() -> Vec<String> {
        DEFAULT_ALLOWED.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_association() {
        for a in ["OWNER", "MEMBER", "COLLABORATOR"] {
            assert!(
                check(&trigger(a, "octocat", "User"), &allowed()).is_ok(),
                "{a}"
            );
        }
        for a in [
            "CONTRIBUTOR",
            "FIRST_TIME_CONTRIBUTOR",
            "FIRST_TIMER",
            "NONE",
            "MANNEQUIN",
            "",
        ] {
            let err = check(&trigger(a, "octocat", "User"), &allowed()).unwrap_err();
            assert!(err.contains("only OWNER, MEMBER, COLLABORATOR"), "{err}");
        }
    }

    #[test]
    fn bots_never_build() {
        assert!(check(&trigger("OWNER", "e2e-action[bot]", "User"), &allowed()).is_err());
        assert!(check(&trigger("OWNER", "robot", "Bot"), &allowed()).is_err());
    }

    #[tokio::test]
    async fn without_a_client_only_issue_events_are_decided_by_association() {
        let allowed = allowed();
        let t = trigger("OWNER", "octocat", "User");
        assert_eq!(authorize(&t, &allowed, None).await.unwrap(), Verdict::Build);
        let t = trigger("NONE", "octocat", "User");
        assert!(
            matches!(authorize(&t, &allowed, None).await.unwrap(), Verdict::Refuse(r) if r.contains("only OWNER"))
        );
        let mut dispatch = trigger("", "octocat", "User");
        dispatch.event_name = "workflow_dispatch".into();
        assert!(
            matches!(authorize(&dispatch, &allowed, None).await.unwrap(), Verdict::Refuse(r) if r.contains("need a github-token"))
        );
        let mut closed = trigger("NONE", "octocat", "User");
        closed.action = "closed".into();
        assert_eq!(
            authorize(&closed, &allowed, None).await.unwrap(),
            Verdict::Build
        );
        let bot = trigger("OWNER", "e2e-action[bot]", "User");
        assert!(
            matches!(authorize(&bot, &allowed, None).await.unwrap(), Verdict::Refuse(r) if r.contains("bot"))
        );
    }
}
