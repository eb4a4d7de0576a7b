//! Test (QA): install the generated app's toolchain and run its own tests, sandboxed.
//!
//! In: the generated files (written to a fresh staging folder under `RUNNER_TEMP`, never the
//! workspace) and the pack's toolchain and test command. Out: a [`TestReport`]. Installs go
//! into a virtual environment keyed by the requirements' hash, with `uv` when it is on `PATH`
//! (much faster) and `python -m venv` + pip otherwise; package caches live under the cache
//! folder so `actions/cache` can keep them. Fails only when nothing can be started (no Python);
//! failing tests are a report, not an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::E2eError;
use crate::pipeline::develop::Files;
use crate::sandbox::{self, Access, Isolation, SandboxCommand};
use crate::scaffold::PackManifest;

/// Result of the test stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// `passed` or `failed`.
    pub status: String,
    /// One line: pytest's summary, or what went wrong.
    pub summary: String,
    /// Install time, ms.
    pub install_ms: u128,
    /// Test run time, ms.
    pub test_ms: u128,
    /// Whether the venv was reused from an earlier install.
    pub install_cached: bool,
    /// Tail of the output of the failing step (empty on success).
    pub log_tail: String,
    /// Full log file of the install and test commands.
    pub log_path: PathBuf,
}

impl TestReport {
    /// Whether the tests passed.
    pub fn passed(&self) -> bool {
        self.status == "passed"
    }
}

/// Where the test stage works.
#[derive(Debug, Clone)]
pub struct TestDirs {
    /// Staging folder for this run (wiped first).
    pub work: PathBuf,
    /// Cache folder for virtual environments and package caches (kept between runs).
    pub cache: PathBuf,
}

/// Finds the real Python interpreter (through shims such as pyenv's) with the action's own
/// environment: the sandboxed commands then need no shim variables. The pipeline starts this
/// at its beginning, so a shim's cost overlaps the stages before the tests.
pub fn find_python() -> Result<PathBuf, E2eError> {
    // Fast path: `python3` on PATH is (a link to) a real executable, whose canonical path is
    // the interpreter itself. Only shims (scripts) need a Python start, which costs 20 ms for
    // a plain interpreter and 250 ms through pyenv's shim.
    if let Some(found) = find_on_path("python3")
        && let Ok(real) = std::fs::canonicalize(&found)
        && is_elf(&real)
    {
        return Ok(real);
    }
    for cand in ["python3", "python"] {
        let out = std::process::Command::new(cand)
            .args(["-c", "import sys; print(sys.executable)"])
            .output();
        if let Ok(out) = out
            && out.status.success()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !p.is_empty() {
                return Ok(PathBuf::from(p));
            }
        }
    }
    Err(E2eError::TestsFailed(
        "python3 is not installed on the runner; the python-fastapi stack needs it (use actions/setup-python before this step)".into(),
    ))
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

fn io(what: &str, e: std::io::Error) -> E2eError {
    E2eError::Workspace(format!("{what}: {e}"))
}

/// Writes `files` into a fresh staging folder, `dirs.work/app` (and an empty `home`).
pub fn stage(files: &Files, dirs: &TestDirs) -> Result<(), E2eError> {
    if dirs.work.exists() {
        std::fs::remove_dir_all(&dirs.work).map_err(|e| io("cleaning the staging folder", e))?;
    }
    std::fs::create_dir_all(dirs.work.join("home")).map_err(|e| io("staging folder", e))?;
    files.write_to(&dirs.work.join("app"))
}

/// The isolation layers for this run's tests, and the interpreter they use: when the sandbox
/// user cannot reach the interpreter found (pyenv under a private `/root`), the system's
/// `python3` is used if it can; else the run goes on without its own uid and says why.
pub fn prepare_isolation(python: PathBuf, dirs: &TestDirs) -> (Isolation, PathBuf) {
    let uv = find_on_path("uv").and_then(|p| std::fs::canonicalize(p).ok());
    let mut needs: Vec<&Path> = vec![&dirs.work, &dirs.cache];
    if let Some(uv) = &uv {
        needs.push(uv);
    }
    let mut iso = Isolation::prepare(&needs);
    let mut python = python;
    if let Some(u) = &iso.user
        && !sandbox::isolation::reachable(&python, u.uid, u.gid)
    {
        let system = ["/usr/local/bin/python3", "/usr/bin/python3"]
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .find(|p| is_elf(p) && sandbox::isolation::reachable(p, u.uid, u.gid));
        match system {
            Some(p) => python = p,
            None => {
                iso.off.push(format!(
                    "own uid: the interpreter {} is not reachable by uid {} and no system python3 is; generated code runs as the action's uid",
                    python.display(),
                    u.uid
                ));
                iso.user = None;
            }
        }
    }
    (iso, python)
}

