//! Running generated code: its installs and tests are untrusted programs.
//!
//! Each command runs with an environment built from scratch (never the action's own: no token,
//! no API key), in its own process group, with a wall-time limit after which the whole group
//! is killed, and with its output capped. The group is also killed after a normal exit, and
//! with its own uid every process of that uid too, so a test that forks a daemon (even one that
//! calls `setsid`) leaves nothing behind. The layers around the process (own uid, Landlock,
//! limits) are decided once per run in [`isolation`].

pub mod isolation;

pub use isolation::{Access, Isolation};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

/// Output kept from a command: the head and the tail, each up to this many bytes.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// A command to run in the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxCommand {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Working directory (inside the app folder).
    pub cwd: PathBuf,
    /// The complete environment.
    pub env: BTreeMap<String, String>,
    /// Wall-time limit.
    pub timeout: Duration,
    /// What it may reach besides the read-only system folders (Landlock).
    pub access: Access,
}

/// How a sandboxed command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOutcome {
    /// Exit code (`None` when killed by a signal or the timeout).
    pub code: Option<i32>,
    /// Whether the wall-time limit was hit.
    pub timed_out: bool,
    /// Captured stdout+stderr, interleaved, capped (see [`OUTPUT_CAP`]).
    pub output: String,
    /// Wall time.
    pub duration: Duration,
    /// Processes of the sandbox uid still alive after the kill (0 unless something is wrong).
    pub survivors: usize,
}

impl SandboxOutcome {
    /// Whether the command succeeded.
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }
}

/// Variables passed through to installers (package index and proxy settings), unless their
/// name suggests a secret.
const INSTALL_PASSTHROUGH_PREFIXES: &[&str] = &["PIP_", "UV_"];
const INSTALL_PASSTHROUGH: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Whether a variable name looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "KEY",
        "AUTH",
        "CREDENTIAL",
        "COOKIE",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// The base environment of every sandboxed command.
pub fn base_env(path_dirs: &[&Path], home: &Path) -> BTreeMap<String, String> {
    let mut path: Vec<String> = path_dirs.iter().map(|p| p.display().to_string()).collect();
    path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(String::from));
    BTreeMap::from([
        ("PATH".into(), path.join(":")),
        ("HOME".into(), home.display().to_string()),
        ("TMPDIR".into(), home.display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("LC_ALL".into(), "C.UTF-8".into()),
        ("CI".into(), "true".into()),
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ("PYTHONHASHSEED".into(), "0".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
    ])
}

/// Adds the installer pass-through variables of `parent` to `env`; returns the names of the
/// wanted ones that were refused because they hold a secret (the caller says so in the log).
pub fn add_install_passthrough(
    env: &mut BTreeMap<String, String>,
    parent: impl Iterator<Item = (String, String)>,
) -> Vec<String> {
    let mut refused = Vec::new();
    for (k, v) in parent {
        let wanted = INSTALL_PASSTHROUGH.contains(&k.as_str())
            || INSTALL_PASSTHROUGH_PREFIXES
                .iter()
                .any(|p| k.starts_with(p));
        if !wanted {
            continue;
        }
        if looks_secret(&k) || has_userinfo(&v) {
            refused.push(k);
        } else {
            env.insert(k, v);
        }
    }
    refused
}

// Index and proxy URLs are wanted, but not when one of them embeds credentials (`user:pass@`):
// pip and uv take space-separated lists (`PIP_EXTRA_INDEX_URL="https://a https://u:p@b"`).
fn has_userinfo(value: &str) -> bool {
    value.split_whitespace().any(|url| {
        url.split_once("://").is_some_and(|(_, rest)| {
            rest.split(['/', '?', '#'])
                .next()
                .unwrap_or("")
                .contains('@')
        })
    })
}

/// The TCP ports the URLs in `env`'s index and proxy variables point at, plus 80 and 443:
/// all an installer may connect to.
pub fn install_ports(env: &BTreeMap<String, String>) -> Vec<u16> {
    let mut ports = vec![80, 443];
    for v in env.values() {
        for url in v.split_whitespace() {
            let Some((scheme, rest)) = url.split_once("://") else {
                continue;
            };
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            let port = host
                .rsplit_once(':')
                .filter(|(h, _)| !h.ends_with(']') || host.starts_with('['))
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .or(match scheme {
                    "http" => Some(80),
                    "https" => Some(443),
                    _ => None,
                });
            if let Some(p) = port
                && !ports.contains(&p)
            {
                ports.push(p);
            }
        }
    }
    ports
}

/// A started command: the child, its process group, its captured output and the two tasks
/// that pump stdout and stderr into it.
struct Spawned {
    child: tokio::process::Child,
    pgid: Option<i32>,
    buf: Arc<Mutex<CappedBuffer>>,
    pumps: [tokio::task::JoinHandle<()>; 2],
}

/// Starts `argv` in `cwd` with exactly `env`, in its own process group, inside the layers of
/// `iso` with `access`; its output goes to a capped buffer. Shared by [`run`] and [`Service`].
fn spawn(
    argv: &[String],
    cwd: &Path,
    env: &BTreeMap<String, String>,
    iso: &Isolation,
    access: &Access,
) -> std::io::Result<Spawned> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut command = tokio::process::Command::new(prog);
    let mut ruleset = iso.ruleset(access)?;
    let user = iso.user.as_ref().map(|u| (u.uid, u.gid));
    // SAFETY: the closure runs between fork and exec and does only async-signal-safe work
    // (setrlimit, setuid, Landlock's restrict_self on a ruleset built above, prctl); the
    // parent-death signal makes the command die with us even when we are killed with SIGKILL.
    unsafe {
        command.pre_exec(move || isolation::child_setup(user, &mut ruleset));
    }
    let mut child = command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let pgid = child.id().map(|p| p as i32);
    let buf = Arc::new(Mutex::new(CappedBuffer::default()));
    let pumps = [
        tokio::spawn(pump(child.stdout.take(), buf.clone())),
        tokio::spawn(pump(child.stderr.take(), buf.clone())),
    ];
    Ok(Spawned {
        child,
        pgid,
        buf,
        pumps,
    })
}

