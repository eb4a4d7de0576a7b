//! The default cache folder (`.e2e-cache` in the workspace) survives into a second workflow
//! run as `actions/cache` would restore it, and the second run installs nothing.

use std::path::Path;

use serde_json::Value;

use crate::helpers::{TestContext, sample_event, text};

/// One workflow run on the sample issue (no `cache-dir` input: the default); its run report,
/// after checking that the run and the app's tests passed.
fn run(ctx: &TestContext) -> Value {
    let p = ctx.runner_temp.join("e2e-action/run-report.json");
    let _ = std::fs::remove_file(&p);
    let out = ctx
        .command("issues", Some(&sample_event()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(report["tests"]["status"], "passed");
    report
}

/// A fresh checkout at the same path, as the next workflow run gets, with the cache folder
/// put back as `actions/cache` restores it (after actions/checkout cleaned the workspace).
fn next_run_checkout(ctx: &TestContext, cache: &Path) {
    let kept = ctx.dir.path().join("restored-cache");
    std::fs::rename(cache, &kept).unwrap();
    std::fs::remove_dir_all(&ctx.workspace).unwrap();
    git2::Repository::clone(ctx.origin.to_str().unwrap(), &ctx.workspace).unwrap();
    std::fs::rename(&kept, cache).unwrap();
}

#[test]
fn a_second_run_with_the_restored_default_cache_installs_nothing() {
    let ctx = TestContext::new();
    let cache = ctx.workspace.join(".e2e-cache");
    assert_eq!(run(&ctx)["tests"]["install_cached"], false);
    assert!(cache.join("venvs").is_dir(), "the venv is in the workspace");
    assert_eq!(
        std::fs::read_to_string(cache.join(".gitignore")).unwrap(),
        "*\n"
    );
    // Nothing of the cache reached the pushed branch.
    let branch = ctx.outputs()["branch"].clone();
    let repo = git2::Repository::open_bare(&ctx.origin).unwrap();
    let tree = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_tree()
        .unwrap();
    assert!(tree.get_name(".e2e-cache").is_none());
    // A later step's `git add -A` would not take it either.
    let ws = git2::Repository::open(&ctx.workspace).unwrap();
    assert!(ws.is_path_ignored(".e2e-cache/venvs").unwrap());

    next_run_checkout(&ctx, &cache);
    assert_eq!(
        run(&ctx)["tests"]["install_cached"],
        true,
        "the second run installed again"
    );
}
