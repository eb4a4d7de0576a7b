//! HTML in issue text: comments (also unterminated ones), tags (their text stays, `<br>` and
//! `<hr>` become a newline) and hidden elements with their content.

use super::{MAX_CONSTRUCT_LEN, Removed};

/// Elements whose content is hidden from a reader and removed with the element.
const HIDDEN_ELEMENTS: &[&str] = &[
    "script", "style", "template", "noscript", "iframe", "object", "textarea",
];

/// One pass over HTML comments and tags.
pub(super) fn strip_html(text: &str, removed: &mut Removed) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gt = NextGt::default();
    let mut pos = 0;
    while let Some(lt) = text[pos..].find('<').map(|i| pos + i) {
        out.push_str(&text[pos..lt]);
        if text[lt..].starts_with("<!--") {
            removed.html_comments += 1;
            // `<!-->` and `<!--->` are complete (empty) comments too.
            let after_open = lt + 2;
            let end = [
                text[after_open..].find("-->").map(|i| i + 3),
                text[after_open..].find("--!>").map(|i| i + 4),
            ]
            .into_iter()
            .flatten()
            .min();
            pos = end.map_or(text.len(), |end| after_open + end);
            continue;
        }
        match parse_tag(text, lt, &mut gt) {
            Some(tag) => {
                removed.html_tags += 1;
                if !tag.closing && HIDDEN_ELEMENTS.contains(&tag.name.as_str()) {
                    removed.hidden_elements += 1;
                    pos = find_closing_tag(text, tag.end, &tag.name, &mut gt).unwrap_or(text.len());
                } else {
                    if matches!(tag.name.as_str(), "br" | "hr") {
                        out.push('\n');
                    }
                    pos = tag.end;
                }
            }
            None => {
                out.push('<');
                pos = lt + 1;
            }
        }
    }
    out.push_str(&text[pos..]);
    out
}

/// Finds the first `>` at or after a position, remembering the last answer so that many
/// unterminated tags cost linear time.
#[derive(Default)]
struct NextGt {
    /// (searched from, first `>` at or after it).
    last: Option<(usize, Option<usize>)>,
}

impl NextGt {
    fn find(&mut self, text: &str, from: usize) -> Option<usize> {
        if let Some((searched, found)) = self.last
            && searched <= from
            && found.is_none_or(|f| f >= from)
        {
            return found;
        }
        let found = text[from..].find('>').map(|i| from + i);
        self.last = Some((from, found));
        found
    }
}

struct Tag {
    /// Lowercase tag name (empty for `<!…>` and `<?…>` declarations).
    name: String,
    closing: bool,
    /// Byte just past the tag's `>`.
    end: usize,
}

/// Recognises an HTML tag at byte `start` of `text` (a `<`). Quotes in attributes are
/// honoured for [`MAX_CONSTRUCT_LEN`] bytes; past that, or when a quote never closes, the
/// tag ends at the next `>` (so a long attribute cannot hide text by outlasting the scan).
fn parse_tag(text: &str, start: usize, gt: &mut NextGt) -> Option<Tag> {
    let bytes = &text.as_bytes()[start..];
    let mut i = 1;
    let mut closing = false;
    let mut name = String::new();
    match bytes.get(1) {
        Some(b'/') => {
            closing = true;
            i = 2;
        }
        Some(b'!') | Some(b'?') if bytes.get(2).is_some_and(u8::is_ascii_alphabetic) => {
            i = 2;
        }
        _ => {}
    }
    let declaration = bytes.get(1).is_some_and(|b| *b == b'!' || *b == b'?');
    if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_alphanumeric() || b == b'-' {
            name.push(b.to_ascii_lowercase() as char);
            i += 1;
        } else {
            break;
        }
    }
    match bytes.get(i) {
        Some(b'>' | b'/') => {}
        Some(b) if b.is_ascii_whitespace() => {}
        _ => return None,
    }
    let name = if declaration { String::new() } else { name };
    let name_end = i;
    // No `>` anywhere after: literal text, as a renderer shows it.
    gt.find(text, start + name_end)?;
    let mut quote: Option<u8> = None;
    while i < bytes.len() && i < MAX_CONSTRUCT_LEN {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => {
                return Some(Tag {
                    name,
                    closing,
                    end: start + i + 1,
                });
            }
            None => {}
        }
        i += 1;
    }
    gt.find(text, start + name_end).map(|at| Tag {
        name,
        closing,
        end: at + 1,
    })
}

/// Byte just past the first `</name>` (case-insensitive) at or after `from`, if any.
fn find_closing_tag(text: &str, from: usize, name: &str, gt: &mut NextGt) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = from;
    while let Some(start) = text[from..].find("</").map(|i| from + i) {
        let name_end = start + 2 + name.len();
        if bytes
            .get(start + 2..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            && let Some(tag) = parse_tag(text, start, gt)
            && tag.closing
            && tag.name == name
        {
            return Some(tag.end);
        }
        from = start + 2;
    }
    None
}
