//! OpenAI chat completions wire format (also OpenAI-compatible servers: llama.cpp, Ollama,
//! vLLM, LiteLLM).
//!
//! The request follows OpenAI's current description: `max_completion_tokens` (the deprecated
//! `max_tokens` is refused by the gpt-5 and o-series models), no `temperature` (reasoning models
//! take only the default), and structured output as `response_format: json_schema` with
//! `strict` when the schema allows it. A server that refuses that form gets the next one
//! ([`JsonMode`]).

use serde_json::{Value, json};

use super::{Ask, LlmSettings, Message, Tokens, Unusable, schema};

/// The structured-output forms, from the most to the least constrained. A server that refuses
/// one (llama.cpp takes only `json_object`) is sent the next; the client remembers the form
/// that worked for the rest of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum JsonMode {
    /// `response_format: {type: json_schema, json_schema: {name, schema, strict}}`.
    Schema = 0,
    /// `response_format: {type: json_object, schema}` (llama.cpp enforces the schema by
    /// grammar; others ignore `schema`), with the schema in the system prompt too.
    Object = 1,
    /// No `response_format`: the schema in the system prompt only.
    Prompt = 2,
}

impl JsonMode {
    pub(super) fn from_u8(n: u8) -> JsonMode {
        match n {
            0 => JsonMode::Schema,
            1 => JsonMode::Object,
            _ => JsonMode::Prompt,
        }
    }

    pub(super) fn next(self) -> Option<JsonMode> {
        match self {
            JsonMode::Schema => Some(JsonMode::Object),
            JsonMode::Object => Some(JsonMode::Prompt),
            JsonMode::Prompt => None,
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            JsonMode::Schema => "response_format json_schema",
            JsonMode::Object => "response_format json_object with the schema",
            JsonMode::Prompt => "JSON asked for in the prompt only",
        }
    }
}

/// The base URL (with `/v1`).
pub(super) fn base(s: &LlmSettings) -> String {
    s.base_url
        .as_deref()
        .unwrap_or("https://api.openai.com/v1")
        .trim_end_matches('/')
        .to_string()
}

/// The system prompt's addition when the schema is not sent as `json_schema`.
pub(super) fn schema_instruction(ask: &Ask) -> String {
    format!(
        "\n\nAnswer with one JSON object only: no prose, no Markdown fence. It must match this JSON schema:\n{}",
        ask.schema
    )
}

/// URL, body and extra headers of a request.
pub(super) fn request(
    s: &LlmSettings,
    model: &str,
    ask: &Ask,
    messages: &[Message],
    mode: JsonMode,
) -> (String, Value, Vec<(&'static str, String)>) {
    let system = match mode {
        JsonMode::Schema => ask.system.clone(),
        JsonMode::Object | JsonMode::Prompt => format!("{}{}", ask.system, schema_instruction(ask)),
    };
    let mut msgs = vec![json!({"role": "system", "content": system})];
    msgs.extend(
        messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.content})),
    );
    let limit = super::output_limit(s, ask);
    let mut body = json!({
        "model": model,
        "messages": msgs,
        "max_completion_tokens": limit,
    });
    match mode {
        JsonMode::Schema => {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {
                    "name": ask.schema_name,
                    "schema": ask.schema,
                    "strict": schema::strict_compatible(&ask.schema),
                }
            });
        }
        JsonMode::Object => {
            body["response_format"] = json!({"type": "json_object", "schema": ask.schema});
        }
        JsonMode::Prompt => {}
    }
    // Only a server that refused `json_schema` gets here, and such servers (llama.cpp) often
    // know only the older `max_tokens`: without it they generate until the context is full.
    // OpenAI itself never gets it (its description deprecates it).
    if mode != JsonMode::Schema {
        body["max_tokens"] = json!(limit);
    }
    (format!("{}/chat/completions", base(s)), body, Vec::new())
}

/// Whether an error answer refuses the structured-output form we sent (llama.cpp answers 422
/// "Input should be 'text' or 'json_object'", others 400 naming `response_format`).
pub(super) fn refuses_format(status: u16, body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    let names_format =
        b.contains("response_format") || b.contains("json_schema") || b.contains("json_object");
    match status {
        400 | 415 | 422 | 501 => names_format,
        // llama-cpp-python wraps its validation error in a 500 naming the field.
        500 => names_format && (b.contains("input should be") || b.contains("not supported")),
        _ => false,
    }
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
            "the answer was cut off at the token limit; answer more briefly".into(),
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
    json_object_in(content)
}

/// The JSON object in a model's text: the whole text, a fenced block, or the outermost
/// `{ … }` in prose (servers that ignore `response_format` answer all three ways).
pub(super) fn json_object_in(content: &str) -> Result<Value, Unusable> {
    let t = content.trim();
    let fenced = t
        .find("```")
        .and_then(|start| {
            let rest = &t[start + 3..];
            let rest = rest.strip_prefix("json").unwrap_or(rest);
            rest.find("```").map(|end| rest[..end].trim())
        })
        .filter(|s| !s.is_empty());
    let braces = match (t.find('{'), t.rfind('}')) {
        (Some(a), Some(b)) if a < b => Some(&t[a..=b]),
        _ => None,
    };
    let mut first_error = None;
    for candidate in [Some(t), fenced, braces].into_iter().flatten() {
        match serde_json::from_str::<Value>(candidate) {
            Ok(v) if v.is_object() => return Ok(v),
            Ok(_) => {
                first_error.get_or_insert_with(|| "it is not a JSON object".to_string());
            }
            Err(e) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let preview: String = t.chars().take(80).collect();
    Err(Unusable::Answer(format!(
        "the answer's content is not a JSON object ({}); it began {preview:?}",
        first_error.unwrap_or_else(|| "it is empty".into())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_whole_fenced_or_in_prose() {
        let whole = json_object_in(r#" {"code": "x"} "#).unwrap();
        assert_eq!(whole["code"], "x");
        let fenced =
            json_object_in("Here you go:\n```json\n{\"code\": \"y\"}\n```\nThanks").unwrap();
        assert_eq!(fenced["code"], "y");
        let prose = json_object_in("Sure! The answer is {\"code\": \"z\"} as asked.").unwrap();
        assert_eq!(prose["code"], "z");
        let Err(Unusable::Answer(why)) = json_object_in("I cannot do that.") else {
            panic!("prose without JSON must be unusable")
        };
        assert!(
            why.contains("not a JSON object") && why.contains("I cannot"),
            "{why}"
        );
        assert!(json_object_in("[1, 2]").is_err());
    }

    #[test]
    fn a_refused_format_is_told_apart_from_other_errors() {
        let llama = r#"{"detail":[{"type":"literal_error","loc":["body","response_format","type"],"msg":"Input should be 'text' or 'json_object'"}]}"#;
        assert!(refuses_format(422, llama));
        assert!(refuses_format(
            400,
            "response_format json_schema is not supported"
        ));
        assert!(!refuses_format(400, "Unsupported parameter: 'temperature'"));
        assert!(!refuses_format(500, "response_format"));
        let llama_500 = r#"{"error":{"message":"1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\"}","type":"internal_server_error"}}"#;
        assert!(refuses_format(500, llama_500));
    }
}
