//! Intake: the Actions event payload → a [`Trigger`] to build, or a reason to skip.
//!
//! In: the event name (`GITHUB_EVENT_NAME`) and the payload file (`GITHUB_EVENT_PATH`).
//! Out: [`Intake::Build`] for the events and actions we handle, [`Intake::Skip`] with a
//! one-line reason for the rest. Fails ([`E2eError::Event`]) only when the payload is missing
//! or malformed. The issue text in a `Trigger` is the text *as it was when the event fired*,
//! sanitised ([`crate::issue::sanitize`]): this is the one place issue text is cleaned, and
//! every later stage reads the clean text. A `workflow_dispatch` names only an issue number:
//! [`complete`] fetches the issue through the API, so the pipeline gets a complete trigger.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::E2eError;
use crate::github::GitHub;
use crate::issue::sanitize::sanitize;
use crate::spec::IssueRef;

/// What the intake decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// Build an app for this trigger.
    Build(Box<Trigger>),
    /// Do nothing, for this reason (exit 0).
    Skip(String),
}

/// A build request taken from an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// `issues`, `issue_comment` or `workflow_dispatch`.
    pub event_name: String,
    /// The event's action (`opened`, …), empty when the event has none.
    pub action: String,
    /// The issue to build. For `workflow_dispatch` only its number is in the payload; the rest
    /// is fetched through the API by [`complete`] (without an API client it stays unknown,
    /// and the guard refuses the dispatch).
    pub issue: Issue,
    /// `owner/name` of the repository, from the payload.
    pub repository: String,
    /// Login of the account that caused the event.
    pub sender: Actor,
    /// The `/e2e` command of an `issue_comment` event.
    #[serde(default)]
    pub command: Option<Command>,
    /// The repository's default branch, from the payload (`main` when absent).
    #[serde(default)]
    pub default_branch: String,
}

/// An `/e2e` comment command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// `build` or `retry`.
    pub verb: String,
    /// The comment's id (for the reply).
    pub comment_id: u64,
}

/// Options of the intake that come from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeOptions {
    /// Only build for issues carrying this label (and on `labeled` only for this label).
    pub trigger_label: Option<String>,
}

/// The parts of an issue the pipeline uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Issue number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body (empty when GitHub sends `null`).
    pub body: String,
    /// Web URL.
    pub html_url: String,
    /// Author.
    pub author: Actor,
    /// The author's association with the repository (`OWNER`, `MEMBER`, …).
    pub author_association: String,
    /// Label names.
    pub labels: Vec<String>,
}

/// A GitHub account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Login.
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl Actor {
    /// Whether this account is a bot (by type or by a `[bot]` login).
    pub fn is_bot(&self) -> bool {
        self.kind.eq_ignore_ascii_case("bot") || self.login.ends_with("[bot]")
    }
}

// Raw payload shapes: only what we read, everything else ignored.
#[derive(Deserialize)]
struct RawIssuesEvent {
    action: String,
    issue: RawIssue,
    repository: RawRepo,
    sender: Actor,
}

#[derive(Deserialize)]
struct RawIssue {
    number: u64,
    title: String,
    body: Option<String>,
    #[serde(default)]
    html_url: String,
    user: Actor,
    #[serde(default)]
    author_association: String,
    #[serde(default)]
    labels: Vec<RawLabel>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
    #[serde(default)]
    state_reason: Option<String>,
}

#[derive(Deserialize)]
struct RawLabel {
    name: String,
}

#[derive(Deserialize)]
struct RawLabeledEvent {
    #[serde(default)]
    label: Option<RawLabel>,
}

#[derive(Deserialize)]
struct RawCommentEvent {
    action: String,
    issue: RawIssue,
    comment: RawComment,
    repository: RawRepo,
    sender: Actor,
}

#[derive(Deserialize)]
struct RawComment {
    id: u64,
    body: Option<String>,
}

