//! Configuration: defaults < `.github/e2e-action.yml` < action inputs, merged explicitly.
//!
//! Inputs arrive as `INPUT_<NAME>` variables (hyphens kept) or as CLI flags; an empty input
//! counts as unset, so `action.yml` can leave defaults to the config file. The config file
//! rejects unknown keys with the key's name and line.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::E2eError;
use crate::llm::{Price, ProviderKind};

/// Every action input the binary reads, as given (unset or empty = `None`).
///
/// The names are the `action.yml` input names; `tests/action_contract.rs` checks the two agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// `llm-provider`
    pub llm_provider: Option<String>,
    /// `stack`
    pub stack: Option<String>,
    /// `app-dir`
    pub app_dir: Option<String>,
    /// `base-branch`
    pub base_branch: Option<String>,
    /// `push`
    pub push: Option<String>,
    /// `config-path`
    pub config_path: Option<String>,
    /// `push-on-failure`
    pub push_on_failure: Option<String>,
    /// `test-timeout`
    pub test_timeout: Option<String>,
    /// `llm-model`
    pub llm_model: Option<String>,
    /// `llm-base-url`
    pub llm_base_url: Option<String>,
    /// `llm-cache-dir`
    pub llm_cache_dir: Option<String>,
    /// `llm-max-calls`
    pub llm_max_calls: Option<String>,
    /// `llm-max-tokens`
    pub llm_max_tokens: Option<String>,
    /// `llm-concurrency`
    pub llm_concurrency: Option<String>,
    /// `llm-timeout`
    pub llm_timeout: Option<String>,
    /// `llm-max-output-tokens`
    pub llm_max_output_tokens: Option<String>,
    /// `max-repair-attempts`
    pub max_repair_attempts: Option<String>,
    /// `trigger-label`
    pub trigger_label: Option<String>,
    /// `allowed-associations` (comma-separated)
    pub allowed_associations: Option<String>,
    /// `labels` (comma-separated)
    pub labels: Option<String>,
    /// `draft` (true/false)
    pub draft: Option<String>,
    /// `reviewers` (comma-separated logins)
    pub reviewers: Option<String>,
    /// `team-reviewers` (comma-separated team slugs)
    pub team_reviewers: Option<String>,
    /// `assignees` (comma-separated logins)
    pub assignees: Option<String>,
    /// `sign-commits` (true/false)
    pub sign_commits: Option<String>,
}

/// Input names the binary reads (besides the secret `github-token`), in `action.yml` order.
pub const INPUT_NAMES: &[&str] = &[
    "github-token",
    "llm-provider",
    "stack",
    "app-dir",
    "base-branch",
    "push",
    "push-on-failure",
    "test-timeout",
    "config-path",
    "cache-dir",
    "templates-dir",
    "llm-model",
    "llm-base-url",
    "llm-api-key",
    "llm-cache-dir",
    "llm-max-calls",
    "llm-max-tokens",
    "llm-concurrency",
    "llm-timeout",
    "llm-max-output-tokens",
    "max-repair-attempts",
    "trigger-label",
    "allowed-associations",
    "labels",
    "draft",
    "reviewers",
    "team-reviewers",
    "assignees",
    "sign-commits",
];

