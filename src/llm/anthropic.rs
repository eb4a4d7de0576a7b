//! Anthropic messages wire format, with the answer forced through one tool.
//!
//! The request follows Anthropic's current description: `anthropic-version` 2023-06-01 (the
//! current version of the messages API), no `temperature`, `top_p` or `top_k` (deprecated
//! there), and structured output through one tool the model must call (`tool_choice`).

use serde_json::{Value, json};

use super::{Ask, LlmSettings, Message, Tokens, Unusable};

/// The `anthropic-version` header: the current (and only stable) version of the API.
pub(super) const VERSION: &str = "2023-06-01";

/// The base URL (without `/v1`).
pub(super) fn base(s: &LlmSettings) -> String {
    s.base_url
        .as_deref()
        .unwrap_or("https://api.anthropic.com")
        .trim_end_matches('/')
        .to_string()
}

/// URL, body and extra headers of a request.
pub(super) fn request(
    s: &LlmSettings,
    model: &str,
    ask: &Ask,
    messages: &[Message],
) -> (String, Value, Vec<(&'static str, String)>) {
    let body = json!({
        "model": model,
        "max_tokens": super::output_limit(s, ask),
        "system": ask.system,
        "messages": messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<_>>(),
        "tools": [{
            "name": ask.schema_name,
            "description": format!("Answer with one {} object.", ask.schema_name),
            "input_schema": ask.schema,
        }],
        "tool_choice": {"type": "tool", "name": ask.schema_name},
    });
    (
        format!("{}/v1/messages", base(s)),
        body,
        vec![("anthropic-version", VERSION.into())],
    )
}

/// The token counts of a response (also of one whose answer is unusable).
pub(super) fn tokens(v: &Value) -> Tokens {
    Tokens {
        input: v["usage"]["input_tokens"].as_u64().unwrap_or(0),
        output: v["usage"]["output_tokens"].as_u64().unwrap_or(0),
    }
}

/// The tool input of a response.
pub(super) fn parse(v: &Value, tool: &str) -> Result<Value, Unusable> {
    if v["stop_reason"] == "max_tokens" {
        return Err(Unusable::Answer(
            "the answer was cut off at the token limit; answer more briefly".into(),
        ));
    }
    let blocks = v["content"]
        .as_array()
        .ok_or_else(|| Unusable::Envelope("the answer has no content".into()))?;
    let input = blocks
        .iter()
        .find(|b| b["type"] == "tool_use" && b["name"] == tool)
        .map(|b| b["input"].clone())
        .ok_or_else(|| Unusable::Answer(format!("the answer did not use the {tool} tool")))?;
    if !input.is_object() {
        return Err(Unusable::Answer(
            "the tool input is not a JSON object".into(),
        ));
    }
    Ok(input)
}
