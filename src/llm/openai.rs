//! OpenAI chat completions wire format (also OpenAI-compatible servers).

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
        .unwrap_or("https://api.openai.com/v1")
        .trim_end_matches('/');
    let mut msgs = vec![json!({"role": "system", "content": ask.system})];
    msgs.extend(
        messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.content})),
    );
    let body = json!({
        "model": s.model,
        "messages": msgs,
        "max_tokens": ask.max_tokens,
        "temperature": 0,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": ask.schema_name, "schema": ask.schema, "strict": false}
        }
    });
    (format!("{base}/chat/completions"), body, Vec::new())
}

/// The token counts of a response (also of one whose answer is unusable).
pub(super) fn tokens(v: &Value) -> Tokens {
    Tokens {
        input: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        output: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    }
}

/// The answer object of a response.
pub(super) fn parse(v: &Value) -> Result<Value, Unusable> {
    let choice = v["choices"]
        .get(0)
        .ok_or_else(|| Unusable::Envelope("the answer has no choices".into()))?;
    if choice["finish_reason"] == "length" {
        return Err(Unusable::Answer(
            "the answer was cut off at max_tokens; answer more briefly".into(),
        ));
    }
    let content = choice["message"]["content"].as_str().ok_or_else(|| {
        Unusable::Answer(match choice["message"]["refusal"].as_str() {
            Some(r) => format!(
                "the model refused: {}",
                r.chars().take(200).collect::<String>()
            ),
            None => "the answer has no message content".into(),
        })
    })?;
    let answer: Value = serde_json::from_str(strip_fence(content))
        .map_err(|e| Unusable::Answer(format!("the answer's content is not JSON ({e})")))?;
    if !answer.is_object() {
        return Err(Unusable::Answer(
            "the answer's content is not a JSON object".into(),
        ));
    }
    Ok(answer)
}

/// Some OpenAI-compatible servers wrap JSON in a Markdown fence despite the schema.
fn strip_fence(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|r| r.strip_suffix("```"))
        .map_or(t, str::trim)
}
