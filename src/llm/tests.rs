//! The client against a scripted server on 127.0.0.1 (wiremock), in both wire formats.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::*;

fn settings(kind: ProviderKind, server: &MockServer) -> LlmSettings {
    LlmSettings {
        provider: kind,
        model: "test-model".into(),
        base_url: Some(server.uri()),
        api_key: Some(SecretString::from("sk-test-key-0000000000")),
        cache_dir: None,
        max_calls: 10,
        max_tokens: 100_000,
        timeout: Duration::from_secs(2),
        max_retries: 3,
        max_invalid: 1,
        min_backoff: Duration::from_millis(10),
        price: Some(Price {
            input_per_mtok: 1.0,
            output_per_mtok: 2.0,
        }),
        prices: BTreeMap::new(),
        max_output_tokens: None,
    }
}

fn ask() -> Ask {
    Ask {
        role: Role::Developer,
        stage: "develop",
        system: "You write code.".into(),
        user: "Fill the hole.".into(),
        schema_name: "fill",
        schema: json!({"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}),
        max_tokens: 500,
    }
}

fn code_of(v: &Value) -> Result<String, String> {
    v["code"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| "`code` must be a string".into())
}

fn openai_answer(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20}
    }))
}

fn anthropic_answer(input: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "content": [{"type": "tool_use", "id": "t1", "name": "fill", "input": input}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 50, "output_tokens": 10}
    }))
}

/// Answers from a list, one per request, repeating the last.
struct Script(Vec<ResponseTemplate>, Arc<AtomicUsize>);

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.1.fetch_add(1, Ordering::SeqCst);
        self.0[i.min(self.0.len() - 1)].clone()
    }
}

async fn scripted(route: &str, answers: Vec<ResponseTemplate>) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let n = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(Script(answers, n.clone()))
        .mount(&server)
        .await;
    (server, n)
}

