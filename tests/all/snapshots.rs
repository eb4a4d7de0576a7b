//! Snapshots (insta) of what the action makes of each fixture issue: the spec it derives (labels,
//! identifiers, tables, routes, renamed reserved words) and the files the pack generates. A change
//! to either shows up as a reviewable diff (`cargo insta review`), never silently.

use std::path::Path;
use std::process::Command;

use crate::helpers::{fixture, sample_event, text};

fn generate(event: &Path) -> (String, String) {
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
    let spec = std::fs::read_to_string(out.path().join("spec.yaml")).unwrap();
    let mut files = Vec::new();
    for entry in walk(out.path()) {
        files.push(
            entry
                .strip_prefix(out.path())
                .unwrap()
                .display()
                .to_string(),
        );
    }
    files.sort();
    (spec, files.join("\n") + "\n")
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn check(name: &str, event: &Path) {
    let (spec, files) = generate(event);
    insta::assert_snapshot!(format!("{name}_spec"), spec);
    insta::assert_snapshot!(format!("{name}_files"), files);
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
