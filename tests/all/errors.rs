//! Bad input: one clear line, a non-zero exit, and the repository untouched.

use crate::helpers::{TestContext, fixture, sample_event, text};

fn error_lines(out: &std::process::Output) -> Vec<String> {
    text(out)
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::error::"))
        .map(String::from)
        .collect()
}

#[test]
fn truncated_event_is_one_clear_line() {
    let ctx = TestContext::new();
    let before = ctx.workspace_fingerprint();
    let full = std::fs::read_to_string(sample_event()).unwrap();
    let cut = ctx.dir.path().join("cut.json");
    std::fs::write(&cut, &full[..full.len() / 3]).unwrap();
    let out = ctx.run_action("issues", Some(&cut));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", text(&out));
    assert!(
        errors[0].contains("cut.json") && errors[0].contains("not valid JSON"),
        "{}",
        errors[0]
    );
    assert_eq!(ctx.workspace_fingerprint(), before);
    assert_eq!(ctx.origin_branches().len(), 1);
}

#[test]
fn missing_event_path_is_one_clear_line() {
    let ctx = TestContext::new();
    let before = ctx.workspace_fingerprint();
    let out = ctx.run_action("issues", None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("GITHUB_EVENT_PATH is not set"),
        "{}",
        errors[0]
    );
    assert_eq!(ctx.workspace_fingerprint(), before);
}

#[test]
fn unknown_stack_is_one_clear_line() {
    let mut ctx = TestContext::new();
    ctx.env.insert("INPUT_STACK".into(), "cobol-cics".into());
    let before = ctx.workspace_fingerprint();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("unknown stack \"cobol-cics\"; available stacks: python-fastapi"),
        "{}",
        errors[0]
    );
    assert_eq!(ctx.workspace_fingerprint(), before);
    assert_eq!(ctx.origin_branches().len(), 1);
}

#[test]
fn unhandled_events_are_skipped_with_exit_zero() {
    let ctx = TestContext::new();
    let closed = fixture("events/issue-closed.json");
    let out = ctx.run_action("issues", Some(&closed));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("::notice::e2e-action: nothing to do"),
        "{}",
        text(&out)
    );
    let out = ctx.run_action("push", Some(&sample_event()));
    assert!(out.status.success());
    assert_eq!(ctx.origin_branches().len(), 1);
}

#[test]
fn a_bad_data_model_line_is_quoted_and_nothing_is_written() {
    let ctx = TestContext::new();
    let before = ctx.workspace_fingerprint();
    let out = ctx.run_action("issues", Some(&fixture("events/issue-bad-type.json")));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", text(&out));
    assert!(errors[0].contains("unknown type"), "{}", errors[0]);
    assert_eq!(ctx.workspace_fingerprint(), before);
}

#[test]
fn https_origin_without_token_is_a_clear_error() {
    let ctx = TestContext::new();
    let repo = git2::Repository::open(&ctx.workspace).unwrap();
    repo.remote_set_url("origin", "https://github.com/octo-org/reading-list.git")
        .unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let errors = error_lines(&out);
    assert!(errors[0].contains("needs a token"), "{}", errors[0]);
}

/// A user pack whose only test fails.
fn failing_pack(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("packs");
    let files = root.join("failing/files/tests");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(
        root.join("failing/pack.yaml"),
        "name: failing\ndescription: a pack whose test fails\ntoolchain: python\nrequirements: requirements.txt\ntest: [\"python\", \"-m\", \"pytest\", \"-q\", \"-p\", \"no:cacheprovider\"]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("failing/files/requirements.txt"),
        "pytest==9.2.0\n",
    )
    .unwrap();
    std::fs::write(
        files.join("test_app.py"),
        "def test_fails():\n    assert 1 + 1 == 3\n",
    )
    .unwrap();
    root
}

#[test]
fn failing_tests_push_nothing_unless_push_on_failure() {
    let mut ctx = TestContext::new();
    let packs = failing_pack(ctx.dir.path());
    ctx.env.insert("INPUT_STACK".into(), "failing".into());
    ctx.env
        .insert("INPUT_TEMPLATES-DIR".into(), packs.display().to_string());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", text(&out));
    assert!(
        errors[0].contains("1 failed") && errors[0].contains("nothing was pushed"),
        "{}",
        errors[0]
    );
    assert_eq!(ctx.outputs()["tests"], "failed");
    assert_eq!(ctx.origin_branches().len(), 1, "nothing pushed");

    ctx.env
        .insert("INPUT_PUSH-ON-FAILURE".into(), "true".into());
    std::fs::remove_file(&ctx.output).unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        error_lines(&out)[0].contains("pushed anyway"),
        "{}",
        text(&out)
    );
    let outputs = ctx.outputs();
    assert_eq!(
        ctx.origin_branches().get(&outputs["branch"]),
        Some(&outputs["sha"])
    );
}
