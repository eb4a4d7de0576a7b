//! The LLM layer: one client over several providers, with structured answers validated on our
//! side, retries with backoff and jitter (honouring `retry-after`), a hard per-run budget, a
//! cache that doubles as an offline recording, and usage per stage and role.
//!
//! Every answer is a JSON object checked by the caller's validator; an invalid answer is asked
//! again with the validation error quoted, a bounded number of times, then the call fails.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::E2eError;

mod anthropic;
mod openai;

/// Which wire format and server to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Price of the model.
    pub price: Option<Price>,
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
}

/// A failed HTTP attempt: whether to retry and after how long the server asked.
#[derive(Debug)]
struct Attempt {
    retryable: bool,
    retry_after: Option<Duration>,
    message: String,
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

/// Built-in prices of the default models, USD per million tokens (override with `llm-prices`).
pub fn known_price(model: &str) -> Option<Price> {
    let (i, o) = match model {
        "gpt-4o-mini" => (0.15, 0.6),
        "gpt-4o" => (2.5, 10.0),
        "claude-3-5-haiku-latest" => (0.8, 4.0),
        "claude-sonnet-4-5" | "claude-sonnet-4-0" => (3.0, 15.0),
        _ => return None,
    };
    Some(Price {
        input_per_mtok: i,
        output_per_mtok: o,
    })
}

/// Default model per provider.
pub fn default_model(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai => "gpt-4o-mini",
        ProviderKind::Anthropic => "claude-3-5-haiku-latest",
        ProviderKind::Replay => "",
    }
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
            let local = settings
                .base_url
                .as_deref()
                .is_some_and(|u| u.contains("127.0.0.1") || u.contains("localhost"));
            if !local {
                return Err(E2eError::Config(format!(
                    "llm-provider {} needs llm-api-key (or {var})",
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
        })
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
            "model": self.settings.model,
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

    fn note(&self, ask: &Ask, f: impl FnOnce(&mut UsageLine)) {
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
            let price = self.settings.price;
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
            .when(|e: &Attempt| e.retryable)
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
        let (answer, tokens) = result.map_err(|e| {
            E2eError::Llm(format!(
                "{} ({:?}): {} (after {n_retries} retries)",
                ask.stage, ask.role, e.message
            ))
        })?;
        let price = self.settings.price;
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
                model: self.settings.model.clone(),
                schema_name: ask.schema_name.into(),
                answer: answer.clone().unwrap_or_default(),
                tokens,
                unusable: answer.clone().err(),
            };
            let meta = RecordingMeta {
                provider: self.settings.provider,
                model: self.settings.model.clone(),
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

    async fn send(
        &self,
        ask: &Ask,
        messages: &[Message],
    ) -> Result<(Result<serde_json::Value, String>, Tokens), Attempt> {
        let (url, body, headers) = match self.settings.provider {
            ProviderKind::Openai => openai::request(&self.settings, ask, messages),
            ProviderKind::Anthropic => anthropic::request(&self.settings, ask, messages),
            ProviderKind::Replay => unreachable!("replay never sends"),
        };
        let mut req = self.http.post(&url).json(&body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if let Some(key) = &self.settings.api_key {
            req = match self.settings.provider {
                ProviderKind::Anthropic => req.header("x-api-key", key.expose_secret()),
                _ => req.bearer_auth(key.expose_secret()),
            };
        }
        let resp = req.send().await.map_err(|e| Attempt {
            retryable: true,
            retry_after: None,
            message: if e.is_timeout() {
                format!(
                    "no answer within {}s (llm-timeout)",
                    self.settings.timeout.as_secs()
                )
            } else {
                format!("cannot reach {}: {}", redact(&url), e.without_url())
            },
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.map_err(|e| Attempt {
            retryable: true,
            retry_after: None,
            message: format!("the answer was cut off: {}", e.without_url()),
        })?;
        if !status.is_success() {
            let retryable =
                status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408;
            let snippet: String = text.chars().take(300).collect();
            return Err(Attempt {
                retryable,
                retry_after,
                message: format!("HTTP {status}: {snippet}"),
            });
        }
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Attempt {
            retryable: true,
            retry_after: None,
            message: format!("the provider's answer is not JSON ({e})"),
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
            Err(Unusable::Envelope(message)) => Err(Attempt {
                retryable: true,
                retry_after: None,
                message,
            }),
        }
    }

    /// Usage so far, by (stage, role).
    pub fn usage(&self) -> BTreeMap<(String, Role), UsageLine> {
        self.book
            .lock()
            .map(|b| b.lines.clone())
            .unwrap_or_default()
    }

    /// The provider and model, for reports.
    pub fn describe(&self) -> String {
        format!("{} {}", self.settings.provider.name(), self.settings.model)
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