/// What an interpreter needs to read besides the system folders: its installation prefix
/// (`<prefix>/bin/python3.x` → `<prefix>`), and certificate files the installer is pointed at.
pub fn interpreter_reads(python: &Path, env: &BTreeMap<String, String>) -> Vec<PathBuf> {
    let mut read: Vec<PathBuf> = python
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    for (k, v) in env {
        if matches!(
            k.as_str(),
            "SSL_CERT_FILE" | "SSL_CERT_DIR" | "PIP_CERT" | "UV_CERT"
        ) {
            read.push(PathBuf::from(v));
        }
    }
    read
}

/// Stages `files` and runs the app's tests with the interpreter [`find_python`] found.
pub async fn run_tests(
    files: &Files,
    manifest: &PackManifest,
    dirs: &TestDirs,
    python: &Path,
    timeout: Duration,
    iso: &Isolation,
) -> Result<TestReport, E2eError> {
    stage(files, dirs)?;
    run_staged(files, manifest, dirs, python, timeout, iso).await
}

/// Runs the app's tests on what [`stage`] wrote (`files` must be what it wrote).
pub async fn run_staged(
    files: &Files,
    manifest: &PackManifest,
    dirs: &TestDirs,
    python: &Path,
    timeout: Duration,
    iso: &Isolation,
) -> Result<TestReport, E2eError> {
    let app = dirs.work.join("app");
    let home = dirs.work.join("home");
    // The sandbox user owns the staging folder (and nothing else of ours).
    iso.hand_over(&dirs.work)
        .map_err(|e| io("handing the staging folder to the sandbox user", e))?;
    // Beside the staging folder, not in it: the sandbox user owns that folder and could put a
    // symlink where we (root) write.
    let log_path = dirs.work.with_extension("test-log.txt");
    let mut log = String::new();
    if manifest.toolchain != "python" {
        return Err(E2eError::Stack(format!(
            "pack {} needs toolchain {:?}, which this version cannot prepare (known: python)",
            manifest.name, manifest.toolchain
        )));
    }
    let deadline = std::time::Instant::now() + timeout;
    let remaining = || {
        deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(Duration::from_secs(1))
    };

    // Install.
    let requirements = match &manifest.requirements {
        Some(r) => files
            .files
            .iter()
            .find(|f| &f.path == r)
            .map(|f| f.content.clone())
            .ok_or_else(|| {
                E2eError::Stack(format!("pack {} did not generate {r}", manifest.name))
            })?,
        None => String::new(),
    };
    let uv = find_on_path("uv");
    // Files it includes (`-r requirements-prod.txt`) are part of what gets installed.
    let included = match &manifest.requirements {
        Some(path) => included_requirements(
            |p| {
                files
                    .files
                    .iter()
                    .find(|f| f.path == p)
                    .map(|f| f.content.clone())
            },
            path,
        ),
        None => Vec::new(),
    };
    let venv = venv_dir(&dirs.cache, python, &requirements, &included);
    let key = venv
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ready = venv.join(".e2e-ready");
    let venv_bin = venv.join("bin");
    let install_started = std::time::Instant::now();
    // Runs that share this cache (and this requirements set) install one at a time: the
    // others wait here, then find the venv ready. The lock is released when `_lock` drops.
    let _lock = {
        let path = dirs.cache.join("venvs").join(format!("{key}.lock"));
        tokio::task::spawn_blocking(move || lock_file(&path))
            .await
            .map_err(|e| E2eError::Internal(format!("waiting for the venv lock crashed: {e}")))?
            .map_err(|e| io("virtual environment lock", e))?
    };
    let install_cached = ready.is_file();
    if !install_cached {
        if venv.exists() {
            std::fs::remove_dir_all(&venv).map_err(|e| io("old virtual environment", e))?;
        }
        let mut env = sandbox::base_env(&[], &home);
        let refused = sandbox::add_install_passthrough(&mut env, std::env::vars());
        if !refused.is_empty() {
            log.push_str(&format!(
                "[e2e-action: not passed to the installer because they hold credentials: {}]\n",
                refused.join(", ")
            ));
        }
        let (uv_cache, pip_cache) = (dirs.cache.join("uv"), dirs.cache.join("pip"));
        // The installer (untrusted: a package may run code) writes only the venv and the
        // package caches, which the sandbox user gets.
        for d in [&venv, &uv_cache, &pip_cache] {
            std::fs::create_dir_all(d).map_err(|e| io("cache folder", e))?;
            iso.hand_over(d)
                .map_err(|e| io("handing the cache to the sandbox user", e))?;
        }
        // The default cache lives in the workspace: keep it out of a later step's `git add -A`.
        let ignore = dirs.cache.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n").map_err(|e| io("cache folder", e))?;
        }
        let mut read = interpreter_reads(python, &env);
        read.extend(uv.as_ref().and_then(|u| std::fs::canonicalize(u).ok()));
        let access = Access {
            write: vec![
                dirs.work.clone(),
                venv.clone(),
                uv_cache.clone(),
                pip_cache.clone(),
            ],
            read,
            tcp_ports: sandbox::install_ports(&env),
        };
        env.insert("UV_CACHE_DIR".into(), uv_cache.display().to_string());
        env.insert("PIP_CACHE_DIR".into(), pip_cache.display().to_string());
        let venv_s = venv.display().to_string();
        let py_s = python.display().to_string();
        let steps: Vec<Vec<String>> = match &uv {
            Some(uv) => {
                let uv = uv.display().to_string();
                let mut s = vec![vec![
                    uv.clone(),
                    "venv".into(),
                    "--quiet".into(),
                    // The folder exists: the action created it for the sandbox user.
                    "--allow-existing".into(),
                    "--python".into(),
                    py_s,
                    venv_s.clone(),
                ]];
                if manifest.requirements.is_some() {
                    s.push(vec![
                        uv,
                        "pip".into(),
                        "install".into(),
                        "--quiet".into(),
                        "--python".into(),
                        format!("{venv_s}/bin/python"),
                        "-r".into(),
                        app.join(manifest.requirements.as_deref().unwrap_or_default())
                            .display()
                            .to_string(),
                    ]);
                }
                s
            }
            None => {
                let mut s = vec![vec![py_s, "-m".into(), "venv".into(), venv_s.clone()]];
                if manifest.requirements.is_some() {
                    s.push(vec![
                        format!("{venv_s}/bin/python"),
                        "-m".into(),
                        "pip".into(),
                        "install".into(),
                        "--quiet".into(),
                        "--disable-pip-version-check".into(),
                        "-r".into(),
                        app.join(manifest.requirements.as_deref().unwrap_or_default())
                            .display()
                            .to_string(),
                    ]);
                }
                s
            }
        };
        for argv in steps {
            log.push_str(&format!("$ {}\n", argv.join(" ")));
            let out = sandbox::run(
                &SandboxCommand {
                    argv,
                    cwd: app.clone(),
                    env: env.clone(),
                    timeout: remaining(),
                    access: access.clone(),
                },
                iso,
            )
            .await
            .map_err(|e| E2eError::TestsFailed(format!("cannot start the installer: {e}")))?;
            log.push_str(&out.output);
            if !out.success() {
                let _ = write_no_follow(&log_path, &log);
                return Ok(TestReport {
                    status: "failed".into(),
                    summary: if out.timed_out {
                        "installing the app's requirements hit the time limit".into()
                    } else {
                        format!(
                            "installing the app's requirements failed (exit {:?})",
                            out.code
                        )
                    },
                    install_ms: install_started.elapsed().as_millis(),
                    test_ms: 0,
                    install_cached,
                    log_tail: tail(&out.output, 60),
                    log_path,
                });
            }
        }
        // The venv belongs to the sandbox user, whose processes are all gone by now: whatever
        // it left at this name is replaced, never followed.
        write_no_follow(&ready, &requirements).map_err(|e| io("virtual environment", e))?;
    }
    let install_ms = install_started.elapsed().as_millis();

    // Test.
    let argv: Vec<String> = manifest
        .test
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 && a == "python" {
                venv_bin.join("python").display().to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    let mut env: BTreeMap<String, String> = sandbox::base_env(&[&venv_bin], &home);
    env.insert("VIRTUAL_ENV".into(), venv.display().to_string());
    env.insert("APP_ENV".into(), "test".into());
    // Bytecode may be written here (unlike during installs): the first run on a new venv
    // leaves the modules its tests import compiled in the venv (4 s off every later run), and
    // the app's own in the staging folder, which is wiped before each run. Compiling the whole
    // venv at install instead (`uv pip install --compile-bytecode`) took 25 s for ~1600
    // modules, most of which no test imports.
    env.remove("PYTHONDONTWRITEBYTECODE");
    // A venv made by an earlier run belongs to the sandbox group already (then this does
    // nothing); one made without the uid layer is handed over.
    if iso.user.is_some() {
        iso.hand_over(&venv)
            .map_err(|e| io("handing the venv to the sandbox user", e))?;
    }
    // Tests get no TCP connect at all (the app's tests talk to it in process).
    let access = Access {
        write: vec![dirs.work.clone(), venv.clone()],
        read: interpreter_reads(python, &env),
        tcp_ports: Vec::new(),
    };
    log.push_str(&format!("$ {}\n", argv.join(" ")));
    let out = sandbox::run(
        &SandboxCommand {
            argv,
            cwd: app.clone(),
            env,
            timeout: remaining(),
            access,
        },
        iso,
    )
    .await
    .map_err(|e| E2eError::TestsFailed(format!("cannot start the tests: {e}")))?;
    log.push_str(&out.output);
    let _ = write_no_follow(&log_path, &log);
    if out.survivors > 0 {
        // The uid's processes are killed with kill(-1) as that uid, which nothing it runs can
        // refuse: a survivor means the isolation failed, an internal error to report.
        return Err(E2eError::Internal(format!(
            "{} processes of the sandbox user survived the kill after the tests; nothing is pushed (please report it, with the kernel version)",
            out.survivors
        )));
    }
    let summary = pytest_summary(&out.output).unwrap_or_else(|| {
        if out.timed_out {
            "the tests hit the time limit".into()
        } else {
            format!("test command exited with {:?}", out.code)
        }
    });
    Ok(TestReport {
        status: if out.success() { "passed" } else { "failed" }.into(),
        summary: if out.timed_out {
            format!("{summary} (killed at the time limit)")
        } else {
            summary
        },
        install_ms,
        test_ms: out.duration.as_millis(),
        install_cached,
        log_tail: if out.success() {
            String::new()
        } else {
            tail(&out.output, 80)
        },
        log_path,
    })
}

