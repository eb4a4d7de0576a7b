//! The checkouts the runner really hands over: shallow and detached (actions/checkout), and
//! owned by another uid (container actions run as root over the runner's files).

use std::process::Command;

use crate::helpers::{GitServer, TestContext, sample_event, text};

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
}

#[test]
fn a_shallow_detached_checkout_builds_and_pushes_over_http() {
    let mut ctx = TestContext::new();
    let server = GitServer::start(ctx.dir.path(), "t0ken-shallow");
    // Replace the workspace with what actions/checkout makes: depth 1, detached HEAD.
    std::fs::remove_dir_all(&ctx.workspace).unwrap();
    let origin = format!("file://{}", ctx.origin.display());
    git(
        ctx.dir.path(),
        &["clone", "-q", "--depth", "1", &origin, "workspace"],
    );
    git(&ctx.workspace, &["checkout", "-q", "--detach"]);
    git(
        &ctx.workspace,
        &["remote", "set-url", "origin", &server.url("origin.git")],
    );
    assert!(git2::Repository::open(&ctx.workspace).unwrap().is_shallow());
    ctx.env
        .insert("INPUT_GITHUB-TOKEN".into(), "t0ken-shallow".into());
    ctx.env.insert("GITHUB_REPOSITORY".into(), String::new());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let outputs = ctx.outputs();
    assert_eq!(
        ctx.origin_branches().get(&outputs["branch"]),
        Some(&outputs["sha"])
    );
    // A second run fetches the branch (shallowly) and finds nothing to change.
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_workspace_owned_by_another_uid_is_trusted_deliberately() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: needs root to hand the checkout to another uid");
        return;
    }
    let ctx = TestContext::new();
    let status = Command::new("chown")
        .args(["-R", "12345:12345"])
        .arg(&ctx.workspace)
        .status()
        .unwrap();
    assert!(status.success());
    // libgit2 itself refuses such a repository…
    let err = git2::Repository::open(&ctx.workspace)
        .err()
        .expect("libgit2 checks the owner");
    assert_eq!(err.code(), git2::ErrorCode::Owner);
    // …the action opens it on purpose, says so, and builds.
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("the workspace belongs to another user"),
        "{}",
        text(&out)
    );
    assert!(
        ctx.origin_branches()
            .contains_key("e2e/issue-42-reading-list")
    );
    // Nothing was written to any git config to get there.
    let config = std::fs::read_to_string(ctx.workspace.join(".git/config")).unwrap();
    assert!(!config.contains("safe"), "{config}");
}
