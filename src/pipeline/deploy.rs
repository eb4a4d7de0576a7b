//! Deploy: push the branch when the tests passed (or `push-on-failure`), and describe the
//! delivery for the outputs.
//!
//! In: the integration and the test report. Out: a [`Delivery`]. Fails when the remote
//! refuses the push (nothing else was changed on the remote).
//!
//! With `sign-commits`, nothing is pushed with git: the same commit (the parent's tree with the
//! app folder replaced, the same message and parent) is made through GitHub's git data API
//! (tree, commit, ref), which GitHub signs as the token's account; the ref moves only forward.
//! The local branch keeps the unsigned twin with the same tree.

use serde::Serialize;

use crate::config::Settings;
use crate::error::E2eError;
use crate::github::GitHub;
use crate::pipeline::develop::Files;
use crate::pipeline::integrate::Integration;
use crate::pipeline::pull::{self, PullOutcome};
use crate::pipeline::test::TestReport;
use crate::report::Reporter;
use crate::workspace::git::{Auth, Workspace};

/// What was delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// Branch name.
    pub branch: String,
    /// Branch tip.
    pub sha: String,
    /// App folder, relative to the repository root.
    pub app_path: String,
    /// `passed` or `failed`.
    pub tests: String,
    /// Whether the branch was pushed in this run.
    pub pushed: bool,
    /// Whether this run made a new commit.
    pub changed: bool,
    /// Where it was pushed (no credentials).
    pub remote: Option<String>,
    /// Why it was not pushed, if it was not.
    pub not_pushed_because: Option<String>,
    /// The pull request, when one was opened or updated.
    pub pull: Option<PullOutcome>,
    /// Workflows placed under `.github/workflows/` beside the app.
    pub workflows: Vec<String>,
}

/// The outputs the action sets, in `action.yml` order. The `pull-request-*` names are
/// peter-evans/create-pull-request's, so workflows written for it read ours unchanged.
pub const OUTPUT_NAMES: &[&str] = &[
    "branch",
    "app-path",
    "tests",
    "pull-request-number",
    "pull-request-url",
    "pull-request-operation",
    "pull-request-head-sha",
    "pull-request-branch",
    "pr-number",
    "pr-url",
    "pr-operation",
    "sha",
];

/// Outputs kept under their first names for workflows written before 1.x, each with the name
/// that replaces it. `action.yml` and the README mark them deprecated.
pub const DEPRECATED_OUTPUTS: &[(&str, &str)] = &[
    ("pr-number", "pull-request-number"),
    ("pr-url", "pull-request-url"),
    ("pr-operation", "pull-request-operation"),
    ("sha", "pull-request-head-sha"),
];

/// Why nothing was pushed when the remote already had this exact tree.
pub const UP_TO_DATE: &str = "the branch is already up to date";

impl Delivery {
    /// The action's outputs (names as in [`OUTPUT_NAMES`]). The head SHA and branch are set
    /// whenever a branch was built, as create-pull-request does; the number and URL only when
    /// there is a pull request.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let (number, url, op) = match &self.pull {
            Some(p) => (p.number.to_string(), p.url.clone(), p.operation.clone()),
            None => (String::new(), String::new(), pull::operation::NONE.into()),
        };
        let mut out: Vec<(&'static str, String)> = vec![
            ("branch", self.branch.clone()),
            ("app-path", self.app_path.clone()),
            ("tests", self.tests.clone()),
            ("pull-request-number", number),
            ("pull-request-url", url),
            ("pull-request-operation", op),
            ("pull-request-head-sha", self.sha.clone()),
            ("pull-request-branch", self.branch.clone()),
        ];
        for (old, new) in DEPRECATED_OUTPUTS {
            let value = out
                .iter()
                .find(|(n, _)| n == new)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            out.push((old, value));
        }
        out
    }

    /// Whether the branch on the remote is what this run built (pushed now, or already
    /// there): only then may a pull request show it.
    pub fn on_remote(&self) -> bool {
        self.pushed || self.not_pushed_because.as_deref() == Some(UP_TO_DATE)
    }

    /// A delivery of nothing (an issue closed as not planned), for the outputs.
    pub fn closed(issue: u64) -> Delivery {
        Delivery {
            branch: String::new(),
            sha: String::new(),
            app_path: String::new(),
            tests: String::new(),
            pushed: false,
            changed: false,
            remote: None,
            not_pushed_because: Some(format!("#{issue} was closed as not planned")),
            pull: None,
            workflows: Vec::new(),
        }
    }

    /// One line for logs and the progress comment.
    pub fn describe(&self) -> String {
        let pr = self
            .pull
            .as_ref()
            .map(|p| format!("; PR #{} {}", p.number, p.operation))
            .unwrap_or_default();
        let s = match (&self.remote, self.pushed, &self.not_pushed_because) {
            (Some(r), true, _) => format!("pushed {} ({}) to {r}", self.branch, short(&self.sha)),
            (_, false, Some(why)) => format!("not pushed: {why}"),
            _ => format!("{} at {}", self.branch, short(&self.sha)),
        };
        s + &pr
    }
}