/// Opens (creating) `path` and takes an exclusive `flock` on it, waiting for other holders.
fn lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// Writes `content` to `path` as a new file: an existing entry (a symlink planted by generated
/// code, say) is removed first and the new file is created exclusively, so nothing is followed.
fn write_no_follow(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?
        .write_all(content.as_bytes())
}

/// The virtual environment the test stage makes (or reuses) under `cache` for an app whose
/// requirements file holds `requirements`, built with `python`. `eval` starts apps with it.
pub fn venv_dir(cache: &Path, python: &Path, requirements: &str, included: &[String]) -> PathBuf {
    let mut h = Sha256::new();
    // The recipe's version: bump it when the way a venv is built changes.
    h.update(b"venv-recipe-3\0");
    h.update(python.to_string_lossy().as_bytes());
    h.update([0]);
    h.update(requirements.as_bytes());
    for inc in included {
        h.update([0]);
        h.update(inc.as_bytes());
    }
    cache.join("venvs").join(hex::encode(&h.finalize()[..8]))
}

/// The last line of pytest's output that reports counts (`3 passed, 1 failed in 2.1s`).
pub fn pytest_summary(output: &str) -> Option<String> {
    output
        .lines()
        .rev()
        .map(|l| l.trim().trim_matches('=').trim())
        .find(|l| {
            (l.contains(" passed")
                || l.contains(" failed")
                || l.contains(" error")
                || l.contains("no tests ran"))
                && l.contains(" in ")
        })
        .map(String::from)
}

