//! Configuration: defaults < `.github/e2e-action.yml` < action inputs, merged in one place.
//!
//! Every key is declared once, in the table of `config_keys!`. From it follow the action
//! inputs ([`Inputs`], read from `INPUT_<NAME>` variables with hyphens kept, or from the flags of
//! `run`: `cli::InputFlags`), the config file's schema ([`ConfigFile`]: kebab-case, unknown keys
//! refused with their name and line), the input names checked against `action.yml` and the
//! README ([`KEYS`], [`input_names`]) and the merge ([`Settings::resolve`]: inputs are parsed
//! into a [`ConfigFile`] layer and laid over the file's, then defaults fill the rest). An empty
//! input counts as unset, so `action.yml` can leave defaults to the config file.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::E2eError;
use crate::llm::{Price, ProviderKind};

/// The configuration keys, declared once: calls `$then!` with the table. Keys are grouped by
/// where they can be set; a key's input name, flag and config-file key are its field name in
/// kebab-case. Types are the config file's; inputs and flags are text parsed into them
/// ([`FromInput`]). The inputs read outside this table are [`OTHER_INPUTS`].
macro_rules! config_keys {
    ($then:ident) => {
        $then! {
            // Action inputs that are also flags of `run` and keys of the config file.
            flag_input_file {
                /// LLM provider: none (the scaffold alone), openai, anthropic or replay.
                llm_provider: String,
                /// Stack pack name.
                stack: String,
                /// App folder (`apps/<slug>` by default); `<slug>` and `<number>` are replaced.
                app_dir: String,
                /// Base branch of the generated branch and PR (default: the checked-out branch).
                base_branch: String,
                /// Push the branch (true/false; false = build and test locally only).
                push: bool,
                /// Push even when the generated app's tests fail (true/false).
                push_on_failure: bool,
                /// Time limit for installing and testing the generated app, seconds.
                test_timeout: Seconds,
                /// LLM model.
                llm_model: String,
                /// LLM base URL (OpenAI-compatible servers, Azure, Ollama, a proxy).
                llm_base_url: String,
                /// LLM answer cache and recording folder, relative to the workspace.
                llm_cache_dir: String,
                /// Hard limit of LLM calls per run.
                llm_max_calls: u64,
                /// Hard limit of LLM tokens per run.
                llm_max_tokens: u64,
                /// LLM calls in flight at once.
                llm_concurrency: usize,
                /// Seconds per LLM request.
                llm_timeout: u64,
                /// Most tokens one LLM answer may take (under each role's own limit).
                llm_max_output_tokens: u32,
                /// QA repair rounds before LLM fills are reverted (at most 10).
                max_repair_attempts: u32,
            }
            // Action inputs that are keys of the config file, without a flag.
            input_file {
                /// Only build issues carrying this label.
                trigger_label: String,
                /// Author associations allowed to trigger a build (comma-separated as an input).
                allowed_associations: Vec<String>,
                /// Labels added to the pull request (comma-separated as an input).
                labels: Vec<String>,
                /// Open the pull request as a draft (true/false).
                draft: bool,
                /// Users asked to review the pull request (comma-separated logins as an input).
                reviewers: Vec<String>,
                /// Teams (slugs) asked to review the pull request (comma-separated as an input).
                team_reviewers: Vec<String>,
                /// Users assigned to the pull request (comma-separated logins as an input).
                assignees: Vec<String>,
                /// Commit through GitHub's API so GitHub signs the commit (true/false).
                sign_commits: bool,
            }
            // Action inputs that are also flags of `run`, not in the config file.
            flag_input {
                /// Config file, relative to the checkout.
                config_path,
            }
            // Keys of the config file only.
            file {
                /// Commit author name.
                author_name: String,
                /// Commit author e-mail.
                author_email: String,
                /// Prices per model, USD per million tokens (they win over the built-in table).
                llm_prices: BTreeMap<String, Price>,
                /// Also place the app's deploy workflow at `.github/workflows/<slug>-deploy.yml`
                /// (the token then needs the `workflows` permission); off by default, when the
                /// pull request says how to enable it by hand.
                install_deploy_workflow: bool,
            }
        }
    };
}
pub(crate) use config_keys;

