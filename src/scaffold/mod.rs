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
use crate::ident::ReservedNames;

pub mod filters;

/// The templates shipped inside the binary.
pub static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Marker in a template path that makes it a per-entity template (`app/models/__entity__.py`
/// becomes `app/models/book.py`).
pub const ENTITY_MARKER: &str = "__entity__";

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
    /// Names the pack's code uses, which an entity or field must not take (see
    /// [`crate::ident::reserved`]); a pack without the section reserves only the language's.
    #[serde(default)]
    pub reserved: ReservedNames,
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
    manifest
        .reserved
        .check()
        .and_then(|()| check_entity_siblings(&files, &manifest.reserved))
        .map_err(|e| E2eError::Stack(format!("{stack}/pack.yaml: {e}")))?;
    Ok(Pack {
        manifest,
        files,
        docs,
    })
}

/// Every file or folder beside a per-entity template that an entity's ident could name
/// (`app/api/routes/auth.py` beside `app/api/routes/__entity__.py`) must be reserved, or
/// an entity called `Auth` would overwrite it.
fn check_entity_siblings(
    files: &BTreeMap<String, String>,
    reserved: &ReservedNames,
) -> Result<(), String> {
    for template in files.keys().filter(|t| t.contains(ENTITY_MARKER)) {
        let (dir, name) = template.rsplit_once('/').unwrap_or(("", template));
        let Some((prefix, suffix)) = name.split_once(ENTITY_MARKER) else {
            // The marker in a folder name: the siblings are folders, which idents cannot be
            // told apart from in general; such packs are checked by their own tests.
            continue;
        };
        let siblings = files.keys().filter_map(|path| {
            let rest = path_inside(dir, path)?;
            Some(match rest.split_once('/') {
                // A folder is a package: `routes/` beside `__entity__.py` is `routes`.
                Some((folder, _)) => format!("{folder}{suffix}"),
                None => rest.to_string(),
            })
        });
        for sibling in siblings {
            let Some(ident) = sibling
                .strip_prefix(prefix)
                .and_then(|s| s.strip_suffix(suffix))
            else {
                continue;
            };
            let could_be_ident = ident.starts_with(|c: char| c.is_ascii_lowercase())
                && ident
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if could_be_ident
                && !ident.contains(ENTITY_MARKER)
                && !reserved.is_reserved_snake(ident)
            {
                return Err(format!(
                    "{dir}/{sibling} sits beside the per-entity {template}: add {ident:?} to reserved.modules, or an entity named so would replace it"
                ));
            }
        }
    }
    Ok(())
}

/// `path` relative to the folder `dir` (`""`: the pack's root), when it lies inside it.
fn path_inside<'a>(dir: &str, path: &'a str) -> Option<&'a str> {
    match dir {
        "" => Some(path),
        _ => path.strip_prefix(dir)?.strip_prefix('/'),
    }
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

    /// A user's pack in a temporary `templates-dir`: a router per entity beside `auth.py`.
    fn user_pack(reserved: &str) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("mine");
        std::fs::create_dir_all(pack.join("files/app/routes")).unwrap();
        let manifest = format!(
            "name: mine\ndescription: d\ntoolchain: python\ntest: [python, -m, pytest]\n{reserved}"
        );
        std::fs::write(pack.join("pack.yaml"), manifest).unwrap();
        for file in ["__entity__.py", "auth.py", "__init__.py"] {
            std::fs::write(pack.join("files/app/routes").join(file), "x = 1\n").unwrap();
        }
        root
    }

    fn load_user_pack(reserved: &str) -> Result<Pack, E2eError> {
        let root = user_pack(reserved);
        load_pack(&PackSource::Dir(root.path()), "mine")
    }

    #[test]
    fn a_users_pack_declares_its_reserved_names() {
        let pack = load_user_pack("reserved:\n  modules: [auth]\n  routes: [login]\n").unwrap();
        assert_eq!(pack.manifest.reserved.modules, ["auth"]);
        assert_eq!(pack.manifest.reserved.routes, ["login"]);
        let book = crate::ident::entity_names(&["Auth", "Book"], &pack.manifest.reserved);
        assert_eq!(
            (book[0].ident.as_str(), book[1].ident.as_str()),
            ("auth_record", "book")
        );
    }

    #[test]
    fn a_module_beside_a_per_entity_template_must_be_reserved() {
        let err = load_user_pack("").unwrap_err().to_string();
        assert!(
            err.contains("app/routes/auth.py sits beside the per-entity app/routes/__entity__.py: add \"auth\" to reserved.modules"),
            "{err}"
        );
        // Reserved by the language (a Python builtin) is reserved too.
        let root = user_pack("reserved:\n  modules: [auth]\n");
        let routes = root.path().join("mine/files/app/routes");
        std::fs::write(routes.join("list.py"), "").unwrap();
        load_pack(&PackSource::Dir(root.path()), "mine").unwrap();
    }

    #[test]
    fn reserved_names_are_spelt_as_they_are_compared() {
        for (section, message) in [
            (
                "modules: [auth]\n  routes: [Login]",
                "reserved.routes: \"Login\" is not kebab-case",
            ),
            (
                "modules: [auth, Core]",
                "reserved.modules: \"Core\" is not snake_case",
            ),
            (
                "modules: [auth]\n  classes: [Book, book]",
                "reserved.classes: \"book\" is not PascalCase",
            ),
        ] {
            let err = load_user_pack(&format!("reserved:\n  {section}\n"));
            let err = err.unwrap_err().to_string();
            assert!(err.contains(message), "{section}: {err}");
        }
        let err = load_user_pack("reserved:\n  modules: [auth]\n  module: [x]\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `module`"), "{err}");
    }

    #[test]
    fn the_default_pack_reserves_its_layout() {
        let pack = load_pack(&PackSource::Embedded, crate::config::DEFAULT_STACK).unwrap();
        let reserved = &pack.manifest.reserved;
        for module in [
            "app", "api", "core", "deps", "routes", "models", "schemas", "tenancy",
        ] {
            assert!(reserved.is_reserved_snake(module), "{module}");
        }
        assert_eq!(reserved.class_suffixes, ["Create", "Update", "Out", "Page"]);
    }
}
