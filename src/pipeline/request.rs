//! The run request: everything a run needs, read from the environment or the command line
//! by the CLI layer; and what follows from it before any stage runs (where the LLM key may
//! go, the LLM client's settings, how to reach the remote).
//!
//! Only the orchestrator reads a request: each stage takes the part it needs (an `Auth`, a
//! push URL, a folder).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::config::{Inputs, LlmProvider, Settings};
use crate::error::E2eError;
use crate::llm::{LlmSettings, ProviderKind};
use crate::pipeline::integrate::Remote;
use crate::report::Reporter;
use crate::workspace::git::Auth;

/// Everything a run needs, already read from the environment or the CLI.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// `GITHUB_EVENT_PATH`.
    pub event_path: Option<PathBuf>,
    /// The checkout (`GITHUB_WORKSPACE`).
    pub workspace: PathBuf,
    /// `GITHUB_REPOSITORY` (`owner/name`), if known.
    pub repository: Option<String>,
    /// `RUNNER_TEMP`.
    pub runner_temp: PathBuf,
    /// Cache folder for virtual environments and package caches.
    pub cache_dir: PathBuf,
    /// Action inputs.
    pub inputs: Inputs,
    /// `github-token` input or `GITHUB_TOKEN`.
    pub github_token: Option<SecretString>,
    /// `llm-api-key` input.
    pub llm_api_key: Option<SecretString>,
    /// `OPENAI_API_KEY`, used when `llm-api-key` is empty and the provider is openai.
    pub openai_api_key: Option<SecretString>,
    /// `ANTHROPIC_API_KEY`, used when `llm-api-key` is empty and the provider is anthropic.
    pub anthropic_api_key: Option<SecretString>,
    /// `GITHUB_API_URL`.
    pub api_url: String,
    /// `GITHUB_SERVER_URL`.
    pub server_url: String,
    /// A folder of the user's own stack packs, instead of the embedded ones.
    pub templates_dir: Option<PathBuf>,
    /// The runner's tool cache (`RUNNER_TOOL_CACHE`): a cache folder may also live there.
    pub tool_cache: Option<PathBuf>,
    /// Whether `cache_dir` came from the `cache-dir` input (confined to the workspace,
    /// `RUNNER_TEMP` or the tool cache) rather than from the command line or a default.
    pub cache_dir_from_input: bool,
}

impl RunRequest {
    /// A local run of an `issues` event: no token, no key, no GitHub API.
    pub fn local(
        event: PathBuf,
        workspace: PathBuf,
        runner_temp: PathBuf,
        cache_dir: PathBuf,
        inputs: Inputs,
    ) -> RunRequest {
        RunRequest {
            event_name: "issues".into(),
            event_path: Some(event),
            workspace,
            repository: None,
            runner_temp,
            cache_dir,
            inputs,
            github_token: None,
            llm_api_key: None,
            openai_api_key: None,
            anthropic_api_key: None,
            api_url: "https://api.github.com".into(),
            server_url: "https://github.com".into(),
            templates_dir: None,
            tool_cache: None,
            cache_dir_from_input: false,
        }
    }
}

impl RunRequest {
    /// How to reach the remote: the token, and `<server>/<repository>.git` when the checkout
    /// has no `origin`.
    pub fn remote(&self) -> Remote {
        Remote::new(self.auth(), &self.server_url, self.repository.as_deref())
    }

    /// The token for git, if any.
    pub fn auth(&self) -> Auth {
        Auth {
            token: self.github_token.clone(),
        }
    }
}

/// Before anything is written or sent: the cache folders stay inside the workspace,
/// `RUNNER_TEMP` or the runner's tool cache, and an LLM key travels only over https (or plain
/// http to this machine). Says where the key goes.
pub(crate) fn check_destinations(
    req: &RunRequest,
    settings: &Settings,
    reporter: &Reporter,
) -> Result<(), E2eError> {
    let mut roots: Vec<&std::path::Path> = vec![&req.workspace, &req.runner_temp];
    if let Some(t) = &req.tool_cache {
        roots.push(t);
    }
    if req.cache_dir_from_input {
        crate::workspace::confine::confine_cache_dir("cache-dir", &req.cache_dir, &roots)
            .map_err(E2eError::Config)?;
    }
    if let Some(d) = &settings.llm.cache_dir {
        crate::workspace::confine::confine_cache_dir(
            "llm-cache-dir",
            std::path::Path::new(d),
            &roots,
        )
        .map_err(E2eError::Config)?;
    }
    if let LlmProvider::Llm(kind) = settings.llm_provider
        && kind != ProviderKind::Replay
    {
        let key = llm_settings(kind, settings, req).api_key.is_some();
        let url = settings.llm.base_url.clone().unwrap_or_else(|| {
            match kind {
                ProviderKind::Anthropic => "https://api.anthropic.com",
                _ => "https://api.openai.com/v1",
            }
            .into()
        });
        let lower = url.to_ascii_lowercase();
        let plain = !lower.starts_with("https://");
        if key && plain && !crate::workspace::git::is_loopback_url(&lower) {
            return Err(E2eError::Config(format!(
                "llm-base-url {} is not https: the LLM key would travel unencrypted. Use https (plain http is accepted only for a server on this machine)",
                crate::workspace::git::redact_url(&url)
            )));
        }
        if key {
            reporter.info(&format!(
                "LLM: the {} key is sent to {}",
                kind.name(),
                crate::workspace::git::redact_url(&url)
            ));
        }
    }
    Ok(())
}

/// The LLM client's settings for this run.
pub(crate) fn llm_settings(
    kind: ProviderKind,
    settings: &Settings,
    req: &RunRequest,
) -> LlmSettings {
    let env_key = match kind {
        ProviderKind::Openai => req.openai_api_key.clone(),
        ProviderKind::Anthropic => req.anthropic_api_key.clone(),
        ProviderKind::Replay => None,
    };
    LlmSettings {
        provider: kind,
        model: settings.llm.model.clone(),
        base_url: settings.llm.base_url.clone(),
        api_key: req.llm_api_key.clone().or(env_key),
        cache_dir: settings
            .llm
            .cache_dir
            .as_ref()
            .map(|d| req.workspace.join(d)),
        max_calls: settings.llm.max_calls,
        max_tokens: settings.llm.max_tokens,
        timeout: Duration::from_secs(settings.llm.timeout_secs),
        max_retries: 4,
        max_invalid: 2,
        min_backoff: Duration::from_millis(500),
        price: settings.llm.price,
        prices: settings.llm.prices.clone(),
        max_output_tokens: settings.llm.max_output_tokens,
    }
}