impl Inputs {
    /// Reads inputs from `INPUT_<NAME>` variables through `get` (the process env in production).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Inputs {
        let input = |name: &str| {
            get(&format!("INPUT_{}", name.to_uppercase().replace(' ', "_")))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Inputs {
            llm_provider: input("llm-provider"),
            stack: input("stack"),
            app_dir: input("app-dir"),
            base_branch: input("base-branch"),
            push: input("push"),
            config_path: input("config-path"),
            push_on_failure: input("push-on-failure"),
            test_timeout: input("test-timeout"),
            llm_model: input("llm-model"),
            llm_base_url: input("llm-base-url"),
            llm_cache_dir: input("llm-cache-dir"),
            llm_max_calls: input("llm-max-calls"),
            llm_max_tokens: input("llm-max-tokens"),
            llm_concurrency: input("llm-concurrency"),
            llm_timeout: input("llm-timeout"),
            llm_max_output_tokens: input("llm-max-output-tokens"),
            max_repair_attempts: input("max-repair-attempts"),
            trigger_label: input("trigger-label"),
            allowed_associations: input("allowed-associations"),
            labels: input("labels"),
            draft: input("draft"),
            reviewers: input("reviewers"),
            team_reviewers: input("team-reviewers"),
            assignees: input("assignees"),
            sign_commits: input("sign-commits"),
        }
    }

    /// Layers `other` over `self`: a value set in `other` wins.
    pub fn overlay(self, other: Inputs) -> Inputs {
        Inputs {
            llm_provider: other.llm_provider.or(self.llm_provider),
            stack: other.stack.or(self.stack),
            app_dir: other.app_dir.or(self.app_dir),
            base_branch: other.base_branch.or(self.base_branch),
            push: other.push.or(self.push),
            config_path: other.config_path.or(self.config_path),
            push_on_failure: other.push_on_failure.or(self.push_on_failure),
            test_timeout: other.test_timeout.or(self.test_timeout),
            llm_model: other.llm_model.or(self.llm_model),
            llm_base_url: other.llm_base_url.or(self.llm_base_url),
            llm_cache_dir: other.llm_cache_dir.or(self.llm_cache_dir),
            llm_max_calls: other.llm_max_calls.or(self.llm_max_calls),
            llm_max_tokens: other.llm_max_tokens.or(self.llm_max_tokens),
            llm_concurrency: other.llm_concurrency.or(self.llm_concurrency),
            llm_timeout: other.llm_timeout.or(self.llm_timeout),
            llm_max_output_tokens: other.llm_max_output_tokens.or(self.llm_max_output_tokens),
            max_repair_attempts: other.max_repair_attempts.or(self.max_repair_attempts),
            trigger_label: other.trigger_label.or(self.trigger_label),
            allowed_associations: other.allowed_associations.or(self.allowed_associations),
            labels: other.labels.or(self.labels),
            draft: other.draft.or(self.draft),
            reviewers: other.reviewers.or(self.reviewers),
            team_reviewers: other.team_reviewers.or(self.team_reviewers),
            assignees: other.assignees.or(self.assignees),
            sign_commits: other.sign_commits.or(self.sign_commits),
        }
    }
}

/// The repository's `.github/e2e-action.yml`. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Stack pack name.
    pub stack: Option<String>,
    /// App folder, may contain `<slug>` and `<number>`.
    pub app_dir: Option<String>,
    /// Base branch of the generated branch and PR.
    pub base_branch: Option<String>,
    /// Push the branch (`false` = build and test locally only).
    pub push: Option<bool>,
    /// Push even when the generated app's tests fail.
    pub push_on_failure: Option<bool>,
    /// LLM provider (`none` for the scaffold only).
    pub llm_provider: Option<String>,
    /// Wall-time limit for installing and testing the generated app, in seconds.
    pub test_timeout: Option<u64>,
    /// Commit author name.
    pub author_name: Option<String>,
    /// Commit author e-mail.
    pub author_email: Option<String>,
    /// LLM model.
    pub llm_model: Option<String>,
    /// LLM base URL (OpenAI-compatible servers, Azure, Ollama, a proxy).
    pub llm_base_url: Option<String>,
    /// LLM answer cache / recording folder, relative to the workspace.
    pub llm_cache_dir: Option<String>,
    /// Hard limit of LLM calls per run.
    pub llm_max_calls: Option<u64>,
    /// Hard limit of LLM tokens per run.
    pub llm_max_tokens: Option<u64>,
    /// LLM calls in flight at once.
    pub llm_concurrency: Option<usize>,
    /// Seconds per LLM request.
    pub llm_timeout: Option<u64>,
    /// Most tokens one LLM answer may take.
    pub llm_max_output_tokens: Option<u32>,
    /// QA repair rounds before fills are reverted.
    pub max_repair_attempts: Option<u32>,
    /// Prices per model, USD per million tokens.
    pub llm_prices: Option<BTreeMap<String, Price>>,
    /// Only build issues carrying this label.
    pub trigger_label: Option<String>,
    /// Author associations allowed to trigger a build.
    pub allowed_associations: Option<Vec<String>>,
    /// Labels added to the pull request.
    pub labels: Option<Vec<String>>,
    /// Open the pull request as a draft.
    pub draft: Option<bool>,
    /// Users asked to review the pull request.
    pub reviewers: Option<Vec<String>>,
    /// Teams (slugs) asked to review the pull request.
    pub team_reviewers: Option<Vec<String>>,
    /// Users assigned to the pull request.
    pub assignees: Option<Vec<String>>,
    /// Commit through GitHub's API so GitHub signs the commit.
    pub sign_commits: Option<bool>,
}

