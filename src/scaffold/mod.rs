//! Stack packs: the templates compiled into the binary (or a user directory), their
//! `pack.yaml` manifest, and the minijinja environment that renders them.
//!
//! Template syntax is `[[ var ]]`, `[% block %]`, `[# comment #]` because the generated files
//! are themselves Jinja2 templates, Python and GitHub workflows full of `{{ }}` and `${{ }}`.
//! Undefined variables are errors, never empty strings.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use crate::error::E2eError;

pub mod filters;

/// The templates shipped inside the binary.
pub static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Marks the start and end of a hole in rendered output (a private-use character no code uses).
pub const HOLE_SENTINEL: char = '\u{E000}';

/// Rewrites `[# hole: NAME #]` … `[# endhole #]` into expressions that leave sentinel lines in
/// the rendered output, so the develop stage can find each hole's region after rendering.
pub fn mark_holes(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(i) = rest.find("[#") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find("#]") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let inner = after[..end].trim();
        let tail = &after[end + 2..];
        let name = inner.strip_prefix("hole:").map(str::trim);
        match name {
            Some(n)
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push_str(&format!("[[ \"{HOLE_SENTINEL}hole:{n}{HOLE_SENTINEL}\" ]]"));
            }
            _ if inner == "endhole" => {
                out.push_str(&format!("[[ \"{HOLE_SENTINEL}endhole{HOLE_SENTINEL}\" ]]"))
            }
            _ => out.push_str(&rest[i..i + 2 + end + 2]),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A pack's `pack.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    /// Pack name (equals its folder name).
    pub name: String,
    /// One line about what the pack builds.
    pub description: String,
    /// How the runner prepares the app's toolchain (`python`: a venv with `requirements`).
    pub toolchain: String,
    /// Requirements file, relative to the app folder.
    #[serde(default)]
    pub requirements: Option<String>,
    /// Test command (argv), run in the app folder; `python` means the venv's interpreter.
    pub test: Vec<String>,
    /// Wall-time limit for the test command.
    #[serde(default)]
    pub test_timeout_secs: Option<u64>,
    /// Path prefix → role, for the plan (longest prefix wins; default `backend`).
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Regions an LLM may replace.
    #[serde(default)]
    pub holes: Vec<HoleSpec>,
    /// Components of the generated system, for ARCHITECTURE.md.
    #[serde(default)]
    pub components: Vec<Component>,
}

/// A named hole in a pack template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoleSpec {
    /// Hole name, as in `[# hole: <name> #]`.
    pub name: String,
    /// Template path (relative to `files/`) that holds it.
    pub file: String,
    /// What code belongs there.
    pub description: String,
}

/// One component of the generated system's architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Short name.
    pub name: String,
    /// Technology used.
    pub technology: String,
    /// What it is responsible for.
    pub responsibility: String,
}

/// A loaded pack: manifest and template sources (path relative to `files/` → text).
#[derive(Debug, Clone)]
pub struct Pack {
    /// The manifest.
    pub manifest: PackManifest,
    /// Template sources by relative path, sorted.
    pub files: BTreeMap<String, String>,
    /// Shared document templates (`templates/docs/`), by file name.
    pub docs: BTreeMap<String, String>,
}

/// Where packs come from: the embedded set or a user directory laid out the same way.
#[derive(Debug, Clone, Default)]
pub enum PackSource<'a> {
    /// Templates compiled into the binary.
    #[default]
    Embedded,
    /// A directory with `<stack>/pack.yaml` and `docs/` like `templates/`.
    Dir(&'a Path),
}

fn valid_stack_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Names of the packs available from `source`.
pub fn available_stacks(source: &PackSource) -> Vec<String> {
    let mut names: Vec<String> = match source {
        PackSource::Embedded => EMBEDDED
            .dirs()
            .filter(|d| d.get_file(d.path().join("pack.yaml")).is_some())
            .filter_map(|d| d.path().file_name()?.to_str().map(String::from))
            .collect(),
        PackSource::Dir(root) => std::fs::read_dir(root)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().join("pack.yaml").is_file())
                    .filter_map(|e| e.file_name().to_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    };
    names.sort();
    names
}

