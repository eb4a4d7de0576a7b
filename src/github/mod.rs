//! GitHub's REST API through octocrab: issue comments (the progress comment and error
//! replies). `GITHUB_API_URL` is honoured, so GitHub Enterprise Server works.

use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::error::E2eError;

/// Hidden marker that identifies the action's progress comment on an issue.
pub const PROGRESS_MARKER: &str = "<!-- e2e-action:progress -->";

/// A client for one repository.
pub struct GitHub {
    client: Octocrab,
    owner: String,
    repo: String,
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
        })
    }

    /// Posts a new comment on issue `number`; returns its id.
    pub async fn create_comment(&self, number: u64, body: &str) -> Result<u64, E2eError> {
        let route = format!(
            "/repos/{}/{}/issues/{number}/comments",
            self.owner, self.repo
        );
        let c: CommentRef = self
            .client
            .post(route, Some(&json!({ "body": body })))
            .await
            .map_err(|e| api_err("creating an issue comment", e))?;
        Ok(c.id)
    }

    /// Replaces the body of comment `id` (PATCH, as the REST description says).
    pub async fn update_comment(&self, id: u64, body: &str) -> Result<(), E2eError> {
        let route = format!("/repos/{}/{}/issues/comments/{id}", self.owner, self.repo);
        let _: CommentRef = self
            .client
            .patch(route, Some(&json!({ "body": body })))
            .await
            .map_err(|e| api_err("editing the progress comment", e))?;
        Ok(())
    }

    /// Finds an existing comment on issue `number` containing `marker` (first 10 pages).
    pub async fn find_comment(&self, number: u64, marker: &str) -> Result<Option<u64>, E2eError> {
        for page in 1..=10u32 {
            let route = format!(
                "/repos/{}/{}/issues/{number}/comments?per_page=100&page={page}",
                self.owner, self.repo
            );
            let list: Vec<CommentRef> = self
                .client
                .get(route, None::<&()>)
                .await
                .map_err(|e| api_err("listing issue comments", e))?;
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