/// LLM providers known to the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// No LLM: the scaffold alone, from an issue form.
    None,
    /// An LLM through one of the wire formats, or a recording.
    Llm(ProviderKind),
}

/// Resolved LLM settings (no key: that comes from the secret inputs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmConfig {
    /// Model; empty: the provider's default, checked against the server's model list.
    pub model: String,
    /// Base URL.
    pub base_url: Option<String>,
    /// Cache folder (relative paths are relative to the workspace).
    pub cache_dir: Option<String>,
    /// Calls per run.
    pub max_calls: u64,
    /// Tokens per run.
    pub max_tokens: u64,
    /// Calls in flight.
    pub concurrency: usize,
    /// Seconds per request.
    pub timeout_secs: u64,
    /// Cap on each answer's tokens (under each role's own limit).
    pub max_output_tokens: Option<u32>,
    /// QA repair rounds.
    pub max_repair_attempts: u32,
    /// Price of the model, when known.
    pub price: Option<Price>,
    /// The config file's `llm-prices` (they win over the built-in table).
    pub prices: BTreeMap<String, Price>,
}

/// The fully resolved configuration of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// LLM provider.
    pub llm_provider: LlmProvider,
    /// LLM settings.
    pub llm: LlmConfig,
    /// Stack pack name.
    pub stack: String,
    /// App folder pattern (`apps/<slug>` by default).
    pub app_dir: String,
    /// Base branch, or `None` for the checked-out branch.
    pub base_branch: Option<String>,
    /// Push the branch.
    pub push: bool,
    /// Push even when tests fail.
    pub push_on_failure: bool,
    /// Time limit for install + tests.
    pub test_timeout_secs: u64,
    /// Commit author name.
    pub author_name: String,
    /// Commit author e-mail.
    pub author_email: String,
    /// Only build issues carrying this label.
    pub trigger_label: Option<String>,
    /// Author associations allowed to trigger a build (upper case).
    pub allowed_associations: Vec<String>,
    /// Labels added to the pull request.
    pub labels: Vec<String>,
    /// Open the pull request as a draft.
    pub draft: bool,
    /// Users asked to review the pull request.
    pub reviewers: Vec<String>,
    /// Teams (slugs) asked to review the pull request.
    pub team_reviewers: Vec<String>,
    /// Users assigned to the pull request.
    pub assignees: Vec<String>,
    /// Commit through GitHub's API (git data) instead of pushing, so GitHub signs the commit.
    pub sign_commits: bool,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// A list of logins or team slugs: the input (comma-separated) over the config file, with a
