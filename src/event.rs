//! Intake: the Actions event payload → a [`Trigger`] to build, or a reason to skip.
//!
//! In: the event name (`GITHUB_EVENT_NAME`) and the payload file (`GITHUB_EVENT_PATH`).
//! Out: [`Intake::Build`] for the events and actions we handle, [`Intake::Skip`] with a
//! one-line reason for the rest. Fails ([`E2eError::Event`]) only when the payload is missing
//! or malformed. The issue text in a `Trigger` is the text *as it was when the event fired*.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::E2eError;

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
    /// The issue to build.
    pub issue: Issue,
    /// `owner/name` of the repository, from the payload.
    pub repository: String,
    /// Login of the account that caused the event.
    pub sender: Actor,
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
}

#[derive(Deserialize)]
struct RawLabel {
    name: String,
}

#[derive(Deserialize)]
struct RawRepo {
    full_name: String,
}

/// Actions of `issues` events that start a build.
pub const ISSUE_ACTIONS: &[&str] = &["opened", "edited", "labeled", "reopened"];

/// Reads and classifies the payload at `path` for event `event_name`.
pub fn read_event(event_name: &str, path: &Path) -> Result<Intake, E2eError> {
    let bad = |reason: String| E2eError::Event {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    parse_event(event_name, &text).map_err(bad)
}

/// Classifies a payload given as text. Errors are one line, without the path.
pub fn parse_event(event_name: &str, text: &str) -> Result<Intake, String> {
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
            if !ISSUE_ACTIONS.contains(&raw.action.as_str()) {
                return Ok(Intake::Skip(format!(
                    "issues event with action `{}` is not handled (handled: {})",
                    raw.action,
                    ISSUE_ACTIONS.join(", ")
                )));
            }
            if raw.issue.pull_request.is_some() {
                return Ok(Intake::Skip("the issue is a pull request".into()));
            }
            Ok(Intake::Build(Box::new(Trigger {
                event_name: event_name.into(),
                action: raw.action,
                issue: raw.issue.into(),
                repository: raw.repository.full_name,
                sender: raw.sender,
            })))
        }
        "" => Err("no event name given (GITHUB_EVENT_NAME or --event-name)".into()),
        other => Ok(Intake::Skip(format!(
            "event `{other}` is not handled (handled: issues)"
        ))),
    }
}

impl From<RawIssue> for Issue {
    fn from(raw: RawIssue) -> Self {
        Issue {
            number: raw.number,
            title: raw.title,
            body: raw.body.unwrap_or_default(),
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
    fn bots_are_recognised() {
        let bot = Actor {
            login: "e2e-action[bot]".into(),
            kind: "User".into(),
        };
        assert!(bot.is_bot());
    }
}
