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
}

impl Section {
    /// The section a lowercase heading names.
    fn from_heading(heading: &str) -> Option<Self> {
        match heading {
            "app name" => Some(Section::AppName),
            "summary" => Some(Section::Summary),
            "data model" => Some(Section::DataModel),
            "features" => Some(Section::Features),
            _ => None,
        }
    }
}

/// The known sections of a body, each as its lines (`None` when the heading is absent).
pub(super) struct Sections<'a> {
    lines: [Option<Vec<&'a str>>; 4],
}

impl<'a> Sections<'a> {
    pub(super) fn parse(text: &'a str) -> Self {
        let mut lines: [Option<Vec<&'a str>>; 4] = Default::default();
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
