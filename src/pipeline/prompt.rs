//! What the roles share: their prompts (`templates/prompts/<role>.md`, rendered into a system
//! and a user message), issue text made into prompt data, and reading an answer object.
//!
//! Each role lives with its stage: the strategist in [`super::spec`], the architect in
//! [`super::architecture`], DevOps in [`super::ops`], the developers in [`super::fill`], QA in
//! [`super::repair`]. Issue text reaches a prompt only inside `<issue-data>` … `</issue-data>`,
//! already sanitised at intake.

use minijinja::Value;

use crate::error::E2eError;
use crate::report::Reporter;
use crate::scaffold;

/// Issue text made safe for a prompt's data block: it cannot close (or open) the block.
/// The text itself was sanitised at intake.
pub fn data(text: &str) -> String {
    text.replace("<issue-data>", "")
        .replace("</issue-data>", "")
}

/// Every role's prompt template, compiled once per process (a 40-entity spec asks for dozens
/// of fills, each rendering the developer prompt).
fn prompts() -> Result<&'static minijinja::Environment<'static>, E2eError> {
    static PROMPTS: std::sync::OnceLock<Result<minijinja::Environment<'static>, String>> =
        std::sync::OnceLock::new();
    PROMPTS
        .get_or_init(|| {
            let mut env = scaffold::base_environment().map_err(|e| e.to_string())?;
            let files = scaffold::EMBEDDED
                .get_dir("prompts")
                .map(|d| d.files().collect::<Vec<_>>())
                .unwrap_or_default();
            for f in files {
                let (Some(name), Some(text)) = (
                    f.path().file_stem().and_then(|s| s.to_str()),
                    f.contents_utf8(),
                ) else {
                    continue;
                };
                env.add_template_owned(name.to_string(), text.to_string())
                    .map_err(|e| format!("{name}: {e}"))?;
            }
            Ok(env)
        })
        .as_ref()
        .map_err(|e| E2eError::Internal(format!("prompt templates: {e}")))
}

/// Renders `templates/prompts/<name>.md` with `ctx` into (system, user).
pub fn prompt(name: &str, ctx: serde_json::Value) -> Result<(String, String), E2eError> {
    let env = prompts()?;
    let text = scaffold::render(env, name, &Value::from(minijinja::value::Serde(&ctx)))?;
    let (system, user) = text
        .split_once("=== user ===\n")
        .ok_or_else(|| E2eError::Internal(format!("prompt {name} has no `=== user ===` line")))?;
    Ok((system.trim().to_string(), user.trim().to_string()))
}

/// `T` from an answer object, or what is wrong with it (quoted back to the model).
pub fn parse_answer<T: serde::de::DeserializeOwned>(
    v: &serde_json::Value,
    what: &str,
) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("not a {what} object: {e}"))
}

/// A role's answer that only improves the app: one that stays invalid leaves the default in
/// place (with a warning) instead of failing the run; budget and transport errors still do.
pub fn optional<T>(
    answer: Result<T, E2eError>,
    what: &str,
    instead: &str,
    reporter: &Reporter,
) -> Result<Option<T>, E2eError> {
    match answer {
        Ok(v) => Ok(Some(v)),
        Err(E2eError::LlmInvalid(why)) => {
            reporter.warning(&format!("the {what} stayed invalid, so {instead}: {why}"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_role_prompt_renders_into_a_system_and_a_user_message() {
        let (system, user) = prompt(
            "strategist",
            json!({"title": "Books", "body": "A library", "problem": ""}),
        )
        .unwrap();
        assert!(!system.is_empty() && user.contains("A library"), "{user}");
        assert!(matches!(
            prompt("no-such-role", json!({})),
            Err(E2eError::Stack(_))
        ));
    }

    #[test]
    fn only_an_invalid_answer_is_optional() {
        let quiet = Reporter::quiet();
        assert_eq!(optional(Ok(1), "x", "y", &quiet).unwrap(), Some(1));
        assert_eq!(
            optional::<u8>(Err(E2eError::LlmInvalid("bad".into())), "x", "y", &quiet).unwrap(),
            None
        );
        assert!(optional::<u8>(Err(E2eError::Llm("budget".into())), "x", "y", &quiet).is_err());
    }

    #[test]
    fn data_cannot_close_the_data_block() {
        assert_eq!(data("a</issue-data>b<issue-data>c"), "abc");
        assert!(
            parse_answer::<Vec<u8>>(&json!({"x": 1}), "list")
                .unwrap_err()
                .starts_with("not a list object")
        );
    }
}
