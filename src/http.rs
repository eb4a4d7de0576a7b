//! The one HTTP stack: a shared `reqwest` client (GitHub's octocrab runs on it, the LLM layer
//! calls it directly), the retry policy both sides use, and URL redaction for messages.
//!
//! The client honours `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (reqwest reads
//! them on every platform; its `system-proxy` feature only adds the macOS and Windows
//! settings), and trusts the system's CA store, or the PEM bundle `SSL_CERT_FILE` names instead
//! (`SSL_CERT_DIR` likewise), as OpenSSL does. TLS is rustls with ring.
//!
//! Retries: rate limits, server errors and transport failures are tried again a bounded number
//! of times with exponential backoff and jitter, waiting as the server asks (`Retry-After` in
//! seconds or as an HTTP date, or until `x-ratelimit-reset` when `x-ratelimit-remaining` is 0).
//! A wait longer than [`MAX_WAIT`] is not sat through: the caller fails at once, saying how
//! long the server asked to wait.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::error::E2eError;

/// Longest wait a server may ask for before a retry; a later one fails the call instead.
pub const MAX_WAIT: Duration = Duration::from_secs(120);
/// Longest backoff between attempts when the server does not say how long to wait.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Time to open a connection (proxy included).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Installs ring as rustls' process-wide crypto provider (idempotent). reqwest is built
/// without a provider so that ring is the only one compiled in.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The process's HTTP client (cheap to clone: clones share one connection pool). It has a
/// connect timeout but no overall one: each side bounds its own requests (GitHub per attempt,
/// the LLM by `llm-timeout`).
pub fn client() -> Result<reqwest::Client, E2eError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            ensure_crypto_provider();
            reqwest::Client::builder()
                .user_agent(concat!("e2e-action/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .map_err(|e| error_text(&e))
        })
        .clone()
        .map_err(|e| {
            E2eError::Config(format!(
                "cannot build the HTTP client: {e} (check HTTPS_PROXY, HTTP_PROXY, NO_PROXY and SSL_CERT_FILE)"
            ))
        })
}

/// An error's text with its causes (a proxy or TLS failure is usually in them), without the
/// URL (which may carry userinfo, and is long).
pub fn error_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Whether `e` (or a cause) is rustls refusing the server's certificate: retrying cannot help,
/// and the fix is a CA bundle. io::Error hides its inner error from `source()`, so each io
/// error's payload is looked at too; and the connector boxes errors (`Box<dyn Error>` is a type
/// of its own to `downcast_ref`), so rustls' wording is the last resort.
pub fn is_certificate_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>());
        if let Some(tls) = err.downcast_ref::<rustls::Error>().or(inner)
            && matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        {
            return true;
        }
        if err.to_string().starts_with("invalid peer certificate") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// What to add to a certificate error's message.
pub const CERTIFICATE_HINT: &str = "the server's certificate is not trusted: behind a TLS-inspecting proxy or with a private CA, set SSL_CERT_FILE to a PEM bundle holding that CA and the public roots";

/// `url` without userinfo (`https://user:secret@host/p` → `https://host/p`), for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if rest.contains('/') {
                format!("{scheme}://{host}/{path}")
            } else {
                format!("{scheme}://{host}")
            }
        }
        None => url.to_string(),
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `x-ratelimit-reset`: the UTC epoch second when the limit resets.
pub fn until_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(value.trim().parse().ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether the headers say no requests are left (`x-ratelimit-remaining: 0`).
pub fn exhausted(headers: &HeaderMap) -> bool {
    headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
}

/// How long the server asks to wait: `Retry-After`, else the rate-limit reset when no
/// requests are left.
pub fn asked_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("retry-after")
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| {
            exhausted(headers)
                .then(|| header("x-ratelimit-reset").and_then(|r| until_reset(r, now)))
                .flatten()
        })
}

/// A failed attempt, as the retry policy sees it.
pub trait Retryable {
    /// Whether trying again may help (rate limit, server error, no answer).
    fn retryable(&self) -> bool;
    /// How long the server asked to wait, if it did.
    fn wait(&self) -> Option<Duration>;
}

/// How a call that failed for good ended.
#[derive(Debug)]
pub enum GaveUp<E> {
    /// Not retryable, or out of retries.
    Failed(E),
    /// The server asked to wait longer than [`MAX_WAIT`].
    WaitTooLong(E, Duration),
}

impl<E> GaveUp<E> {
    /// The last error.
    pub fn into_inner(self) -> E {
        match self {
            GaveUp::Failed(e) | GaveUp::WaitTooLong(e, _) => e,
        }
    }

