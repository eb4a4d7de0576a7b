//! Snapshots of a folder, one per file, with what changes from run to run redacted, and a check
//! that no snapshot outlives the file it was taken of.

use std::path::{Path, PathBuf};

/// insta settings that redact what changes from one run to the next: timestamps, and for a
/// run (`run`) commit SHAs, measured times, the venv cache's state and the host's sandbox. Generated files are a function of the issue
/// alone (two `generate` runs give the same bytes), so their SHAs (the pinned actions of the
/// deploy workflow) and durations (timeouts) are content and stay visible.
pub fn redacting(run: bool) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
        "[timestamp]",
    );
    if run {
        // Full and abbreviated commit SHAs (a commit's date is part of its hash).
        settings.add_filter(r"\b[0-9a-f]{7,40}\b", "[sha]");
        settings.add_filter(r"\b\d+(\.\d+)? ?(ms|s)\b", "[duration]");
        // Whether the app's virtual environment was already in the cache.
        settings.add_filter(r"(took \[duration\]) \(cached\)", "$1");
        // The isolation layers the host offers (kernel, uid, Landlock ABI) are the sandbox
        // tests' business.
        settings.add_filter(
            r"(?m)^sandbox: .*$",
            "sandbox: [this host's isolation layers]",
        );
    }
    settings
}

/// Every file under `root`, relative, sorted.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// What is snapshotted of a file: its text, or its size when it is not text.
fn shown(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => format!("<{} bytes, not UTF-8>\n", e.as_bytes().len()),
    }
}

/// The snapshot file insta writes for snapshot `name` (`/` becomes `__`).
fn snap_file(name: &str) -> String {
    format!("{}.snap", name.replace('/', "__"))
}

/// Snapshots every file under `root` into `tests/all/<folder>/`, one snapshot per file named by
/// its path. All files are compared before failing, so one run writes every `.snap.new`
/// (`cargo insta review`). A snapshot whose file is no longer generated fails the test; with
/// `INSTA_UPDATE=always` it is deleted instead, so regenerating leaves nothing stale behind.
pub fn snapshot_tree(root: &Path, folder: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/all")
        .join(folder);
    let mut settings = redacting(false);
    // Absolute: insta takes a relative path from this file's folder, not the caller's.
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    let mut failed = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    for rel in files_under(root) {
        let name = rel.display().to_string();
        let content = shown(&root.join(&rel));
        expected.insert(snap_file(&name));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.as_str(), content));
        }));
        if result.is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "{} generated files differ from their snapshots in tests/all/{folder}: {failed:?}",
        failed.len()
    );
    let update = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always" || v == "force");
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let pending = file.strip_suffix(".new");
        let taken = pending.unwrap_or(&file);
        if !taken.ends_with(".snap") {
            continue;
        }
        if !expected.contains(taken) {
            if update {
                std::fs::remove_file(&path).unwrap();
            } else {
                stale.push(file);
            }
        } else if pending.is_some() && update {
            // Left by an earlier run; the snapshot itself was just rewritten.
            std::fs::remove_file(&path).unwrap();
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots in tests/all/{folder} of files no longer generated (run with \
         INSTA_UPDATE=always to delete them): {stale:?}"
    );
}
