//! The LLM layer: one client over several providers, with structured answers validated on our
//! side, retries with backoff and jitter (honouring `retry-after`), a hard per-run budget, a
//! cache that doubles as an offline recording, and usage per stage and role.
//!
//! Every answer is a JSON object checked by the caller's validator; an invalid answer is asked
//! again with the validation error quoted, a bounded number of times, then the call fails.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::E2eError;

mod anthropic;
pub mod models;
mod openai;
pub mod schema;

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

#[derive(Debug, Default)]
struct Book {
    calls: u64,
    tokens: u64,
    lines: BTreeMap<(String, Role), UsageLine>,
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

/// What kind of failure an HTTP attempt was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Timeouts, 408, 429, 5xx, malformed envelopes: retried with backoff.
    Transient,
    /// A 404/400 that names the model: the model list is asked, then the run fails clearly.
    ModelMissing,
    /// The server refused this request (a 4xx other than auth): resending it would repeat the
    /// refusal, so the role's answer counts as unusable and optional features keep defaults.
    Refused,
    /// Anything else (a rejected key): the run fails.
    Fatal,
}

/// A failed HTTP attempt: what kind and after how long the server asked to retry.
#[derive(Debug)]
struct Attempt {
    failure: Failure,
    retry_after: Option<Duration>,
    message: String,
}

impl Attempt {
    fn transient(message: String) -> Attempt {
        Attempt {
            failure: Failure::Transient,
            retry_after: None,
            message,
        }
    }
}

/// A failed send with the server's status and body, to tell a refused structured-output form
/// from other refusals.
struct Sent {
    attempt: Attempt,
    status: u16,
    body: String,
}

impl Sent {
    fn plain(attempt: Attempt) -> Sent {
        Sent {
            attempt,
            status: 0,
            body: String::new(),
        }
    }
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

/// A recorded answer.
#[derive(Debug, Serialize, Deserialize)]
struct Recorded {
    provider: String,
    model: String,
    schema_name: String,
    answer: serde_json::Value,
    tokens: Tokens,
    /// Why the answer was unusable (cut off, not JSON), recorded so a replay asks again the
    /// same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unusable: Option<String>,
}

/// What a live run writes beside its recordings, so `replay` can compute the same keys.
#[derive(Debug, Serialize, Deserialize)]
struct RecordingMeta {
    provider: ProviderKind,
    model: String,
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
        ensure_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("e2e-action/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| E2eError::Llm(format!("cannot build the HTTP client: {e}")))?;
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

    /// The ids of the models the server offers this key (`GET /v1/models`, every page).
    pub async fn list_models(&self) -> Result<Vec<String>, String> {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        // Anthropic pages its list; a few pages of 1000 cover any account.
        for _ in 0..5 {
            let (url, anthropic) = match self.settings.provider {
                ProviderKind::Openai => (format!("{}/models", openai::base(&self.settings)), false),
                ProviderKind::Anthropic => {
                    let mut u = format!("{}/v1/models?limit=1000", anthropic::base(&self.settings));
                    if let Some(a) = &after {
                        u.push_str(&format!("&after_id={a}"));
                    }
                    (u, true)
                }
                ProviderKind::Replay => return Ok(ids),
            };
            let mut req = self.http.get(&url);
            if anthropic {
                req = req.header("anthropic-version", anthropic::VERSION);
            }
            req = self.authorise(req);
            let resp = req
                .send()
                .await
                .map_err(|e| format!("cannot reach {}: {}", redact(&url), e.without_url()))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.without_url().to_string())?;
            if !status.is_success() {
                let snippet: String = text.chars().take(200).collect();
                return Err(format!("HTTP {status} from {}: {snippet}", redact(&url)));
            }
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("the model list is not JSON ({e})"))?;
            let page = v["data"]
                .as_array()
                .ok_or("the model list has no `data` array")?;
            ids.extend(
                page.iter()
                    .filter_map(|m| m["id"].as_str().map(String::from)),
            );
            if anthropic && v["has_more"] == true {
                after = v["last_id"].as_str().map(String::from);
                if after.is_some() {
                    continue;
                }
            }
            break;
        }
        Ok(ids)
    }

