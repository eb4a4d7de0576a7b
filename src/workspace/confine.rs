//! Path confinement: every path we write from templates, spec names or LLM answers is
//! relative, normalised, inside the app folder, not under `.git/`, and never through a symlink.

use std::path::{Component, Path, PathBuf};

/// Longest accepted relative path, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest accepted path segment, in bytes (common file-system limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused path {path:?}: {reason}")]
pub struct PathError {
    /// The path as given (lossy for non-UTF-8).
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

const DEVICE_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Validates a relative path with `/` separators and returns it normalised (no empty or `.`
/// segments). Refuses absolute paths, `..`, `.git`, backslashes, control characters, device
/// names, over-long segments or paths.
pub fn validate_relative(path: &str) -> Result<String, PathError> {
    let refuse = |reason| PathError {
        path: path.chars().take(200).collect(),
        reason,
    };
    if path.is_empty() {
        return Err(refuse("empty path"));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(refuse("path too long"));
    }
    if path.starts_with('/') || path.starts_with('~') {
        return Err(refuse("absolute path"));
    }
    if path.contains('\\') {
        return Err(refuse("backslash in path"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(refuse("control character in path"));
    }
    if path.as_bytes().get(1) == Some(&b':') {
        return Err(refuse("drive-letter path"));
    }
    let mut parts = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => continue,
            ".." => return Err(refuse("parent directory (..) in path")),
            _ => {}
        }
        if seg.len() > MAX_SEGMENT_BYTES {
            return Err(refuse("path segment too long"));
        }
        let lower = seg.to_ascii_lowercase();
        if lower == ".git" || lower.starts_with(".git/") {
            return Err(refuse("path inside .git"));
        }
        let stem = lower.split('.').next().unwrap_or("");
        if DEVICE_NAMES.contains(&stem) {
            return Err(refuse("device name in path"));
        }
        if seg.ends_with('.') || seg.ends_with(' ') {
            return Err(refuse("segment ends with a dot or space"));
        }
        parts.push(seg);
    }
    if parts.is_empty() {
        return Err(refuse("empty path"));
    }
    Ok(parts.join("/"))
}

/// Validates a path given as an OS path (which may not be UTF-8).
pub fn validate_os(path: &Path) -> Result<String, PathError> {
    let Some(s) = path.to_str() else {
        return Err(PathError {
            path: path.to_string_lossy().into_owned(),
            reason: "path is not valid UTF-8",
        });
    };
    if path.components().any(|c| matches!(c, Component::Prefix(_))) {
        return Err(PathError {
            path: s.into(),
            reason: "absolute path",
        });
    }
    validate_relative(s)
}

/// Joins `rel` (validated) under `root` and checks that no existing component between `root`
/// and the target is a symlink (a symlink already in the checkout could point anywhere).
pub fn confined_join(root: &Path, rel: &str) -> Result<PathBuf, PathError> {
    let rel = validate_relative(rel)?;
    let mut cur = root.to_path_buf();
    for seg in rel.split('/') {
        cur.push(seg);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(PathError {
                    path: rel.clone(),
                    reason: "a symlink is in the way",
                });
            }
            _ => {}
        }
    }
    Ok(cur)
}

/// Checks the `app-dir` pattern: a valid relative path (placeholders filled with a sample),
/// never `.github/` (workflows, and nothing there is ours to write) nor `.git/`.
pub fn check_app_dir(pattern: &str) -> Result<String, String> {
    let sample = pattern.replace("<slug>", "app").replace("<number>", "1");
    let rel = validate_relative(&sample).map_err(|e| e.to_string())?;
    let first = rel.split('/').next().unwrap_or("").to_ascii_lowercase();
    if first == ".github" || first == ".git" {
        return Err(format!(
            "{pattern:?} lies under {first}/, which e2e-action never writes (workflows live there); choose a folder such as apps/<slug>"
        ));
    }
    Ok(rel)
}