/// leading `@` dropped (people write `@octocat`) and duplicates removed.
fn people(input: &Option<String>, file: &Option<Vec<String>>) -> Vec<String> {
    let raw = input
        .as_deref()
        .map(list)
        .or_else(|| file.clone())
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for p in raw {
        let p = p.trim().trim_start_matches('@').to_string();
        if !p.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&p)) {
            out.push(p);
        }
    }
    out
}

/// Default stack pack.
pub const DEFAULT_STACK: &str = "python-fastapi";
/// Default app folder pattern.
pub const DEFAULT_APP_DIR: &str = "apps/<slug>";
/// Default config file path, relative to the workspace.
pub const DEFAULT_CONFIG_PATH: &str = ".github/e2e-action.yml";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            llm_provider: LlmProvider::None,
            llm: LlmConfig {
                model: String::new(),
                base_url: None,
                cache_dir: None,
                max_calls: 60,
                max_tokens: 400_000,
                concurrency: 8,
                timeout_secs: 120,
                max_output_tokens: None,
                max_repair_attempts: 2,
                price: None,
                prices: BTreeMap::new(),
            },
            stack: DEFAULT_STACK.into(),
            app_dir: DEFAULT_APP_DIR.into(),
            base_branch: None,
            push: true,
            push_on_failure: false,
            test_timeout_secs: 900,
            author_name: "e2e-action[bot]".into(),
            author_email: "e2e-action[bot]@users.noreply.github.com".into(),
            trigger_label: None,
            allowed_associations: crate::guard::DEFAULT_ALLOWED
                .iter()
                .map(|s| s.to_string())
                .collect(),
            labels: Vec::new(),
            draft: false,
            reviewers: Vec::new(),
            team_reviewers: Vec::new(),
            assignees: Vec::new(),
            sign_commits: false,
        }
    }
}

/// Reads the config file at `path` if it exists. Unknown keys and wrong types are errors
/// naming the file, key and line.
pub fn read_config_file(path: &Path) -> Result<ConfigFile, E2eError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => {
            return Err(E2eError::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    parse_located(&text).map_err(|(message, line)| E2eError::ConfigFile {
        file: path.display().to_string(),
        line,
        message,
    })
}

/// Parses config file text, keeping the 1-based line of an error when the parser knows it.
fn parse_located(text: &str) -> Result<ConfigFile, (String, Option<usize>)> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    yaml_serde::from_str(text).map_err(|e| (e.to_string(), e.location().map(|l| l.line())))
}

/// Parses config file text (empty text = all defaults).
pub fn parse_config_file(text: &str) -> Result<ConfigFile, String> {
    parse_located(text).map_err(|(message, _)| message)
}

fn parse_bool(name: &str, value: &str) -> Result<bool, E2eError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(E2eError::Config(format!(
            "input `{name}` must be true or false, got {value:?}"
        ))),
    }
}