/// Generates the layers from the table of [`config_keys!`].
macro_rules! define_layers {
    (
        flag_input_file { $( $(#[doc = $d1:literal])* $f1:ident : $t1:ty, )* }
        input_file { $( $(#[doc = $d2:literal])* $f2:ident : $t2:ty, )* }
        flag_input { $( $(#[doc = $d3:literal])* $f3:ident, )* }
        file { $( $(#[doc = $d4:literal])* $f4:ident : $t4:ty, )* }
    ) => {
        /// Every configuration input as given, from flags or `INPUT_*` variables (unset or
        /// empty = `None`); the field names are the input names in snake_case.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Inputs {
            $( $(#[doc = $d1])* pub $f1: Option<String>, )*
            $( $(#[doc = $d2])* pub $f2: Option<String>, )*
            $( $(#[doc = $d3])* pub $f3: Option<String>, )*
        }

        /// The repository's `.github/e2e-action.yml` (every key optional), and the typed layer
        /// the inputs are parsed into ([`Inputs::layer`]).
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct ConfigFile {
            $( $(#[doc = $d1])* pub $f1: Option<$t1>, )*
            $( $(#[doc = $d2])* pub $f2: Option<$t2>, )*
            $( $(#[doc = $d4])* pub $f4: Option<$t4>, )*
        }

        /// Every key of the table, with where it can be set.
        pub const KEYS: &[Key] = &[
            $( Key { field: stringify!($f1), input: true, flag: true, file: true }, )*
            $( Key { field: stringify!($f2), input: true, flag: false, file: true }, )*
            $( Key { field: stringify!($f3), input: true, flag: true, file: false }, )*
            $( Key { field: stringify!($f4), input: false, flag: false, file: true }, )*
        ];

        impl Inputs {
            /// Reads inputs from `INPUT_<NAME>` variables through `get` (the process env in
            /// production).
            pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Inputs {
                let input = |field: &str| {
                    get(&input_var(&kebab(field)))
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                Inputs {
                    $( $f1: input(stringify!($f1)), )*
                    $( $f2: input(stringify!($f2)), )*
                    $( $f3: input(stringify!($f3)), )*
                }
            }

            /// Layers `other` over `self`: a value set in `other` wins.
            pub fn overlay(self, other: Inputs) -> Inputs {
                Inputs {
                    $( $f1: other.$f1.or(self.$f1), )*
                    $( $f2: other.$f2.or(self.$f2), )*
                    $( $f3: other.$f3.or(self.$f3), )*
                }
            }

            /// The inputs as a typed layer, each parsed into its config-file type; an input
            /// that does not parse is an error naming the input.
            pub fn layer(&self) -> Result<ConfigFile, E2eError> {
                Ok(ConfigFile {
                    $( $f1: parse_input(stringify!($f1), &self.$f1)?, )*
                    $( $f2: parse_input(stringify!($f2), &self.$f2)?, )*
                    $( $f4: None, )*
                })
            }
        }

        impl ConfigFile {
            /// Layers `other` over `self`: a value set in `other` wins.
            pub fn overlay(self, other: ConfigFile) -> ConfigFile {
                ConfigFile {
                    $( $f1: other.$f1.or(self.$f1), )*
                    $( $f2: other.$f2.or(self.$f2), )*
                    $( $f4: other.$f4.or(self.$f4), )*
                }
            }
        }
    };
}
config_keys!(define_layers);

/// One configuration key and where it can be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Field name (snake_case); the input, flag and config-file key are its kebab-case.
    pub field: &'static str,
    /// An action input (`INPUT_<NAME>`).
    pub input: bool,
    /// A flag of `run`.
    pub flag: bool,
    /// A key of the config file.
    pub file: bool,
}

impl Key {
    /// The input, flag and config-file name (`llm-max-calls`).
    pub fn name(&self) -> String {
        kebab(self.field)
    }
}

/// Inputs the binary reads outside the table (in `cli::run_request`): the secrets, which are
/// never layered (no flag shows them in `ps`, no config file holds them), and the folders,
/// which are resolved against the runner's folders rather than merged.
pub const OTHER_INPUTS: &[&str] = &["github-token", "llm-api-key", "templates-dir", "cache-dir"];

/// Every input name the binary reads: the table's and [`OTHER_INPUTS`].
pub fn input_names() -> Vec<String> {
    KEYS.iter()
        .filter(|k| k.input)
        .map(Key::name)
        .chain(OTHER_INPUTS.iter().map(|s| s.to_string()))
        .collect()
}

/// The variable the runner sets for input `name`: `INPUT_` and the name upper-cased, hyphens
/// kept, spaces as underscores.
pub fn input_var(name: &str) -> String {
    format!("INPUT_{}", name.to_uppercase().replace(' ', "_"))
}

fn kebab(field: &str) -> String {
    field.replace('_', "-")
}

/// A positive number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Seconds(pub u64);

impl TryFrom<u64> for Seconds {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        if n == 0 {
            Err("must be a positive number of seconds".into())
        } else {
            Ok(Seconds(n))
        }
    }
}

impl From<Seconds> for u64 {
    fn from(s: Seconds) -> u64 {
        s.0
    }
}

/// A value as an action input or a flag spells it.
trait FromInput: Sized {
    /// Parses `value` of input `name`.
    fn from_input(name: &str, value: &str) -> Result<Self, E2eError>;
}

impl FromInput for String {
    fn from_input(_: &str, value: &str) -> Result<Self, E2eError> {
        Ok(value.to_string())
    }
}

impl FromInput for bool {
    fn from_input(name: &str, value: &str) -> Result<Self, E2eError> {
        match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(true),
            "false" | "no" | "0" | "off" => Ok(false),
            _ => Err(E2eError::Config(format!(
                "input `{name}` must be true or false, got {value:?}"
            ))),
        }
    }
}

impl FromInput for u64 {
    fn from_input(name: &str, value: &str) -> Result<Self, E2eError> {
        value.parse::<u64>().map_err(|_| {
            E2eError::Config(format!(
                "input `{name}` must be a whole number, got {value:?}"
            ))
        })
    }
}

/// Saturates: a limit larger than the type holds means "no limit" as well as its largest value.
impl FromInput for u32 {
    fn from_input(name: &str, value: &str) -> Result<Self, E2eError> {
        u64::from_input(name, value).map(|n| n.min(u32::MAX as u64) as u32)
    }
}

impl FromInput for usize {
    fn from_input(name: &str, value: &str) -> Result<Self, E2eError> {
        u64::from_input(name, value).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }
}

/// Comma-separated.
impl FromInput for Vec<String> {
    fn from_input(_: &str, value: &str) -> Result<Self, E2eError> {
        Ok(list(value))
    }
}

impl FromInput for Seconds {
    fn from_input(name: &str, value: &str) -> Result<Self, E2eError> {
        value
            .parse::<u64>()
            .ok()
            .and_then(|n| Seconds::try_from(n).ok())
            .ok_or_else(|| {
                E2eError::Config(format!(
                    "input `{name}` must be a positive number of seconds, got {value:?}"
                ))
            })
    }
}

fn parse_input<T: FromInput>(field: &str, value: &Option<String>) -> Result<Option<T>, E2eError> {
    value
        .as_deref()
        .map(|v| T::from_input(&kebab(field), v))
        .transpose()
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
    /// Place the app's deploy workflow under `.github/workflows/` too (config file only: a
    /// workflow written by a bot is the repository owners' decision).
    pub install_deploy_workflow: bool,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// A list of logins or team slugs with a leading `@` dropped (people write `@octocat`) and
/// duplicates removed.
fn people(raw: Option<Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in raw.unwrap_or_default() {
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
            install_deploy_workflow: false,
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

impl Settings {
    /// Resolves defaults < config file < inputs: the one place the layers meet.
    pub fn resolve(file: &ConfigFile, inputs: &Inputs) -> Result<Settings, E2eError> {
        Settings::from_layer(file.clone().overlay(inputs.layer()?))
    }

    /// Fills what `c` leaves unset with the defaults, and bounds what is bounded.
    fn from_layer(c: ConfigFile) -> Result<Settings, E2eError> {
        let d = Settings::default();
        let provider = c.llm_provider.unwrap_or_else(|| "none".into());
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
        // An empty model stays empty here: the client picks the provider's default after
        // checking that the server still offers it (`Llm::resolve_model`).
        let model = c
            .llm_model
            .map(|m| m.trim().to_string())
            .unwrap_or_default();
        let prices = c.llm_prices.unwrap_or_default();
        let priced = match (&llm_provider, model.is_empty()) {
            (LlmProvider::Llm(k), true) => crate::llm::default_model(*k).to_string(),
            _ => model.clone(),
        };
        let price = prices
            .get(&priced)
            .copied()
            .or_else(|| crate::llm::known_price(&priced));
        let llm = LlmConfig {
            base_url: c.llm_base_url,
            cache_dir: c.llm_cache_dir,
            max_calls: c.llm_max_calls.unwrap_or(d.llm.max_calls),
            max_tokens: c.llm_max_tokens.unwrap_or(d.llm.max_tokens),
            concurrency: c.llm_concurrency.unwrap_or(d.llm.concurrency).clamp(1, 64),
            timeout_secs: c.llm_timeout.unwrap_or(d.llm.timeout_secs).max(1),
            max_output_tokens: c.llm_max_output_tokens.map(|n| n.max(16)),
            max_repair_attempts: c
                .max_repair_attempts
                .map(|n| n.min(10))
                .unwrap_or(d.llm.max_repair_attempts),
            price,
            prices,
            model,
        };
        let app_dir = c.app_dir.unwrap_or(d.app_dir);
        crate::workspace::confine::check_app_dir(&app_dir)
            .map_err(|e| E2eError::Config(format!("app-dir: {e}")))?;
        Ok(Settings {
            llm_provider,
            llm,
            stack: c.stack.unwrap_or(d.stack),
            app_dir,
            base_branch: c.base_branch,
            push: c.push.unwrap_or(d.push),
            push_on_failure: c.push_on_failure.unwrap_or(d.push_on_failure),
            test_timeout_secs: c.test_timeout.map_or(d.test_timeout_secs, u64::from),
            author_name: c.author_name.unwrap_or(d.author_name),
            author_email: c.author_email.unwrap_or(d.author_email),
            trigger_label: c.trigger_label,
            allowed_associations: c
                .allowed_associations
                .unwrap_or(d.allowed_associations)
                .into_iter()
                .map(|a| a.to_ascii_uppercase())
                .collect(),
            labels: c.labels.unwrap_or_default(),
            draft: c.draft.unwrap_or(d.draft),
            reviewers: people(c.reviewers),
            team_reviewers: people(c.team_reviewers),
            assignees: people(c.assignees),
            sign_commits: c.sign_commits.unwrap_or(d.sign_commits),
            install_deploy_workflow: c
                .install_deploy_workflow
                .unwrap_or(d.install_deploy_workflow),
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

    /// The value `1` parses as every input type (text, number, true, a one-item list).
    fn every_input_set_to_one() -> Inputs {
        Inputs::from_env(|var| {
            input_names()
                .iter()
                .any(|n| input_var(n) == var)
                .then(|| "1".to_string())
        })
    }

    #[test]
    fn the_schema_inputs_and_layer_follow_from_the_table() {
        let names = |pick: fn(&Key) -> bool| -> Vec<String> {
            KEYS.iter().filter(|k| pick(k)).map(Key::name).collect()
        };
        // The config file's keys are exactly the table's file keys.
        let schema = yaml_serde::to_value(ConfigFile::default()).unwrap();
        let keys: Vec<String> = schema
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        assert_eq!(keys, names(|k| k.file));
        // Every input is read from its variable and lands in its own key of the layer.
        let layer = every_input_set_to_one().layer().unwrap();
        let layer = yaml_serde::to_value(layer).unwrap();
        for key in KEYS.iter().filter(|k| k.file) {
            assert_eq!(
                layer[key.name().as_str()].is_null(),
                !key.input,
                "{}: {layer:?}",
                key.name()
            );
        }
        assert_eq!(every_input_set_to_one().config_path.as_deref(), Some("1"));
        // Names are unique, and the inputs outside the table are not in it.
        let mut all = input_names();
        all.extend(names(|k| !k.input));
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "a name is declared twice");
        assert_eq!(input_names().len(), 29);
    }

    /// Another value of the same type.
    fn other(v: &yaml_serde::Value) -> yaml_serde::Value {
        use yaml_serde::Value;
        match v {
            Value::Bool(b) => Value::Bool(!b),
            Value::Number(n) => Value::from(n.as_u64().unwrap() + 1),
            Value::String(s) => Value::from(format!("{s}2")),
            Value::Sequence(items) => Value::Sequence(items.iter().map(other).collect()),
            v => v.clone(),
        }
    }

    #[test]
    fn every_input_wins_over_the_file_key_of_its_name_and_unset_inputs_leave_it() {
        let inputs = yaml_serde::to_value(every_input_set_to_one().layer().unwrap()).unwrap();
        let mut file = yaml_serde::Mapping::new();
        for (k, v) in inputs.as_mapping().unwrap() {
            if !v.is_null() {
                file.insert(k.clone(), other(v));
            }
        }
        let file: ConfigFile = yaml_serde::from_value(yaml_serde::Value::Mapping(file)).unwrap();
        let layer = every_input_set_to_one().layer().unwrap();
        assert_eq!(file.clone().overlay(layer.clone()), layer);
        assert_eq!(file.clone().overlay(ConfigFile::default()), file);
        assert_ne!(file, layer);
    }

    #[test]
    fn bounds_hold_for_the_file_and_the_inputs_alike() {
        let file = parse_config_file("max-repair-attempts: 50\nllm-concurrency: 0\n").unwrap();
        let s = Settings::resolve(&file, &Inputs::default()).unwrap();
        assert_eq!((s.llm.max_repair_attempts, s.llm.concurrency), (10, 1));
        let inputs = Inputs {
            max_repair_attempts: Some("99999999999".into()),
            llm_max_output_tokens: Some("99999999999".into()),
            ..Inputs::default()
        };
        let s = Settings::resolve(&file, &inputs).unwrap();
        assert_eq!(s.llm.max_repair_attempts, 10);
        assert_eq!(s.llm.max_output_tokens, Some(u32::MAX));
        let err = read_located("test-timeout: 0\n");
        assert!(err.0.contains("positive number of seconds"), "{err:?}");
        assert_eq!(err.1, Some(1));
        let inputs = Inputs {
            test_timeout: Some("0".into()),
            ..Inputs::default()
        };
        assert_eq!(
            Settings::resolve(&ConfigFile::default(), &inputs)
                .unwrap_err()
                .to_string(),
            "invalid configuration: input `test-timeout` must be a positive number of seconds, got \"0\""
        );
    }

    fn read_located(text: &str) -> (String, Option<usize>) {
        parse_located(text).unwrap_err()
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
