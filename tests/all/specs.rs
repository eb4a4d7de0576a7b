//! Spec format 2 end to end through the binary: the hand-written fixture specs and issue bodies
//! with `### Rules` / `### Views` sections give identical `spec.yaml` round trips, and the
//! documents show the rules and views (snapshots of the parts they add).

use std::path::Path;
use std::process::Command;

use crate::helpers::{fixture, text};

/// `e2e-action generate --<flag> <input> --out <tmp>` → the generated `spec.yaml`, `SPEC.md`
/// and `ARCHITECTURE.md`.
fn generate(flag: &str, input: &Path) -> (String, String, String) {
    let out = tempfile::tempdir().unwrap();
    let result = Command::new(env!("CARGO_BIN_EXE_e2e-action"))
        .arg("generate")
        .arg(flag)
        .arg(input)
        .arg("--out")
        .arg(out.path())
        .env_clear()
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", text(&result));
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    (read("spec.yaml"), read("SPEC.md"), read("ARCHITECTURE.md"))
}

/// The YAML without its comment header (which names how it was made).
fn body(yaml: &str) -> String {
    yaml.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Markdown from the line starting with `from` up to (not including) the next `until` line.
fn part(doc: &str, from: &str, until: &str) -> String {
    let start = doc
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in {doc}"));
    let rest = &doc[start..];
    let end = rest[from.len()..]
        .find(until)
        .map_or(rest.len(), |i| i + from.len());
    rest[..end].to_string()
}

#[test]
fn fixture_specs_round_trip_unchanged() {
    for name in ["invoices", "bookings"] {
        let path = fixture(&format!("specs/{name}.yaml"));
        let (spec, _, _) = generate("--spec", &path);
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(body(&spec), body(&written), "{name}");
    }
}

#[test]
fn issue_bodies_with_rules_and_views_give_the_fixture_specs_and_round_trip() {
    for name in ["invoices", "bookings"] {
        let (spec, _, _) = generate("--issue-body", &fixture(&format!("bodies/{name}.md")));
        // The bodies have no issue title; everything else is the hand-written fixture.
        let fixture_spec = std::fs::read_to_string(fixture(&format!("specs/{name}.yaml"))).unwrap();
        let untitled = |yaml: &str| {
            body(yaml)
                .lines()
                .filter(|l| !l.starts_with("  title: "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(untitled(&spec), untitled(&fixture_spec), "{name}");
        assert!(spec.contains("\nrules:\n- entity: ") && spec.contains("\nviews:\n- name: "));

        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("spec.yaml");
        std::fs::write(&first, &spec).unwrap();
        let (again, _, _) = generate("--spec", &first);
        assert_eq!(
            body(&again),
            body(&spec),
            "{name}: generate --spec changes nothing"
        );
    }
}

#[test]
fn documents_list_rules_and_views() {
    let (_, doc, arch) = generate("--spec", &fixture("specs/invoices.yaml"));
    insta::assert_snapshot!(
        "invoices_spec_md_rules_views",
        part(&doc, "## Rules", "## Pages") + &part(&doc, "## Pages", "## Requested features")
    );
    insta::assert_snapshot!(
        "invoices_architecture_md_data_model",
        part(&arch, "## Data model", "## Security")
    );
    let (_, doc, arch) = generate("--spec", &fixture("specs/bookings.yaml"));
    insta::assert_snapshot!(
        "bookings_spec_md_rules_views",
        part(&doc, "## Rules", "## API")
    );
    insta::assert_snapshot!(
        "bookings_architecture_md_constraints",
        part(&arch, "### Constraints", "## Security")
    );
}

#[test]
fn a_spec_yaml_with_a_mistake_or_a_newer_format_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let written = std::fs::read_to_string(fixture("specs/invoices.yaml")).unwrap();
    let run = |yaml: String| {
        let path = dir.path().join("spec.yaml");
        std::fs::write(&path, yaml).unwrap();
        let out = tempfile::tempdir().unwrap();
        let result = Command::new(env!("CARGO_BIN_EXE_e2e-action"))
            .args(["generate", "--spec"])
            .arg(&path)
            .arg("--out")
            .arg(out.path())
            .env_clear()
            .output()
            .unwrap();
        assert!(!result.status.success());
        text(&result)
    };
    let out = run(written.replacen("  sums:\n  - amount", "  sums:\n  - number", 1));
    assert!(
        out.contains("view 1 \"Overdue: Invoice where due_on < today and status != paid sorted by due_on, sum amount\": \"sum\" totals an int or decimal field, but \"number\" is a text"),
        "{out}"
    );
    let out = run(written.replacen("format: 2", "format: 9", 1));
    assert!(
        out.contains("spec format 9 is not supported; this e2e-action reads formats 1 to 2"),
        "{out}"
    );
}
