//! Markdown in issue text that hides words from a reader: image alt text and titles, link
//! and link-definition titles.

use super::{IMAGE_PLACEHOLDER, MAX_CONSTRUCT_LEN, Removed};

/// One pass over markdown images, inline links and link definitions.
pub(super) fn strip_links(text: &str, removed: &mut Removed) -> String {
    let text = strip_definition_titles(text, removed);
    let mut scan = LinkScan::new(&text);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let image = bytes[i] == b'!' && bytes.get(i + 1) == Some(&b'[');
        let link = bytes[i] == b'[' && (i == 0 || bytes[i - 1] != b'!');
        if !image && !link {
            i += 1;
            continue;
        }
        let open = if image { i + 1 } else { i };
        let Some(close) = scan.closing_bracket(open) else {
            i += 1;
            continue;
        };
        let next = close + 1;
        if image {
            let end = match bytes.get(next) {
                Some(b'(') => match scan.destination(next) {
                    Parsed::Link(dest) => Some(dest.end),
                    // Fail safe: the alt text goes even when the destination is too long
                    // to be sure it is an image.
                    Parsed::TooLong => Some(next),
                    Parsed::NotALink => None,
                },
                Some(b'[') => scan.closing_bracket(next).map(|c| c + 1),
                _ => None,
            };
            if let Some(end) = end {
                out.push_str(&text[copied..i]);
                out.push_str(IMAGE_PLACEHOLDER);
                removed.images += 1;
                i = end;
                copied = i;
                continue;
            }
        } else if bytes.get(next) == Some(&b'(')
            && let Parsed::Link(dest) = scan.destination(next)
            && dest.has_title
        {
            out.push_str(&text[copied..next]);
            out.push('(');
            out.push_str(&text[dest.url.clone()]);
            out.push(')');
            removed.link_titles += 1;
            i = dest.end;
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Byte index of the `]` matching the `[` at `open`, on the same paragraph, scanning at
/// most [`MAX_CONSTRUCT_LEN`] bytes (for short texts such as one line).
fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() && i - open < MAX_CONSTRUCT_LEN {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A parsed inline destination `(url "title")`.
struct Destination {
    /// Byte range of the url.
    url: std::ops::Range<usize>,
    has_title: bool,
    /// Byte just past the closing `)`.
    end: usize,
}

enum Parsed {
    Link(Destination),
    NotALink,
    /// The url is longer than [`MAX_CONSTRUCT_LEN`].
    TooLong,
}

/// Link parsing over one text in linear time: brackets are paired in one pass, and a
/// search for a closing quote that failed is not repeated.
struct LinkScan<'a> {
    bytes: &'a [u8],
    /// For each `[` byte, the byte of its `]` (`usize::MAX` when unmatched).
    closes: Vec<usize>,
    /// Per closer (`"`, `'`, `)`, `>`): searches starting before this byte fail.
    fails_before: [usize; 4],
}

impl<'a> LinkScan<'a> {
    fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut closes = vec![usize::MAX; bytes.len()];
        let mut stack: Vec<usize> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 1,
                b'[' => stack.push(i),
                b']' => {
                    if let Some(open) = stack.pop() {
                        closes[open] = i;
                    }
                }
                b'\n' if bytes.get(i + 1) == Some(&b'\n') => stack.clear(),
                _ => {}
            }
            i += 1;
        }
        LinkScan {
            bytes,
            closes,
            fails_before: [0; 4],
        }
    }

    fn closing_bracket(&self, open: usize) -> Option<usize> {
        self.closes.get(open).copied().filter(|c| *c != usize::MAX)
    }

    /// Byte of the first unescaped `closer` from `from`, within the paragraph.
    fn find_closer(&mut self, from: usize, closer: u8) -> Option<usize> {
        let slot = match closer {
            b'"' => 0,
            b'\'' => 1,
            b')' => 2,
            _ => 3,
        };
        if from < self.fails_before[slot] {
            return None;
        }
        let mut j = from;
        while j < self.bytes.len() {
            match self.bytes[j] {
                b if b == closer => return Some(j),
                b'\\' => j += 1,
                b'\n' if closer == b'>' || self.bytes.get(j + 1) == Some(&b'\n') => break,
                _ => {}
            }
            j += 1;
        }
        self.fails_before[slot] = j;
        None
    }

    /// Parses `(url "title")` starting at the `(` at `open`.
    fn destination(&mut self, open: usize) -> Parsed {
        let bytes = self.bytes;
        let mut i = skip_spaces(bytes, open + 1);
        let url_start = i;
        if bytes.get(i) == Some(&b'<') {
            match self.find_closer(i + 1, b'>') {
                Some(gt) => i = gt + 1,
                None => return Parsed::NotALink,
            }
        } else {
            let mut depth = 0usize;
            while i < bytes.len() {
                if i - url_start >= MAX_CONSTRUCT_LEN {
                    return Parsed::TooLong;
                }
                match bytes[i] {
                    b'\\' => i += 1,
                    b'(' => depth += 1,
                    b')' if depth == 0 => break,
                    b')' => depth -= 1,
                    b if b.is_ascii_whitespace() => break,
                    _ => {}
                }
                i += 1;
            }
        }
        let url_end = i.min(bytes.len());
        i = skip_spaces(bytes, url_end);
        let mut has_title = false;
        if let Some(&quote) = bytes.get(i)
            && matches!(quote, b'"' | b'\'' | b'(')
            && i > url_end
        {
            let closer = if quote == b'(' { b')' } else { quote };
            let Some(j) = self.find_closer(i + 1, closer) else {
                return Parsed::NotALink;
            };
            has_title = true;
            i = skip_spaces(bytes, j + 1);
        }
        if bytes.get(i) != Some(&b')') {
            return Parsed::NotALink;
        }
        Parsed::Link(Destination {
            url: url_start..url_end,
            has_title,
            end: i + 1,
        })
    }
}

fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while bytes
        .get(i)
        .is_some_and(|b| *b == b' ' || *b == b'\t' || *b == b'\n')
    {
        i += 1;
    }
    i
}

/// Drops the title of link reference definitions: `[label]: url "title"` → `[label]: url`.
fn strip_definition_titles(text: &str, removed: &mut Removed) -> String {
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        match definition_without_title(line) {
            Some(kept) => {
                removed.link_titles += 1;
                out.push_str(kept);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// For a definition line with a title, the line without its title.
fn definition_without_title(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 || !line[indent..].starts_with('[') {
        return None;
    }
    let close = matching_bracket(line, indent)?;
    let rest = line[close + 1..].strip_prefix(':')?;
    let dest = rest.trim_start();
    if dest.is_empty() {
        return None;
    }
    let url_len = if dest.starts_with('<') {
        dest.find('>')? + 1
    } else {
        dest.find(char::is_whitespace).unwrap_or(dest.len())
    };
    let title = dest[url_len..].trim();
    let quoted = title.len() >= 2
        && matches!(
            (title.as_bytes()[0], title.as_bytes()[title.len() - 1]),
            (b'"', b'"') | (b'\'', b'\'') | (b'(', b')')
        );
    if !quoted || url_len == dest.len() {
        return None;
    }
    let dest_offset = line.len() - dest.len();
    Some(&line[..dest_offset + url_len])
}
