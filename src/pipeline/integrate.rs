//! Integrate: where the generated files go (branch, base, parent, push URL), then one commit
//! on `e2e/issue-<n>-<slug>`, checked out.
//!
//! Two steps: [`prepare`] validates the app folder and the branch name, finds the base, and
//! the branch's remote tip, which becomes the parent (re-runs add a commit, see
//! `workspace::git`), giving a [`Target`]; [`commit`] commits the files onto it, giving an
//! [`Integration`] naming the new tip and whether anything changed. Both run before the tests,
//! so a workspace that cannot take the app fails before minutes of tests. When QA's repair
//! changes the files, they are committed again onto the same target: the new commit has the
//! same parent and replaces the first as the branch tip. Fails when the app folder or branch
//! name is unsafe, the remote cannot be reached, or pushing would need a token that was not
//! given.

use git2::Oid;
use serde::Serialize;

use crate::config::Settings;
use crate::error::E2eError;
use crate::pipeline::develop::Files;
use crate::spec::Spec;
use crate::workspace::confine;
use crate::workspace::git::{Auth, TreeFile, WORKFLOW_MARK, Workspace, needs_token, redact_url};

/// The pack file that is the app's deploy workflow, placed under `.github/workflows/` when
/// the configuration asks for it (`install-deploy-workflow`).
pub const DEPLOY_WORKFLOW: &str = "deploy/deploy.yml";

/// Where to push: the token (if any), and the URL to use when the checkout has no `origin`
/// (`<server>/<owner>/<repo>.git`, when the repository is known).
#[derive(Clone, Default)]
pub struct Remote {
    /// The token for fetching and pushing.
    pub auth: Auth,
    /// The push URL when the checkout has no `origin` remote.
    pub fallback_url: Option<String>,
}

impl Remote {
    /// `<server>/<repository>.git` as the fallback URL.
    pub fn new(auth: Auth, server_url: &str, repository: Option<&str>) -> Remote {
        Remote {
            auth,
            fallback_url: repository
                .map(|r| format!("{}/{r}.git", server_url.trim_end_matches('/'))),
        }
    }
}

/// Where the commit goes, decided before the tests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Branch name.
    pub branch: String,
    /// Base branch name (or SHA when the checkout was detached).
    pub base: String,
    /// The new commit's parent: the branch's remote tip, or the base.
    pub parent: Oid,
    /// Whether the branch already exists on the remote.
    pub existed_on_remote: bool,
    /// Where to push (`None` when not pushing).
    pub push_url: Option<String>,
    /// The app folder, validated.
    pub app_dir: String,
}

/// What the integrate stage did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Integration {
    /// Branch name.
    pub branch: String,
    /// Base branch name (or SHA when the checkout was detached).
    pub base: String,
    /// New branch tip.
    pub sha: String,
    /// Whether a new commit was made.
    pub changed: bool,
    /// Whether the branch already existed on the remote.
    pub existed_on_remote: bool,
    /// Where to push (`None` when not pushing).
    #[serde(skip)]
    pub push_url: Option<String>,
    /// The push URL without userinfo, for messages.
    pub remote: Option<String>,
    /// The new commit's parent (the branch's remote tip, or the base).
    pub parent: String,
    /// The commit message (a signed commit made through the API repeats it).
    #[serde(skip)]
    pub message: String,
    /// The app folder, validated.
    #[serde(skip)]
    pub app_dir: String,
    /// The workflows placed beside the app (`.github/workflows/<slug>-deploy.yml`).
    #[serde(skip)]
    pub workflows: Vec<TreeFile>,
}

/// The workflows to place under `.github/workflows/`: the app's deploy workflow when the
/// configuration asks for it (and the pack made one), headed by a line saying where it came
/// from, so a re-run replaces its own copy and never a team's file of the same name.
pub fn workflows(settings: &Settings, spec: &Spec, app_dir: &str, files: &Files) -> Vec<TreeFile> {
    if !settings.install_deploy_workflow {
        return Vec::new();
    }
    files
        .files
        .iter()
        .filter(|f| f.path == DEPLOY_WORKFLOW)
        .map(|f| TreeFile {
            path: format!(".github/workflows/{}-deploy.yml", spec.app.slug),
            content: format!(
                "{WORKFLOW_MARK}{app_dir}/{DEPLOY_WORKFLOW}; edit that file, a re-run replaces this copy.\n{}",
                f.content
            )
            .into_bytes(),
        })
        .collect()
}

/// The branch for an issue.
pub fn branch_name(spec: &Spec) -> Result<String, E2eError> {
    let name = format!("e2e/issue-{}-{}", spec.issue.number, spec.app.slug);
    if git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
        Ok(name)
    } else {
        Err(E2eError::Issue(format!(
            "cannot make a valid branch name from {name:?}"
        )))
    }
}

