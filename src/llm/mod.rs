//! The LLM layer: one client over several providers, with structured answers validated on our
//! side, retries with backoff and jitter (honouring `retry-after`), a hard per-run budget, a
//! cache that doubles as an offline recording, and usage per stage and role.
//!
//! This file holds the types, the client's set-up (model resolution) and the asking loop;
//! `call.rs` one call (cache, budget, retries, usage); `transport.rs` the wire (requests,
//! failures, the structured-output fallback, the model list); `openai.rs` and `anthropic.rs`
//! the two formats.
//!
//! Every answer is a JSON object checked by the caller's validator; an invalid answer is asked
//! again with the validation error quoted, a bounded number of times, then the call fails.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::E2eError;

mod anthropic;
mod call;
pub mod models;
mod openai;
pub mod schema;
mod transport;

use call::{AskTimer, Book, RecordingMeta};

pub use models::{default_model, known_price};

/// Which wire format and server to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI chat completions (also Azure, Ollama, vLLM, LiteLLM through `llm-base-url`).
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Answers only from the recording in `llm-cache-dir`; a miss is an error.
    Replay,
}

impl ProviderKind {
    /// Name as in the `llm-provider` input.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Replay => "replay",
        }
    }
}

/// The roles of the crew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Product strategist: issue → spec.
    Strategist,
    /// Architect: the narrative of ARCHITECTURE.md.
    Architect,
    /// Developers: hole fills.
    Developer,
    /// QA: repairs from a failing test log.
    Qa,
    /// DevOps: monitoring tuned to the app.
    Devops,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
}

/// A structured question.
#[derive(Debug, Clone)]
pub struct Ask {
    /// Who asks (for usage accounting).
    pub role: Role,
    /// Pipeline stage (for usage accounting).
    pub stage: &'static str,
    /// System prompt.
    pub system: String,
    /// The user prompt.
    pub user: String,
    /// Name of the answer's schema (tool name / json_schema name).
    pub schema_name: &'static str,
    /// JSON schema of the answer object.
    pub schema: serde_json::Value,
    /// Output token limit.
    pub max_tokens: u32,
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
}

/// Usage of one stage/role pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageLine {
    /// Calls sent to the provider (cache hits not counted).
    pub calls: u64,
    /// Answers served from the cache or recording.
    pub cached: u64,
    /// Retries after transport errors, 429 or 5xx.
    pub retries: u64,
    /// Answers asked again because they were invalid.
    pub invalid: u64,
    /// Tokens.
    pub tokens: Tokens,
    /// Estimated cost, USD.
    pub cost_usd: f64,
    /// The longest question of this stage and role, ms, from the first call to the accepted
    /// (or finally refused) answer: re-asks included. The LLM phase's critical path is the
    /// longest of these among roles that run side by side.
    pub longest_ask_ms: u64,
}

/// Price of a model, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Price {
    /// Input tokens.
    pub input_per_mtok: f64,
    /// Output tokens.
    pub output_per_mtok: f64,
}

/// Settings of the LLM client.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// Provider.
    pub provider: ProviderKind,
    /// Model name.
    pub model: String,
    /// Base URL (provider default when `None`).
    pub base_url: Option<String>,
    /// API key.
    pub api_key: Option<SecretString>,
    /// Cache / recording folder.
    pub cache_dir: Option<PathBuf>,
    /// Hard limit of calls sent per run.
    pub max_calls: u64,
    /// Hard limit of tokens (in + out) per run.
    pub max_tokens: u64,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after transport errors, 429 and 5xx.
    pub max_retries: usize,
    /// Times an invalid answer is asked again.
    pub max_invalid: usize,
    /// Smallest backoff delay (tests make it tiny).
    pub min_backoff: Duration,
    /// Price of the model (recomputed when the model is resolved).
    pub price: Option<Price>,
    /// Prices from the config file's `llm-prices`, which win over the built-in table.
    pub prices: BTreeMap<String, Price>,
    /// Cap on each answer's tokens, under the role's own limit (`llm-max-output-tokens`).
    pub max_output_tokens: Option<u32>,
}

/// The client.
pub struct Llm {
    settings: LlmSettings,
    http: reqwest::Client,
    book: Mutex<Book>,
    /// The structured-output form that works with this server ([`openai::JsonMode`]).
    mode: AtomicU8,
    /// The default model, once a call found the configured one retired mid-run.
    switched: Mutex<Option<String>>,
    /// Warnings for the run's log (a model switch), taken by the pipeline.
    warnings: Mutex<Vec<String>>,
}

