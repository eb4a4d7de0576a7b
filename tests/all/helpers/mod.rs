//! `TestContext`: a bare origin, a clone as workspace, the runner's env vars, and the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git2::{Repository, Signature};

pub mod github_api;
pub mod snapshot;
pub mod vendor;

/// The sample event shipped in `examples/events/`.
pub fn sample_event() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/events/issue-opened.json")
}

/// A fixture file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Virtual environments and package caches shared by every test (inside the checkout).
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-test-cache")
}

/// A package cache the sandbox user can reach: the shared one when every folder above it is
/// searchable by others (as a runner's workspace is), else a fresh one in `runner_temp` (a
/// checkout under a private `mktemp -d` folder). Tests that prove the own-uid layer use it, so
/// that layer is always in force when they run as root, wherever the checkout lies.
pub fn sandbox_cache(runner_temp: &Path) -> PathBuf {
    let shared = shared_cache();
    let _ = std::fs::create_dir_all(&shared);
    if searchable_by_others(&shared) {
        shared
    } else {
        runner_temp.join("cache")
    }
}

/// Whether every folder above `path` is searchable by others.
fn searchable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors().skip(1).all(|dir| {
        std::fs::metadata(dir)
            .map(|m| m.permissions().mode() & 0o001 != 0)
            .unwrap_or(false)
    })
}

/// A `PATH` whose `uv` the sandbox user can run: the tests' own when it lies in a searchable
/// folder, else a copy in `runner_temp/tools` put first (as the image ships it in
/// /usr/local/bin). A checkout under a private `mktemp -d` folder holds `.venv-test/bin/uv`
/// out of the sandbox user's reach, which would turn the own-uid layer off.
pub fn sandbox_path(runner_temp: &Path) -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    let Some(uv) = std::env::split_paths(&path)
        .map(|dir| dir.join("uv"))
        .find(|p| p.is_file())
    else {
        return path;
    };
    if searchable_by_others(&uv) {
        return path;
    }
    let tools = runner_temp.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::copy(&uv, tools.join("uv")).unwrap();
    format!("{}:{path}", tools.display())
}

/// One test's world.
pub struct TestContext {
    /// Holds everything; removed on drop.
    pub dir: tempfile::TempDir,
    /// Bare origin.
    pub origin: PathBuf,
    /// Clone used as `GITHUB_WORKSPACE`.
    pub workspace: PathBuf,
    /// `RUNNER_TEMP`.
    pub runner_temp: PathBuf,
    /// `GITHUB_OUTPUT`.
    pub output: PathBuf,
    /// `GITHUB_STEP_SUMMARY`.
    pub summary: PathBuf,
    /// Extra env vars for the binary.
    pub env: BTreeMap<String, String>,
}