/// The contents of the generated files that the requirements file at `path` includes with
/// `-r`/`-c` (and `--requirement`/`--constraint`), recursively, each once, in order. A file not
/// among the generated ones is left to the installer, which reports it.
/// The contents of the requirement files `path` includes (`-r`/`-c`, recursively), read
/// through `read` (a path relative to the app folder → its content).
pub fn included_requirements(read: impl Fn(&str) -> Option<String>, path: &str) -> Vec<String> {
    let mut seen = vec![path.to_string()];
    let mut out = Vec::new();
    let mut queue = vec![path.to_string()];
    while let Some(current) = queue.pop() {
        let Some(content) = read(&current) else {
            continue;
        };
        let dir = Path::new(&current).parent().unwrap_or(Path::new(""));
        for line in content.lines() {
            let mut words = line.split_whitespace();
            let target = match words.next() {
                Some("-r" | "-c" | "--requirement" | "--constraint") => words.next(),
                Some(w) => ["-r", "-c", "--requirement=", "--constraint="]
                    .iter()
                    .find_map(|p| w.strip_prefix(p).filter(|rest| !rest.is_empty())),
                None => None,
            };
            if let Some(target) = target {
                let joined = normalize(&dir.join(target));
                if !seen.contains(&joined) {
                    seen.push(joined.clone());
                    if let Some(c) = read(&joined) {
                        out.push(c);
                    }
                    queue.push(joined);
                }
            }
        }
    }
    out
}

