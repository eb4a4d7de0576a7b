//! Snapshots (insta) of what the action makes of each fixture issue: the spec it derives (labels,
//! identifiers, tables, routes, renamed reserved words), the list of files the pack generates and
//! each file's contents (`snapshots/files/<fixture>/`, one snapshot per file named by its path),
//! and what a run tells people: the pull request's body, the progress comment and the step
//! summary. A change to any of them shows up as a reviewable diff (`cargo insta review`), never
//! silently. `INSTA_UPDATE=always cargo test --test all snapshots` rewrites them all and deletes
//! the snapshots of files no longer generated.

use std::path::Path;
use std::process::Command;

use crate::helpers::github_api::{self, REPO};
use crate::helpers::snapshot::{files_under, redacting, snapshot_tree};
use crate::helpers::{TestContext, fixture, sample_event, text};

/// Renders the app of `event` into a new folder (`e2e-action generate`).
fn generate(event: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let result = Command::new(env!("CARGO_BIN_EXE_e2e-action"))
        .arg("generate")
        .arg("--event")
        .arg(event)
        .arg("--out")
        .arg(out.path())
        .env_clear()
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", text(&result));
    out
}

fn check(name: &str, event: &Path) {
    let out = generate(event);
    let spec = std::fs::read_to_string(out.path().join("spec.yaml")).unwrap();
    let mut files: Vec<String> = files_under(out.path())
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    files.sort();
    insta::assert_snapshot!(format!("{name}_spec"), spec);
    let files = files.join("\n") + "\n";
    insta::assert_snapshot!(format!("{name}_files"), files);
    snapshot_tree(out.path(), &format!("snapshots/files/{name}"));
}

#[test]
fn the_sample_issue() {
    check("sample", &sample_event());
}

#[test]
fn non_english_names() {
    check("i18n", &fixture("events/issue-i18n.json"));
}

#[test]
fn reserved_words_and_built_in_model_names() {
    check("reserved", &fixture("events/issue-reserved.json"));
}

#[test]
fn every_field_type() {
    check("wide", &fixture("events/issue-wide.json"));
}

/// The binary on the sample issue, as the runner drives it, against a scripted GitHub API: what
/// it writes for people (pull-request body, progress comment, step summary), with SHAs,
/// timestamps and measured times redacted.
#[tokio::test(flavor = "multi_thread")]
async fn what_a_run_tells_people() {
    let server = github_api::first_run(42).await;
    let mut ctx = TestContext::new();
    github_api::use_api(&mut ctx, &server.uri());
    ctx.env.insert("INPUT_LABELS".into(), "e2e".into());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let reqs = github_api::requests(&server).await;
    let body = |verb: &str, route: &str, key: &str| -> String {
        github_api::last_body(&reqs, verb, route)
            .and_then(|b| b[key].as_str())
            .unwrap_or_else(|| panic!("no {verb} {route} with a {key}: {reqs:?}"))
            .to_string()
    };
    let pull_request = body("POST", &format!("{REPO}/pulls"), "body");
    let comment = body("PATCH", &format!("{REPO}/issues/comments/7"), "body");
    let summary = std::fs::read_to_string(&ctx.summary).unwrap();
    // Paths of this test's temporary folders would differ on every run.
    let scrub = |s: &str| s.replace(&ctx.dir.path().display().to_string(), "[tmp]");
    redacting(true).bind(|| {
        insta::assert_snapshot!("run_pull_request_body", scrub(&pull_request));
        insta::assert_snapshot!("run_progress_comment", scrub(&comment));
        insta::assert_snapshot!("run_step_summary", scrub(&summary));
    });
}