/// Lexically normalises `path` (absolute, or relative to `base`): `.` dropped, `..` refused.
fn normalise(path: &Path, base: &Path) -> Result<PathBuf, String> {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let mut out = PathBuf::new();
    for c in full.components() {
        match c {
            Component::ParentDir => {
                return Err(format!("{} contains `..`", path.display()));
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Resolves a cache folder given by configuration (relative to `roots[0]`, the workspace) and
/// checks that it lies inside one of `roots` (workspace, `RUNNER_TEMP`, the tool cache), also
/// after following any symlink of the part that exists.
pub fn confine_cache_dir(what: &str, path: &Path, roots: &[&Path]) -> Result<PathBuf, String> {
    let base = roots.first().copied().unwrap_or(Path::new("."));
    let norm = normalise(path, base).map_err(|e| format!("{what}: {e}"))?;
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| normalise(r, Path::new("/")).ok())
        .collect();
    let inside = |p: &Path, roots: &[PathBuf]| roots.iter().any(|r| p.starts_with(r));
    let refuse = || {
        format!(
            "{what}: {} is outside the workspace and RUNNER_TEMP; the action writes only there",
            path.display()
        )
    };
    if !inside(&norm, &roots) {
        return Err(refuse());
    }
    // A symlink on the way could still lead out: compare the real paths of what exists.
    let mut existing = norm.clone();
    while !existing.exists() {
        if !existing.pop() {
            break;
        }
    }
    if let Ok(real) = std::fs::canonicalize(&existing) {
        let real_roots: Vec<PathBuf> = roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .collect();
        if !inside(&real, &real_roots) {
            return Err(refuse());
        }
    }
    Ok(norm)
}

/// Refuses a path that is, or is reached through, a symlink (every existing component is
/// checked, from the root down).
pub fn no_symlink_on_path(path: &Path) -> Result<(), String> {
    let mut cur = PathBuf::new();
    for c in path.components() {
        cur.push(c);
        if std::fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!("{} is a symlink", cur.display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_dir_may_not_be_under_github_or_git() {
        assert_eq!(check_app_dir("apps/<slug>").unwrap(), "apps/app");
        for bad in [
            ".github/workflows",
            ".GitHub/x",
            ".github",
            "./.github/<slug>",
            ".git/x",
        ] {
            assert!(check_app_dir(bad).is_err(), "{bad}");
        }
        assert!(check_app_dir("../x").is_err());
        assert!(check_app_dir("github/<slug>").is_ok());
    }

    #[test]
    fn cache_dirs_stay_in_the_workspace_or_runner_temp() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let rt = dir.path().join("rt");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&rt).unwrap();
        let roots = [ws.as_path(), rt.as_path()];
        assert_eq!(
            confine_cache_dir("llm-cache-dir", Path::new(".e2e/llm"), &roots).unwrap(),
            ws.join(".e2e/llm")
        );
        assert!(confine_cache_dir("x", &rt.join("c"), &roots).is_ok());
        let err = confine_cache_dir("llm-cache-dir", Path::new("../../x"), &roots).unwrap_err();
        assert!(err.contains("`..`"), "{err}");
        assert!(confine_cache_dir("cache-dir", Path::new("/etc/x"), &roots).is_err());
        // Through a symlink that leads out.
        std::os::unix::fs::symlink("/etc", ws.join("out")).unwrap();
        let err = confine_cache_dir("cache-dir", Path::new("out/x"), &roots).unwrap_err();
        assert!(err.contains("outside the workspace"), "{err}");
        assert!(no_symlink_on_path(&ws.join("out/x")).is_err());
        assert!(no_symlink_on_path(&ws).is_ok());
    }

    #[test]
    fn accepts_and_normalises_ordinary_paths() {
        assert_eq!(validate_relative("app/./main.py").unwrap(), "app/main.py");
        assert_eq!(validate_relative("a//b/").unwrap(), "a/b");
        assert_eq!(validate_relative("docs/Книга.md").unwrap(), "docs/Книга.md");
    }

    #[test]
    fn refuses_escapes() {
        for (p, why) in [
            ("/etc/passwd", "absolute path"),
            ("../x", "parent directory (..) in path"),
            ("a/../../x", "parent directory (..) in path"),
            (".git/config", "path inside .git"),
            ("a/.GIT/hooks/pre-commit", "path inside .git"),
            ("a\\b", "backslash in path"),
            ("C:/x", "drive-letter path"),
            ("a/nul.txt", "device name in path"),
            ("a/COM1", "device name in path"),
            ("a\0b", "control character in path"),
            ("", "empty path"),
            ("./", "empty path"),
            ("~/x", "absolute path"),
        ] {
            assert_eq!(validate_relative(p).unwrap_err().reason, why, "{p:?}");
        }
        assert_eq!(
            validate_relative(&"a".repeat(300)).unwrap_err().reason,
            "path segment too long"
        );
        assert_eq!(
            validate_relative(&"a/".repeat(600)).unwrap_err().reason,
            "path too long"
        );
    }

    #[test]
    fn refuses_non_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"a/\xff.py"));
        assert_eq!(
            validate_os(p).unwrap_err().reason,
            "path is not valid UTF-8"
        );
    }

    #[test]
    fn refuses_a_symlink_in_the_checkout() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("apps")).unwrap();
        let err = confined_join(root.path(), "apps/x/main.py").unwrap_err();
        assert_eq!(err.reason, "a symlink is in the way");
        assert!(confined_join(root.path(), "other/main.py").is_ok());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            /// Whatever the input, an accepted path is relative, normalised and stays inside.
            #[test]
            fn accepted_paths_stay_inside(path in "[a-zA-Z0-9_./\\\\:~ -]{0,40}|.{0,40}") {
                if let Ok(p) = validate_relative(&path) {
                    prop_assert!(!p.starts_with('/'));
                    prop_assert!(!p.split('/').any(|s| s == ".." || s == "." || s.is_empty()));
                    prop_assert!(!p.split('/').any(|s| s.eq_ignore_ascii_case(".git")));
                    prop_assert!(!p.contains('\\'));
                    let root = Path::new("/r");
                    prop_assert!(root.join(&p).starts_with(root));
                }
            }
        }
    }
}
