//! Markdown splitting of a rendered issue form: `### Heading` sections, their text, and the
//! small text helpers every section's language shares (fences, bullets, quoting, labels).

/// What GitHub shows for an issue-form field left empty.
pub(super) const NO_RESPONSE: &str = "_No response_";

/// Longest quote of an offending line in an error message, in chars.
pub(super) const MAX_QUOTE_CHARS: usize = 160;

/// The sections of the issue form this parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    AppName,
    Summary,
    DataModel,
    Features,
    Rules,
    Views,
}

impl Section {
    /// The section a lowercase heading names.
    fn from_heading(heading: &str) -> Option<Self> {
        match heading {
            "app name" => Some(Section::AppName),
            "summary" => Some(Section::Summary),
            "data model" => Some(Section::DataModel),
            "features" => Some(Section::Features),
            "rules" => Some(Section::Rules),
            "views" => Some(Section::Views),
            _ => None,
        }
    }
}

/// The known sections of a body, each as its lines (`None` when the heading is absent).
pub(super) struct Sections<'a> {
    lines: [Option<Vec<&'a str>>; 6],
}

impl<'a> Sections<'a> {
    pub(super) fn parse(text: &'a str) -> Self {
        let mut lines: [Option<Vec<&'a str>>; 6] = Default::default();
        // The section being read; None under an unknown or repeated heading.
        let mut current: Option<usize> = None;
        for line in text.lines() {
            if let Some(heading) = heading(line) {
                current = Section::from_heading(&heading)
                    .map(|section| section as usize)
                    .filter(|&slot| lines[slot].is_none());
                if let Some(slot) = current {
                    lines[slot] = Some(Vec::new());
                }
            } else if let Some(slot) = current {
                lines[slot].get_or_insert_with(Vec::new).push(line);
            }
        }
        Sections { lines }
    }

    pub(super) fn get(&self, section: Section) -> Option<&[&'a str]> {
        self.lines[section as usize].as_deref()
    }
}

/// The lowercase, whitespace-collapsed text of a `### Heading` line.
pub(super) fn heading(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("###")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    Some(collapse_whitespace(text).to_lowercase())
}

/// A section's text, trimmed, empty for `_No response_`.
pub(super) fn section_text(lines: &[&str]) -> String {
    let text = lines.join("\n");
    let text = text.trim();
    if text == NO_RESPONSE {
        String::new()
    } else {
        text.to_string()
    }
}

pub(super) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn is_fence(trimmed: &str) -> bool {
    trimmed.starts_with("```") || trimmed.starts_with("~~~")
}

pub(super) fn strip_bullet(line: &str) -> &str {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return rest.trim_start();
        }
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        let rest = &line[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return rest.trim_start();
        }
    }
    line
}

/// The line for an error message: cut at [`MAX_QUOTE_CHARS`] chars.
pub(super) fn quote(line: &str) -> String {
    if line.chars().count() <= MAX_QUOTE_CHARS {
        line.to_string()
    } else {
        line.chars().take(MAX_QUOTE_CHARS).collect::<String>() + "…"
    }
}

/// A label as written: whitespace collapsed, markdown emphasis or code marks around it
/// dropped.
pub(super) fn clean_label(text: &str) -> String {
    collapse_whitespace(text.trim().trim_matches(['*', '`']))
}

/// The statement lines of a block, numbered as typed: fence lines are skipped, numbering
/// starts at the first non-blank line, blank lines count but are not returned, and neither
/// is `_No response_`. Each line comes trimmed, with its bullet (`- `, `1. `) removed, and
/// with the trimmed line for quoting.
pub(super) fn statement_lines<'a>(lines: &[&'a str]) -> Vec<(usize, &'a str, &'a str)> {
    let mut numbered = Vec::new();
    let mut number = 0;
    for raw_line in lines {
        let trimmed = raw_line.trim();
        if is_fence(trimmed) || (number == 0 && trimmed.is_empty()) {
            continue;
        }
        number += 1;
        if trimmed.is_empty() || trimmed == NO_RESPONSE {
            continue;
        }
        numbered.push((number, trimmed, strip_bullet(trimmed)));
    }
    numbered
}

/// The key names are matched by: label cleaned, whitespace collapsed, lowercase.
pub(super) fn name_key(text: &str) -> String {
    clean_label(text).to_lowercase()
}

/// Whether the char at `i` of `text` is inside a quoted text (`"…"`, `“…”`, `'…'`).
fn quote_state(text: &str) -> Vec<bool> {
    let mut inside = Vec::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        let was = open.is_some();
        match (open, c) {
            (None, '"') => open = Some('"'),
            (None, '“') => open = Some('”'),
            (Some(close), c) if c == close => open = None,
            _ => {}
        }
        for _ in 0..c.len_utf8() {
            inside.push(was || open.is_some());
        }
    }
    inside
}

/// Byte offset of the first `word` (ASCII, case-insensitive) in `text` outside quotes, with
/// whitespace (or the text's ends) on both sides.
pub(super) fn find_word(text: &str, word: &str) -> Option<usize> {
    let quoted = quote_state(text);
    text.char_indices().map(|(i, _)| i).find(|&i| {
        !quoted[i]
            && text
                .get(i..i + word.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(word))
            && text[..i]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace)
            && text[i + word.len()..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace)
    })
}

/// Splits `text` at every `word` (see [`find_word`]), trimming the parts.
pub(super) fn split_word<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = find_word(rest, word) {
        parts.push(rest[..at].trim());
        rest = &rest[at + word.len()..];
    }
    parts.push(rest.trim());
    parts
}

/// Byte offset of the first of `symbols` in `text` outside quotes (longest first at a
/// position), with the symbol found.
pub(super) fn find_symbol<'s>(text: &str, symbols: &[&'s str]) -> Option<(usize, &'s str)> {
    let quoted = quote_state(text);
    text.char_indices().find_map(|(i, _)| {
        if quoted[i] {
            return None;
        }
        symbols
            .iter()
            .find(|s| text[i..].starts_with(**s))
            .map(|s| (i, *s))
    })
}

/// The inside of a quoted text (`"…"`, `“…”`, `'…'`), when `text` is one.
pub(super) fn unquote(text: &str) -> Option<&str> {
    let text = text.trim();
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\'')] {
        if let Some(inner) = text
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close))
        {
            return Some(inner);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_symbols_outside_quotes() {
        assert_eq!(find_word("a and b", "AND"), Some(2));
        assert_eq!(find_word("sand and", "and"), Some(5));
        assert_eq!(find_word("\"x and y\" and z", "and"), Some(10));
        assert_eq!(find_word("band", "and"), None);
        assert_eq!(split_word("a AND b and  c", "and"), vec!["a", "b", "c"]);
        assert_eq!(find_symbol("a >= 1", &[">=", ">"]), Some((2, ">=")));
        assert_eq!(find_symbol("t = \"<\"", &["<", "="]), Some((2, "=")));
        assert_eq!(find_symbol("сумма ≥ 0", &["≥"]), Some((11, "≥")));
        assert_eq!(unquote(" \"Issued on\" "), Some("Issued on"));
        assert_eq!(unquote("“Дата”"), Some("Дата"));
        assert_eq!(unquote("x"), None);
    }

    #[test]
    fn statement_lines_are_numbered_as_typed() {
        let lines = ["", "```", "- a", "", "_No response_", "2. b", "```"];
        assert_eq!(
            statement_lines(&lines),
            vec![(1, "- a", "a"), (4, "2. b", "b")]
        );
    }
}