/// The output token limit of `ask` under the run's cap.
pub(crate) fn output_limit(s: &LlmSettings, ask: &Ask) -> u32 {
    s.max_output_tokens
        .map_or(ask.max_tokens, |cap| cap.min(ask.max_tokens))
}

/// Whether `url`'s host is this machine (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
    else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a response's answer cannot be used.
#[derive(Debug)]
pub(crate) enum Unusable {
    /// The envelope is malformed (the provider's or a proxy's fault): retried like a 5xx.
    Envelope(String),
    /// The model's answer is cut off, refused, or not the JSON object asked for: asked again
    /// with the reason quoted, like an answer that fails validation.
    Answer(String),
}

impl Llm {
    /// Builds the client. `replay` needs a cache folder with a recording.
    pub fn new(mut settings: LlmSettings) -> Result<Llm, E2eError> {
        if settings.provider == ProviderKind::Replay {
            let dir = settings.cache_dir.clone().ok_or_else(|| {
                E2eError::Config(
                    "llm-provider replay needs llm-cache-dir (the folder of a recorded run)".into(),
                )
            })?;
            let meta: RecordingMeta = std::fs::read_to_string(dir.join("recording.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| E2eError::Config(format!("{} holds no recording (recording.json is missing); record a run with a live provider and the same llm-cache-dir first", dir.display())))?;
            // Keys are computed as the recording run computed them.
            settings.model = meta.model;
            settings.base_url = Some(meta.provider.name().into());
        } else if settings.api_key.is_none() {
            let var = match settings.provider {
                ProviderKind::Openai => "OPENAI_API_KEY",
                _ => "ANTHROPIC_API_KEY",
            };
            // A server on this machine (llama.cpp, Ollama) usually takes no key.
            if !settings.base_url.as_deref().is_some_and(is_loopback) {
                return Err(E2eError::Config(format!(
                    "llm-provider {} needs llm-api-key (or {var}); only a server on this machine (llm-base-url on 127.0.0.1, ::1 or localhost) may go without one",
                    settings.provider.name()
                )));
            }
        }
        // The process's one client: proxies and CA bundles as for GitHub; `llm-timeout` is
        // set on each request.
        let http = crate::http::client()?;
        Ok(Llm {
            settings,
            http,
            book: Mutex::new(Book::default()),
            mode: AtomicU8::new(openai::JsonMode::Schema as u8),
            switched: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
        })
    }

    /// Settles the model before anything is written: an empty `llm-model` becomes the
    /// provider's default, and a model the built-in table does not know is checked against the
    /// server's model list (`GET /v1/models`). A model the server does not offer is replaced by
    /// the default when the server offers that, else the run fails here with one message naming
    /// the model and the models the key can use. Returns notices for the run's log.
    pub async fn resolve_model(&mut self) -> Result<Vec<String>, E2eError> {
        let kind = self.settings.provider;
        if kind == ProviderKind::Replay {
            return Ok(Vec::new());
        }
        let requested = self.settings.model.trim().to_string();
        let default = default_model(kind).to_string();
        let mut notes = Vec::new();
        // A model of the table is used as is: a retired one is caught by its first 404.
        if requested.is_empty() || known_price(&requested).is_none() {
            match self.list_models().await {
                Ok(ids) if !requested.is_empty() && ids.contains(&requested) => {}
                Ok(ids) if ids.contains(&default) => {
                    if !requested.is_empty() {
                        notes.push(format!(
                            "the model {requested} is not offered by this {} server; using the default {default} instead",
                            kind.name()
                        ));
                    }
                    self.settings.model = default.clone();
                }
                Ok(ids) => {
                    return Err(E2eError::Config(models::unavailable(
                        kind,
                        &requested,
                        "not in the server's model list",
                        Some(&ids),
                    )));
                }
                Err(why) if requested.is_empty() => {
                    notes.push(format!(
                        "cannot read the server's model list ({why}); using the default model {default}"
                    ));
                    self.settings.model = default.clone();
                }
                Err(why) => notes.push(format!(
                    "cannot read the server's model list ({why}); using the model {requested} unchecked"
                )),
            }
        }
        self.settings.price = self
            .settings
            .prices
            .get(&self.settings.model)
            .copied()
            .or_else(|| known_price(&self.settings.model));
        Ok(notes)
    }

    /// The model in use (the resolved one, or the default after a mid-run switch).
    pub fn model(&self) -> String {
        self.switched
            .lock()
            .ok()
            .and_then(|m| m.clone())
            .unwrap_or_else(|| self.settings.model.clone())
    }

    /// The price of the model in use.
    fn price(&self) -> Option<Price> {
        match self.switched.lock().ok().and_then(|m| m.clone()) {
            Some(m) => self
                .settings
                .prices
                .get(&m)
                .copied()
                .or_else(|| known_price(&m)),
            None => self.settings.price,
        }
    }

    /// Warnings since the last call (a model switch), for the run's log.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// After a call found `used` missing (a 404/400 naming it): switches to the provider's
    /// default when the server lists it, so the question is asked again. False when there is
    /// nothing to switch to (the run then fails with the model list).
    async fn switch_to_default(&self, used: &str) -> bool {
        let default = default_model(self.settings.provider);
        if used == default || default.is_empty() {
            return false;
        }
        if self.model() == default {
            // Another question switched already.
            return true;
        }
        let listed = self
            .list_models()
            .await
            .is_ok_and(|ids| ids.iter().any(|m| m == default));
        if listed && let Ok(mut s) = self.switched.lock() {
            *s = Some(default.to_string());
            if let Ok(mut w) = self.warnings.lock() {
                w.push(format!(
                    "the model {used} is not available from {} any more (retired?); the rest of the run uses the default {default}, which this key can use",
                    self.settings.provider.name()
                ));
            }
        }
        listed
    }

    /// Asks `ask`; `validate` turns the answer object into `T` or says what is wrong with it.
    pub async fn ask<T>(
        &self,
        ask: &Ask,
        validate: impl Fn(&serde_json::Value) -> Result<T, String>,
    ) -> Result<T, E2eError> {
        let mut messages = vec![Message {
            role: "user".into(),
            content: ask.user.clone(),
        }];
        let mut last_error = String::new();
        let started = std::time::Instant::now();
        let _timer = AskTimer {
            llm: self,
            ask,
            started,
        };
        for attempt in 0..=self.settings.max_invalid {
            let answer = self.answer(ask, &messages).await?;
            match answer.as_ref().map_err(Clone::clone).and_then(&validate) {
                Ok(v) => return Ok(v),
                Err(why) => {
                    last_error = why.clone();
                    if attempt < self.settings.max_invalid {
                        self.note(ask, |l| l.invalid += 1);
                        messages.push(Message {
                            role: "assistant".into(),
                            content: match &answer {
                                Ok(v) => v.to_string(),
                                Err(_) => "(an unusable answer)".into(),
                            },
                        });
                        messages.push(Message {
                            role: "user".into(),
                            content: format!("Your answer was invalid: {why}\nAnswer again with a corrected {} object.", ask.schema_name),
                        });
                    }
                }
            }
        }
        Err(E2eError::LlmInvalid(format!(
            "{} ({}): the {:?} answer stayed invalid after {} attempts: {last_error}",
            ask.stage,
            ask.schema_name,
            ask.role,
            self.settings.max_invalid + 1
        )))
    }

    /// The structured-output form in use, for the report (OpenAI wire format only).
    pub fn json_mode(&self) -> Option<&'static str> {
        (self.settings.provider == ProviderKind::Openai)
            .then(|| openai::JsonMode::from_u8(self.mode.load(Ordering::Relaxed)).describe())
    }

    /// Usage so far, by (stage, role).
    pub fn usage(&self) -> BTreeMap<(String, Role), UsageLine> {
        self.book
            .lock()
            .map(|b| b.lines.clone())
            .unwrap_or_default()
    }

    /// The provider and model, for reports, with the structured-output form when the server
    /// refused `json_schema`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.settings.provider.name(), self.model());
        let mode = openai::JsonMode::from_u8(self.mode.load(Ordering::Relaxed));
        if self.settings.provider == ProviderKind::Openai && mode != openai::JsonMode::Schema {
            s.push_str(&format!(
                " (the server refused json_schema: {})",
                mode.describe()
            ));
        }
        s
    }
}

pub use crate::http::ensure_crypto_provider;

#[cfg(test)]
mod tests;
