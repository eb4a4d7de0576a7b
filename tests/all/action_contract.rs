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
    let read: BTreeSet<String> = e2e_action::config::INPUT_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
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
