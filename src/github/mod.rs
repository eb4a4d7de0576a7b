//! GitHub's REST API through octocrab: issue comments (the progress comment and replies),
//! permissions, issues, pull requests and labels. `GITHUB_API_URL` is honoured, so GitHub
//! Enterprise Server works. Rate limits (429, and 403 for the primary and secondary limits)
//! and 5xx are retried with backoff and jitter, a bounded number of times.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::error::E2eError;
use crate::report::Reporter;

/// Hidden marker that identifies the action's progress comment on an issue.
pub const PROGRESS_MARKER: &str = "<!-- e2e-action:progress -->";

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

/// Whether a failed request is worth retrying: rate limits and server errors.
fn retryable(e: &octocrab::Error) -> bool {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let code = source.status_code.as_u16();
            let msg = source.message.to_ascii_lowercase();
            code == 429 || code >= 500 || (code == 403 && msg.contains("rate limit"))
        }
        octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => true,
        _ => false,
    }
}

#[derive(Deserialize)]
struct CommentRef {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

fn api_err(what: &str, e: octocrab::Error) -> E2eError {
    // octocrab's Display for GitHub errors carries GitHub's message, never our token.
    let detail = match &e {
        octocrab::Error::GitHub { source, .. } => {
            format!("{} ({})", source.message, source.status_code)
        }
        other => other.to_string(),
    };
    E2eError::GitHub(format!("{what}: {detail}"))
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
            .build()
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

    /// Runs `call` with retries on rate limits and server errors.
    async fn retry<T, F, Fut>(&self, what: &str, call: F) -> Result<T, E2eError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, octocrab::Error>>,
    {
        self.debug(&format!("GitHub API: {what}"));
        let result = self.retry_raw(call).await.map_err(|e| api_err(what, e));
        if let Err(e) = &result {
            self.debug(&format!("GitHub API: {e}"));
        }
        result
    }

    /// [`GitHub::retry`] keeping octocrab's error, for callers that treat a status as an answer.
    async fn retry_raw<T, F, Fut>(&self, call: F) -> Result<T, octocrab::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, octocrab::Error>>,
    {
        call.retry(
            ExponentialBuilder::default()
                .with_min_delay(self.min_backoff)
                .with_max_delay(Duration::from_secs(60))
                .with_max_times(4)
                .with_jitter(),
        )
        .sleep(tokio::time::sleep)
        .when(retryable)
        .await
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
        let answer: Result<Permission, _> = self
            .retry_raw(|| self.client.get(route.clone(), None::<&()>))
            .await;
        match answer {
            Ok(p) => Ok(p.permission),
            Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 404 => {
                Ok("none".into())
            }
            Err(e) => Err(api_err(&format!("reading the permission of `{login}`"), e)),
        }
    }

    /// Fetches issue `number` (for `workflow_dispatch`).
    pub async fn issue(&self, number: u64) -> Result<serde_json::Value, E2eError> {
        let route = self.route(&format!("issues/{number}"));
        self.retry("fetching the issue", || {
            self.client.get(route.clone(), None::<&()>)
        })
        .await
    }

    /// The open pull request whose head is `branch` in this repository, if any.
    pub async fn find_pull(&self, branch: &str) -> Result<Option<PullRequest>, E2eError> {
        let route = self.route(&format!(
            "pulls?state=open&per_page=100&head={}:{branch}",
            self.owner
        ));
        let list: Vec<PullListItem> = self
            .retry("listing pull requests", || {
                self.client.get(route.clone(), None::<&()>)
            })
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
                .retry("listing pull requests", || {
                    self.client.get(route.clone(), None::<&()>)
                })
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
            .retry("closing the pull request", || {
                self.client.patch(route.clone(), Some(&payload))
            })
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
            .retry("reading the parent commit", || {
                self.client.get(route.clone(), None::<&()>)
            })
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
            .retry("reading the parent tree", || {
                self.client.get(route.clone(), None::<&()>)
            })
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
            .retry("creating the tree", || {
                self.client.post(route.clone(), Some(&payload))
            })
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
            .retry("creating the commit", || {
                self.client.post(route.clone(), Some(&payload))
            })
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
                .retry("creating the branch", || {
                    self.client.post(route.clone(), Some(&payload))
                })
                .await?;
            return Ok(());
        }
        let route = self.route(&format!("git/refs/heads/{branch}"));
        let payload = json!({"sha": sha, "force": false});
        self.debug(&format!("GitHub API: PATCH {route}"));
        let answer: Result<serde_json::Value, _> = self
            .retry_raw(|| self.client.patch(route.clone(), Some(&payload)))
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 422 => {
                Err(E2eError::Push(format!(
                    "GitHub refused to move {branch}: {} (someone pushed to it meanwhile; re-run to build on top)",
                    source.message
                )))
            }
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
        self.retry("opening the pull request", || {
            self.client.post(route.clone(), Some(&payload))
        })
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
        self.retry("updating the pull request", || {
            self.client.patch(route.clone(), Some(&payload))
        })
        .await
    }

    /// Adds labels to an issue or pull request.
    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), E2eError> {
        let route = self.route(&format!("issues/{number}/labels"));
        let payload = json!({"labels": labels});
        let _: serde_json::Value = self
            .retry("adding labels", || {
                self.client.post(route.clone(), Some(&payload))
            })
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
            .retry("requesting reviewers", || {
                self.client.post(route.clone(), Some(&payload))
            })
            .await?;
        Ok(())
    }

    /// Assigns users to issue or pull request `number`.
    pub async fn add_assignees(&self, number: u64, assignees: &[String]) -> Result<(), E2eError> {
        let route = self.route(&format!("issues/{number}/assignees"));
        let payload = json!({ "assignees": assignees });
        let _: serde_json::Value = self
            .retry("adding assignees", || {
                self.client.post(route.clone(), Some(&payload))
            })
            .await?;
        Ok(())
    }

    /// Posts a new comment on issue `number`; returns its id.
    pub async fn create_comment(&self, number: u64, body: &str) -> Result<u64, E2eError> {
        let route = format!(
            "/repos/{}/{}/issues/{number}/comments",
            self.owner, self.repo
        );
        self.debug(&format!("GitHub API: POST {route}"));
        let c: CommentRef = self
            .client
            .post(route, Some(&json!({ "body": body })))
            .await
            .map_err(|e| api_err("creating an issue comment", e))?;
        Ok(c.id)
    }

    /// Replaces the body of comment `id` (PATCH, as the REST description says).
    pub async fn update_comment(&self, id: u64, body: &str) -> Result<(), E2eError> {
        let route = self.route(&format!("issues/comments/{id}"));
        let payload = json!({ "body": body });
        let _: CommentRef = self
            .retry("editing the progress comment", || {
                self.client.patch(route.clone(), Some(&payload))
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
                .retry("listing issue comments", || {
                    self.client.get(route.clone(), None::<&()>)
                })
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