    fn authorise(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.settings.api_key, self.settings.provider) {
            (Some(key), ProviderKind::Anthropic) => req.header("x-api-key", key.expose_secret()),
            (Some(key), _) => req.bearer_auth(key.expose_secret()),
            (None, _) => req,
        }
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

    /// The provider the cache keys are computed for (the recorded one when replaying).
    fn key_provider(&self) -> String {
        match self.settings.provider {
            ProviderKind::Replay => self.settings.base_url.clone().unwrap_or_default(),
            p => p.name().into(),
        }
    }

    fn cache_key(&self, ask: &Ask, messages: &[Message]) -> String {
        let material = serde_json::json!({
            "provider": self.key_provider(),
            "model": self.model(),
            "system": ask.system,
            "messages": messages,
            "schema_name": ask.schema_name,
            "schema": ask.schema,
        });
        hex::encode(Sha256::digest(material.to_string().as_bytes()))
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

    pub(crate) fn note(&self, ask: &Ask, f: impl FnOnce(&mut UsageLine)) {
        if let Ok(mut b) = self.book.lock() {
            f(b.lines
                .entry((ask.stage.to_string(), ask.role))
                .or_default());
        }
    }

    /// The answer object for `messages`, or why the model's answer is unusable (`Ok(Err)`);
    /// from the cache when recorded there.
    async fn answer(
        &self,
        ask: &Ask,
        messages: &[Message],
    ) -> Result<Result<serde_json::Value, String>, E2eError> {
        let used = self.model();
        let key = self.cache_key(ask, messages);
        let path = self
            .settings
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{key}.json")));
        if let Some(p) = &path
            && let Some(rec) = std::fs::read_to_string(p)
                .ok()
                .and_then(|t| serde_json::from_str::<Recorded>(&t).ok())
        {
            let price = self.price();
            self.note(ask, |l| {
                l.cached += 1;
                l.tokens.input += rec.tokens.input;
                l.tokens.output += rec.tokens.output;
                l.cost_usd += cost(price, rec.tokens);
            });
            return Ok(match rec.unusable {
                Some(why) => Err(why),
                None => Ok(rec.answer),
            });
        }
        if self.settings.provider == ProviderKind::Replay {
            return Err(E2eError::Llm(format!(
                "{}: no recorded answer for this {:?} request (key {key}) in {}; the inputs changed since the recording — record again with a live provider",
                ask.stage,
                ask.role,
                self.settings
                    .cache_dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            )));
        }
        self.reserve(ask)?;
        let retries = std::sync::atomic::AtomicU64::new(0);
        let call = || async { self.send(ask, messages).await };
        let result = call
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(self.settings.min_backoff)
                    .with_max_delay(Duration::from_secs(60))
                    .with_max_times(self.settings.max_retries)
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(|e: &Attempt| e.failure == Failure::Transient)
            .adjust(|e: &Attempt, dur| match (e.retry_after, dur) {
                (Some(after), Some(d)) => Some(after.min(Duration::from_secs(120)).max(d)),
                (_, d) => d,
            })
            .notify(|_, _| {
                retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .await;
        let n_retries = retries.load(std::sync::atomic::Ordering::Relaxed);
        self.note(ask, |l| l.retries += n_retries);
        let (answer, tokens) = match result {
            Ok(ok) => ok,
            Err(e) if e.failure == Failure::ModelMissing && self.switch_to_default(&used).await => {
                return Box::pin(self.answer(ask, messages)).await;
            }
            Err(e) => return Err(self.failed(ask, e, n_retries).await),
        };
        let price = self.price();
        self.note(ask, |l| {
            l.calls += 1;
            l.tokens.input += tokens.input;
            l.tokens.output += tokens.output;
            l.cost_usd += cost(price, tokens);
        });
        if let Ok(mut b) = self.book.lock() {
            b.tokens += tokens.input + tokens.output;
        }
        if let (Some(p), Some(dir)) = (&path, &self.settings.cache_dir) {
            let rec = Recorded {
                provider: self.key_provider(),
                model: self.model(),
                schema_name: ask.schema_name.into(),
                answer: answer.clone().unwrap_or_default(),
                tokens,
                unusable: answer.clone().err(),
            };
            let meta = RecordingMeta {
                provider: self.settings.provider,
                model: self.model(),
            };
            let write = std::fs::create_dir_all(dir)
                .and_then(|_| {
                    std::fs::write(p, serde_json::to_string_pretty(&rec).unwrap_or_default())
                })
                .and_then(|_| {
                    std::fs::write(
                        dir.join("recording.json"),
                        serde_json::to_string_pretty(&meta).unwrap_or_default(),
                    )
                });
            if let Err(e) = write {
                return Err(E2eError::Llm(format!(
                    "cannot write the LLM cache in {}: {e}",
                    dir.display()
                )));
            }
        }
        Ok(answer)
    }

    /// The error for a call that failed for good.
    async fn failed(&self, ask: &Ask, e: Attempt, n_retries: u64) -> E2eError {
        let what = format!("{} ({:?})", ask.stage, ask.role);
        match e.failure {
            Failure::ModelMissing => {
                let offered = self.list_models().await.ok();
                E2eError::Config(models::unavailable(
                    self.settings.provider,
                    &self.model(),
                    &e.message,
                    offered.as_deref(),
                ))
            }
            // An optional role's caller keeps its default, as for an answer that stays invalid.
            Failure::Refused => E2eError::LlmInvalid(format!(
                "{what}: the server refused the request: {}",
                e.message
            )),
            Failure::Transient => {
                E2eError::Llm(format!("{what}: {} (after {n_retries} retries)", e.message))
            }
            Failure::Fatal => E2eError::Llm(format!("{what}: {}", e.message)),
        }
    }

    /// Takes one call from the budget, or fails when it is spent.
    fn reserve(&self, ask: &Ask) -> Result<(), E2eError> {
        let mut b = self
            .book
            .lock()
            .map_err(|_| E2eError::Llm("usage book poisoned (a bug)".into()))?;
        if b.calls >= self.settings.max_calls {
            return Err(E2eError::Llm(format!(
                "{}: the LLM budget is spent ({} calls of llm-max-calls {}); raise llm-max-calls or simplify the issue",
                ask.stage, b.calls, self.settings.max_calls
            )));
        }
        if b.tokens >= self.settings.max_tokens {
            return Err(E2eError::Llm(format!(
                "{}: the LLM budget is spent ({} tokens of llm-max-tokens {}); raise llm-max-tokens",
                ask.stage, b.tokens, self.settings.max_tokens
            )));
        }
        b.calls += 1;
        Ok(())
    }

    /// One call, in the structured-output form that works with this server: a server that
    /// refuses the form is sent the next one at once ([`openai::JsonMode`]), and the form that
    /// worked is kept for the rest of the run.
    async fn send(
        &self,
        ask: &Ask,
        messages: &[Message],
    ) -> Result<(Result<serde_json::Value, String>, Tokens), Attempt> {
        loop {
            let mode = openai::JsonMode::from_u8(self.mode.load(Ordering::Relaxed));
            match self.send_once(ask, messages, mode).await {
                Err(e)
                    if e.attempt.failure == Failure::Refused
                        && self.settings.provider == ProviderKind::Openai =>
                {
                    let Some(next) = mode
                        .next()
                        .filter(|_| openai::refuses_format(e.status, &e.body))
                    else {
                        return Err(e.attempt);
                    };
                    // Another task may have moved on already; never go back.
                    let _ = self.mode.compare_exchange(
                        mode as u8,
                        next as u8,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    self.mode.fetch_max(next as u8, Ordering::Relaxed);
                }
                Err(e) => return Err(e.attempt),
                Ok(ok) => return Ok(ok),
            }
        }
    }

    /// The structured-output form in use, for the report (OpenAI wire format only).
    pub fn json_mode(&self) -> Option<&'static str> {
        (self.settings.provider == ProviderKind::Openai)
            .then(|| openai::JsonMode::from_u8(self.mode.load(Ordering::Relaxed)).describe())
    }

    async fn send_once(
        &self,
        ask: &Ask,
        messages: &[Message],
        mode: openai::JsonMode,
    ) -> Result<(Result<serde_json::Value, String>, Tokens), Sent> {
        let (url, body, headers) = match self.settings.provider {
            ProviderKind::Openai => {
                openai::request(&self.settings, &self.model(), ask, messages, mode)
            }
            ProviderKind::Anthropic => {
                anthropic::request(&self.settings, &self.model(), ask, messages)
            }
            ProviderKind::Replay => unreachable!("replay never sends"),
        };
        let mut req = self.http.post(&url).json(&body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req = self.authorise(req);
        let resp = req.send().await.map_err(|e| {
            Sent::plain(Attempt::transient(if e.is_timeout() {
                format!(
                    "no answer within {}s (llm-timeout)",
                    self.settings.timeout.as_secs()
                )
            } else {
                format!("cannot reach {}: {}", redact(&url), e.without_url())
            }))
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.map_err(|e| {
            Sent::plain(Attempt::transient(format!(
                "the answer was cut off: {}",
                e.without_url()
            )))
        })?;
        if !status.is_success() {
            let code = status.as_u16();
            let refused_form = self.settings.provider == ProviderKind::Openai
                && mode != openai::JsonMode::Prompt
                && openai::refuses_format(code, &text);
            let failure = if refused_form {
                Failure::Refused
            } else if code == 429 || code == 408 || status.is_server_error() {
                Failure::Transient
            } else if models::names_missing_model(code, &text, &self.model()) {
                Failure::ModelMissing
            } else if code == 401 || code == 403 {
                Failure::Fatal
            } else {
                Failure::Refused
            };
            let snippet: String = text.chars().take(300).collect();
            let hint = if code == 401 || code == 403 {
                "; check llm-api-key"
            } else {
                ""
            };
            return Err(Sent {
                attempt: Attempt {
                    failure,
                    retry_after,
                    message: format!("HTTP {status}: {snippet}{hint}"),
                },
                status: code,
                body: text,
            });
        }
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Sent::plain(Attempt::transient(format!(
                "the provider's answer is not JSON ({e})"
            )))
        })?;
        let (parsed, tokens) = match self.settings.provider {
            ProviderKind::Openai => (openai::parse(&json), openai::tokens(&json)),
            _ => (
                anthropic::parse(&json, ask.schema_name),
                anthropic::tokens(&json),
            ),
        };
        match parsed {
            Ok(answer) => Ok((Ok(answer), tokens)),
            // The model's own answer is unusable: the caller asks again with the reason.
            Err(Unusable::Answer(why)) => Ok((Err(why), tokens)),
            // A malformed envelope is the provider's fault: retry it like a 5xx.
            Err(Unusable::Envelope(message)) => Err(Sent::plain(Attempt::transient(message))),
        }
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

/// Notes how long a question took when it ends, however it ends.
struct AskTimer<'a> {
    llm: &'a Llm,
    ask: &'a Ask,
    started: std::time::Instant,
}

impl Drop for AskTimer<'_> {
    fn drop(&mut self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.llm
            .note(self.ask, |l| l.longest_ask_ms = l.longest_ask_ms.max(ms));
    }
}

/// Installs ring as rustls' process-wide crypto provider (idempotent). reqwest is built
/// without a provider so that ring, which octocrab uses too, is the only one compiled in.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn cost(price: Option<Price>, t: Tokens) -> f64 {
    price.map_or(0.0, |p| {
        (t.input as f64 * p.input_per_mtok + t.output as f64 * p.output_per_mtok) / 1e6
    })
}

fn redact(url: &str) -> String {
    crate::workspace::git::redact_url(url)
}

#[cfg(test)]
mod tests;
