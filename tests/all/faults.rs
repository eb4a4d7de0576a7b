//! Faults lose nothing: a push refused because the branch moved, a run killed mid-way, two runs
//! on one issue at once, a full disk, a read-only workspace. Nothing half-done is pushed, and a
//! re-run completes.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::helpers::{GitServer, TestContext, sample_event, shared_cache, text};

const BRANCH: &str = "e2e/issue-42-reading-list";

fn error_lines(out: &std::process::Output) -> Vec<String> {
    text(out)
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::error::"))
        .map(String::from)
        .collect()
}

#[test]
fn a_branch_moved_during_the_push_is_refused_cleanly_and_a_rerun_builds_on_top() {
    let mut ctx = TestContext::new();
    let main_sha = ctx.origin_branches()["main"].clone();
    // Hooks run only behind a real server (libgit2 writes local paths directly).
    let server = GitServer::start(ctx.dir.path(), "t0ken-for-faults");
    let repo = git2::Repository::open(&ctx.workspace).unwrap();
    repo.remote_set_url("origin", &server.url("origin.git"))
        .unwrap();
    ctx.env
        .insert("INPUT_GITHUB-TOKEN".into(), "t0ken-for-faults".into());
    ctx.env.insert("GITHUB_REPOSITORY".into(), String::new());
    // The server refuses the update, as it does when the branch moved under us.
    let hook = ctx.origin.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'someone pushed to this branch meanwhile' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", text(&out));
    assert!(
        errors[0].contains("push rejected") && errors[0].contains("re-run"),
        "{}",
        errors[0]
    );
    assert!(
        !ctx.origin_branches().contains_key(BRANCH),
        "nothing half-done on the remote"
    );

    // Someone else's commit is on the branch now; the re-run builds on top of it.
    std::fs::remove_file(&hook).unwrap();
    let origin = git2::Repository::open_bare(&ctx.origin).unwrap();
    origin
        .reference(
            &format!("refs/heads/{BRANCH}"),
            git2::Oid::from_str(&main_sha).unwrap(),
            true,
            "someone",
        )
        .unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let repo = git2::Repository::open_bare(&ctx.origin).unwrap();
    let tip = repo
        .find_reference(&format!("refs/heads/{BRANCH}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert_eq!(
        tip.parent_id(0).unwrap().to_string(),
        main_sha,
        "built on top of their commit"
    );
    assert!(
        tip.tree()
            .unwrap()
            .get_path(std::path::Path::new("apps/reading-list/app/main.py"))
            .is_ok()
    );
}

#[test]
fn a_run_killed_during_the_tests_pushes_nothing_and_a_rerun_completes() {
    let ctx = TestContext::new();
    let mut cmd = ctx.command("issues", Some(&sample_event()));
    cmd.env("INPUT_CACHE-DIR", shared_cache())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Wait for the test stage to start (its staging folder appears), then kill the action.
    let staging = ctx.runner_temp.join("e2e-action/issue-42/app");
    let start = Instant::now();
    while !staging.exists() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(staging.exists(), "the test stage never started");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        ctx.origin_branches().len(),
        1,
        "nothing may be pushed by a killed run"
    );

    // The killed run left its branch checked out; a re-run from the base completes.
    let repo = git2::Repository::open(&ctx.workspace).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(ctx.origin_branches().contains_key(BRANCH));
}

#[test]
fn two_runs_on_one_issue_at_once_one_wins_the_other_fails_cleanly() {
    let a = TestContext::new();
    // A second runner: its own checkout of the same origin.
    let b_ws = a.dir.path().join("workspace-b");
    git2::Repository::clone(a.origin.to_str().unwrap(), &b_ws).unwrap();
    let spawn = |ws: &std::path::Path| {
        let mut cmd = a.command("issues", Some(&sample_event()));
        cmd.env("GITHUB_WORKSPACE", ws)
            .env("INPUT_CACHE-DIR", shared_cache())
            .env("GITHUB_OUTPUT", ws.with_extension("out"))
            .env("RUNNER_TEMP", ws.with_extension("tmp"));
        std::fs::create_dir_all(ws.with_extension("tmp")).unwrap();
        cmd.output().unwrap()
    };
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| spawn(&a.workspace));
        let hb = s.spawn(|| spawn(&b_ws));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    let results = [&ra, &rb];
    let winners = results.iter().filter(|o| o.status.success()).count();
    assert!(winners >= 1, "{}\n{}", text(&ra), text(&rb));
    for o in results.iter().filter(|o| !o.status.success()) {
        let errors = error_lines(o);
        assert_eq!(errors.len(), 1, "{}", text(o));
        assert!(errors[0].contains("push rejected"), "{}", errors[0]);
    }
    let tip = a.origin_branches()[BRANCH].clone();
    let repo = git2::Repository::open_bare(&a.origin).unwrap();
    let commit = repo
        .find_commit(git2::Oid::from_str(&tip).unwrap())
        .unwrap();
    assert!(
        commit
            .tree()
            .unwrap()
            .get_path(std::path::Path::new("apps/reading-list/spec.yaml"))
            .is_ok()
    );
}

/// Runs the action with its workspace replaced, inside a private mount namespace, by what
/// `setup` (a shell snippet with `$WS` the workspace and `$COPY` a copy of it) mounts there:
/// a full disk or a read-only one, real to the kernel, gone when the run ends.
fn run_with_workspace_mount(ctx: &TestContext, setup: &str) -> std::process::Output {
    let copy = ctx.dir.path().join("workspace-copy");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&ctx.workspace)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let inner = ctx.command("issues", Some(&sample_event()));
    let mut cmd = std::process::Command::new("unshare");
    cmd.env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("INPUT_CACHE-DIR", shared_cache())
        .env("WS", &ctx.workspace)
        .env("COPY", &copy)
        .env("E2E_UNDER_TEST", inner.get_program())
        .args(["--mount", "--map-root-user", "--", "sh", "-euc"])
        .arg(format!("{setup}\nexec \"$E2E_UNDER_TEST\""));
    let out = cmd.output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("unshare:"),
        "this test needs a private mount namespace (unshare --mount --map-root-user): {}",
        text(&out)
    );
    out
}

#[test]
fn a_full_disk_fails_clearly_pushes_nothing_and_a_rerun_completes() {
    let ctx = TestContext::new();
    // 256 KiB: the checkout fits, the generated app (about 450 KiB) does not.
    let out = run_with_workspace_mount(
        &ctx,
        "mount -t tmpfs -o size=256k e2e-full \"$WS\"\ncp -a \"$COPY/.\" \"$WS/\"",
    );
    assert!(!out.status.success(), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "one clear error: {}", text(&out));
    assert!(
        errors[0].contains("No space left on device"),
        "{}",
        errors[0]
    );
    assert_eq!(ctx.origin_branches().len(), 1, "nothing may be pushed");

    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(ctx.origin_branches().contains_key(BRANCH));
}

#[test]
fn a_read_only_workspace_fails_clearly_and_changes_nothing() {
    let ctx = TestContext::new();
    let before = ctx.workspace_fingerprint();
    let out = run_with_workspace_mount(
        &ctx,
        "mount --bind \"$WS\" \"$WS\"\nmount -o remount,bind,ro \"$WS\"",
    );
    assert!(!out.status.success(), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "one clear error: {}", text(&out));
    assert!(errors[0].contains("Read-only file system"), "{}", errors[0]);
    assert_eq!(ctx.origin_branches().len(), 1, "nothing may be pushed");
    assert_eq!(ctx.workspace_fingerprint(), before);
}