/// Runs `cmd` in its own process group inside the layers of `iso`; never fails for a bad exit,
/// only when it cannot start.
pub async fn run(cmd: &SandboxCommand, iso: &Isolation) -> std::io::Result<SandboxOutcome> {
    let start = Instant::now();
    let Spawned {
        mut child,
        pgid,
        buf,
        pumps: [out, err],
    } = spawn(&cmd.argv, &cmd.cwd, &cmd.env, iso, &cmd.access)?;
    let (code, timed_out) = match tokio::time::timeout(cmd.timeout, child.wait()).await {
        Ok(status) => (status?.code(), false),
        Err(_) => (None, true),
    };
    // Kill the whole group either way: on timeout to stop it, after an exit to reap daemons;
    // then everything of the sandbox uid, which includes what left the group.
    if let Some(pgid) = pgid {
        kill_group(pgid);
    }
    let _ = child.wait().await;
    let survivors = if iso.user.is_some() {
        tokio::task::block_in_place(|| iso.kill_user_processes())
    } else {
        0
    };
    // The pumps end when the last writer of the pipes is gone, which the kill ensured.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = out.await;
        let _ = err.await;
    })
    .await;
    let mut output = buf.lock().map(|b| b.text()).unwrap_or_default();
    if timed_out {
        output.push_str(&format!(
            "\n[e2e-action: killed after the time limit of {}s]\n",
            cmd.timeout.as_secs()
        ));
    }
    Ok(SandboxOutcome {
        code,
        timed_out,
        output,
        duration: start.elapsed(),
        survivors,
    })
}

/// A long-running sandboxed command, such as a started app: the same layers as [`run`] (fresh
/// environment, own uid, Landlock, limits, own process group, parent-death signal), with no
/// time limit; the whole group, then every process of the sandbox uid, is killed when the
/// `Service` is dropped. It holds the `Isolation` (and so its uid) until then.
pub struct Service {
    child: tokio::process::Child,
    pgid: Option<i32>,
    output: Arc<Mutex<CappedBuffer>>,
    iso: Isolation,
}

impl Service {
    /// Starts `argv` in `cwd` with exactly `env` (the caller builds it with [`base_env`]),
    /// inside the layers of `iso` with `access`.
    pub fn start(
        argv: &[String],
        cwd: &Path,
        env: &BTreeMap<String, String>,
        iso: Isolation,
        access: &Access,
    ) -> std::io::Result<Service> {
        let spawned = spawn(argv, cwd, env, &iso, access)?;
        Ok(Service {
            child: spawned.child,
            pgid: spawned.pgid,
            output: spawned.buf,
            iso,
        })
    }

    /// Whether the command has ended, with its exit code (`Some(None)`: killed by a signal).
    pub fn exited(&mut self) -> Option<Option<i32>> {
        self.child.try_wait().ok().flatten().map(|s| s.code())
    }

    /// What the command printed so far (capped as [`run`]'s output is).
    pub fn output(&self) -> String {
        self.output.lock().map(|b| b.text()).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            kill_group(pgid);
        }
        self.iso.kill_user_processes();
    }
}

fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

async fn pump(stream: Option<impl AsyncRead + Unpin>, buf: Arc<Mutex<CappedBuffer>>) {
    let Some(mut stream) = stream else { return };
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Ok(mut b) = buf.lock() {
                    b.push(&chunk[..n]);
                }
            }
        }
    }
}

/// Keeps the first and the last [`OUTPUT_CAP`] bytes of a stream.
#[derive(Default)]
struct CappedBuffer {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    dropped: usize,
}

