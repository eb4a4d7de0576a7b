//! One question's call: the cache (which doubles as the offline recording), the per-run
//! budget, the retry policy ([`crate::http::Policy`]) and usage accounting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::transport::{Attempt, Failure};
use super::{Ask, Llm, Message, Price, ProviderKind, Role, Tokens, UsageLine, models};
use crate::error::E2eError;
use crate::http;

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
pub(super) struct RecordingMeta {
    pub(super) provider: ProviderKind,
    pub(super) model: String,
}

#[derive(Debug, Default)]
pub(super) struct Book {
    calls: u64,
    tokens: u64,
    pub(super) lines: BTreeMap<(String, Role), UsageLine>,
}

impl Llm {
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

    pub(crate) fn note(&self, ask: &Ask, f: impl FnOnce(&mut UsageLine)) {
        if let Ok(mut b) = self.book.lock() {
            f(b.lines
                .entry((ask.stage.to_string(), ask.role))
                .or_default());
        }
    }

    /// The answer object for `messages`, or why the model's answer is unusable (`Ok(Err)`);
    /// from the cache when recorded there.
    pub(super) async fn answer(
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
        let policy = http::Policy {
            max_retries: u32::try_from(self.settings.max_retries).unwrap_or(u32::MAX),
            min_backoff: self.settings.min_backoff,
        };
        let mut n_retries = 0u64;
        let result = policy
            .run(|| self.send(ask, messages), |_, _, _| n_retries += 1)
            .await
            .map_err(|gave_up| {
                let note = gave_up.note();
                let mut e = gave_up.into_inner();
                if let Some(note) = note {
                    e.message = format!("{}; {note}", e.message);
                }
                e
            });
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
            .map_err(|_| E2eError::Internal("the LLM usage book is poisoned".into()))?;
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
}

/// Notes how long a question took when it ends, however it ends.
pub(super) struct AskTimer<'a> {
    pub(super) llm: &'a Llm,
    pub(super) ask: &'a Ask,
    pub(super) started: std::time::Instant,
}

impl Drop for AskTimer<'_> {
    fn drop(&mut self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.llm
            .note(self.ask, |l| l.longest_ask_ms = l.longest_ask_ms.max(ms));
    }
}

fn cost(price: Option<Price>, t: Tokens) -> f64 {
    price.map_or(0.0, |p| {
        (t.input as f64 * p.input_per_mtok + t.output as f64 * p.output_per_mtok) / 1e6
    })
}
