//! The failures a user must tell apart, each with what to do next and an exit code.

use std::path::PathBuf;

use crate::report::Annotation;

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
    /// The config file is invalid, at a known place.
    #[error("invalid configuration: {file}: {message}")]
    ConfigFile {
        /// The file, relative to the repository root when it is inside it.
        file: String,
        /// 1-based line, when the parser knows it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
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
    /// Something that cannot happen did: a bug in e2e-action (or in its embedded pack).
    #[error("internal error (a bug in e2e-action): {0}")]
    Internal(String),
}

impl E2eError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            E2eError::Event { .. }
            | E2eError::Config(_)
            | E2eError::ConfigFile { .. }
            | E2eError::Issue(_)
            | E2eError::Stack(_)
            | E2eError::Workspace(_) => EXIT_USER,
            E2eError::TestsFailed(_)
            | E2eError::Push(_)
            | E2eError::GitHub(_)
            | E2eError::Llm(_)
            | E2eError::LlmInvalid(_) => EXIT_EXTERNAL,
            E2eError::Internal(_) => EXIT_INTERNAL,
        }
    }
}

impl E2eError {
    /// The annotation for this failure: a title, and the file and line where known.
    pub fn annotation(&self) -> Annotation {
        let title = match self {
            E2eError::Event { .. } => "Unreadable event payload",
            E2eError::Config(_) | E2eError::ConfigFile { .. } => "Invalid configuration",
            E2eError::Issue(_) => "The issue cannot be built",
            E2eError::Stack(_) => "Stack pack problem",
            E2eError::Workspace(_) => "Workspace problem",
            E2eError::TestsFailed(_) => "The generated app's tests failed",
            E2eError::Push(_) => "Push rejected",
            E2eError::GitHub(_) => "GitHub API error",
            E2eError::Llm(_) | E2eError::LlmInvalid(_) => "LLM error",
            E2eError::Internal(_) => "e2e-action failed (a bug)",
        };
        let mut a = Annotation::titled(title);
        if let E2eError::ConfigFile { file, line, .. } = self {
            a.file = Some(file.clone());
            a.line = *line;
        }
        a
    }

    /// What the user can do about this failure, one or two sentences of Markdown.
    pub fn next_step(&self) -> &'static str {
        match self {
            E2eError::Event { .. } => {
                "Run e2e-action on `issues`, `issue_comment` or `workflow_dispatch` events (see `examples/workflows/`)."
            }
            E2eError::Config(_) | E2eError::ConfigFile { .. } => {
                "Fix the input or the config file (`.github/e2e-action.yml`) where the message says, then re-run the job."
            }
            E2eError::Issue(_) => {
                "Edit the issue so its form fields read as the message says; the edit starts a new run (or comment `/e2e retry`)."
            }
            E2eError::Stack(_) => {
                "Check the `stack` and `templates-dir` inputs: the pack must exist and load."
            }
            E2eError::Workspace(_) => {
                "Check out the repository with actions/checkout before this step and leave the tree clean."
            }
            E2eError::TestsFailed(_) => {
                "Read the test log above; change the issue and comment `/e2e retry`, or set `push-on-failure: true` to push the branch and look at it."
            }
            E2eError::Push(_) => {
                "If someone pushed to the branch meanwhile, re-run the job: it builds on top of their commit. Otherwise give the workflow `contents: write`."
            }
            E2eError::GitHub(_) => {
                "Check the token's permissions (`contents`, `issues`, `pull-requests`: write) and the repository setting \"Allow GitHub Actions to create and approve pull requests\", then re-run the job."
            }
            E2eError::Llm(_) | E2eError::LlmInvalid(_) => {
                "Check `llm-api-key`, `llm-model` and `llm-base-url`, or set `llm-provider: none` to build from the issue form alone; then re-run the job."
            }
            E2eError::Internal(_) => {
                "This is a bug in e2e-action: please report it with this job's log. Re-running the job may get past it."
            }
        }
    }
}

/// The annotation for any error: a typed [`E2eError`] anywhere in the chain decides, else it is
/// a bug.
pub fn annotation_of(err: &anyhow::Error) -> Annotation {
    err.chain()
        .find_map(|e| e.downcast_ref::<E2eError>())
        .map(E2eError::annotation)
        .unwrap_or_else(|| Annotation::titled("e2e-action failed (a bug)"))
}

/// What to do next for any error (a bug when no [`E2eError`] is in the chain).
pub fn next_step_of(err: &anyhow::Error) -> &'static str {
    err.chain()
        .find_map(|e| e.downcast_ref::<E2eError>())
        .map(E2eError::next_step)
        .unwrap_or("This is a bug in e2e-action: please report it with this job's log.")
}

/// Exit code for any error: a typed [`E2eError`] anywhere in the chain decides, else it is a bug.
pub fn exit_code_of(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<E2eError>())
        .map(E2eError::exit_code)
        .unwrap_or(EXIT_INTERNAL)
}
