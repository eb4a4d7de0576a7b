//! The failures a user must tell apart, each with what to do next and an exit code.

use std::path::PathBuf;

/// Exit code for a failure caused by the input (event, config, issue, stack): fix and retry.
pub const EXIT_USER: i32 = 2;
/// Exit code for a failure of something outside us (GitHub, git remote, LLM, tests).
pub const EXIT_EXTERNAL: i32 = 1;
/// Exit code for a bug in e2e-action itself.
pub const EXIT_INTERNAL: i32 = 70;

/// A failure of the run that is reported to the user as one clear line.
#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    /// The event payload is missing or not what GitHub sends.
    #[error("cannot read the event payload {path}: {reason}")]
    Event {
        /// The payload file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The action's configuration (inputs or config file) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The issue body could not be turned into a spec.
    #[error("the issue cannot be built: {0}")]
    Issue(String),
    /// The requested stack pack does not exist or is broken.
    #[error("{0}")]
    Stack(String),
    /// The workspace is not usable (not a git repository, dirty, no base branch).
    #[error("workspace problem: {0}")]
    Workspace(String),
    /// The generated app's tests failed and nothing was pushed.
    #[error("the generated app's tests failed: {0}")]
    TestsFailed(String),
    /// The remote refused the push.
    #[error("push rejected: {0}")]
    Push(String),
    /// GitHub's API refused or failed.
    #[error("GitHub API: {0}")]
    GitHub(String),
    /// The LLM provider failed (transport, budget, recording miss).
    #[error("LLM: {0}")]
    Llm(String),
    /// The LLM kept answering something our validation refuses.
    #[error("LLM: {0}")]
    LlmInvalid(String),
}

impl E2eError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            E2eError::Event { .. }
            | E2eError::Config(_)
            | E2eError::Issue(_)
            | E2eError::Stack(_)
            | E2eError::Workspace(_) => EXIT_USER,
            E2eError::TestsFailed(_)
            | E2eError::Push(_)
            | E2eError::GitHub(_)
            | E2eError::Llm(_)
            | E2eError::LlmInvalid(_) => EXIT_EXTERNAL,
        }
    }
}

/// Exit code for any error: a typed [`E2eError`] anywhere in the chain decides, else it is a bug.
pub fn exit_code_of(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<E2eError>())
        .map(E2eError::exit_code)
        .unwrap_or(EXIT_INTERNAL)
}
