//! The whole pipeline through the binary, as the runner would start it.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::Repository;

use crate::helpers::{TestContext, sample_event, shared_cache, text};

/// The venv the pipeline made for these requirements (its `.e2e-ready` holds them). Files the
/// requirements include (`-r requirements-prod.txt`) are part of the venv's key but not of the
/// marker, so of several matches the newest is the one this run used.
fn venv_for(requirements: &str) -> PathBuf {
    let venvs = shared_cache().join("venvs");
    std::fs::read_dir(&venvs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p.join(".e2e-ready"))
                .ok()
                .as_deref()
                == Some(requirements)
        })
        .max_by_key(|p| {
            std::fs::metadata(p.join(".e2e-ready"))
                .and_then(|m| m.modified())
                .ok()
        })
        .expect("a venv for the app's requirements")
}

fn run_app_tests(app: &Path, requirements: &str) -> std::process::Output {
    let python = venv_for(requirements).join("bin/python");
    Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(app)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", app)
        .output()
        .unwrap()
}

#[test]
fn issue_event_becomes_a_pushed_branch_with_passing_tests() {
    let ctx = TestContext::new();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));

    let outputs = ctx.outputs();
    let branch = outputs.get("branch").expect("branch output").clone();
    assert_eq!(branch, "e2e/issue-42-reading-list");
    assert_eq!(outputs["tests"], "passed");
    assert_eq!(outputs["app-path"], "apps/reading-list");
    let branches = ctx.origin_branches();
    assert_eq!(branches.get(&branch), Some(&outputs["sha"]), "{branches:?}");

    // The step summary has the stage table.
    let summary = std::fs::read_to_string(&ctx.summary).unwrap();
    assert!(summary.contains("| ✅ | test |"), "{summary}");

    // The workspace has the branch checked out.
    let ws = Repository::open(&ctx.workspace).unwrap();
    assert_eq!(ws.head().unwrap().shorthand().unwrap(), branch.as_str());

    // A fresh checkout of the pushed branch holds the app and its tests pass there.
    let fresh = ctx.dir.path().join("fresh");
    let mut builder = git2::build::RepoBuilder::new();
    builder.branch(&branch);
    builder.clone(ctx.origin.to_str().unwrap(), &fresh).unwrap();
    let app = fresh.join("apps/reading-list");
    for f in [
        "spec.yaml",
        "SPEC.md",
        "ARCHITECTURE.md",
        "PLAN.md",
        "app/main.py",
        "requirements.txt",
    ] {
        assert!(app.join(f).is_file(), "{f} missing");
    }
    assert!(
        std::fs::read_to_string(app.join("ARCHITECTURE.md"))
            .unwrap()
            .contains("```mermaid")
    );
    // The deploy workflow stays in the app until the configuration asks for it.
    assert!(app.join("deploy/deploy.yml").is_file());
    assert!(!fresh.join(".github").exists());
    let requirements = std::fs::read_to_string(app.join("requirements.txt")).unwrap();
    let tests = run_app_tests(&app, &requirements);
    assert!(tests.status.success(), "{}", text(&tests));

    // A second run on the same issue: same branch, nothing new to commit, no second branch.
    let ctx2_out = ctx.run_action("issues", Some(&sample_event()));
    assert!(ctx2_out.status.success(), "{}", text(&ctx2_out));
    let after = ctx.origin_branches();
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(
        after[&branch], branches[&branch],
        "an identical re-run makes no commit"
    );
}

/// Blob at `path` on `branch` of the bare `origin`.
fn origin_file(origin: &Path, branch: &str, path: &str) -> Option<String> {
    let repo = Repository::open_bare(origin).unwrap();
    let tip = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .ok()?
        .peel_to_commit()
        .ok()?;
    let entry = tip.tree().ok()?.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

#[test]
fn the_configuration_can_install_the_deploy_workflow_beside_the_app() {
    let ctx = TestContext::new();
    ctx.write_config("install-deploy-workflow: true\n");
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let branch = ctx.outputs()["branch"].clone();
    let placed = ".github/workflows/reading-list-deploy.yml";
    let workflow = origin_file(&ctx.origin, &branch, placed)
        .unwrap_or_else(|| panic!("{placed} not on the branch\n{}", text(&out)));
    let app_copy =
        origin_file(&ctx.origin, &branch, "apps/reading-list/deploy/deploy.yml").unwrap();
    let (head, rest) = workflow.split_once('\n').unwrap();
    assert_eq!(
        head,
        "# Placed by e2e-action from apps/reading-list/deploy/deploy.yml; edit that file, a re-run replaces this copy."
    );
    assert_eq!(rest, app_copy);
    // A re-run replaces its own copy: nothing new to commit.
    let tip = ctx.origin_branches()[&branch].clone();
    let again = ctx.run_action("issues", Some(&sample_event()));
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(ctx.origin_branches()[&branch], tip);
}
