//! The wire: sending one request to the provider over the process's shared HTTP client
//! ([`crate::http::client`]), telling failures apart ([`Failure`]), stepping the structured-output
//! form down for servers that refuse it, and listing the server's models.

use std::sync::atomic::Ordering;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Ask, Llm, Message, ProviderKind, Tokens, Unusable, anthropic, models, openai};
use crate::http;

/// What kind of failure an HTTP attempt was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
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
pub(super) struct Attempt {
    pub(super) failure: Failure,
    pub(super) retry_after: Option<Duration>,
    pub(super) message: String,
}

impl http::Retryable for Attempt {
    fn retryable(&self) -> bool {
        self.failure == Failure::Transient
    }

    fn wait(&self) -> Option<Duration> {
        self.retry_after
    }
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

impl Llm {
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
            let mut req = self.http.get(&url).timeout(self.settings.timeout);
            if anthropic {
                req = req.header("anthropic-version", anthropic::VERSION);
            }
            req = self.authorise(req);
            let resp = req
                .send()
                .await
                .map_err(|e| format!("cannot reach {}: {}", redact(&url), http::error_text(&e)))?;
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

    /// One call, in the structured-output form that works with this server: a server that
    /// refuses the form is sent the next one at once ([`openai::JsonMode`]), and the form that
    /// worked is kept for the rest of the run.
    pub(super) async fn send(
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
        let mut req = self
            .http
            .post(&url)
            .timeout(self.settings.timeout)
            .json(&body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req = self.authorise(req);
        let resp = req.send().await.map_err(|e| {
            if http::is_certificate_error(&e) {
                return Sent::plain(Attempt {
                    failure: Failure::Fatal,
                    retry_after: None,
                    message: format!(
                        "cannot reach {}: {} ({})",
                        redact(&url),
                        http::error_text(&e),
                        http::CERTIFICATE_HINT
                    ),
                });
            }
            Sent::plain(Attempt::transient(if e.is_timeout() {
                format!(
                    "no answer within {}s (llm-timeout)",
                    self.settings.timeout.as_secs()
                )
            } else {
                format!("cannot reach {}: {}", redact(&url), http::error_text(&e))
            }))
        })?;
        let status = resp.status();
        let retry_after = http::asked_wait(resp.headers(), std::time::SystemTime::now());
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
}

fn redact(url: &str) -> String {
    http::redact_url(url)
}