impl TestContext {
    /// A bare origin with one commit on `main`, cloned as the workspace.
    pub fn new() -> TestContext {
        let dir = tempfile::tempdir().unwrap();
        // Searchable by others, as a runner's folders are, so the sandbox user (its own uid)
        // can reach the staging folder: the tests exercise every isolation layer.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let origin = dir.path().join("origin.git");
        let seed = dir.path().join("seed");
        Repository::init_bare(&origin)
            .unwrap()
            .set_head("refs/heads/main")
            .unwrap();
        let repo = Repository::init(&seed).unwrap();
        std::fs::write(seed.join("README.md"), "# test repo\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("README.md")).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("t", "t@example.invalid").unwrap();
        repo.commit(Some("refs/heads/main"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        repo.remote("origin", origin.to_str().unwrap()).unwrap();
        repo.find_remote("origin")
            .unwrap()
            .push(&["refs/heads/main:refs/heads/main"], None)
            .unwrap();
        let workspace = dir.path().join("workspace");
        Repository::clone(origin.to_str().unwrap(), &workspace).unwrap();
        let runner_temp = dir.path().join("runner-temp");
        std::fs::create_dir_all(&runner_temp).unwrap();
        TestContext {
            output: dir.path().join("github_output"),
            summary: dir.path().join("step_summary"),
            origin,
            workspace,
            runner_temp,
            env: BTreeMap::new(),
            dir,
        }
    }

    /// The binary with the runner's environment (and nothing of ours that could leak in).
    pub fn command(&self, event_name: &str, event: Option<&Path>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_e2e-action"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_REPOSITORY", "octo-org/reading-list")
            .env("GITHUB_OUTPUT", &self.output)
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("RUNNER_TEMP", &self.runner_temp)
            // The tests' shared package cache lives under target/, which the runner's tool
            // cache stands for (a cache folder must be inside the workspace, RUNNER_TEMP or it).
            .env(
                "RUNNER_TOOL_CACHE",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            );
        for (k, v) in std::env::vars() {
            if k.starts_with("PIP_") || k.starts_with("UV_") || k == "SSL_CERT_FILE" {
                cmd.env(k, v);
            }
        }
        if let Some(e) = event {
            cmd.env("GITHUB_EVENT_PATH", e);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// Runs the binary exactly as the runner does: no arguments, environment only (with a
    /// package cache shared by the tests through the `cache-dir` input).
    pub fn run_action(&self, event_name: &str, event: Option<&Path>) -> Output {
        self.run_action_with_cache(event_name, event, &shared_cache())
    }

    /// [`TestContext::run_action`] with the given `cache-dir`.
    pub fn run_action_with_cache(
        &self,
        event_name: &str,
        event: Option<&Path>,
        cache: &Path,
    ) -> Output {
        let mut cmd = self.command(event_name, event);
        cmd.env("INPUT_CACHE-DIR", cache);
        cmd.output().unwrap()
    }

    /// `GITHUB_OUTPUT` parsed (`name<<DELIM` form).
    pub fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&std::fs::read_to_string(&self.output).unwrap_or_default())
    }

    /// Branches of the origin with their tips.
    pub fn origin_branches(&self) -> BTreeMap<String, String> {
        let repo = Repository::open_bare(&self.origin).unwrap();
        let mut out = BTreeMap::new();
        for r in repo.references().unwrap() {
            let r = r.unwrap();
            if let (Ok(name), Some(oid)) = (r.name(), r.target()) {
                out.insert(
                    name.trim_start_matches("refs/heads/").to_string(),
                    oid.to_string(),
                );
            }
        }
        out
    }

    /// Writes the repository's configuration file (`.github/e2e-action.yml`), untracked.
    pub fn write_config(&self, yaml: &str) {
        let path = self.workspace.join(".github/e2e-action.yml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, yaml).unwrap();
    }

    /// Everything of the workspace's `.git` and files, as a fingerprint for "untouched" checks.
    pub fn workspace_fingerprint(&self) -> Vec<(String, Vec<u8>)> {
        fingerprint(&self.workspace)
    }
}

/// Parses the `name<<DELIM` … `DELIM` format of `GITHUB_OUTPUT`.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// Paths and contents of every file under `root`, sorted.
pub fn fingerprint(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// stdout + stderr of an output, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `tests/support/git_http_server.py`: git smart HTTP with Basic auth on 127.0.0.1, stopped on drop.
pub struct GitServer {
    child: std::process::Child,
    /// Port it listens on.
    pub port: u16,
    /// Its request log.
    pub log: PathBuf,
}

impl GitServer {
    /// Serves the bare repositories under `root`; the password must be `token`.
    pub fn start(root: &Path, token: &str) -> GitServer {
        use std::io::BufRead;
        let log = root.join("git-http.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/git_http_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--root")
            .arg(root)
            .arg("--token")
            .arg(token)
            .arg("--log")
            .arg(&log)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 for the git server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT=")
            .expect("PORT= line")
            .parse()
            .unwrap();
        GitServer { child, port, log }
    }

    /// URL of a repository under the root.
    pub fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// prism serving GitHub's REST description on 127.0.0.1, stopped on drop.
pub struct Prism {
    pid: String,
    /// Port.
    pub port: u16,
    /// Its log (validation messages).
    pub log: std::path::PathBuf,
}

impl Prism {
    /// Starts prism (5–10 s) with its log under `dir`.
    pub fn start(dir: &Path) -> Prism {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("prism.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/start_prism.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(port.to_string())
            .arg(&log)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "prism did not start: {}{}",
            text(&out),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Prism {
            pid: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            port,
            log,
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
    }
}