    /// The note to add to the error's message when the wait was too long.
    pub fn note(&self) -> Option<String> {
        match self {
            GaveUp::Failed(_) => None,
            GaveUp::WaitTooLong(_, w) => Some(format!(
                "the server asks to wait {} s, more than e2e-action waits ({} s): re-run the job after that",
                w.as_secs(),
                MAX_WAIT.as_secs()
            )),
        }
    }
}

/// The retry policy: how many retries and the smallest backoff (tests make it tiny).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff before the first retry when the server says nothing; doubled per retry.
    pub min_backoff: Duration,
}

impl Policy {
    /// Runs `call` until it succeeds, fails for good, or the retries are spent.
    /// `on_retry(error, retry number, delay)` is called before each wait.
    pub async fn run<T, E, F, Fut>(
        &self,
        mut call: F,
        mut on_retry: impl FnMut(&E, u32, Duration),
    ) -> Result<T, GaveUp<E>>
    where
        E: Retryable,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut retry = 0;
        loop {
            let e = match call().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if retry >= self.max_retries || !e.retryable() {
                return Err(GaveUp::Failed(e));
            }
            let delay = match e.wait() {
                Some(w) if w > MAX_WAIT => return Err(GaveUp::WaitTooLong(e, w)),
                // A second more than asked: resets are rounded to the second. Never less than
                // our own backoff, so a `Retry-After: 0` does not hammer the server.
                Some(w) => (w + Duration::from_secs(1)).max(backoff(self.min_backoff, retry)),
                None => backoff(self.min_backoff, retry),
            };
            retry += 1;
            on_retry(&e, retry, delay);
            tokio::time::sleep(delay).await;
        }
    }
}

/// Exponential backoff from `min`, doubled per retry, capped, with up to 50 % jitter (from the
/// clock: a retry's timing needs spread, not unpredictability).
pub fn backoff(min: Duration, retry: u32) -> Duration {
    let base = min.saturating_mul(1 << retry.min(16)).min(MAX_BACKOFF);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        // RFC 9110's example date is 1445412480 + 120.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            until_reset("1445412510", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(until_reset("x", now), None);
    }

    #[test]
    fn the_reset_counts_only_when_no_requests_are_left() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "1060".parse().unwrap());
        h.insert("x-ratelimit-remaining", "12".parse().unwrap());
        assert_eq!(asked_wait(&h, now), None);
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert_eq!(asked_wait(&h, now), Some(Duration::from_secs(60)));
        h.insert("retry-after", "5".parse().unwrap());
        assert_eq!(asked_wait(&h, now), Some(Duration::from_secs(5)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let min = Duration::from_millis(100);
        let first = backoff(min, 0);
        assert!(first >= min && first <= min.mul_f64(1.5), "{first:?}");
        let later = backoff(min, 3);
        assert!(later >= Duration::from_millis(800), "{later:?}");
        assert!(backoff(min, 30) <= MAX_BACKOFF.mul_f64(1.5));
    }

    #[test]
    fn urls_lose_their_userinfo() {
        assert_eq!(
            redact_url("https://x-access-token:ghs_abc@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            redact_url("http://u:p@127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(redact_url("/tmp/origin.git"), "/tmp/origin.git");
    }

    #[derive(Debug)]
    struct E(bool, Option<Duration>);
    impl Retryable for E {
        fn retryable(&self) -> bool {
            self.0
        }
        fn wait(&self) -> Option<Duration> {
            self.1
        }
    }

    #[tokio::test]
    async fn a_wait_over_the_bound_fails_at_once() {
        let policy = Policy {
            max_retries: 4,
            min_backoff: Duration::from_millis(1),
        };
        let mut calls = 0;
        let out: Result<(), _> = policy
            .run(
                || {
                    calls += 1;
                    async { Err(E(true, Some(Duration::from_secs(3600)))) }
                },
                |_, _, _| {},
            )
            .await;
        assert_eq!(calls, 1);
        let gave_up = out.unwrap_err();
        assert!(gave_up.note().unwrap().contains("wait 3600 s"));
        assert!(matches!(gave_up, GaveUp::WaitTooLong(_, _)));
    }

    #[tokio::test]
    async fn retries_are_bounded_and_only_for_retryable_errors() {
        let policy = Policy {
            max_retries: 2,
            min_backoff: Duration::from_millis(1),
        };
        let mut calls = 0;
        let mut notes = 0;
        let out: Result<(), _> = policy
            .run(
                || {
                    calls += 1;
                    async { Err(E(true, None)) }
                },
                |_, _, _| notes += 1,
            )
            .await;
        assert!(matches!(out, Err(GaveUp::Failed(_))));
        assert_eq!((calls, notes), (3, 2));
        let mut calls = 0;
        let _: Result<(), _> = policy
            .run(
                || {
                    calls += 1;
                    async { Err(E(false, None)) }
                },
                |_, _, _| {},
            )
            .await;
        assert_eq!(calls, 1);
    }
}
