//! Before the stages: the configuration (file and inputs), where secrets may go, and intake
//! (the event payload → a complete [`Trigger`], or a reason to skip). Nothing is written and
//! nothing is sent, except fetching a dispatched issue.

use std::path::PathBuf;

use crate::config::{self, Settings};
use crate::error::E2eError;
use crate::event::{self, Intake, Trigger};
use crate::github::GitHub;
use crate::pipeline::request::{RunRequest, check_destinations};
use crate::report::Reporter;

/// What the stages before the guard decided.
pub enum Prepared {
    /// Build this trigger with these settings (and the API client, when there is a token).
    Build(Box<(Settings, Trigger, Option<GitHub>)>),
    /// Nothing to do, for this reason.
    Skip(String),
}

/// Configuration and intake: nothing is written and nothing is sent.
pub async fn prepare(req: &RunRequest, reporter: &Reporter) -> anyhow::Result<Prepared> {
    // The configuration decides what the intake accepts; reading it writes nothing.
    let config_path = config::config_path(&req.workspace, &req.inputs);
    let file = config::read_config_file(&config_path).map_err(|e| match e {
        // Annotations need the path from the repository root to point at the file.
        E2eError::ConfigFile {
            file,
            line,
            message,
        } => E2eError::ConfigFile {
            file: config_path
                .strip_prefix(&req.workspace)
                .map(|p| p.display().to_string())
                .unwrap_or(file),
            line,
            message,
        },
        e => e,
    })?;
    let settings = Settings::resolve(&file, &req.inputs)?;
    check_destinations(req, &settings, reporter)?;
    if reporter.debug {
        // A base URL may carry credentials in its userinfo; the debug log never shows them.
        let mut shown = settings.clone();
        shown.llm.base_url = shown
            .llm
            .base_url
            .as_deref()
            .map(crate::workspace::git::redact_url);
        reporter.debug(&format!(
            "settings: {}",
            serde_json::to_string(&shown).unwrap_or_default()
        ));
    }

    // 1. intake
    let event_path = req.event_path.clone().ok_or_else(|| E2eError::Event {
        path: PathBuf::from("<unset>"),
        reason: "GITHUB_EVENT_PATH is not set (use --event FILE outside Actions)".into(),
    })?;
    let opts = event::IntakeOptions {
        trigger_label: settings.trigger_label.clone(),
    };
    let mut trigger = match event::read_event(&req.event_name, &event_path, &opts)? {
        Intake::Skip(reason) => return Ok(Prepared::Skip(reason)),
        Intake::Build(t) => *t,
    };
    let github = match (&req.github_token, &req.repository) {
        (Some(token), Some(repo)) => {
            Some(GitHub::new(&req.api_url, token, repo)?.with_reporter(reporter.clone()))
        }
        _ => None,
    };
    // A dispatch names only the number: intake fetches the rest.
    event::complete(&mut trigger, github.as_ref()).await?;
    Ok(Prepared::Build(Box::new((settings, trigger, github))))
}
