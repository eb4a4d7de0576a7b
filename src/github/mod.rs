//! GitHub's REST API through octocrab: issue comments (the progress comment and replies),
//! permissions, issues, pull requests, labels, reviewers, assignees and the git data API.
//! `GITHUB_API_URL` is honoured, so GitHub Enterprise Server works.
//!
//! octocrab runs on the process's shared reqwest client ([`crate::http::client`]), so proxies
//! and CA bundles are honoured as for the LLM, and has no retry layer of its own: requests go
//! through octocrab's raw methods (`_get`, `_post`, `_patch`) so that the status and the
//! rate-limit headers reach [`crate::http::Policy`], the one retry layer. Rate limits (429, and
//! 403 for the primary and secondary limits), 5xx and transport failures are retried.

use std::future::Future;
use std::time::{Duration, SystemTime};

use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::E2eError;
use crate::http::{GaveUp, Policy, Retryable};
use crate::report::Reporter;

/// Hidden marker that identifies the action's progress comment on an issue.
pub const PROGRESS_MARKER: &str = "<!-- e2e-action:progress -->";

/// Retries after the first attempt.
const MAX_RETRIES: u32 = 4;
/// Longest a single request may take (octocrab on reqwest has no timeout of its own).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A request GitHub (or the way to it) refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ApiError {
    /// GitHub answered with an error status.
    Status {
        /// HTTP status.
        status: u16,
        /// GitHub's `message`, or the start of the body.
        message: String,
        /// How long GitHub asked us to wait, if it did.
        wait: Option<Duration>,
        /// A rate limit (429, or 403 saying so or with no requests left).
        rate_limited: bool,
    },
    /// No answer: connection, TLS, proxy or timeout.
    Transport(String),
    /// The server's certificate was refused: retrying cannot help.
    Certificate(String),
    /// An answer we cannot read.
    Decode(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status {
                status, message, ..
            } => {
                let reason = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "{message} ({status} {reason})")
            }
            ApiError::Transport(e) => write!(f, "no answer: {e}"),
            ApiError::Certificate(e) => {
                write!(f, "no answer: {e} ({})", crate::http::CERTIFICATE_HINT)
            }
            ApiError::Decode(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

impl Retryable for ApiError {
    fn retryable(&self) -> bool {
        match self {
            ApiError::Status {
                status,
                rate_limited,
                ..
            } => *rate_limited || *status >= 500,
            ApiError::Transport(_) => true,
            ApiError::Certificate(_) | ApiError::Decode(_) => false,
        }
    }

    fn wait(&self) -> Option<Duration> {
        match self {
            ApiError::Status { wait, .. } => *wait,
            _ => None,
        }
    }
}

impl ApiError {
    fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// An error status: GitHub's JSON `message` and the headers that say how long to wait.
    fn from_status(status: u16, headers: &reqwest::header::HeaderMap, body: &str) -> ApiError {
        #[derive(Deserialize)]
        struct Body {
            message: String,
        }
        let message = serde_json::from_str::<Body>(body)
            .map(|b| b.message)
            .unwrap_or_else(|_| body.chars().take(200).collect::<String>().trim().into());
        let rate_limited = status == 429
            || (status == 403
                && (crate::http::exhausted(headers)
                    || message.to_ascii_lowercase().contains("rate limit")));
        ApiError::Status {
            status,
            message,
            wait: crate::http::asked_wait(headers, SystemTime::now()),
            rate_limited,
        }
    }

    /// A transport error from octocrab: its text with causes, without the URL.
    fn transport(e: octocrab::Error) -> ApiError {
        let certificate = crate::http::is_certificate_error(&e);
        // octocrab wraps reqwest's error in its own (twice, through its service stack): the
        // reqwest error says it all, without repeating the URL.
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut text = None;
        while let Some(err) = cur {
            if let Some(r) = err.downcast_ref::<reqwest::Error>() {
                text = Some(crate::http::error_text(r));
                break;
            }
            cur = err.source();
        }
        let text = text.unwrap_or_else(|| e.to_string());
        if certificate {
            ApiError::Certificate(text)
        } else {
            ApiError::Transport(text)
        }
    }
}

/// A client for one repository.
pub struct GitHub {
    client: Octocrab,
    owner: String,
    repo: String,
    min_backoff: Duration,
    reporter: Option<Reporter>,
}

/// An open pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    /// Number.
    pub number: u64,
    /// Web URL.
    pub html_url: String,
}