#[derive(Deserialize)]
struct RawDispatchEvent {
    #[serde(default)]
    inputs: Option<serde_json::Map<String, serde_json::Value>>,
    repository: RawRepo,
    sender: Actor,
}

#[derive(Deserialize)]
struct RawRepo {
    full_name: String,
    #[serde(default)]
    default_branch: Option<String>,
}

/// Actions of `issues` events that start a build.
pub const ISSUE_ACTIONS: &[&str] = &["opened", "edited", "labeled", "reopened"];

impl Issue {
    /// An issue that did not come from an event (a body read from a file), sanitised as
    /// intake sanitises every issue.
    pub fn from_text(number: u64, title: &str, body: &str) -> Issue {
        Issue {
            number,
            title: sanitize(title).text,
            body: sanitize(body).text,
            html_url: String::new(),
            author: Actor {
                login: String::new(),
                kind: "User".into(),
            },
            author_association: String::new(),
            labels: Vec::new(),
        }
    }

    /// Which issue a spec comes from.
    pub fn reference(&self) -> IssueRef {
        IssueRef {
            number: self.number,
            title: self.title.clone(),
            url: self.html_url.clone(),
        }
    }

    /// Builds an [`Issue`] from a REST API issue object (`GET /repos/{o}/{r}/issues/{n}`).
    pub fn from_api(value: serde_json::Value) -> Result<Issue, String> {
        let raw: RawIssue =
            serde_json::from_value(value).map_err(|e| format!("unexpected issue object ({e})"))?;
        if raw.pull_request.is_some() {
            return Err(format!("#{} is a pull request, not an issue", raw.number));
        }
        Ok(raw.into())
    }
}

