//! Template filters that keep untrusted text inert in the language it lands in.

use minijinja::{Environment, Error, ErrorKind, Value};

/// Registers `py`, `md` and `mdcell` on `env`.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("py", py);
    env.add_filter("md", md);
    env.add_filter("mdcell", mdcell);
}

/// A value as a Python literal: strings double-quoted with JSON escapes (valid Python),
/// `True`/`False`/`None`, lists and dicts recursively. Nothing in a string can end the literal.
pub fn py(value: Value) -> Result<String, Error> {
    let json = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("py: {e}")))?;
    let mut out = String::new();
    write_py(&json, &mut out);
    Ok(out)
}

fn write_py(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("None"),
        J::Bool(true) => out.push_str("True"),
        J::Bool(false) => out.push_str("False"),
        J::Number(n) => out.push_str(&n.to_string()),
        // serde_json escapes `"`, `\` and control characters; Python reads the same escapes.
        J::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())),
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py(item, out);
            }
            out.push(']');
        }
        J::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_else(|_| "\"\"".into()));
                out.push_str(": ");
                write_py(item, out);
            }
            out.push('}');
        }
    }
}

/// Text escaped for Markdown prose: markup characters and HTML are shown, not interpreted.
pub fn md(value: Value) -> String {
    escape_md(&value.to_string(), false)
}

/// Like `md`, on one line, safe inside a table cell.
pub fn mdcell(value: Value) -> String {
    escape_md(&value.to_string(), true)
}

fn escape_md(s: &str, one_line: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' | '~' | '{' | '}' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' if one_line => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_literals_cannot_escape() {
        let v = Value::from("\"\"\"; import os\n\\ {{ x }}");
        assert_eq!(py(v).unwrap(), r#""\"\"\"; import os\n\\ {{ x }}""#);
        let v = Value::from(minijinja::value::Serde(
            serde_json::json!({"a": [true, null, 1.5, "é"]}),
        ));
        assert_eq!(py(v).unwrap(), r#"{"a": [True, None, 1.5, "é"]}"#);
    }

    #[test]
    fn markdown_is_shown_not_interpreted() {
        assert_eq!(md(Value::from("<script>*x*")), "&lt;script&gt;\\*x\\*");
        assert_eq!(mdcell(Value::from("a|b\nc")), "a\\|b c");
    }
}