impl Settings {
    /// Resolves defaults < config file < inputs.
    pub fn resolve(file: &ConfigFile, inputs: &Inputs) -> Result<Settings, E2eError> {
        let d = Settings::default();
        let provider = inputs
            .llm_provider
            .clone()
            .or_else(|| file.llm_provider.clone())
            .unwrap_or_else(|| "none".into());
        let llm_provider = match provider.to_ascii_lowercase().as_str() {
            "none" => LlmProvider::None,
            "openai" => LlmProvider::Llm(ProviderKind::Openai),
            "anthropic" => LlmProvider::Llm(ProviderKind::Anthropic),
            "replay" => LlmProvider::Llm(ProviderKind::Replay),
            other => {
                return Err(E2eError::Config(format!(
                    "unknown llm-provider {other:?}; use one of none, openai, anthropic, replay"
                )));
            }
        };
        let num = |name: &str, v: &Option<String>| -> Result<Option<u64>, E2eError> {
            v.as_ref()
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        E2eError::Config(format!(
                            "input `{name}` must be a whole number, got {v:?}"
                        ))
                    })
                })
                .transpose()
        };
        // An empty model stays empty here: the client picks the provider's default after
        // checking that the server still offers it (`Llm::resolve_model`).
        let model = inputs
            .llm_model
            .clone()
            .or_else(|| file.llm_model.clone())
            .map(|m| m.trim().to_string())
            .unwrap_or_default();
        let prices = file.llm_prices.clone().unwrap_or_default();
        let priced = match (&llm_provider, model.is_empty()) {
            (LlmProvider::Llm(k), true) => crate::llm::default_model(*k).to_string(),
            _ => model.clone(),
        };
        let price = prices
            .get(&priced)
            .copied()
            .or_else(|| crate::llm::known_price(&priced));
        let llm = LlmConfig {
            base_url: inputs
                .llm_base_url
                .clone()
                .or_else(|| file.llm_base_url.clone()),
            cache_dir: inputs
                .llm_cache_dir
                .clone()
                .or_else(|| file.llm_cache_dir.clone()),
            max_calls: num("llm-max-calls", &inputs.llm_max_calls)?
                .or(file.llm_max_calls)
                .unwrap_or(d.llm.max_calls),
            max_tokens: num("llm-max-tokens", &inputs.llm_max_tokens)?
                .or(file.llm_max_tokens)
                .unwrap_or(d.llm.max_tokens),
            concurrency: num("llm-concurrency", &inputs.llm_concurrency)?
                .map(|n| n as usize)
                .or(file.llm_concurrency)
                .unwrap_or(d.llm.concurrency)
                .clamp(1, 64),
            timeout_secs: num("llm-timeout", &inputs.llm_timeout)?
                .or(file.llm_timeout)
                .unwrap_or(d.llm.timeout_secs)
                .max(1),
            max_output_tokens: num("llm-max-output-tokens", &inputs.llm_max_output_tokens)?
                .map(|n| n.clamp(16, u32::MAX as u64) as u32)
                .or(file.llm_max_output_tokens.map(|n| n.max(16))),
            max_repair_attempts: num("max-repair-attempts", &inputs.max_repair_attempts)?
                .map(|n| n.min(10) as u32)
                .or(file.max_repair_attempts)
                .unwrap_or(d.llm.max_repair_attempts),
            price,
            prices,
            model,
        };
        let push = match &inputs.push {
            Some(v) => parse_bool("push", v)?,
            None => file.push.unwrap_or(d.push),
        };
        let push_on_failure = match &inputs.push_on_failure {
            Some(v) => parse_bool("push-on-failure", v)?,
            None => file.push_on_failure.unwrap_or(d.push_on_failure),
        };
        let test_timeout_secs = match &inputs.test_timeout {
            Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                E2eError::Config(format!(
                    "input `test-timeout` must be a positive number of seconds, got {v:?}"
                ))
            })?,
            None => file.test_timeout.unwrap_or(d.test_timeout_secs),
        };
        let app_dir = inputs
            .app_dir
            .clone()
            .or_else(|| file.app_dir.clone())
            .unwrap_or(d.app_dir);
        crate::workspace::confine::check_app_dir(&app_dir)
            .map_err(|e| E2eError::Config(format!("app-dir: {e}")))?;
        Ok(Settings {
            llm_provider,
            llm,
            stack: inputs
                .stack
                .clone()
                .or_else(|| file.stack.clone())
                .unwrap_or(d.stack),
            app_dir,
            base_branch: inputs
                .base_branch
                .clone()
                .or_else(|| file.base_branch.clone()),
            push,
            push_on_failure,
            test_timeout_secs,
            author_name: file.author_name.clone().unwrap_or(d.author_name),
            author_email: file.author_email.clone().unwrap_or(d.author_email),
            trigger_label: inputs
                .trigger_label
                .clone()
                .or_else(|| file.trigger_label.clone()),
            allowed_associations: inputs
                .allowed_associations
                .as_deref()
                .map(list)
                .or_else(|| file.allowed_associations.clone())
                .unwrap_or(d.allowed_associations)
                .into_iter()
                .map(|a| a.to_ascii_uppercase())
                .collect(),
            labels: inputs
                .labels
                .as_deref()
                .map(list)
                .or_else(|| file.labels.clone())
                .unwrap_or_default(),
            draft: match &inputs.draft {
                Some(v) => parse_bool("draft", v)?,
                None => file.draft.unwrap_or(d.draft),
            },
            reviewers: people(&inputs.reviewers, &file.reviewers),
            team_reviewers: people(&inputs.team_reviewers, &file.team_reviewers),
            assignees: people(&inputs.assignees, &file.assignees),
            sign_commits: match &inputs.sign_commits {
                Some(v) => parse_bool("sign-commits", v)?,
                None => file.sign_commits.unwrap_or(d.sign_commits),
            },
        })
    }

    /// The app folder for a spec: the pattern with `<slug>` and `<number>` filled in.
    pub fn app_dir_for(&self, slug: &str, number: u64) -> String {
        self.app_dir
            .replace("<slug>", slug)
            .replace("<number>", &number.to_string())
    }
}