/// `a/../b/./c` → `b/c`, lexically (generated paths have no symlinks).
fn normalize(path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(p) => parts.push(p),
            _ => {}
        }
    }
    parts
        .iter()
        .map(|p| p.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The staging folder for one issue's tests under `runner_temp`.
pub fn work_dir(runner_temp: &Path, issue: u64) -> PathBuf {
    runner_temp
        .join("e2e-action")
        .join(format!("issue-{issue}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_never_follow_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep").unwrap();
        let planted = dir.path().join(".e2e-ready");
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        write_no_follow(&planted, "requirements").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&planted).unwrap(), "requirements");
        assert!(!std::fs::symlink_metadata(&planted).unwrap().is_symlink());
    }

    #[test]
    fn pytest_summary_lines() {
        let out = "....\n=========== 12 passed, 1 warning in 3.21s ===========\n";
        assert_eq!(
            pytest_summary(out).unwrap(),
            "12 passed, 1 warning in 3.21s"
        );
        assert_eq!(
            pytest_summary("1 failed, 2 passed in 0.5s").unwrap(),
            "1 failed, 2 passed in 0.5s"
        );
        assert!(pytest_summary("ImportError").is_none());
    }

    #[test]
    fn included_requirement_files_are_part_of_the_venv_key() {
        use crate::pipeline::develop::GeneratedFile;
        let file = |p: &str, c: &str| GeneratedFile::plain(p, "x", c.into());
        let files = Files {
            files: vec![
                file("requirements.txt", "-r requirements-prod.txt\npytest==9\n"),
                file(
                    "requirements-prod.txt",
                    "-c deps/constraints.txt\nfastapi==1\n",
                ),
                file(
                    "deps/constraints.txt",
                    "--requirement=../requirements.txt\nanyio==4\n",
                ),
                file("other.txt", "never included\n"),
            ],
        };
        let read = |p: &str| {
            files
                .files
                .iter()
                .find(|f| f.path == p)
                .map(|f| f.content.clone())
        };
        assert_eq!(
            included_requirements(read, "requirements.txt"),
            vec![
                "-c deps/constraints.txt\nfastapi==1\n".to_string(),
                "--requirement=../requirements.txt\nanyio==4\n".to_string(),
            ]
        );
        assert!(included_requirements(read, "other.txt").is_empty());
        assert_eq!(normalize(Path::new("deps/../a/./b.txt")), "a/b.txt");
    }

    #[test]
    fn the_interpreter_is_a_real_executable_never_a_shim() {
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("python3");
        std::fs::write(&shim, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
        assert!(!is_elf(&shim));
        assert!(!is_elf(&dir.path().join("missing")));
        assert!(is_elf(&std::env::current_exe().unwrap()));
        let python = find_python().unwrap();
        assert!(is_elf(&python), "{}", python.display());
    }
}