/// Decides where the commit goes: branch, base, parent and push URL.
pub fn prepare(
    ws: &Workspace,
    settings: &Settings,
    spec: &Spec,
    app_dir: &str,
    remote: &Remote,
) -> Result<Target, E2eError> {
    let app_dir = confine::validate_relative(app_dir)
        .map_err(|e| E2eError::Config(format!("app-dir: {e}")))?;
    let branch = branch_name(spec)?;
    let (base, base_oid) = ws.base(settings.base_branch.as_deref())?;
    let push_url = if settings.push {
        let url = ws
            .origin_url()
            .or_else(|| remote.fallback_url.clone())
            .ok_or_else(|| E2eError::Workspace("the checkout has no `origin` remote to push to (set push: false to build locally)".into()))?;
        if needs_token(&url) && remote.auth.token.is_none() {
            return Err(E2eError::Config(format!(
                "pushing to {} needs a token: pass `github-token` (e.g. ${{{{ secrets.GITHUB_TOKEN }}}}) or set push: false",
                redact_url(&url)
            )));
        }
        Some(url)
    } else {
        None
    };
    let remote_tip = match &push_url {
        Some(url) => ws.remote_branch_tip(url, &branch, &remote.auth)?,
        None => None,
    };
    Ok(Target {
        branch,
        base,
        parent: remote_tip.unwrap_or(base_oid),
        existed_on_remote: remote_tip.is_some(),
        push_url,
        app_dir,
    })
}

/// The commit message for the app of `spec` in `app_dir`.
pub fn message(spec: &Spec, app_dir: &str) -> String {
    format!(
        "e2e-action: generate {app_dir} for issue #{}\n\nGenerated by {} {} from the issue form; see {app_dir}/SPEC.md.\n",
        spec.issue.number,
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
}

/// Commits `files` onto `target` and checks the branch out.
pub fn commit(
    ws: &Workspace,
    settings: &Settings,
    spec: &Spec,
    target: &Target,
    files: &Files,
) -> Result<Integration, E2eError> {
    let tree: Vec<TreeFile> = files
        .files
        .iter()
        .map(|f| TreeFile {
            path: f.path.clone(),
            content: f.content.clone().into_bytes(),
        })
        .collect();
    let message = message(spec, &target.app_dir);
    let workflows = workflows(settings, spec, &target.app_dir, files);
    let (sha, changed) = ws.commit_app(
        target.parent,
        &target.branch,
        &target.app_dir,
        &tree,
        &workflows,
        &message,
        (&settings.author_name, &settings.author_email),
    )?;
    Ok(Integration {
        branch: target.branch.clone(),
        base: target.base.clone(),
        sha: sha.to_string(),
        changed,
        existed_on_remote: target.existed_on_remote,
        remote: target.push_url.as_deref().map(redact_url),
        push_url: target.push_url.clone(),
        parent: target.parent.to_string(),
        message,
        app_dir: target.app_dir.clone(),
        workflows,
    })
}

impl Integration {
    /// The pull request's base: the base branch, or the repository's default branch when the
    /// checkout was detached (the base is then a SHA, which a pull request cannot target).
    pub fn pull_base<'a>(&'a self, default_branch: &'a str) -> &'a str {
        if self.base.len() == 40 && self.base.chars().all(|c| c.is_ascii_hexdigit()) {
            default_branch
        } else {
            &self.base
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(number: u64, slug: &str) -> Spec {
        let mut spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/bookings.yaml")).unwrap();
        spec.issue.number = number;
        spec.app.slug = slug.into();
        spec
    }

    #[test]
    fn the_branch_is_named_after_the_issue_and_must_be_a_valid_ref() {
        assert_eq!(
            branch_name(&spec(42, "room-bookings")).unwrap(),
            "e2e/issue-42-room-bookings"
        );
        assert!(matches!(
            branch_name(&spec(1, "a..b")),
            Err(E2eError::Issue(_))
        ));
        assert!(
            message(&spec(42, "x"), "apps/x")
                .starts_with("e2e-action: generate apps/x for issue #42\n")
        );
    }

    #[test]
    fn the_fallback_url_is_the_servers_repository_and_a_detached_base_targets_the_default_branch() {
        let r = Remote::new(Auth::default(), "https://github.example/", Some("o/r"));
        assert_eq!(
            r.fallback_url.as_deref(),
            Some("https://github.example/o/r.git")
        );
        assert!(
            Remote::new(Auth::default(), "https://x", None)
                .fallback_url
                .is_none()
        );
        let mut i = Integration {
            branch: "b".into(),
            base: "a".repeat(40),
            sha: String::new(),
            changed: true,
            existed_on_remote: false,
            push_url: None,
            remote: None,
            parent: String::new(),
            message: String::new(),
            app_dir: "apps/x".into(),
            workflows: Vec::new(),
        };
        assert_eq!(i.pull_base("main"), "main");
        i.base = "develop".into();
        assert_eq!(i.pull_base("main"), "develop");
    }
}