/// Where the config file lives for a workspace.
pub fn config_path(workspace: &Path, inputs: &Inputs) -> PathBuf {
    workspace.join(inputs.config_path.as_deref().unwrap_or(DEFAULT_CONFIG_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_keep_hyphens_and_ignore_empty_values() {
        let env = [
            ("INPUT_LLM-PROVIDER", "none"),
            ("INPUT_STACK", ""),
            ("INPUT_APP-DIR", " apps/x "),
        ];
        let inputs = Inputs::from_env(|k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        });
        assert_eq!(inputs.llm_provider.as_deref(), Some("none"));
        assert_eq!(inputs.stack, None);
        assert_eq!(inputs.app_dir.as_deref(), Some("apps/x"));
    }

    #[test]
    fn inputs_override_file_which_overrides_defaults() {
        let file =
            parse_config_file("stack: from-file\npush: false\napp-dir: web/<slug>\n").unwrap();
        let inputs = Inputs {
            stack: Some("from-input".into()),
            ..Inputs::default()
        };
        let s = Settings::resolve(&file, &inputs).unwrap();
        assert_eq!(s.stack, "from-input");
        assert!(!s.push);
        assert_eq!(s.app_dir_for("shop", 7), "web/shop");
        assert_eq!(s.test_timeout_secs, 900);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse_config_file("stack: x\npuhs: true\n").unwrap_err();
        assert!(err.contains("puhs"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert_eq!(
            parse_located("stack: x\npuhs: true\n").unwrap_err().1,
            Some(2)
        );
    }

    #[test]
    fn pull_request_options_come_from_inputs_over_the_file() {
        let file = parse_config_file(
            "draft: true\nreviewers: [octocat]\nteam-reviewers: [core]\nassignees: [hubot]\n",
        )
        .unwrap();
        let s = Settings::resolve(&file, &Inputs::default()).unwrap();
        assert!(s.draft);
        assert_eq!(s.reviewers, ["octocat"]);
        assert_eq!(s.team_reviewers, ["core"]);
        assert_eq!(s.assignees, ["hubot"]);
        let inputs = Inputs {
            draft: Some("false".into()),
            reviewers: Some("@alice, bob,alice".into()),
            ..Inputs::default()
        };
        let s = Settings::resolve(&file, &inputs).unwrap();
        assert!(!s.draft);
        assert_eq!(s.reviewers, ["alice", "bob"]);
        assert_eq!(s.team_reviewers, ["core"]);
    }

    #[test]
    fn bad_boolean_input_is_a_config_error() {
        let inputs = Inputs {
            push: Some("maybe".into()),
            ..Inputs::default()
        };
        let err = Settings::resolve(&ConfigFile::default(), &inputs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: input `push` must be true or false, got \"maybe\""
        );
    }
}