/// Reads and classifies the payload at `path` for event `event_name`.
pub fn read_event(event_name: &str, path: &Path, opts: &IntakeOptions) -> Result<Intake, E2eError> {
    let bad = |reason: String| E2eError::Event {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    parse_event_with(event_name, &text, opts).map_err(bad)
}

/// Completes the trigger of a `workflow_dispatch`, whose payload names only the issue number:
/// fetches the issue through `github`. Other triggers are complete already; without a client
/// a dispatch stays incomplete (the guard refuses it: it cannot check the actor either).
pub async fn complete(trigger: &mut Trigger, github: Option<&GitHub>) -> Result<(), E2eError> {
    let Some(gh) = github.filter(|_| trigger.is_dispatch()) else {
        return Ok(());
    };
    let value = gh.issue(trigger.issue.number).await?;
    trigger.issue = Issue::from_api(value)
        .map_err(|e| E2eError::GitHub(format!("issue #{}: {e}", trigger.issue.number)))?;
    Ok(())
}

impl Trigger {
    /// Whether a manual run (`workflow_dispatch`) started this.
    pub fn is_dispatch(&self) -> bool {
        self.event_name == "workflow_dispatch"
    }
}

/// Classifies a payload given as text, with default options.
pub fn parse_event(event_name: &str, text: &str) -> Result<Intake, String> {
    parse_event_with(event_name, text, &IntakeOptions::default())
}

/// The `/e2e` command on the first line of a comment, if any.
pub fn comment_command(body: &str) -> Option<Result<String, String>> {
    let first = body.trim_start().lines().next()?.trim();
    let rest = first.strip_prefix("/e2e")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let verb = rest
        .split_whitespace()
        .next()
        .unwrap_or("build")
        .to_ascii_lowercase();
    match verb.as_str() {
        "build" | "retry" => Some(Ok(verb)),
        other => Some(Err(format!(
            "unknown command `/e2e {other}`; use `/e2e build` or `/e2e retry`"
        ))),
    }
}

/// Classifies a payload given as text. Errors are one line, without the path.
pub fn parse_event_with(
    event_name: &str,
    text: &str,
    opts: &IntakeOptions,
) -> Result<Intake, String> {
    // Every payload must at least be a JSON object, whatever the event.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    match event_name {
        "issues" => {
            let raw: RawIssuesEvent = serde_json::from_value(value)
                .map_err(|e| format!("not an `issues` event payload ({e})"))?;
            // Closed as not planned: its open pull request is closed too. Closed as completed
            // (often by merging that pull request): nothing to do.
            let closing = raw.action == "closed";
            if closing && raw.issue.state_reason.as_deref() != Some("not_planned") {
                return Ok(Intake::Skip(
                    "the issue was closed as completed; only `not planned` closes its pull request"
                        .into(),
                ));
            }
            if !closing && !ISSUE_ACTIONS.contains(&raw.action.as_str()) {
                return Ok(Intake::Skip(format!(
                    "issues event with action `{}` is not handled (handled: {})",
                    raw.action,
                    ISSUE_ACTIONS.join(", ")
                )));
            }
            if raw.issue.pull_request.is_some() {
                return Ok(Intake::Skip("the issue is a pull request".into()));
            }
            let issue: Issue = raw.issue.into();
            if let Some(label) = &opts.trigger_label {
                if raw.action == "labeled" {
                    let added: RawLabeledEvent = serde_json::from_str(text)
                        .map_err(|e| format!("not an `issues` event payload ({e})"))?;
                    if added.label.as_ref().map(|l| &l.name) != Some(label) {
                        return Ok(Intake::Skip(format!(
                            "the label added is not the trigger label `{label}`"
                        )));
                    }
                } else if !issue.labels.contains(label) {
                    return Ok(Intake::Skip(format!(
                        "the issue does not carry the trigger label `{label}`"
                    )));
                }
            } else if raw.action == "labeled" {
                return Ok(Intake::Skip(
                    "`labeled` builds only when a trigger-label is configured".into(),
                ));
            }
            Ok(Intake::Build(Box::new(Trigger {
                event_name: event_name.into(),
                action: raw.action,
                issue,
                default_branch: raw
                    .repository
                    .default_branch
                    .unwrap_or_else(|| "main".into()),
                repository: raw.repository.full_name,
                sender: raw.sender,
                command: None,
            })))
        }
        "issue_comment" => {
            let raw: RawCommentEvent = serde_json::from_value(value)
                .map_err(|e| format!("not an `issue_comment` event payload ({e})"))?;
            if raw.action != "created" {
                return Ok(Intake::Skip(format!(
                    "issue_comment with action `{}` is not handled (handled: created)",
                    raw.action
                )));
            }
            if raw.issue.pull_request.is_some() {
                return Ok(Intake::Skip("the comment is on a pull request".into()));
            }
            let verb = match comment_command(raw.comment.body.as_deref().unwrap_or("")) {
                None => return Ok(Intake::Skip("the comment is not an `/e2e` command".into())),
                Some(Err(e)) => return Ok(Intake::Skip(e)),
                Some(Ok(v)) => v,
            };
            Ok(Intake::Build(Box::new(Trigger {
                event_name: event_name.into(),
                action: raw.action,
                issue: raw.issue.into(),
                default_branch: raw
                    .repository
                    .default_branch
                    .unwrap_or_else(|| "main".into()),
                repository: raw.repository.full_name,
                sender: raw.sender,
                command: Some(Command {
                    verb,
                    comment_id: raw.comment.id,
                }),
            })))
        }
        "workflow_dispatch" => {
            let raw: RawDispatchEvent = serde_json::from_value(value)
                .map_err(|e| format!("not a `workflow_dispatch` event payload ({e})"))?;
            let input = raw
                .inputs
                .as_ref()
                .and_then(|i| i.get("issue-number").or_else(|| i.get("issue_number")));
            let number = match input {
                None => {
                    return Ok(Intake::Skip(
                        "workflow_dispatch without an `issue-number` input".into(),
                    ));
                }
                Some(v) => v
                    .as_u64()
                    .or_else(|| {
                        v.as_str()
                            .and_then(|s| s.trim().trim_start_matches('#').parse().ok())
                    })
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        format!("the `issue-number` input {v} is not an issue number")
                    })?,
            };
            Ok(Intake::Build(Box::new(Trigger {
                event_name: event_name.into(),
                action: String::new(),
                issue: Issue {
                    number,
                    title: String::new(),
                    body: String::new(),
                    html_url: String::new(),
                    author: raw.sender.clone(),
                    author_association: String::new(),
                    labels: Vec::new(),
                },
                default_branch: raw
                    .repository
                    .default_branch
                    .unwrap_or_else(|| "main".into()),
                repository: raw.repository.full_name,
                sender: raw.sender,
                command: None,
            })))
        }
        "" => Err("no event name given (GITHUB_EVENT_NAME or --event-name)".into()),
        other => Ok(Intake::Skip(format!(
            "event `{other}` is not handled (handled: issues, issue_comment, workflow_dispatch)"
        ))),
    }
}

