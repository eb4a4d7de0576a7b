//! Test-only: the modules of `src/` import each other without cycles.
//!
//! The graph is built from the source text, at **file granularity**: every `src/**/*.rs`
//! file is one module node (`src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; inline modules
//! are folded into their file, and `#[cfg(test)]` modules and `tests.rs` files are left out:
//! tests may reach anywhere). An edge `a → b` is a path in `a` that names `b` or an item of
//! `b`: `use` trees and inline paths that start with `crate::`, `super::` or `self::`, and
//! paths that start with the name of one of `a`'s own submodules. A path resolves to the
//! longest module prefix it names (`crate::pipeline::develop::Files` → `pipeline::develop`).
//!
//! One kind of edge is not counted: a module naming one of its own ancestors (a child using
//! its parent's items, as `llm::openai` uses `llm::Ask`). A parent is made of its children,
//! so that is the parent's interface seen from inside, not a dependency between parts; every
//! other edge counts, including a parent using its children and any two siblings.
//!
//! Comments and string literals are removed before reading, so a doc link (`[`crate::x`]`)
//! is not an import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`a::b`, empty for the crate root) → the modules it imports.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// Source text without comments, string and char literals (each replaced by a space, so
/// tokens on either side stay apart).
pub fn strip_comments_and_strings(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            out.push(' ');
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !prev_is_ident(&b, i)
            && raw_string_start(&b, i + usize::from(c == 'b') + 1).is_some()
        {
            let start = i + usize::from(c == 'b') + 1;
            let hashes = raw_string_start(&b, start).unwrap_or(0);
            i = start + hashes + 1;
            while i < b.len() {
                if b[i] == '"' && (0..hashes).all(|k| b.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < b.len() && b[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// At `i`: `#…#"` opening a raw string? Returns the number of `#`.
fn raw_string_start(b: &[char], i: usize) -> Option<usize> {
    let hashes = b[i.min(b.len())..]
        .iter()
        .take_while(|c| **c == '#')
        .count();
    (b.get(i + hashes) == Some(&'"')).then_some(hashes)
}

/// Tokens: identifiers, `::` and single punctuation characters.
fn tokens(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if !c.is_whitespace() {
            out.push(c.to_string());
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Removes `#[cfg(test)]` modules with a body (the tests beside the code, and test helpers
/// such as `#[cfg(test)] pub(super) mod testing { … }`).
fn without_test_modules(toks: Vec<String>) -> Vec<String> {
    let attr = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let after_attr = i + attr.len();
        let is_attr =
            toks.len() > after_attr && attr.iter().enumerate().all(|(k, t)| toks[i + k] == *t);
        // `pub`, `pub(crate)`, `pub(super)`, `pub(in path)` before `mod`.
        let mut m = after_attr;
        if is_attr && toks[m] == "pub" {
            m += 1;
            if toks.get(m).map(String::as_str) == Some("(") {
                while m < toks.len() && toks[m] != ")" {
                    m += 1;
                }
                m += 1;
            }
        }
        let is_test_mod = is_attr
            && toks.get(m).map(String::as_str) == Some("mod")
            && toks.get(m + 2).map(String::as_str) == Some("{");
        if is_attr && toks.get(m).map(String::as_str) == Some("use") {
            while i < toks.len() && toks[i] != ";" {
                i += 1;
            }
        } else if is_test_mod {
            let mut depth = 0;
            i = m + 2;
            while i < toks.len() {
                match toks[i].as_str() {
                    "{" => depth += 1,
                    "}" => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            out.push(toks[i].clone());
            i += 1;
        }
    }
    out
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Expands a `use` tree starting at `toks[*i]` into full paths, prefixed with `prefix`.
fn use_tree(toks: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *i < toks.len() {
        let t = toks[*i].as_str();
        match t {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                loop {
                    use_tree(toks, i, &path, out);
                    match toks.get(*i).map(String::as_str) {
                        Some(",") => *i += 1,
                        Some("}") => {
                            *i += 1;
                            return;
                        }
                        _ => return,
                    }
                    if toks.get(*i).map(String::as_str) == Some("}") {
                        *i += 1;
                        return;
                    }
                }
            }
            "as" => {
                *i += 2;
            }
            "*" => *i += 1,
            _ if is_ident(t) => {
                path.push(t.to_string());
                *i += 1;
            }
            // `,`, `}` or `;`: this branch ends.
            _ => break,
        }
    }
    if !path.is_empty() && path.len() > prefix.len() {
        out.push(path);
    }
}

/// Every path a module's (comment- and string-free) source names: `use` trees expanded, and
/// inline `a::b::c` paths. Paths are returned as written (first segment unresolved).
pub fn paths(src: &str) -> Vec<Vec<String>> {
    let toks = without_test_modules(tokens(&strip_comments_and_strings(src)));
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i] == "use" {
            i += 1;
            use_tree(&toks, &mut i, &[], &mut out);
        } else if is_ident(&toks[i])
            && toks.get(i + 1).map(String::as_str) == Some("::")
            && (i == 0 || toks[i - 1] != "::")
        {
            let mut path = vec![toks[i].clone()];
            i += 1;
            while toks.get(i).map(String::as_str) == Some("::")
                && toks.get(i + 1).is_some_and(|t| is_ident(t))
            {
                path.push(toks[i + 1].clone());
                i += 2;
            }
            out.push(path);
        } else {
            i += 1;
        }
    }
    out
}

/// The module of a file below `src/` (`a/b.rs`, `a/b/mod.rs` → `a::b`; `lib.rs` → root).
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// Resolves `path`, as written in module `from`, to the module it names, if it is one of
/// `modules` (other than `from` itself and the crate root).
fn resolve(from: &str, path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    let mut base: Vec<&str> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").collect()
    };
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &path[1..];
        }
        Some("self") => rest = &path[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        // A bare first segment names a submodule of `from`, or something outside the crate.
        Some(first) => {
            let child = if from.is_empty() {
                first.to_string()
            } else {
                format!("{from}::{first}")
            };
            if !modules.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    let mut full: Vec<&str> = base;
    full.extend(rest.iter().map(String::as_str));
    let found = (1..=full.len())
        .rev()
        .map(|n| full[..n].join("::"))
        .find(|m| modules.contains(m))?;
    (found != from).then_some(found)
}

/// Whether `ancestor` is a proper ancestor of `module`.
fn is_ancestor(ancestor: &str, module: &str) -> bool {
    ancestor.is_empty() || module.starts_with(&format!("{ancestor}::"))
}

/// The graph of the modules whose sources are given (`module → source`).
pub fn graph(sources: &BTreeMap<String, String>) -> Graph {
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut g = Graph::new();
    for (module, src) in sources {
        let edges = g.entry(module.clone()).or_default();
        for path in paths(src) {
            if let Some(to) = resolve(module, &path, &modules)
                && !is_ancestor(&to, module)
            {
                edges.insert(to);
            }
        }
    }
    g
}

/// The modules of the crate at `root` (its `src/` folder), read from disk.
pub fn read_crate(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("below src");
                // The binary is another crate; test modules may reach anywhere.
                if rel == Path::new("main.rs") || rel.file_stem().is_some_and(|s| s == "tests") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("readable source");
                out.insert(module_of(rel), text);
            }
        }
    }
    out
}

/// Every cycle of `g`, one per strongly connected component of two or more modules, each
/// as the component's modules in order along a cycle through them (sorted components).
pub fn cycles(g: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm, recursive: the graph is a few dozen modules.
    struct State<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// One readable cycle through `component`: `a → b → … → a`.
pub fn describe(g: &Graph, component: &[String]) -> String {
    let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    // Breadth-first from the first module back to itself, inside the component.
    let start = component[0].as_str();
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in g.get(v).into_iter().flatten().map(String::as_str) {
            if !inside.contains(w) {
                continue;
            }
            if w == start {
                let mut path = vec![v];
                while let Some(&p) = path.last().and_then(|l| prev.get(l)) {
                    path.push(p);
                }
                path.reverse();
                path.push(start);
                return path.join(" → ");
            }
            if w != start && !prev.contains_key(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    component.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    }

    #[test]
    fn the_cycle_finder_finds_cycles_and_only_cycles() {
        let dag = g(&[("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")]);
        assert!(cycles(&dag).is_empty());
        let one = g(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")]);
        assert_eq!(cycles(&one), [["a", "b", "c"]]);
        assert_eq!(describe(&one, &cycles(&one)[0]), "a → b → c → a");
        let two = g(&[("x", "y"), ("y", "x"), ("p", "q"), ("q", "r"), ("r", "p")]);
        assert_eq!(cycles(&two).len(), 2);
        assert_eq!(describe(&two, &cycles(&two)[1]), "x → y → x");
    }

    #[test]
    fn use_trees_and_inline_paths_are_read_and_comments_and_strings_are_not() {
        let src = r##"
            use crate::{a::b, c::{d, e as f}, g::*};
            use super::h;
            use serde::Serialize;
            // use crate::commented;
            /// [`crate::doc_link`]
            fn x() { let s = "crate::in_a_string"; let r = r#"crate::raw"#; crate::inline::path::item(); kid::f(); }
            fn y<'a>(c: char) -> bool { c == '"' || c == '\'' }
            fn z() { crate::after_chars::f() }
            #[cfg(test)]
            mod tests { use crate::only_in_tests; }
            #[cfg(test)]
            pub(super) mod testing { fn f() { crate::only_in_test_helpers::f() } }
            #[cfg(test)]
            use crate::test_only_import;
        "##;
        let got: Vec<String> = paths(src).iter().map(|p| p.join("::")).collect();
        for want in [
            "crate::a::b",
            "crate::c::d",
            "crate::c::e",
            "crate::g",
            "super::h",
            "serde::Serialize",
            "crate::inline::path::item",
            "kid::f",
            "crate::after_chars::f",
        ] {
            assert!(got.iter().any(|p| p == want), "{want} not in {got:?}");
        }
        for unwanted in [
            "commented",
            "doc_link",
            "in_a_string",
            "raw",
            "only_in_test",
            "test_only",
        ] {
            assert!(
                !got.iter().any(|p| p.contains(unwanted)),
                "{unwanted} in {got:?}"
            );
        }
    }

    #[test]
    fn paths_resolve_to_the_longest_module_and_children_may_use_their_parent() {
        let sources: BTreeMap<String, String> = [
            ("p", "use kid::Thing; fn f() { crate::q::r::Item::new(); }"),
            ("p::kid", "use super::Shared; use crate::p::sibling::X;"),
            ("p::sibling", "use crate::q::r;"),
            ("q", ""),
            ("q::r", "use crate::p::kid::Thing;"),
        ]
        .into_iter()
        .map(|(m, s)| (m.to_string(), s.to_string()))
        .collect();
        let graph = graph(&sources);
        let edges = |m: &str| graph[m].iter().cloned().collect::<Vec<_>>();
        assert_eq!(edges("p"), ["p::kid", "q::r"]);
        // `super::Shared` names the parent: not counted.
        assert_eq!(edges("p::kid"), ["p::sibling"]);
        assert_eq!(
            cycles(&graph),
            [["p::kid", "p::sibling", "q::r"]],
            "kid → sibling → q::r → kid"
        );
    }

    /// Cycles known when this test was written; each must go (the test fails when one is
    /// gone, so the list only shrinks). Empty: `ident` once named fields by `spec::FieldKind`
    /// while `spec` used `ident::readable_label`; it now takes whether a field is a reference.
    const KNOWN: &[&[&str]] = &[];

    /// The crate itself: no module imports, directly or through others, a module that imports it.
    #[test]
    fn src_has_no_import_cycles() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let sources = read_crate(&src);
        assert!(sources.contains_key("pipeline") && sources.contains_key("issue::form"));
        let graph = graph(&sources);
        let all = cycles(&graph);
        let found: Vec<String> = all
            .iter()
            .filter(|c| {
                !KNOWN
                    .iter()
                    .any(|k| c.iter().map(String::as_str).eq(k.iter().copied()))
            })
            .map(|c| describe(&graph, c))
            .collect();
        assert!(
            found.is_empty(),
            "import cycles in src/:\n{}",
            found.join("\n")
        );
        for known in KNOWN {
            assert!(
                all.iter()
                    .any(|c| c.iter().map(String::as_str).eq(known.iter().copied())),
                "the cycle {known:?} is gone: take it off KNOWN"
            );
        }
    }

    /// No stage module imports the run request: only the orchestrator's own helpers (the
    /// configuration and intake before the stages, and the run context) read it.
    #[test]
    fn stages_do_not_import_the_run_request() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let graph = graph(&read_crate(&src));
        let users: Vec<&String> = graph
            .iter()
            .filter(|(m, to)| m.starts_with("pipeline::") && to.contains("pipeline::request"))
            .map(|(m, _)| m)
            .collect();
        assert_eq!(
            users,
            ["pipeline::prepare", "pipeline::run"],
            "only the orchestrator's helpers read the request"
        );
    }
}
