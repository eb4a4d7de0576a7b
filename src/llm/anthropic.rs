//! Anthropic messages wire format, with the answer forced through one tool.

use serde_json::{Value, json};

use super::{Ask, LlmSettings, Message, Tokens, Unusable};

/// URL, body and extra headers of a request.
pub(super) fn request(
    s: &LlmSettings,
    ask: &Ask,
    messages: &[Message],
) -> (String, Value, Vec<(&'static str, String)>) {
    let base = s
        .base_url
        .as_deref()
        .unwrap_or("https://api.anthropic.com")
        .trim_end_matches('/');
    let body = json!({
        "model": s.model,
        "max_tokens": ask.max_tokens,
        "temperature": 0,
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
        format!("{base}/v1/messages"),
        body,
        vec![("anthropic-version", "2023-06-01".into())],
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
            "the answer was cut off at max_tokens; answer more briefly".into(),
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