/// Loads the pack `stack`. An unknown or malformed pack is an [`E2eError::Stack`].
pub fn load_pack(source: &PackSource, stack: &str) -> Result<Pack, E2eError> {
    let unknown = || {
        E2eError::Stack(format!(
            "unknown stack {stack:?}; available stacks: {}",
            available_stacks(source).join(", ")
        ))
    };
    if !valid_stack_name(stack) {
        return Err(unknown());
    }
    let mut files = BTreeMap::new();
    let mut docs = BTreeMap::new();
    let manifest_text = match source {
        PackSource::Embedded => {
            let dir = EMBEDDED.get_dir(stack).ok_or_else(unknown)?;
            let manifest = dir
                .get_file(format!("{stack}/pack.yaml"))
                .ok_or_else(unknown)?;
            collect_embedded(dir, &format!("{stack}/files/"), &mut files)?;
            if let Some(d) = EMBEDDED.get_dir("docs") {
                collect_embedded(d, "docs/", &mut docs)?;
            }
            manifest
                .contents_utf8()
                .ok_or_else(|| E2eError::Stack(format!("{stack}/pack.yaml is not UTF-8")))?
                .to_string()
        }
        PackSource::Dir(root) => {
            let pack_dir = root.join(stack);
            // A symlink could read templates (and put their text in the PR) from anywhere.
            for p in [
                pack_dir.join("pack.yaml"),
                pack_dir.join("files"),
                root.join("docs"),
            ] {
                crate::workspace::confine::no_symlink_on_path(&p).map_err(|e| {
                    E2eError::Stack(format!(
                        "templates-dir: {e}; a pack may not contain or be reached through a symlink"
                    ))
                })?;
            }
            let text =
                std::fs::read_to_string(pack_dir.join("pack.yaml")).map_err(|_| unknown())?;
            collect_dir(&pack_dir.join("files"), "", &mut files)?;
            let docs_dir = root.join("docs");
            if docs_dir.is_dir() {
                collect_dir(&docs_dir, "", &mut docs)?;
            } else if let Some(d) = EMBEDDED.get_dir("docs") {
                collect_embedded(d, "docs/", &mut docs)?;
            }
            text
        }
    };
    let manifest: PackManifest = yaml_serde::from_str(&manifest_text)
        .map_err(|e| E2eError::Stack(format!("{stack}/pack.yaml is invalid: {e}")))?;
    if manifest.name != stack {
        return Err(E2eError::Stack(format!(
            "{stack}/pack.yaml names itself {:?}",
            manifest.name
        )));
    }
    if manifest.test.is_empty() {
        return Err(E2eError::Stack(format!(
            "{stack}/pack.yaml has an empty `test` command"
        )));
    }
    if manifest.toolchain != "python" {
        return Err(E2eError::Stack(format!(
            "{stack}/pack.yaml needs toolchain {:?}, which this version cannot prepare (known: python)",
            manifest.toolchain
        )));
    }
    if files.is_empty() {
        return Err(E2eError::Stack(format!("{stack} has no files/")));
    }
    Ok(Pack {
        manifest,
        files,
        docs,
    })
}