#[derive(Deserialize)]
struct PullListItem {
    number: u64,
    html_url: String,
    head: PullHead,
}

#[derive(Deserialize)]
struct PullHead {
    #[serde(rename = "ref")]
    ref_name: String,
    #[serde(default)]
    sha: String,
    /// `owner:branch`; tells this repository's branches from forks' of the same name.
    #[serde(default)]
    label: String,
}

/// An open pull request found by its branch's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPull {
    /// Number.
    pub number: u64,
    /// Web URL.
    pub html_url: String,
    /// Head branch.
    pub branch: String,
    /// Head commit.
    pub sha: String,
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct Permission {
    permission: String,
}

#[derive(Deserialize)]
struct CommentRef {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

fn api_err(what: &str, e: ApiError) -> E2eError {
    // GitHub's messages never carry our token; the URL is left out of transport errors.
    E2eError::GitHub(format!("{what}: {e}"))
}

/// An HTTP method octocrab sends for us.
#[derive(Clone, Copy)]
enum Verb {
    Get,
    Post,
    Patch,
}

/// Sends one request through octocrab's raw methods (so the status and headers are ours to
/// read), bounded in time, and reads the answer.
async fn exchange<T: DeserializeOwned, B: Serialize + ?Sized>(
    client: &Octocrab,
    verb: Verb,
    route: &str,
    body: Option<&B>,
) -> Result<T, ApiError> {
    let request = async {
        match verb {
            Verb::Get => client._get(route).await,
            Verb::Post => client._post(route, body).await,
            Verb::Patch => client._patch(route, body).await,
        }
    };
    let resp = tokio::time::timeout(REQUEST_TIMEOUT, request)
        .await
        .map_err(|_| {
            ApiError::Transport(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
        })?
        .map_err(ApiError::transport)?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = client
        .body_to_string(resp)
        .await
        .map_err(ApiError::transport)?;
    if !(200..300).contains(&status) {
        return Err(ApiError::from_status(status, &headers, &body));
    }
    let body = if body.trim().is_empty() {
        "null"
    } else {
        &body
    };
    serde_json::from_str(body).map_err(|e| ApiError::Decode(e.to_string()))
}

impl GitHub {
    /// A client for `owner/name` at `api_url` with `token`.
    pub fn new(api_url: &str, token: &SecretString, repository: &str) -> Result<GitHub, E2eError> {
        let (owner, repo) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| {
                E2eError::Config(format!(
                    "GITHUB_REPOSITORY {repository:?} is not owner/name"
                ))
            })?;
        let client = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| E2eError::Config(format!("GITHUB_API_URL {api_url:?}: {e}")))?
            .personal_token(token.expose_secret().to_string())
            .build_with_reqwest(crate::http::client()?)
            .map_err(|e| E2eError::GitHub(format!("cannot build the API client: {e}")))?;
        Ok(GitHub {
            client,
            owner: owner.into(),
            repo: repo.into(),
            min_backoff: Duration::from_secs(2),
            reporter: None,
        })
    }

    /// Reports each request as a `::debug::` line (shown when the runner's debug logging is on).
    pub fn with_reporter(mut self, reporter: Reporter) -> GitHub {
        self.reporter = Some(reporter);
        self
    }

    fn debug(&self, msg: &str) {
        if let Some(r) = &self.reporter {
            r.debug(msg);
        }
    }

    /// Shortens the retry backoff (tests).
    pub fn with_min_backoff(mut self, d: Duration) -> GitHub {
        self.min_backoff = d;
        self
    }

