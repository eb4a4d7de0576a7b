//! `action.yml` and the binary agree: every input is read, every output is set.

use std::collections::BTreeSet;

#[test]
fn action_inputs_match_what_the_binary_reads() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    let declared: BTreeSet<String> = doc["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let read: BTreeSet<String> = e2e_action::config::input_names().into_iter().collect();
    assert_eq!(declared, read);
    let outputs: BTreeSet<String> = doc["outputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let set: BTreeSet<String> = e2e_action::pipeline::deploy::OUTPUT_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(outputs, set);
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Runs `scripts/pin-image-digest.sh` on `file`.
fn pin(file: &std::path::Path, image: &str, digest: &str) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/pin-image-digest.sh"
        ))
        .arg(file)
        .arg(image)
        .arg(digest)
        .output()
        .unwrap()
}

#[test]
fn the_release_pins_the_image_by_digest_and_changes_nothing_else() {
    let original =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("action.yml");
    std::fs::write(&file, &original).unwrap();
    let out = pin(&file, "ghcr.io/e2e-action/e2e-action", DIGEST);
    assert!(out.status.success(), "{}", crate::helpers::text(&out));
    let pinned = std::fs::read_to_string(&file).unwrap();
    let mut before: yaml_serde::Value = yaml_serde::from_str(&original).unwrap();
    let after: yaml_serde::Value = yaml_serde::from_str(&pinned).unwrap();
    assert_eq!(
        after["runs"]["image"].as_str(),
        Some(format!("docker://ghcr.io/e2e-action/e2e-action@{DIGEST}").as_str())
    );
    before["runs"]["image"] = after["runs"]["image"].clone();
    assert_eq!(before, after, "only runs.image changes");
    assert_eq!(
        original.lines().count(),
        pinned.lines().count(),
        "comments and layout kept"
    );

    // The next release pins its own digest over the previous one.
    let next = DIGEST.replace("0123", "fedc");
    assert!(
        pin(&file, "ghcr.io/e2e-action/e2e-action", &next)
            .status
            .success()
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains(&format!("@{next}\""))
    );
}

#[test]
fn the_digest_pin_refuses_bad_input_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("action.yml");
    let original =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    std::fs::write(&file, &original).unwrap();
    for (image, digest) in [
        ("ghcr.io/e2e-action/e2e-action", "sha256:abc"),
        ("ghcr.io/e2e-action/e2e-action", "latest"),
        ("ghcr.io/e2e-action/e2e-action:v1", DIGEST),
        ("ghcr.io/E2E/x", DIGEST),
        ("ghcr.io/x|y/z", DIGEST),
    ] {
        let out = pin(&file, image, digest);
        assert!(!out.status.success(), "{image} {digest} was accepted");
    }
    // Two image lines: which one is meant is not clear, so nothing is rewritten.
    let twice = format!("{original}\n  image: \"docker://example.org/x:1\"\n");
    std::fs::write(&file, &twice).unwrap();
    let out = pin(&file, "ghcr.io/e2e-action/e2e-action", DIGEST);
    assert!(!out.status.success());
    assert!(crate::helpers::text(&out).contains("found 2"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), twice);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
}

#[test]
fn every_action_in_our_workflows_is_pinned_by_sha_with_its_version() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("templates/python-fastapi/files/deploy/deploy.yml")];
    for dir in [".github/workflows", "examples/workflows"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    let mut seen = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines() {
            let Some((_, uses)) = line.split_once("uses: ") else {
                continue;
            };
            seen += 1;
            // The examples use this action by its major tag, as its users will.
            if uses.starts_with("e2e-action/e2e-action@") {
                continue;
            }
            let (action, rest) = uses.split_once('@').unwrap();
            let (sha, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{}: {action} is not pinned by a full commit SHA: {line}",
                f.display()
            );
            assert!(
                comment.starts_with('v') && comment[1..].starts_with(|c: char| c.is_ascii_digit()),
                "{}: {action}@{sha} lacks its version in a comment: {line}",
                f.display()
            );
        }
        if text.contains("actions/checkout@") {
            assert_eq!(
                text.matches("actions/checkout@").count(),
                text.matches("persist-credentials: false").count(),
                "{}: every checkout keeps no credentials",
                f.display()
            );
        }
    }
    assert!(seen >= 15, "only {seen} uses: lines found");
}

/// The rows `| `name` | what |` of the first table after `heading` in the README.
fn readme_table(readme: &str, heading: &str) -> Vec<(String, String)> {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no {heading}"));
    let section = &readme[start + heading.len() + 2..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').splitn(2, " | ").collect();
            (
                cells[0].trim().trim_matches('`').to_string(),
                cells.get(1).unwrap_or(&"").trim().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_readme_tables_list_exactly_the_inputs_and_outputs_of_action_yml() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let doc: yaml_serde::Value =
        yaml_serde::from_str(&std::fs::read_to_string(format!("{root}/action.yml")).unwrap())
            .unwrap();
    for (heading, key) in [("## Inputs", "inputs"), ("## Outputs", "outputs")] {
        let rows = readme_table(&readme, heading);
        let declared: Vec<(String, String)> = doc[key]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap().to_string(),
                    v["description"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&rows),
            names(&declared),
            "README {heading} table vs action.yml {key} (same names, same order)"
        );
        for ((name, readme_what), (_, description)) in rows.iter().zip(&declared) {
            assert!(
                !readme_what.is_empty(),
                "README {heading}: {name} says nothing"
            );
            assert_eq!(
                readme_what.contains("**Deprecated**"),
                description.starts_with("Deprecated:"),
                "{name}: deprecated in one place only"
            );
        }
    }
    let deprecated: BTreeSet<String> = doc["outputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, v)| {
            v["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("Deprecated:"))
        })
        .map(|(k, _)| k.as_str().unwrap().to_string())
        .collect();
    let aliases: BTreeSet<String> = e2e_action::pipeline::deploy::DEPRECATED_OUTPUTS
        .iter()
        .map(|(old, _)| old.to_string())
        .collect();
    assert_eq!(deprecated, aliases);
    for (old, new) in e2e_action::pipeline::deploy::DEPRECATED_OUTPUTS {
        assert_eq!(
            doc["outputs"][*old]["description"].as_str(),
            Some(format!("Deprecated: use {new}.").as_str())
        );
    }
}

/// The backticked names in `text`.
fn backticked(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn the_readme_inputs_and_config_file_keys_follow_the_declaration() {
    use e2e_action::config::{KEYS, input_names};
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let rows: BTreeSet<String> = readme_table(&readme, "## Inputs")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let declared: BTreeSet<String> = input_names().into_iter().collect();
    assert_eq!(rows, declared, "README inputs table vs src/config.rs");

    let start = readme
        .find("The config file (`.github/e2e-action.yml`) takes")
        .expect("the README says which keys the config file takes");
    let text = &readme[start..];
    let text = text[..text.find("\n\n").unwrap()].replace('\n', " ");
    let between = |from: &str, to: &str| {
        let rest = &text[text.find(from).unwrap_or_else(|| panic!("no {from:?}")) + from.len()..];
        backticked(&rest[..rest.find(to).unwrap()])
    };
    let file_keys: BTreeSet<String> = KEYS.iter().filter(|k| k.file).map(|k| k.name()).collect();
    let not_in_file: BTreeSet<String> = declared.difference(&file_keys).cloned().collect();
    assert_eq!(between("(except ", ")"), not_in_file);
    let file_only: BTreeSet<String> = file_keys.difference(&declared).cloned().collect();
    assert_eq!(between(") plus ", " ("), file_only);
}