impl CappedBuffer {
    fn push(&mut self, mut data: &[u8]) {
        let room = OUTPUT_CAP.saturating_sub(self.head.len());
        let take = room.min(data.len());
        self.head.extend_from_slice(&data[..take]);
        data = &data[take..];
        for &b in data {
            if self.tail.len() == OUTPUT_CAP {
                self.tail.pop_front();
                self.dropped += 1;
            }
            self.tail.push_back(b);
        }
    }

    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            s.push_str(&format!(
                "\n[… {} bytes of output dropped …]\n",
                self.dropped
            ));
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        s.push_str(&String::from_utf8_lossy(&tail));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(script: &str, secs: u64) -> SandboxCommand {
        let dir = std::env::temp_dir();
        SandboxCommand {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            cwd: dir.clone(),
            env: base_env(&[], &dir),
            timeout: Duration::from_secs(secs),
            access: Access::default(),
        }
    }

    async fn run_plain(c: &SandboxCommand) -> std::io::Result<SandboxOutcome> {
        run(c, &Isolation::none()).await
    }

    #[tokio::test]
    async fn environment_is_built_from_scratch() {
        // SAFETY: test-only; no other thread reads this variable.
        unsafe { std::env::set_var("E2E_CANARY_TOKEN", "ghp_canary") };
        let out = run_plain(&cmd("env", 10)).await.unwrap();
        assert!(out.success());
        assert!(out.output.contains("LANG=C.UTF-8"));
        assert!(!out.output.contains("ghp_canary"));
    }

    #[tokio::test]
    async fn timeout_kills_the_group_including_children() {
        let marker = tempfile::NamedTempFile::new().unwrap();
        let path = marker.path().display().to_string();
        // A child in the background that would write after 3 s, and a parent sleeping forever.
        let script = format!("(sleep 3; echo alive > {path}) & sleep 1000");
        let out = run_plain(&cmd(&script, 1)).await.unwrap();
        assert!(out.timed_out);
        assert!(!out.success());
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[tokio::test]
    async fn output_is_capped_head_and_tail() {
        let out = run_plain(&cmd("head -c 300000 /dev/zero | tr '\\0' a; echo END", 10))
            .await
            .unwrap();
        assert!(out.output.len() < 2 * OUTPUT_CAP + 100);
        assert!(out.output.contains("bytes of output dropped"));
        assert!(out.output.trim_end().ends_with("END"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_service_runs_in_the_layers_and_leaves_nothing_when_dropped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // Writable by anyone: only Landlock keeps the service out.
        let outside = tempfile::tempdir().unwrap();
        std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let iso = Isolation::prepare(&[dir.path()]);
        iso.hand_over(dir.path()).unwrap();
        let uid = iso.user.as_ref().map(|u| u.uid);
        let landlock = iso.landlock_abi >= 1;
        // A daemon leaving the process group only where the uid's kill can reach it.
        let daemon = if uid.is_some() {
            "(setsid sleep 31349 &);"
        } else {
            ""
        };
        let script = format!(
            "id -u; {daemon} touch {}/x 2>/dev/null && echo wrote-outside; touch inside && echo wrote-inside; echo ready; exec sleep 1000",
            outside.path().display()
        );
        let access = Access {
            write: vec![dir.path().to_path_buf()],
            ..Access::default()
        };
        let argv = ["/bin/sh".to_string(), "-c".into(), script];
        let env = base_env(&[], dir.path());
        let mut service = Service::start(&argv, dir.path(), &env, iso, &access).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !service.output().contains("ready") {
            assert!(Instant::now() < deadline, "{}", service.output());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let out = service.output();
        assert_eq!(service.exited(), None, "{out}");
        assert!(out.contains("wrote-inside"), "{out}");
        if let Some(uid) = uid {
            assert_eq!(
                out.lines().next().unwrap_or("").trim(),
                uid.to_string(),
                "{out}"
            );
        }
        if landlock {
            assert!(!out.contains("wrote-outside"), "{out}");
        }
        drop(service);
        let ps = std::process::Command::new("ps")
            .args(["-eo", "args"])
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&ps.stdout).contains("sleep 31349"),
            "the daemon outlived the service"
        );
    }

    #[test]
    fn passthrough_keeps_index_settings_and_drops_secrets() {
        let mut env = BTreeMap::new();
        let parent = [
            ("PIP_CERT", "/etc/ssl/certs/ca.crt"),
            ("PIP_INDEX_URL", "https://mirror.example/simple"),
            ("UV_INDEX_URL", "https://user:pw@mirror.example/simple"),
            ("PIP_PASSWORD", "x"),
            ("GITHUB_TOKEN", "ghs_x"),
            ("HTTPS_PROXY", "http://proxy:3128"),
            // The credentials hide in the second URL of a list.
            (
                "PIP_EXTRA_INDEX_URL",
                "https://ok.example/simple https://u:pw@private.example/simple",
            ),
        ];
        let refused = add_install_passthrough(
            &mut env,
            parent.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let keys: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(keys, ["HTTPS_PROXY", "PIP_CERT", "PIP_INDEX_URL"]);
        assert_eq!(
            refused,
            ["UV_INDEX_URL", "PIP_PASSWORD", "PIP_EXTRA_INDEX_URL"]
        );
        assert_eq!(install_ports(&env), [80, 443, 3128]);
    }
}