    /// Runs `call` with retries on rate limits, server errors and transport failures.
    async fn retry<T, F, Fut>(&self, what: &str, call: F) -> Result<T, E2eError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        self.debug(&format!("GitHub API: {what}"));
        let result = self.retry_raw(call).await.map_err(|e| api_err(what, e));
        if let Err(e) = &result {
            self.debug(&format!("GitHub API: {e}"));
        }
        result
    }

    /// [`GitHub::retry`] keeping the [`ApiError`], for callers that treat a status as an
    /// answer. A wait GitHub asks for beyond [`crate::http::MAX_WAIT`] ends the call at once,
    /// with the wait in the message.
    async fn retry_raw<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let policy = Policy {
            max_retries: MAX_RETRIES,
            min_backoff: self.min_backoff,
        };
        let on_retry = |e: &ApiError, n: u32, delay: Duration| {
            self.debug(&format!(
                "GitHub API: {e}; retry {n} of {MAX_RETRIES} in {} ms",
                delay.as_millis()
            ))
        };
        match policy.run(call, on_retry).await {
            Ok(v) => Ok(v),
            Err(gave_up) => {
                let note = gave_up.note();
                match (gave_up, note) {
                    (
                        GaveUp::WaitTooLong(
                            ApiError::Status {
                                status,
                                message,
                                wait,
                                rate_limited,
                            },
                            _,
                        ),
                        Some(note),
                    ) => Err(ApiError::Status {
                        status,
                        message: format!("{message}; {note}"),
                        wait,
                        rate_limited,
                    }),
                    (g, _) => Err(g.into_inner()),
                }
            }
        }
    }

    fn get<T: DeserializeOwned>(&self, route: &str) -> impl Future<Output = Result<T, ApiError>> {
        exchange(&self.client, Verb::Get, route, None::<&()>)
    }

    fn post<T: DeserializeOwned>(
        &self,
        route: &str,
        body: &serde_json::Value,
    ) -> impl Future<Output = Result<T, ApiError>> {
        exchange(&self.client, Verb::Post, route, Some(body))
    }

    fn patch<T: DeserializeOwned>(
        &self,
        route: &str,
        body: &serde_json::Value,
    ) -> impl Future<Output = Result<T, ApiError>> {
        exchange(&self.client, Verb::Patch, route, Some(body))
    }

    fn route(&self, tail: &str) -> String {
        format!("/repos/{}/{}/{tail}", self.owner, self.repo)
    }

    /// The repository permission of `login` (`admin`, `write`, `read` or `none`; GitHub folds
    /// `maintain` into `write` and `triage` into `read` in this field). GitHub answers 404 for an
    /// account it does not know as a collaborator of any kind: that is `none`, not a failure.
    pub async fn permission(&self, login: &str) -> Result<String, E2eError> {
        let route = self.route(&format!("collaborators/{login}/permission"));
        self.debug(&format!("GitHub API: GET {route}"));
        let answer: Result<Permission, _> = self.retry_raw(|| self.get(&route)).await;
        match answer {
            Ok(p) => Ok(p.permission),
            Err(e) if e.status() == Some(404) => Ok("none".into()),
            Err(e) => Err(api_err(&format!("reading the permission of `{login}`"), e)),
        }
    }

    /// Fetches issue `number` (for `workflow_dispatch`).
    pub async fn issue(&self, number: u64) -> Result<serde_json::Value, E2eError> {
        let route = self.route(&format!("issues/{number}"));
        self.retry("fetching the issue", || self.get(&route)).await
    }

    /// The open pull request whose head is `branch` in this repository, if any.
    pub async fn find_pull(&self, branch: &str) -> Result<Option<PullRequest>, E2eError> {
        let route = self.route(&format!(
            "pulls?state=open&per_page=100&head={}:{branch}",
            self.owner
        ));
        let list: Vec<PullListItem> = self
            .retry("listing pull requests", || self.get(&route))
            .await?;
        // Servers that ignore `head` return every open PR: match the branch ourselves.
        Ok(list
            .into_iter()
            .find(|p| p.head.ref_name == branch)
            .map(|p| PullRequest {
                number: p.number,
                html_url: p.html_url,
            }))
    }

    /// Open pull requests whose head is a branch of this repository starting with `prefix`
    /// (first 10 pages of 100).
    pub async fn find_pulls_by_prefix(&self, prefix: &str) -> Result<Vec<OpenPull>, E2eError> {
        let mut found = Vec::new();
        for page in 1..=10u32 {
            let route = self.route(&format!("pulls?state=open&per_page=100&page={page}"));
            let list: Vec<PullListItem> = self
                .retry("listing pull requests", || self.get(&route))
                .await?;
            let full = list.len() == 100;
            found.extend(
                list.into_iter()
                    .filter(|p| {
                        p.head.ref_name.starts_with(prefix)
                            && (p.head.label.is_empty()
                                || p.head.label == format!("{}:{}", self.owner, p.head.ref_name))
                    })
                    .map(|p| OpenPull {
                        number: p.number,
                        html_url: p.html_url,
                        branch: p.head.ref_name,
                        sha: p.head.sha,
                    }),
            );
            if !full {
                break;
            }
        }
        Ok(found)
    }

    /// Closes pull request `number` (its branch stays).
    pub async fn close_pull(&self, number: u64) -> Result<(), E2eError> {
        let route = self.route(&format!("pulls/{number}"));
        let payload = json!({"state": "closed"});
        let _: serde_json::Value = self
            .retry("closing the pull request", || self.patch(&route, &payload))
            .await?;
        Ok(())
    }

    /// The tree of commit `sha` (git data API).
    pub async fn commit_tree(&self, sha: &str) -> Result<String, E2eError> {
        #[derive(Deserialize)]
        struct Commit {
            tree: Sha,
        }
        let route = self.route(&format!("git/commits/{sha}"));
        let c: Commit = self
            .retry("reading the parent commit", || self.get(&route))
            .await?;
        Ok(c.tree.sha)
    }

    /// The blob paths of tree `sha`, recursively. Fails when GitHub truncates the listing
    /// (over 100,000 entries), since then the paths to delete are not all known.
    pub async fn tree_paths(&self, sha: &str) -> Result<Vec<String>, E2eError> {
        #[derive(Deserialize)]
        struct Tree {
            tree: Vec<Entry>,
            #[serde(default)]
            truncated: bool,
        }
        #[derive(Deserialize)]
        struct Entry {
            path: String,
            #[serde(rename = "type")]
            kind: String,
        }
        let route = self.route(&format!("git/trees/{sha}?recursive=1"));
        let t: Tree = self
            .retry("reading the parent tree", || self.get(&route))
            .await?;
        if t.truncated {
            return Err(E2eError::GitHub(format!(
                "the tree {sha} is too large for GitHub to list; turn sign-commits off"
            )));
        }
        Ok(t.tree
            .into_iter()
            .filter(|e| e.kind == "blob")
            .map(|e| e.path)
            .collect())
    }

    /// Creates a tree from `base_tree` and `entries` (git data API entry objects).
    pub async fn create_tree(
        &self,
        base_tree: &str,
        entries: &[serde_json::Value],
    ) -> Result<String, E2eError> {
        let route = self.route("git/trees");
        let payload = json!({"base_tree": base_tree, "tree": entries});
        let t: Sha = self
            .retry("creating the tree", || self.post(&route, &payload))
            .await?;
        Ok(t.sha)
    }

    /// Creates a commit of `tree` on `parent`, without author or committer: GitHub then
    /// authors it as the token's account and signs it.
    pub async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parent: &str,
    ) -> Result<String, E2eError> {
        let route = self.route("git/commits");
        let payload = json!({"message": message, "tree": tree, "parents": [parent]});
        let c: Sha = self
            .retry("creating the commit", || self.post(&route, &payload))
            .await?;
        Ok(c.sha)
    }

    /// Points branch `branch` at `sha`: creates it, or moves it forward only (GitHub refuses a
    /// move that is not a fast-forward, which is a refused push).
    pub async fn set_branch(&self, branch: &str, sha: &str, exists: bool) -> Result<(), E2eError> {
        if !exists {
            let route = self.route("git/refs");
            let payload = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
            let _: serde_json::Value = self
                .retry("creating the branch", || self.post(&route, &payload))
                .await?;
            return Ok(());
        }
        let route = self.route(&format!("git/refs/heads/{branch}"));
        let payload = json!({"sha": sha, "force": false});
        self.debug(&format!("GitHub API: PATCH {route}"));
        let answer: Result<serde_json::Value, _> =
            self.retry_raw(|| self.patch(&route, &payload)).await;
        match answer {
            Ok(_) => Ok(()),
            Err(ApiError::Status {
                status: 422,
                message,
                ..
            }) => Err(E2eError::Push(format!(
                "GitHub refused to move {branch}: {message} (someone pushed to it meanwhile; re-run to build on top)"
            ))),
            Err(e) => Err(api_err("moving the branch", e)),
        }
    }

    /// Opens a pull request (as a draft when `draft`).
    pub async fn create_pull(
        &self,
        branch: &str,
        base: &str,
        title: &str,
        body: &str,
        draft: bool,
    ) -> Result<PullRequest, E2eError> {
        let route = self.route("pulls");
        let payload = json!({"title": title, "head": branch, "base": base, "body": body, "maintainer_can_modify": true, "draft": draft});
        self.retry("opening the pull request", || self.post(&route, &payload))
            .await
    }

    /// Updates a pull request's title and body.
    pub async fn update_pull(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, E2eError> {
        let route = self.route(&format!("pulls/{number}"));
        let payload = json!({"title": title, "body": body});
        self.retry("updating the pull request", || self.patch(&route, &payload))
            .await
    }

    /// Adds labels to an issue or pull request.
    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), E2eError> {
        let route = self.route(&format!("issues/{number}/labels"));
        let payload = json!({"labels": labels});
        let _: serde_json::Value = self
            .retry("adding labels", || self.post(&route, &payload))
            .await?;
        Ok(())
    }

    /// Asks users and teams (slugs) to review pull request `number`.
    pub async fn request_reviewers(
        &self,
        number: u64,
        reviewers: &[String],
        team_reviewers: &[String],
    ) -> Result<(), E2eError> {
        let route = self.route(&format!("pulls/{number}/requested_reviewers"));
        let payload = json!({"reviewers": reviewers, "team_reviewers": team_reviewers});
        let _: serde_json::Value = self
            .retry("requesting reviewers", || self.post(&route, &payload))
            .await?;
        Ok(())
    }

    /// Assigns users to issue or pull request `number`.
    pub async fn add_assignees(&self, number: u64, assignees: &[String]) -> Result<(), E2eError> {
        let route = self.route(&format!("issues/{number}/assignees"));
        let payload = json!({ "assignees": assignees });
        let _: serde_json::Value = self
            .retry("adding assignees", || self.post(&route, &payload))
            .await?;
        Ok(())
    }

    /// Posts a new comment on issue `number`; returns its id.
    pub async fn create_comment(&self, number: u64, body: &str) -> Result<u64, E2eError> {
        let route = format!(
            "/repos/{}/{}/issues/{number}/comments",
            self.owner, self.repo
        );
        let payload = json!({ "body": body });
        let c: CommentRef = self
            .retry("creating an issue comment", || self.post(&route, &payload))
            .await?;
        Ok(c.id)
    }

    /// Replaces the body of comment `id` (PATCH, as the REST description says).
    pub async fn update_comment(&self, id: u64, body: &str) -> Result<(), E2eError> {
        let route = self.route(&format!("issues/comments/{id}"));
        let payload = json!({ "body": body });
        let _: CommentRef = self
            .retry("editing the progress comment", || {
                self.patch(&route, &payload)
            })
            .await?;
        Ok(())
    }

    /// Finds an existing comment on issue `number` containing `marker` (first 10 pages).
    pub async fn find_comment(&self, number: u64, marker: &str) -> Result<Option<u64>, E2eError> {
        for page in 1..=10u32 {
            let route = self.route(&format!(
                "issues/{number}/comments?per_page=100&page={page}"
            ));
            let list: Vec<CommentRef> = self
                .retry("listing issue comments", || self.get(&route))
                .await?;
            if let Some(c) = list
                .iter()
                .find(|c| c.body.as_deref().is_some_and(|b| b.contains(marker)))
            {
                return Ok(Some(c.id));
            }
            if list.len() < 100 {
                break;
            }
        }
        Ok(None)
    }
}
