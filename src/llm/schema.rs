//! JSON schemas of the crew's answers, derived from the Rust types the answers are parsed into
//! (`schemars`), so the schema a provider is sent cannot drift from what the validator accepts.
//!
//! The derived schema is put in the form the strictest provider takes (OpenAI's structured
//! outputs with `strict: true`): subschemas inlined, every object closed
//! (`additionalProperties: false`) with every property required, and no keyword outside the
//! subset strict mode supports. A field with a serde default is still required in the schema:
//! the model must answer it, while our parser stays lenient.

use schemars::JsonSchema;
use serde_json::{Map, Value};

/// Keywords OpenAI's strict structured outputs accept (besides `properties`, `items`,
/// `required`, `additionalProperties`, `type`, `description`, `enum`, `anyOf`, `const`).
const STRICT_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "pattern",
    "format",
];

/// String formats strict mode accepts; schemars' numeric formats (`uint32`, `double`) are not.
const STRICT_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The answer schema of `T`, in strict form.
pub fn answer_schema<T: JsonSchema>() -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    });
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut v = schema.to_value();
    normalise(&mut v);
    v
}

fn normalise(v: &mut Value) {
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    obj.remove("title");
    obj.remove("$schema");
    obj.remove("default");
    if obj
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| !STRICT_FORMATS.contains(&f))
    {
        obj.remove("format");
    }
    // schemars writes `minimum: 0` for unsigned integers; keep it (strict mode takes it).
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for p in props.values_mut() {
            normalise(p);
        }
        let names: Vec<Value> = props.keys().cloned().map(Value::String).collect();
        obj.insert("required".into(), Value::Array(names));
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(items) = obj.get_mut("items") {
        normalise(items);
    }
    if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
        any.iter_mut().for_each(normalise);
    }
}

/// Whether `schema` is one OpenAI's strict mode takes: every object closed with every property
/// required, only supported keywords, no references. A schema that is not is sent with
/// `strict: false` (the server then treats it as guidance; our validator still checks it).
pub fn strict_compatible(schema: &Value) -> bool {
    fn ok(v: &Value, top: bool) -> bool {
        let Some(obj) = v.as_object() else {
            return false;
        };
        if obj.keys().any(|k| !STRICT_KEYWORDS.contains(&k.as_str())) {
            return false;
        }
        if top && obj.get("type").and_then(Value::as_str) != Some("object") {
            return false;
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let required: Vec<&str> = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if obj.get("additionalProperties") != Some(&Value::Bool(false))
                || props.keys().any(|k| !required.contains(&k.as_str()))
                || !props.values().all(|p| ok(p, false))
            {
                return false;
            }
        }
        if let Some(items) = obj.get("items")
            && !ok(items, false)
        {
            return false;
        }
        if let Some(any) = obj.get("anyOf").and_then(Value::as_array)
            && !any.iter().all(|s| ok(s, false))
        {
            return false;
        }
        true
    }
    ok(schema, true)
}

/// The names of the properties of the top object of `schema`, sorted (for tests and prompts).
pub fn property_names(schema: &Value) -> Vec<String> {
    let mut names: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(Map::keys)
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// A region.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        /// Its number.
        n: u32,
        /// Its text.
        #[serde(default)]
        text: String,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Answer {
        items: Vec<Item>,
        #[schemars(range(min = 1, max = 9))]
        level: f64,
    }

    #[test]
    fn a_derived_schema_is_inlined_closed_and_strict() {
        let s = answer_schema::<Answer>();
        assert!(strict_compatible(&s), "{s:#}");
        assert!(!s.to_string().contains("$ref"), "{s}");
        assert!(!s.to_string().contains("uint32"), "{s}");
        let item = &s["properties"]["items"]["items"];
        assert_eq!(item["required"], json!(["n", "text"]), "{s:#}");
        assert_eq!(item["properties"]["n"]["description"], "Its number.");
        assert_eq!(s["properties"]["level"]["minimum"].as_f64(), Some(1.0));
        assert_eq!(property_names(&s), vec!["items", "level"]);
    }

    #[test]
    fn open_or_partly_required_objects_are_not_strict() {
        let open =
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
        assert!(!strict_compatible(&open));
        let partial = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"], "additionalProperties": false});
        assert!(!strict_compatible(&partial));
        let unknown = json!({"type": "object", "properties": {"a": {"type": "string", "minLength": 2}}, "required": ["a"], "additionalProperties": false});
        assert!(!strict_compatible(&unknown));
        assert!(!strict_compatible(&json!({"type": "array"})));
    }
}
