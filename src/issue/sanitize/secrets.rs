//! Token-shaped secrets in issue text, replaced by [`REDACTED`].

use super::{REDACTED, Removed};

/// Token prefixes that are redacted when followed by 10+ token characters.
const TOKEN_PREFIXES: &[&str] = &[
    "github_pat_",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "ghr_",
    "sk-",
    "glpat-",
    "xoxa-",
    "xoxb-",
    "xoxp-",
    "xoxr-",
    "xoxs-",
];

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

pub(super) fn redact_secrets(text: &str, removed: &mut Removed) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if at_boundary && let Some(len) = secret_len(&bytes[i..]) {
            out.push_str(&text[copied..i]);
            out.push_str(REDACTED);
            removed.secrets += 1;
            i += len;
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Byte length of a token-shaped secret at the start of `s`, if there is one.
fn secret_len(s: &[u8]) -> Option<usize> {
    for prefix in TOKEN_PREFIXES {
        if s.starts_with(prefix.as_bytes()) {
            let run = s[prefix.len()..]
                .iter()
                .take_while(|b| is_token_char(**b))
                .count();
            if run >= 10 {
                return Some(prefix.len() + run);
            }
        }
    }
    if s.starts_with(b"AKIA") {
        let run = s[4..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            .count();
        if run == 16 && !s.get(20).is_some_and(|b| is_token_char(*b)) {
            return Some(20);
        }
    }
    None
}
