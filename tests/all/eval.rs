//! `e2e-action eval` on the issue's two examples (invoice tracker, room booking): the closing
//! line, and proof that the checks fail when the apps are generated without their rules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::{shared_cache, text};

/// A corpus of the repository's `invoice-tracker` and `room-booking` folders.
fn examples() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    for name in ["invoice-tracker", "room-booking"] {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/eval")
            .join(name);
        std::fs::create_dir_all(corpus.join(name)).unwrap();
        for file in ["event.json", "checks.yaml"] {
            std::fs::copy(from.join(file), corpus.join(name).join(file)).unwrap();
        }
    }
    (dir, corpus)
}

/// Checks written for the corpus (the closing line's total must be their number).
fn check_count(corpus: &Path) -> usize {
    std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path().join("checks.yaml")).unwrap())
        .map(|t| t.lines().filter(|l| l.starts_with("- name:")).count())
        .sum()
}

fn eval(corpus: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_e2e-action"))
        .arg("eval")
        .arg("--corpus")
        .arg(corpus)
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(extra)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap()
}

/// `(issues, apps_passing, passed, total)` from the closing line, which must be the last line.
fn closing(out: &Output) -> (u64, u64, u64, u64) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_string();
    let fields: Vec<&str> = last.split(' ').collect();
    assert_eq!(fields.len(), 5, "closing line: {last:?}\n{}", text(out));
    assert_eq!(fields[0], "eval", "{}", text(out));
    let value = |i: usize, key: &str| {
        fields[i]
            .strip_prefix(&format!("{key}="))
            .unwrap_or_else(|| panic!("{key}= expected in {last:?}"))
    };
    let (passed, total) = value(3, "intent_checks").split_once('/').unwrap();
    let median: u64 = value(4, "median_s").parse().unwrap();
    assert!(median > 0 && median < 600, "median_s={median}");
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("eval issues="))
            .count(),
        1,
        "exactly one closing line"
    );
    (
        value(1, "issues").parse().unwrap(),
        value(2, "apps_passing").parse().unwrap(),
        passed.parse().unwrap(),
        total.parse().unwrap(),
    )
}

#[test]
fn eval_of_the_issue_examples_ends_with_one_line_and_every_check_passing() {
    let (_dir, corpus) = examples();
    let out = eval(&corpus, &[]);
    let (issues, apps, passed, total) = closing(&out);
    assert_eq!(issues, 2);
    assert_eq!(total as usize, check_count(&corpus));
    assert!(total >= 16, "{total} checks");
    assert_eq!((apps, passed), (2, total), "{}", text(&out));
    assert!(out.status.success(), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("FAIL"));
}

#[test]
fn without_rules_the_rule_checks_fail_and_intent_checks_drop() {
    let (dir, corpus) = examples();
    let keep = dir.path().join("keep");
    let out = eval(
        &corpus,
        &["--without-rules", "--keep", keep.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (issues, apps, passed, total) = closing(&out);
    assert_eq!(issues, 2);
    assert_eq!(total as usize, check_count(&corpus));
    // The apps still build and pass their own tests: only the rules are gone...
    assert_eq!(stdout.matches("app tests passed").count(), 2, "{stdout}");
    let event = std::fs::read_to_string(keep.join("invoice-tracker/event.json")).unwrap();
    assert!(
        !event.contains("### Rules") && event.contains("### Views"),
        "{event}"
    );
    let spec = keep.join("invoice-tracker/workspace/apps/invoice-tracker/spec.yaml");
    let spec = std::fs::read_to_string(spec).unwrap();
    assert!(
        !spec.contains("Invoice.amount >= 0"),
        "rules left in the spec:\n{spec}"
    );
    // ...so every check that needs one fails, those that need none still pass, and the run fails.
    for rule_check in [
        "FAIL a negative amount is refused, naming amount",
        "FAIL a due date before the issue date is refused",
        "FAIL a new invoice without a status is a draft",
        "FAIL an overlapping booking of the same room is refused",
        "FAIL moving a booking onto another one is refused",
        "FAIL a booking that ends before it starts",
    ] {
        assert!(
            stdout.contains(rule_check),
            "{rule_check:?} did not fail:\n{stdout}"
        );
    }
    for free_check in [
        "back-to-back bookings of the same room are accepted",
        "an amount of zero is accepted",
    ] {
        assert!(
            !stdout.contains(&format!("FAIL {free_check}")),
            "{free_check:?} failed:\n{stdout}"
        );
    }
    assert!(
        passed < total,
        "intent_checks={passed}/{total} without rules"
    );
    assert!(
        passed <= total / 2,
        "most checks need a rule: {passed}/{total}"
    );
    assert_eq!(apps, 0);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}