fn collect_embedded(
    dir: &Dir<'static>,
    strip: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<(), E2eError> {
    for entry in dir.entries() {
        if let Some(d) = entry.as_dir() {
            collect_embedded(d, strip, out)?;
        } else if let Some(f) = entry.as_file() {
            let path = f.path().to_string_lossy().replace('\\', "/");
            let Some(rel) = path.strip_prefix(strip) else {
                continue;
            };
            let text = f
                .contents_utf8()
                .ok_or_else(|| E2eError::Stack(format!("template {path} is not UTF-8")))?;
            out.insert(rel.to_string(), text.to_string());
        }
    }
    Ok(())
}

fn collect_dir(
    dir: &Path,
    prefix: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<(), E2eError> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| E2eError::Stack(format!("cannot read {}: {e}", dir.display())))?;
    for entry in rd.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        let rel = format!("{prefix}{name}");
        let ft = entry
            .file_type()
            .map_err(|e| E2eError::Stack(format!("{}: {e}", path.display())))?;
        if ft.is_symlink() {
            return Err(E2eError::Stack(format!(
                "templates-dir: {} is a symlink; a pack may not contain or be reached through a symlink",
                path.display()
            )));
        }
        if ft.is_dir() {
            collect_dir(&path, &format!("{rel}/"), out)?;
        } else if ft.is_file() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| E2eError::Stack(format!("template {}: {e}", path.display())))?;
            out.insert(rel, text);
        }
    }
    Ok(())
}

/// Builds the minijinja environment for a pack: its files under their relative paths and the
/// shared documents under `docs/<name>`.
pub fn environment(pack: &Pack) -> Result<Environment<'static>, E2eError> {
    let mut env = base_environment()?;
    for (path, src) in &pack.files {
        env.add_template_owned(path.clone(), mark_holes(src))
            .map_err(|e| {
                E2eError::Stack(format!("{}: template {path}: {e}", pack.manifest.name))
            })?;
    }
    for (path, src) in &pack.docs {
        env.add_template_owned(format!("docs/{path}"), src.clone())
            .map_err(|e| E2eError::Stack(format!("docs template {path}: {e}")))?;
    }
    Ok(env)
}

/// An environment without templates, with the syntax, strictness and filters every template
/// of the action uses (packs and prompts alike).
pub fn base_environment() -> Result<Environment<'static>, E2eError> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .block_delimiters("[%", "%]")
        .variable_delimiters("[[", "]]")
        .comment_delimiters("[#", "#]")
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| E2eError::Stack(format!("template syntax: {e}")))?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    filters::register(&mut env);
    Ok(env)
}

/// Renders template `name` with `ctx`, naming the template in any error.
pub fn render(env: &Environment<'_>, name: &str, ctx: &Value) -> Result<String, E2eError> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| {
            let mut msg = format!("rendering {name}: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            E2eError::Stack(msg)
        })
}

impl PackManifest {
    /// The role of an output path: the longest matching prefix in `roles`, else `backend`.
    pub fn role_of(&self, path: &str) -> String {
        self.roles
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, role)| role.clone())
            .unwrap_or_else(|| "backend".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pack_loads_and_compiles() {
        let pack = load_pack(&PackSource::Embedded, crate::config::DEFAULT_STACK).unwrap();
        assert_eq!(pack.manifest.name, "python-fastapi");
        environment(&pack).unwrap();
        assert!(pack.docs.contains_key("ARCHITECTURE.md"));
    }

    #[test]
    fn unknown_stack_lists_the_available_ones() {
        let err = load_pack(&PackSource::Embedded, "cobol-cics").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown stack \"cobol-cics\"; available stacks: python-fastapi"
        );
        assert!(load_pack(&PackSource::Embedded, "../docs").is_err());
    }

    #[test]
    fn hole_markers_become_sentinel_lines() {
        let marked =
            mark_holes("a\n[# hole: rules #]\nx = 1\n[# endhole #]\n[# plain comment #]\n");
        assert_eq!(
            marked,
            "a\n[[ \"\u{E000}hole:rules\u{E000}\" ]]\nx = 1\n[[ \"\u{E000}endhole\u{E000}\" ]]\n[# plain comment #]\n"
        );
    }

    #[test]
    fn roles_use_the_longest_prefix() {
        let mut m = load_pack(&PackSource::Embedded, "python-fastapi")
            .unwrap()
            .manifest;
        m.roles.insert("app/".into(), "backend".into());
        m.roles.insert("app/templates/".into(), "frontend".into());
        assert_eq!(m.role_of("app/templates/base.html"), "frontend");
        assert_eq!(m.role_of("app/main.py"), "backend");
        assert_eq!(m.role_of("zzz"), "backend");
    }
}
