//! `demo` and `generate`: the pipeline on the embedded sample, and rendering without git.
//!
//! The demo makes a throw-away bare origin and a clone with one commit on `main`, feeds the
//! sample `issues/opened` event, runs the whole pipeline with push on, and returns where the
//! branch and the app are.

use std::path::{Path, PathBuf};

use anyhow::Context;
use git2::{Repository, Signature};

use crate::error::E2eError;
use crate::ident::ReservedNames;
use crate::pipeline::{self, RunOutcome, RunRequest};
use crate::report::Reporter;
use crate::scaffold::{self, Pack, PackSource};
use crate::spec::Spec;

/// The sample event shipped with the binary.
pub const SAMPLE_EVENT: &str = include_str!("../examples/events/issue-opened.json");

/// Where the demo put things.
#[derive(Debug)]
pub struct DemoResult {
    /// Demo root.
    pub root: PathBuf,
    /// The bare origin the branch was pushed to.
    pub origin: PathBuf,
    /// The workspace (clone) with the branch checked out.
    pub workspace: PathBuf,
    /// The run's outcome.
    pub outcome: RunOutcome,
}

/// Creates `root/origin.git` and `root/workspace` (a clone with one commit on `main`).
pub fn make_repos(root: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let origin = root.join("origin.git");
    let ws = root.join("workspace");
    Repository::init_bare(&origin)
        .and_then(|r| r.set_head("refs/heads/main"))
        .context("creating the demo origin")?;
    let repo = Repository::init(&ws).context("creating the demo workspace")?;
    std::fs::write(
        ws.join("README.md"),
        "# Demo repository\n\nA throw-away repository made by `e2e-action demo`.\n",
    )?;
    let mut index = repo.index()?;
    index.add_path(Path::new("README.md"))?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = Signature::now("e2e-action demo", "demo@example.invalid")?;
    repo.commit(
        Some("refs/heads/main"),
        &sig,
        &sig,
        "Initial commit",
        &tree,
        &[],
    )?;
    repo.set_head("refs/heads/main")?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    repo.remote("origin", origin.to_str().context("non-UTF-8 demo path")?)?;
    let mut remote = repo.find_remote("origin")?;
    remote.push(&["refs/heads/main:refs/heads/main"], None)?;
    Ok((origin, ws))
}

/// Runs the demo under `root` (created if missing).
pub async fn demo(
    root: &Path,
    cache_dir: PathBuf,
    reporter: &Reporter,
) -> anyhow::Result<DemoResult> {
    std::fs::create_dir_all(root)?;
    let (origin, workspace) = make_repos(root)?;
    let event = root.join("issue-opened.json");
    std::fs::write(&event, SAMPLE_EVENT)?;
    let runner_temp = root.join("runner-temp");
    std::fs::create_dir_all(&runner_temp)?;
    let req = RunRequest::local(
        event,
        workspace.clone(),
        runner_temp,
        cache_dir,
        Default::default(),
    );
    let outcome = pipeline::run(&req, reporter).await?;
    Ok(DemoResult {
        root: root.to_path_buf(),
        origin,
        workspace,
        outcome,
    })
}

/// Where `generate` takes its spec from.
pub enum SpecSource<'a> {
    /// An issues event payload.
    Event(&'a Path),
    /// A spec.yaml.
    SpecFile(&'a Path),
    /// A file with an issue-form body.
    IssueBody(&'a Path),
}

/// Loads the pack `generate` renders with: `stack` from `templates_dir` or the embedded set.
pub fn load_pack(stack: &str, templates_dir: Option<&Path>) -> Result<Pack, E2eError> {
    let source = templates_dir.map_or(PackSource::Embedded, PackSource::Dir);
    scaffold::load_pack(&source, stack)
}

/// Reads the spec for `generate`; identifiers read from an issue avoid the pack's `reserved`
/// names (a spec file's are taken as written).
pub fn read_spec(source: SpecSource, reserved: &ReservedNames) -> Result<Spec, E2eError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| E2eError::Event {
            path: p.to_path_buf(),
            reason: e.to_string(),
        })
    };
    match source {
        SpecSource::Event(p) => match crate::event::read_event("issues", p, &Default::default())? {
            crate::event::Intake::Build(t) => pipeline::spec::from_issue(&t.issue, reserved),
            crate::event::Intake::Skip(reason) => Err(E2eError::Issue(reason)),
        },
        SpecSource::SpecFile(p) => {
            Spec::from_yaml(&read(p)?).map_err(|e| E2eError::Issue(format!("{}: {e}", p.display())))
        }
        SpecSource::IssueBody(p) => {
            let issue = crate::event::Issue::from_text(1, "", &read(p)?);
            crate::issue::form::parse_issue_form_for(&issue.reference(), &issue.body, reserved)
                .map_err(|e| E2eError::Issue(e.to_string()))
        }
    }
}

/// Renders the app for `spec` with `pack` into `out`; returns the number of files.
pub fn generate(spec: &Spec, pack: &Pack, out: &Path) -> Result<usize, E2eError> {
    let app_dir = crate::config::Settings::default().app_dir_for(&spec.app.slug, spec.issue.number);
    let files = pipeline::render_app(spec, pack, &app_dir)?;
    std::fs::create_dir_all(out)
        .map_err(|e| E2eError::Workspace(format!("{}: {e}", out.display())))?;
    files.write_to(out)?;
    Ok(files.files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_reads_an_issue_with_the_packs_reserved_names() {
        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("issue.md");
        std::fs::write(
            &body,
            "### App name\nShelves\n### Data model\nShelf: name (text)\n",
        )
        .unwrap();
        let ident = |reserved: &ReservedNames| {
            let spec = read_spec(SpecSource::IssueBody(&body), reserved).unwrap();
            spec.entities[0].ident.clone()
        };
        let default = load_pack(crate::config::DEFAULT_STACK, None).unwrap();
        assert_eq!(ident(&default.manifest.reserved), "shelf");
        let own = ReservedNames {
            modules: vec!["shelf".into()],
            ..ReservedNames::default()
        };
        assert_eq!(ident(&own), "shelf_record");
    }
}