/// The git data API entries that turn the parent's tree into the integration's: every
/// generated file (inline UTF-8 content), and a deletion (`sha: null`) for every file under the
/// app folder that the new app no longer has.
pub fn tree_entries(
    app_dir: &str,
    files: &Files,
    parent_paths: &[String],
) -> Vec<serde_json::Value> {
    let mut entries: Vec<serde_json::Value> = files
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": format!("{app_dir}/{}", f.path),
                "mode": "100644",
                "type": "blob",
                "content": f.content,
            })
        })
        .collect();
    let prefix = format!("{app_dir}/");
    let mut gone: Vec<&String> = parent_paths
        .iter()
        .filter(|p| {
            p.strip_prefix(&prefix)
                .is_some_and(|rel| !files.files.iter().any(|f| f.path == rel))
        })
        .collect();
    gone.sort();
    entries
        .extend(gone.into_iter().map(
            |p| serde_json::json!({"path": p, "mode": "100644", "type": "blob", "sha": null}),
        ));
    entries
}

/// Makes the integration's commit through GitHub's git data API and moves the branch to it;
/// returns the new commit's SHA.
async fn signed_commit(
    gh: &GitHub,
    integration: &Integration,
    files: &Files,
) -> Result<String, E2eError> {
    let base_tree = gh.commit_tree(&integration.parent).await?;
    let parent_paths = gh.tree_paths(&base_tree).await?;
    let mut entries = tree_entries(&integration.app_dir, files, &parent_paths);
    entries.extend(integration.workflows.iter().map(|w| {
        serde_json::json!({
            "path": w.path,
            "mode": "100644",
            "type": "blob",
            "content": String::from_utf8_lossy(&w.content),
        })
    }));
    let tree = gh.create_tree(&base_tree, &entries).await?;
    let commit = gh
        .create_commit(&integration.message, &tree, &integration.parent)
        .await?;
    gh.set_branch(&integration.branch, &commit, integration.existed_on_remote)
        .await?;
    Ok(commit)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Pushes when allowed and needed.
#[allow(clippy::too_many_arguments)]
pub async fn deploy(
    ws: &Workspace,
    settings: &Settings,
    integration: &Integration,
    files: &Files,
    tests: &TestReport,
    auth: &Auth,
    github: Option<&GitHub>,
    reporter: &Reporter,
) -> Result<Delivery, E2eError> {
    let app_dir = integration.app_dir.as_str();
    let mut delivery = Delivery {
        branch: integration.branch.clone(),
        sha: integration.sha.clone(),
        app_path: app_dir.to_string(),
        tests: tests.status.clone(),
        pushed: false,
        changed: integration.changed,
        remote: integration.remote.clone(),
        not_pushed_because: None,
        pull: None,
        workflows: integration
            .workflows
            .iter()
            .map(|w| w.path.clone())
            .collect(),
    };
    let Some(url) = &integration.push_url else {
        delivery.not_pushed_because = Some("push is off".into());
        return Ok(delivery);
    };
    if !tests.passed() && !settings.push_on_failure {
        delivery.not_pushed_because =
            Some("the tests failed (set push-on-failure: true to push anyway)".into());
        return Ok(delivery);
    }
    if !integration.changed && integration.existed_on_remote {
        delivery.not_pushed_because = Some(UP_TO_DATE.into());
        return Ok(delivery);
    }
    if settings.sign_commits {
        let gh = github.ok_or_else(|| {
            E2eError::Config(
                "sign-commits makes the commit through GitHub's API: it needs github-token and GITHUB_REPOSITORY".into(),
            )
        })?;
        delivery.sha = signed_commit(gh, integration, files).await?;
        reporter.info(&format!(
            "signed commit {} made through GitHub's API (local twin {})",
            short(&delivery.sha),
            short(&integration.sha)
        ));
    } else {
        ws.push(url, &integration.branch, auth)?;
    }
    delivery.pushed = true;
    if !tests.passed() {
        reporter
            .warning("the tests failed and the branch was pushed because push-on-failure is true");
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(pull: Option<PullOutcome>) -> Delivery {
        Delivery {
            branch: "e2e/issue-1-x".into(),
            sha: "a".repeat(40),
            app_path: "apps/x".into(),
            tests: "passed".into(),
            pushed: true,
            changed: true,
            remote: None,
            not_pushed_because: None,
            pull,
            workflows: Vec::new(),
        }
    }

    #[test]
    fn outputs_follow_the_declared_order_and_aliases_repeat_their_new_names() {
        let d = delivery(Some(PullOutcome {
            number: 5,
            url: "https://github.example/o/r/pull/5".into(),
            operation: "created".into(),
        }));
        let out = d.outputs();
        let names: Vec<&str> = out.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, OUTPUT_NAMES);
        let get = |n: &str| out.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        for (old, new) in DEPRECATED_OUTPUTS {
            assert_eq!(get(old), get(new), "{old}");
        }
        assert_eq!(get("pull-request-number"), "5");
        assert_eq!(get("pull-request-head-sha"), "a".repeat(40));
        assert_eq!(get("pull-request-branch"), "e2e/issue-1-x");
    }

    #[test]
    fn signed_tree_entries_write_every_file_and_delete_what_the_app_dropped() {
        use crate::pipeline::develop::GeneratedFile;
        let files = Files {
            files: vec![
                GeneratedFile::plain("app/main.py", "dev", "print(1)\n".into()),
                GeneratedFile::plain("README.md", "docs", "# x\n".into()),
            ],
        };
        let parent = [
            "README.md",
            "apps/x/README.md",
            "apps/x/app/old.py",
            "apps/xy/keep.py",
            "apps/x2.md",
        ]
        .map(String::from);
        let entries = tree_entries("apps/x", &files, &parent);
        let paths: Vec<&str> = entries
            .iter()
            .map(|e| e["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "apps/x/app/main.py",
                "apps/x/README.md",
                "apps/x/app/old.py"
            ]
        );
        assert_eq!(entries[0]["content"], "print(1)\n");
        assert!(entries[2]["sha"].is_null() && entries[2].get("content").is_none());
    }

    #[test]
    fn a_branch_is_on_the_remote_when_pushed_or_already_up_to_date() {
        let mut d = delivery(None);
        assert!(d.on_remote());
        d.pushed = false;
        d.not_pushed_because = Some("push is off".into());
        assert!(!d.on_remote());
        d.not_pushed_because = Some(UP_TO_DATE.into());
        assert!(d.on_remote());
        assert!(
            d.describe()
                .starts_with("not pushed: the branch is already up to date")
        );
        let closed = Delivery::closed(9);
        assert!(
            !closed.on_remote()
                && closed
                    .outputs()
                    .iter()
                    .all(|(n, v)| v.is_empty() || n.ends_with("operation"))
        );
    }

    #[test]
    fn without_a_pull_request_the_operation_is_none_and_the_number_empty() {
        let out = delivery(None).outputs();
        let get = |n: &str| out.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        assert_eq!(get("pull-request-operation"), "none");
        assert_eq!(get("pull-request-number"), "");
        assert_eq!(get("pr-operation"), "none");
    }
}
