//! Every real payload of npm `@octokit/webhooks-examples` for the events we read parses without
//! a panic; the actions we do not handle are skipped with a reason.

use std::path::PathBuf;

use e2e_action::event::{Intake, parse_event};

fn examples() -> serde_json::Value {
    let root = std::env::var_os("E2E_TEST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/node/node_modules"
            ))
        });
    let path = root.join("@octokit/webhooks-examples/api.github.com/index.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/install-test-deps.sh", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_real_payload_parses_or_is_skipped_with_a_reason() {
    let all = examples();
    let mut seen = 0;
    for group in all.as_array().unwrap() {
        let name = group["name"].as_str().unwrap();
        if !["issues", "issue_comment", "workflow_dispatch"].contains(&name) {
            continue;
        }
        for example in group["examples"].as_array().unwrap() {
            seen += 1;
            let text = example.to_string();
            match parse_event(name, &text) {
                Ok(Intake::Skip(reason)) => assert!(!reason.is_empty() && !reason.contains('\n')),
                Ok(Intake::Build(t)) => assert!(t.issue.number > 0),
                Err(e) => panic!("{name} example failed to parse: {e}"),
            }
        }
    }
    assert!(seen >= 40, "only {seen} examples found");
}

mod properties {
    use e2e_action::event::parse_event;
    use proptest::prelude::*;

    const SAMPLE: &str = include_str!("../../examples/events/issue-opened.json");

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary text never panics the event parser, and errors are one line.
        #[test]
        fn arbitrary_text_never_panics(name in "(issues|issue_comment|workflow_dispatch|push|)", text in ".{0,400}") {
            if let Err(e) = parse_event(&name, &text) {
                prop_assert!(!e.contains('\n'));
            }
        }

        /// A real payload cut anywhere or with a byte flipped never panics the parser.
        #[test]
        fn damaged_payloads_never_panic(cut in 0usize..SAMPLE.len(), flip in 0usize..SAMPLE.len(), byte in any::<u8>()) {
            let mut bytes = SAMPLE.as_bytes()[..cut].to_vec();
            if flip < bytes.len() {
                bytes[flip] = byte;
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_event("issues", &text);
        }
    }
}
