//! The @actions/toolkit conventions: annotations with file, line and title; `::debug::` lines
//! only under `RUNNER_DEBUG=1`; a step summary on every outcome with what to do next.

use crate::helpers::{TestContext, fixture, sample_event, text};

fn summary(ctx: &TestContext) -> String {
    std::fs::read_to_string(&ctx.summary).unwrap_or_default()
}

#[test]
fn a_config_file_error_is_annotated_at_its_file_and_line_and_summarised() {
    let ctx = TestContext::new();
    let dir = ctx.workspace.join(".github");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("e2e-action.yml"),
        "stack: python-fastapi\npuhs: true\n",
    )
    .unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let line = text(&out)
        .lines()
        .find(|l| l.starts_with("::error"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.starts_with("::error file=.github/e2e-action.yml,line=2,title=Invalid configuration::e2e-action: invalid configuration: .github/e2e-action.yml: unknown field `puhs`"),
        "{}",
        text(&out)
    );
    let s = summary(&ctx);
    assert!(s.starts_with("## e2e-action failed"), "{s}");
    // Markdown-escaped: the message is text the user wrote.
    assert!(s.contains("unknown field \\`puhs\\`"), "{s}");
    assert!(
        s.contains("**What to do next:** Fix the input or the config file"),
        "{s}"
    );
}

#[test]
fn an_issue_form_error_has_a_title_and_the_summary_says_what_to_do() {
    let ctx = TestContext::new();
    let out = ctx.run_action("issues", Some(&fixture("events/issue-bad-type.json")));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("::error title=The issue cannot be built::"),
        "{}",
        text(&out)
    );
    // Annotations attach only to repository files: the body's line is in the message.
    assert!(
        text(&out).contains("data model line 2 ")
            && text(&out).contains("(line 13 of the issue body)"),
        "{}",
        text(&out)
    );
    let s = summary(&ctx);
    assert!(s.contains("## e2e-action: issue #"), "{s}");
    assert!(s.contains("**Failed**"), "{s}");
    assert!(s.contains("**What to do next:** Edit the issue"), "{s}");
}

#[test]
fn a_skipped_event_writes_a_summary_too() {
    let ctx = TestContext::new();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    v["action"] = "closed".into();
    let event = ctx.dir.path().join("closed.json");
    std::fs::write(&event, v.to_string()).unwrap();
    let out = ctx.run_action("issues", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        summary(&ctx).starts_with("## e2e-action: nothing to do"),
        "{}",
        summary(&ctx)
    );
}

#[test]
fn a_successful_run_summary_says_what_comes_next() {
    let ctx = TestContext::new();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&ctx);
    // No token: no pull request, so the summary says what to do with the branch.
    assert!(
        s.contains("**What to do next:** open a pull request from `e2e/issue-42-reading-list`"),
        "{s}"
    );
    assert!(!text(&out).contains("::debug::"), "{}", text(&out));
}

#[test]
fn debug_lines_appear_only_under_runner_debug() {
    let mut ctx = TestContext::new();
    ctx.env.insert("RUNNER_DEBUG".into(), "1".into());
    ctx.env.insert("INPUT_STACK".into(), "cobol-cics".into());
    ctx.env.insert(
        "INPUT_LLM-BASE-URL".into(),
        "https://user:s3cr3t-in-url@llm.example/v1".into(),
    );
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("s3cr3t-in-url"), "{}", text(&out));
    let debug: Vec<&str> = text(&out)
        .lines()
        .filter(|l| l.starts_with("::debug::"))
        .map(|l| l.to_owned().leak() as &str)
        .collect();
    assert!(
        debug.iter().any(|l| l.starts_with("::debug::settings: {")
            && l.contains("\"stack\":\"cobol-cics\"")
            && l.contains("\"base_url\":\"https://llm.example/v1\"")),
        "{debug:?}"
    );
    assert!(
        debug
            .iter()
            .any(|l| l.starts_with("::debug::building issue #42 for octocat")),
        "{debug:?}"
    );
}