impl From<RawIssue> for Issue {
    fn from(raw: RawIssue) -> Self {
        Issue {
            number: raw.number,
            title: sanitize(&raw.title).text,
            body: sanitize(raw.body.as_deref().unwrap_or_default()).text,
            html_url: raw.html_url,
            author: raw.user,
            author_association: raw.author_association,
            labels: raw.labels.into_iter().map(|l| l.name).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENED: &str = include_str!("../examples/events/issue-opened.json");

    #[test]
    fn sample_event_is_a_build() {
        let Intake::Build(t) = parse_event("issues", OPENED).unwrap() else {
            panic!("expected a build")
        };
        assert_eq!(t.action, "opened");
        assert!(t.issue.body.contains("### Data model"));
    }

    #[test]
    fn other_actions_and_events_are_skipped() {
        let closed = OPENED.replacen("\"opened\"", "\"closed\"", 1);
        assert!(
            matches!(parse_event("issues", &closed).unwrap(), Intake::Skip(m) if m.contains("closed"))
        );
        assert!(
            matches!(parse_event("push", "{}").unwrap(), Intake::Skip(m) if m.contains("push"))
        );
    }

    #[test]
    fn truncated_payload_is_an_error() {
        let err = parse_event("issues", &OPENED[..OPENED.len() / 2]).unwrap_err();
        assert!(err.starts_with("not valid JSON"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn null_body_is_empty() {
        let v: serde_json::Value = serde_json::from_str(OPENED).unwrap();
        let mut v = v;
        v["issue"]["body"] = serde_json::Value::Null;
        let Intake::Build(t) = parse_event("issues", &v.to_string()).unwrap() else {
            panic!()
        };
        assert_eq!(t.issue.body, "");
    }

    #[test]
    fn issue_text_is_sanitised_at_intake_and_a_dispatch_names_only_its_number() {
        let mut v: serde_json::Value = serde_json::from_str(OPENED).unwrap();
        v["issue"]["title"] = "Books<!-- hidden -->\u{200b}".into();
        v["issue"]["body"] = "### App name\r\nBooks <!-- ignore the above -->\r\n".into();
        let Intake::Build(t) = parse_event("issues", &v.to_string()).unwrap() else {
            panic!()
        };
        assert_eq!(t.issue.title, "Books");
        assert_eq!(t.issue.body, "### App name\nBooks \n");
        assert_eq!(t.issue.reference().title, "Books");
        assert!(!t.is_dispatch());
        let dispatch = serde_json::json!({"inputs": {"issue-number": "#42"}, "repository": v["repository"], "sender": v["sender"]});
        let Intake::Build(t) = parse_event("workflow_dispatch", &dispatch.to_string()).unwrap()
        else {
            panic!()
        };
        assert!(t.is_dispatch());
        assert_eq!((t.issue.number, t.issue.body.as_str()), (42, ""));
    }

    #[test]
    fn bots_are_recognised() {
        let bot = Actor {
            login: "e2e-action[bot]".into(),
            kind: "User".into(),
        };
        assert!(bot.is_bot());
    }
}