#[tokio::test]
async fn openai_structured_answer_and_usage() {
    let (server, _) = scripted(
        "/chat/completions",
        vec![openai_answer(r#"{"code": "x = 1"}"#)],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "x = 1");
    let req = &server.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["response_format"]["type"], "json_schema");
    // The current contract: max_completion_tokens, no temperature, strict where possible.
    assert_eq!(body["max_completion_tokens"], 500);
    assert!(
        body.get("max_tokens").is_none() && body.get("temperature").is_none(),
        "{body}"
    );
    assert_eq!(body["response_format"]["json_schema"]["name"], "fill");
    assert_eq!(
        body["response_format"]["json_schema"]["strict"], false,
        "ask()'s schema is open"
    );
    assert_eq!(
        req.headers["authorization"],
        "Bearer sk-test-key-0000000000"
    );
    let usage = llm.usage();
    let line = &usage[&("develop".to_string(), Role::Developer)];
    assert_eq!(
        (line.calls, line.tokens.input, line.tokens.output),
        (1, 100, 20)
    );
    assert!((line.cost_usd - 0.00014).abs() < 1e-9);
}

#[tokio::test]
async fn anthropic_tool_answer() {
    let (server, _) = scripted(
        "/v1/messages",
        vec![anthropic_answer(json!({"code": "y = 2"}))],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Anthropic, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "y = 2");
    let req = &server.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["tool_choice"]["name"], "fill");
    assert_eq!(body["tools"][0]["input_schema"], ask().schema);
    assert!(
        body.get("temperature").is_none() && body.get("top_p").is_none(),
        "{body}"
    );
    assert_eq!(req.headers["x-api-key"], "sk-test-key-0000000000");
    assert_eq!(req.headers["anthropic-version"], "2023-06-01");
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_honoured() {
    let (server, n) = scripted(
        "/chat/completions",
        vec![
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
            openai_answer(r#"{"code": "ok"}"#),
        ],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    let start = Instant::now();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "ok");
    assert_eq!(n.load(Ordering::SeqCst), 2);
    // The server asked for 1 s; the default backoff here is 10 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "retry-after ignored"
    );
    assert_eq!(
        llm.usage()[&("develop".to_string(), Role::Developer)].retries,
        1
    );
}

#[tokio::test]
async fn server_error_then_success() {
    let (server, n) = scripted(
        "/v1/messages",
        vec![
            ResponseTemplate::new(500),
            anthropic_answer(json!({"code": "ok"})),
        ],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Anthropic, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "ok");
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_hang_past_the_timeout_fails_cleanly() {
    let (server, n) = scripted(
        "/chat/completions",
        vec![openai_answer(r#"{"code": "late"}"#).set_delay(Duration::from_secs(5))],
    )
    .await;
    let mut s = settings(ProviderKind::Openai, &server);
    s.timeout = Duration::from_millis(300);
    s.max_retries = 1;
    let llm = Llm::new(s).unwrap();
    let err = llm.ask(&ask(), code_of).await.unwrap_err().to_string();
    assert!(err.contains("no answer within"), "{err}");
    assert!(err.contains("after 1 retries"), "{err}");
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn malformed_json_is_retried_then_fails_with_one_message() {
    let (server, n) = scripted(
        "/chat/completions",
        vec![ResponseTemplate::new(200).set_body_string("{\"choices\": [")],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    let err = llm.ask(&ask(), code_of).await.unwrap_err().to_string();
    assert!(
        err.starts_with("LLM: develop (Developer): the provider's answer is not JSON"),
        "{err}"
    );
    assert_eq!(n.load(Ordering::SeqCst), 4, "1 try + 3 retries");
}

#[tokio::test]
async fn schema_violating_answer_is_asked_again_with_the_error_quoted() {
    let (server, _) = scripted(
        "/chat/completions",
        vec![
            openai_answer(r#"{"code": 42}"#),
            openai_answer(r#"{"code": "fixed"}"#),
        ],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "fixed");
    let reqs = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&reqs[1].body).unwrap();
    let last = body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains("`code` must be a string"), "{last}");
}

#[tokio::test]
async fn an_answer_that_stays_invalid_fails_cleanly() {
    let (server, _) = scripted("/chat/completions", vec![openai_answer(r#"{"nope": 1}"#)]).await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    let err = llm.ask(&ask(), code_of).await.unwrap_err().to_string();
    assert!(
        err.contains("stayed invalid after 2 attempts: `code` must be a string"),
        "{err}"
    );
}

#[tokio::test]
async fn the_budget_is_a_hard_limit() {
    let (server, n) = scripted("/chat/completions", vec![openai_answer(r#"{"code": "x"}"#)]).await;
    let mut s = settings(ProviderKind::Openai, &server);
    s.max_calls = 2;
    let llm = Llm::new(s).unwrap();
    let mut a = ask();
    for i in 0..2 {
        a.user = format!("hole {i}");
        llm.ask(&a, code_of).await.unwrap();
    }
    a.user = "hole 3".into();
    let err = llm.ask(&a, code_of).await.unwrap_err().to_string();
    assert!(
        err.contains("budget is spent (2 calls of llm-max-calls 2)"),
        "{err}"
    );
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn record_then_replay_offline_and_a_miss_is_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = scripted(
        "/v1/messages",
        vec![anthropic_answer(json!({"code": "recorded"}))],
    )
    .await;
    let mut s = settings(ProviderKind::Anthropic, &server);
    s.cache_dir = Some(dir.path().to_path_buf());
    let llm = Llm::new(s).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "recorded");
    drop(server);

    let replay = LlmSettings {
        provider: ProviderKind::Replay,
        model: String::new(),
        base_url: None,
        api_key: None,
        cache_dir: Some(dir.path().to_path_buf()),
        max_calls: 0,
        max_tokens: 0,
        timeout: Duration::from_secs(1),
        max_retries: 0,
        max_invalid: 0,
        min_backoff: Duration::from_millis(1),
        price: None,
        prices: BTreeMap::new(),
        max_output_tokens: None,
    };
    let llm = Llm::new(replay).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "recorded");
    let mut other = ask();
    other.user = "something else".into();
    let err = llm.ask(&other, code_of).await.unwrap_err().to_string();
    assert!(err.contains("no recorded answer"), "{err}");
}

/// The last user message of request `i` the server received.
async fn last_user_message(server: &MockServer, i: usize) -> String {
    let reqs = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&reqs[i].body).unwrap();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_cut_off_answer_is_asked_again_briefly_not_retried_blindly() {
    let cut_off = ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "{\"code\": \"def f():\\n"}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 500}
    }));
    let (server, n) = scripted(
        "/chat/completions",
        vec![cut_off, openai_answer(r#"{"code": "short"}"#)],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "short");
    assert_eq!(n.load(Ordering::SeqCst), 2);
    let again = last_user_message(&server, 1).await;
    assert!(
        again.contains("cut off at the token limit; answer more briefly"),
        "{again}"
    );
    // Both calls and their tokens are counted; none was a transport retry.
    let line = &llm.usage()[&("develop".to_string(), Role::Developer)];
    assert_eq!((line.calls, line.retries, line.invalid), (2, 0, 1));
    assert_eq!(line.tokens.output, 520);
}

#[tokio::test]
async fn prose_instead_of_the_tool_stays_invalid_and_is_reported_as_such() {
    let prose = ResponseTemplate::new(200).set_body_json(json!({
        "content": [{"type": "text", "text": "Sure! Here is the code you asked for."}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 50, "output_tokens": 10}
    }));
    let (server, n) = scripted("/v1/messages", vec![prose]).await;
    let llm = Llm::new(settings(ProviderKind::Anthropic, &server)).unwrap();
    let err = llm.ask(&ask(), code_of).await.unwrap_err();
    assert!(matches!(err, E2eError::LlmInvalid(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("stayed invalid after 2 attempts: the answer did not use the fill tool"),
        "{err}"
    );
    assert_eq!(
        n.load(Ordering::SeqCst),
        2,
        "asked again once (max_invalid 1)"
    );
}

#[tokio::test]
async fn a_malformed_envelope_is_retried_like_a_server_error() {
    let (server, n) = scripted(
        "/chat/completions",
        vec![
            ResponseTemplate::new(200).set_body_json(json!({"error": "upstream hiccup"})),
            openai_answer(r#"{"code": "ok"}"#),
        ],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "ok");
    assert_eq!(n.load(Ordering::SeqCst), 2);
    let line = &llm.usage()[&("develop".to_string(), Role::Developer)];
    assert_eq!((line.retries, line.invalid), (1, 0));
}

#[tokio::test]
async fn an_unusable_answer_is_recorded_so_replay_asks_again_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = openai_answer("Here you go: def f(): pass");
    let (server, _) = scripted(
        "/chat/completions",
        vec![not_json, openai_answer(r#"{"code": "second"}"#)],
    )
    .await;
    let mut s = settings(ProviderKind::Openai, &server);
    s.cache_dir = Some(dir.path().to_path_buf());
    let llm = Llm::new(s).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "second");
    drop(server);
    // Offline: the first request's recorded answer is the unusable one, so the replay asks
    // again with the same follow-up and finds the second answer under that key.
    let replay = Llm::new(LlmSettings {
        provider: ProviderKind::Replay,
        model: String::new(),
        base_url: None,
        api_key: None,
        cache_dir: Some(dir.path().to_path_buf()),
        max_calls: 0,
        max_tokens: 0,
        timeout: Duration::from_secs(1),
        max_retries: 0,
        max_invalid: 1,
        min_backoff: Duration::from_millis(1),
        price: None,
        prices: BTreeMap::new(),
        max_output_tokens: None,
    })
    .unwrap();
    assert_eq!(replay.ask(&ask(), code_of).await.unwrap(), "second");
}

/// A strict-compatible schema is sent with `strict: true`.
#[tokio::test]
async fn a_closed_schema_is_sent_strict() {
    let (server, _) = scripted("/chat/completions", vec![openai_answer(r#"{"code": "x"}"#)]).await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    let mut a = ask();
    a.schema = json!({"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"], "additionalProperties": false});
    llm.ask(&a, code_of).await.unwrap();
    let body: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
}

/// llama.cpp's refusal of `json_schema`, then of `json_object` (as a server that knows neither
/// would answer): the client steps down once per refusal and keeps the form that worked.
#[tokio::test]
async fn a_refused_structured_output_form_steps_down_and_is_remembered() {
    let refuse_schema = ResponseTemplate::new(422).set_body_json(json!({"detail": [{"type": "literal_error", "loc": ["body", "response_format", "type"], "msg": "Input should be 'text' or 'json_object'"}]}));
    let refuse_object = ResponseTemplate::new(400).set_body_json(
        json!({"error": {"message": "response_format json_object is not supported"}}),
    );
    let (server, n) = scripted(
        "/chat/completions",
        vec![
            refuse_schema,
            refuse_object,
            openai_answer("```json\n{\"code\": \"a\"}\n```"),
            openai_answer(r#"Sure: {"code": "b"}"#),
        ],
    )
    .await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "a");
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "b");
    assert_eq!(n.load(Ordering::SeqCst), 4);
    let bodies: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies[0]["response_format"]["type"], "json_schema");
    assert_eq!(bodies[1]["response_format"]["type"], "json_object");
    assert_eq!(bodies[1]["response_format"]["schema"], ask().schema);
    // Servers that refuse json_schema get the older token limit too; OpenAI never does.
    assert!(bodies[0].get("max_tokens").is_none());
    assert_eq!(bodies[1]["max_tokens"], 500);
    assert!(bodies[2].get("response_format").is_none());
    // The second question goes straight to the form that worked.
    assert!(bodies[3].get("response_format").is_none());
    for b in &bodies[1..] {
        assert!(
            b["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("must match this JSON schema")
        );
    }
    assert_eq!(llm.json_mode(), Some("JSON asked for in the prompt only"));
    // Refusals of the form are not calls that cost retries.
    let line = &llm.usage()[&("develop".to_string(), Role::Developer)];
    assert_eq!((line.calls, line.retries), (2, 0));
}

/// Any other refusal (a 400 that names no structured-output form) is not resent: the role's
/// answer counts as unusable, which optional roles survive.
#[tokio::test]
async fn another_refusal_is_an_unusable_answer_not_a_retry() {
    let refuse = ResponseTemplate::new(400)
        .set_body_json(json!({"error": {"message": "Unsupported parameter: 'foo'"}}));
    let (server, n) = scripted("/chat/completions", vec![refuse]).await;
    let llm = Llm::new(settings(ProviderKind::Openai, &server)).unwrap();
    let err = llm.ask(&ask(), code_of).await.unwrap_err();
    assert!(matches!(err, E2eError::LlmInvalid(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("the server refused the request: HTTP 400"),
        "{err}"
    );
    assert_eq!(n.load(Ordering::SeqCst), 1);
}

async fn models_server(route: &'static str, ids: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "x"}))
        .collect();
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data, "has_more": false, "first_id": null, "last_id": null})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn an_empty_model_becomes_the_listed_default() {
    for (kind, route) in [
        (ProviderKind::Openai, "/models"),
        (ProviderKind::Anthropic, "/v1/models"),
    ] {
        let default = default_model(kind);
        let server = models_server(route, &["other-model", default]).await;
        let mut s = settings(kind, &server);
        s.model = String::new();
        s.price = None;
        let mut llm = Llm::new(s).unwrap();
        let notes = llm.resolve_model().await.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(llm.model(), default);
        assert_eq!(llm.settings.price, known_price(default));
        let req = &server.received_requests().await.unwrap()[0];
        if kind == ProviderKind::Anthropic {
            assert_eq!(req.headers["anthropic-version"], "2023-06-01");
            assert_eq!(req.headers["x-api-key"], "sk-test-key-0000000000");
        } else {
            assert_eq!(
                req.headers["authorization"],
                "Bearer sk-test-key-0000000000"
            );
        }
    }
}

#[tokio::test]
async fn a_model_the_server_lists_is_kept_and_one_it_does_not_fails_naming_both() {
    let server = models_server("/models", &["smollm2", "zeta", "alpha"]).await;
    let mut s = settings(ProviderKind::Openai, &server);
    s.model = "smollm2".into();
    let mut llm = Llm::new(s.clone()).unwrap();
    assert!(llm.resolve_model().await.unwrap().is_empty());
    assert_eq!(llm.model(), "smollm2");

    s.model = "retired-model".into();
    let mut llm = Llm::new(s.clone()).unwrap();
    let err = llm.resolve_model().await.unwrap_err().to_string();
    assert!(
        err.contains("the model retired-model is not available from openai"),
        "{err}"
    );
    assert!(
        err.contains("models this key can use: alpha, smollm2, zeta."),
        "{err}"
    );

    s.model = String::new();
    let mut llm = Llm::new(s).unwrap();
    let err = llm.resolve_model().await.unwrap_err().to_string();
    assert!(
        err.contains("no llm-model is set and the default model gpt-5.4-mini is not offered"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_model_is_replaced_by_the_listed_default_with_a_warning() {
    let server = models_server("/v1/models", &["claude-haiku-4-5", "claude-sonnet-4-6"]).await;
    let mut s = settings(ProviderKind::Anthropic, &server);
    s.model = "claude-3-5-haiku-latest".into();
    let mut llm = Llm::new(s).unwrap();
    let notes = llm.resolve_model().await.unwrap();
    assert_eq!(llm.model(), "claude-haiku-4-5");
    assert!(
        notes[0].contains("claude-3-5-haiku-latest is not offered"),
        "{notes:?}"
    );
}

/// A known model is used without asking; when a call answers 404 naming it (a retired model)
/// and the default is not offered either, the run fails with the model list in the message.
#[tokio::test]
async fn a_404_naming_the_model_fails_once_with_the_models_the_key_can_use() {
    let server = models_server("/v1/models", &["claude-sonnet-4-6", "claude-opus-4-7"]).await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"type": "error", "error": {"type": "not_found_error", "message": "model: claude-sonnet-4-5"}})))
        .mount(&server)
        .await;
    let mut s = settings(ProviderKind::Anthropic, &server);
    s.model = "claude-sonnet-4-5".into();
    let mut llm = Llm::new(s).unwrap();
    assert!(llm.resolve_model().await.unwrap().is_empty());
    let err = llm.ask(&ask(), code_of).await.unwrap_err();
    assert!(matches!(err, E2eError::Config(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("the model claude-sonnet-4-5 is not available from anthropic (HTTP 404"),
        "{err}"
    );
    assert!(
        err.contains("models this key can use: claude-opus-4-7, claude-sonnet-4-6."),
        "{err}"
    );
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1, "a missing model is not retried");
}

#[test]
fn no_key_is_needed_only_for_a_server_on_this_machine() {
    let mut s = LlmSettings {
        provider: ProviderKind::Openai,
        model: "m".into(),
        base_url: None,
        api_key: None,
        cache_dir: None,
        max_calls: 1,
        max_tokens: 1,
        timeout: Duration::from_secs(1),
        max_retries: 0,
        max_invalid: 0,
        min_backoff: Duration::from_millis(1),
        price: None,
        prices: BTreeMap::new(),
        max_output_tokens: None,
    };
    for url in [
        "http://127.0.0.1:8080/v1",
        "http://localhost:11434/v1",
        "http://[::1]:9/v1",
        "http://127.1.2.3/v1",
    ] {
        s.base_url = Some(url.into());
        assert!(Llm::new(s.clone()).is_ok(), "{url}");
    }
    for url in [
        "https://api.openai.com/v1",
        "http://evil.example/?h=127.0.0.1",
        "http://127.0.0.1.evil.example/v1",
    ] {
        s.base_url = Some(url.into());
        let err = Llm::new(s.clone()).err().expect(url).to_string();
        assert!(err.contains("needs llm-api-key"), "{err}");
    }
}

/// A model retired mid-run (404 naming it) while the default is offered: the question is asked
/// again with the default, which the rest of the run uses, with one warning.
#[tokio::test]
async fn a_404_naming_the_model_switches_to_the_listed_default() {
    use wiremock::matchers::body_partial_json;
    let server = models_server("/models", &["gpt-5.4-mini", "gpt-5.4-nano"]).await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(body_partial_json(json!({"model": "gpt-5-mini"})))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"message": "The model `gpt-5-mini` does not exist or you do not have access to it.", "code": "model_not_found"}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(body_partial_json(json!({"model": "gpt-5.4-mini"})))
        .respond_with(openai_answer(r#"{"code": "ok"}"#))
        .mount(&server)
        .await;
    let mut s = settings(ProviderKind::Openai, &server);
    s.model = "gpt-5-mini".into();
    let llm = Llm::new(s).unwrap();
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "ok");
    assert_eq!(llm.model(), "gpt-5.4-mini");
    assert_eq!(llm.ask(&ask(), code_of).await.unwrap(), "ok");
    let warnings = llm.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("gpt-5-mini is not available")
            && warnings[0].contains("default gpt-5.4-mini"),
        "{warnings:?}"
    );
    assert_eq!(llm.describe(), "openai gpt-5.4-mini");
    let posts: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let models: Vec<&str> = posts.iter().map(|b| b["model"].as_str().unwrap()).collect();
    assert_eq!(models, vec!["gpt-5-mini", "gpt-5.4-mini", "gpt-5.4-mini"]);
}
