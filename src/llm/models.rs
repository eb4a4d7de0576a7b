//! Models that come and go: the built-in table (`prices.yaml`: each provider's default and the
//! prices of the models we know), the provider's own model list (`GET /v1/models`), and the
//! message a retired or unknown model gets.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::{Price, ProviderKind};

/// How many model names a "not available" message lists.
pub const LISTED: usize = 8;

/// One model of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KnownModel {
    /// Whose model it is.
    pub provider: ProviderKind,
    /// USD per million input tokens.
    pub input_per_mtok: f64,
    /// USD per million output tokens.
    pub output_per_mtok: f64,
}

/// `prices.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// When the defaults and prices were last checked (YYYY-MM-DD).
    pub checked: String,
    /// The default model of each provider.
    pub defaults: BTreeMap<ProviderKind, String>,
    /// Known models.
    pub models: BTreeMap<String, KnownModel>,
}

/// The compiled-in table.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Checked by a unit test, so a broken table never ships.
        yaml_serde::from_str(include_str!("prices.yaml")).expect("src/llm/prices.yaml parses")
    })
}

/// Built-in price of `model`, USD per million tokens (override with `llm-prices`).
pub fn known_price(model: &str) -> Option<Price> {
    table().models.get(model).map(|m| Price {
        input_per_mtok: m.input_per_mtok,
        output_per_mtok: m.output_per_mtok,
    })
}

/// Default model of a provider (empty for replay, which uses the recorded one).
pub fn default_model(kind: ProviderKind) -> &'static str {
    table().defaults.get(&kind).map_or("", String::as_str)
}

/// Whether a 404/400 answer says the model does not exist or is not available.
pub fn names_missing_model(status: u16, body: &str, model: &str) -> bool {
    if status != 404 && status != 400 {
        return false;
    }
    let b = body.to_ascii_lowercase();
    b.contains("model_not_found")
        || (!model.is_empty() && body.contains(model) && b.contains("model"))
        || (b.contains("model")
            && (b.contains("not found") || b.contains("does not exist") || b.contains("not_found")))
}

/// The message for a model the provider does not offer: the model tried, why, and the first
/// few models the key can use, sorted.
pub fn unavailable(
    provider: ProviderKind,
    model: &str,
    why: &str,
    offered: Option<&[String]>,
) -> String {
    let default = default_model(provider);
    let mut s = if model.is_empty() {
        format!(
            "no llm-model is set and the default model {default} is not offered by this {} server",
            provider.name()
        )
    } else {
        format!(
            "the model {model} is not available from {} ({why})",
            provider.name()
        )
    };
    match offered {
        Some([]) => s.push_str("; the server lists no models for this key"),
        Some(ids) => {
            let mut ids = ids.to_vec();
            ids.sort();
            ids.dedup();
            let first: Vec<&str> = ids.iter().take(LISTED).map(String::as_str).collect();
            s.push_str(&format!(
                "; models this key can use: {}{}",
                first.join(", "),
                if ids.len() > LISTED {
                    format!(", … ({} in all)", ids.len())
                } else {
                    String::new()
                }
            ));
        }
        None => s.push_str("; the server's model list could not be read either"),
    }
    s.push_str(". Set llm-model to one of them (it may have been retired: see the provider's deprecation page).");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_default_has_a_price() {
        let t = table();
        assert_eq!(t.checked.len(), 10);
        for kind in [ProviderKind::Openai, ProviderKind::Anthropic] {
            let d = default_model(kind);
            let m = &t.models[d];
            assert_eq!(m.provider, kind, "{d}");
            assert!(known_price(d).is_some());
        }
        assert_eq!(default_model(ProviderKind::Replay), "");
        assert!(known_price("gpt-2").is_none());
    }

    #[test]
    fn the_readme_price_table_matches_the_data_file() {
        let readme = include_str!("../../README.md");
        for (name, m) in &table().models {
            let row = format!(
                "| `{name}` | {} | ${} | ${} |",
                m.provider.name(),
                m.input_per_mtok,
                m.output_per_mtok
            );
            assert!(readme.contains(&row), "README.md lacks the row {row}");
        }
        let checked = format!("checked {}", table().checked);
        assert!(readme.contains(&checked), "README.md lacks `{checked}`");
    }

    #[test]
    fn a_missing_model_is_told_apart_from_other_refusals() {
        let openai = r#"{"error":{"message":"The model `gpt-4o-mini` does not exist or you do not have access to it.","type":"invalid_request_error","code":"model_not_found"}}"#;
        assert!(names_missing_model(404, openai, "gpt-4o-mini"));
        let anthropic = r#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-3-5-haiku-latest"}}"#;
        assert!(names_missing_model(
            404,
            anthropic,
            "claude-3-5-haiku-latest"
        ));
        let other = r#"{"error":{"message":"Unsupported parameter: 'max_tokens'"}}"#;
        assert!(!names_missing_model(400, other, "gpt-5.4-mini"));
        assert!(!names_missing_model(500, openai, "gpt-4o-mini"));
    }

    #[test]
    fn the_unavailable_message_names_the_model_and_the_first_models_sorted() {
        let ids: Vec<String> = (0..12).rev().map(|i| format!("m-{i:02}")).collect();
        let s = unavailable(ProviderKind::Openai, "gpt-old", "HTTP 404", Some(&ids));
        assert!(s.contains("the model gpt-old is not available"), "{s}");
        assert!(
            s.contains("m-00, m-01, m-02, m-03, m-04, m-05, m-06, m-07, … (12 in all)"),
            "{s}"
        );
        let s = unavailable(ProviderKind::Anthropic, "", "", Some(&["local".into()]));
        assert!(s.contains("default model claude-haiku-4-5"), "{s}");
        assert!(s.contains("models this key can use: local."), "{s}");
    }
}
