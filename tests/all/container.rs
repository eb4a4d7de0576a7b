//! The container contract end to end: the static (musl) binary in a `FROM scratch` image built
//! without Docker (buildah), run by podman with the runner's environment and mounts, against
//! prism (GitHub's REST description) and the git smart-HTTP server.
//!
//! The published Dockerfile's base images cannot be pulled here, so the image holds only the
//! binary and a CA bundle; the Python toolchain the default pack's tests need is mounted
//! read-only from the host, as the real image's runtime stage would provide it.
//!
//! Runs when `E2E_CONTAINER_TESTS=1` (scripts/test.sh sets it after building the musl binary
//! with `scripts/container-image.sh`); otherwise it says why it did nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wiremock::{Mock, MockServer, matchers::method};

use crate::helpers::{GitServer, Prism, TestContext, sample_event, shared_cache, text};
use crate::sandbox::{
    HOSTILE, Hostile, assert_no_command_echoed, find_marker, sleepers, wait_for_no_sleepers,
};

const TOKEN: &str = "ghs_ContainerCanaryToken0123456789";

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}\n{}", text(&out));
    out
}

/// The host's real Python installation (its prefix), to mount into the container.
fn python_prefix() -> PathBuf {
    let out = run(Command::new("python3").args(["-c", "import sys; print(sys.base_prefix)"]));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_static_binary_runs_as_a_container_action() {
    if std::env::var("E2E_CONTAINER_TESTS").as_deref() != Ok("1") {
        println!(
            "skipped: set E2E_CONTAINER_TESTS=1 after scripts/container-image.sh built the image"
        );
        return;
    }
    let image = "localhost/e2e-action-test:latest";
    let ctx = TestContext::new();
    let prism = Prism::start(ctx.dir.path());
    let git = GitServer::start(ctx.dir.path(), TOKEN);
    let repo = git2::Repository::open(&ctx.workspace).unwrap();
    repo.remote_set_url("origin", &git.url("origin.git"))
        .unwrap();
    let event = ctx.dir.path().join("event.json");
    std::fs::copy(sample_event(), &event).unwrap();
    let files = ctx.dir.path().join("file_commands");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("output"), "").unwrap();
    std::fs::write(files.join("summary"), "").unwrap();
    std::fs::write(files.join("env"), "KEEP=1\n").unwrap();

    // The LLM is scripted to hand the generated app the hostile fill of tests/all/sandbox.rs:
    // inside the image, generated code runs as the image's unprivileged user.
    let nonce = format!("c{:x}", std::process::id() as u64 * 31 + 5);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let attacker_root = ctx.dir.path().join("attacker");
    std::fs::create_dir_all(&attacker_root).unwrap();
    let attacker = GitServer::start(&attacker_root, "anything");
    let fill = HOSTILE
        .replace("@OUTPUT@", "/github/file_commands/output")
        .replace("@ENV@", "/github/file_commands/env")
        .replace("@SUMMARY@", "/github/file_commands/summary")
        .replace("@WORKSPACE@", "/github/workspace")
        .replace("@ORIGIN@", &format!("127.0.0.1:{}", git.port))
        .replace("@ATTACKER@", &format!("127.0.0.1:{}", attacker.port))
        .replace("@PORT@", &listener.local_addr().unwrap().port().to_string())
        .replace("@NONCE@", &nonce);
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Hostile(fill))
        .mount(&llm)
        .await;
    let config_before = std::fs::read(ctx.workspace.join(".git/config")).unwrap();

    let py = python_prefix();
    let uv_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-test/bin");
    let mount = |host: &Path, guest: &str, ro: bool| {
        format!("{}:{guest}{}", host.display(), if ro { ":ro" } else { "" })
    };
    let mut cmd = Command::new("podman");
    cmd.args([
        "--storage-driver",
        "vfs",
        "run",
        "--rm",
        "--runtime",
        "runc",
        "--network",
        "host",
    ])
    .args([
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=4096:4096",
    ])
    // The runner's mounts.
    .args(["-v", &mount(&event, "/github/workflow/event.json", true)])
    .args(["-v", &mount(&ctx.workspace, "/github/workspace", false)])
    .args(["-v", &mount(&files, "/github/file_commands", false)])
    .args(["-v", &mount(&ctx.runner_temp, "/github/runner_temp", false)])
    .args(["-v", &mount(&shared_cache(), "/github/cache", false)])
    // The default pack's toolchain, as the published image's runtime stage provides it.
    .args([
        "-v",
        "/usr:/usr:ro",
        "-v",
        "/lib:/lib:ro",
        "-v",
        "/lib64:/lib64:ro",
        "-v",
        "/bin:/bin:ro",
        "-v",
        "/etc/alternatives:/etc/alternatives:ro",
    ])
    .args(["-v", &mount(&py, &py.display().to_string(), true)])
    .args(["-v", &mount(&uv_dir, "/opt/uv", true)])
    .args([
        "-e",
        &format!("PATH={}/bin:/opt/uv:/usr/bin:/bin", py.display()),
    ])
    .args([
        "-e",
        "HOME=/github/home",
        "-e",
        "GITHUB_ACTIONS=true",
        "-e",
        "GITHUB_EVENT_NAME=issues",
    ])
    .args([
        "-e",
        "GITHUB_EVENT_PATH=/github/workflow/event.json",
        "-e",
        "GITHUB_WORKSPACE=/github/workspace",
    ])
    .args([
        "-e",
        "GITHUB_REPOSITORY=octo-org/reading-list",
        "-e",
        "RUNNER_TEMP=/github/runner_temp",
    ])
    .args([
        "-e",
        "GITHUB_OUTPUT=/github/file_commands/output",
        "-e",
        "GITHUB_STEP_SUMMARY=/github/file_commands/summary",
    ])
    .args([
        "-e",
        &format!("GITHUB_API_URL=http://127.0.0.1:{}", prism.port),
        "-e",
        "GITHUB_SERVER_URL=https://github.com",
    ])
    .args([
        "-e",
        &format!("INPUT_GITHUB-TOKEN={TOKEN}"),
        "-e",
        "INPUT_CACHE-DIR=/github/cache",
        "-e",
        "RUNNER_TOOL_CACHE=/github/cache",
        "-e",
        "GITHUB_ENV=/github/file_commands/env",
        "-e",
        "INPUT_LABELS=e2e",
    ])
    .args([
        "-e",
        "INPUT_LLM-PROVIDER=openai",
        "-e",
        &format!("INPUT_LLM-BASE-URL={}", llm.uri()),
        "-e",
        "INPUT_LLM-API-KEY=sk-ContainerCanaryKey",
        "-e",
        "INPUT_MAX-REPAIR-ATTEMPTS=0",
        "-e",
        "INPUT_TEST-TIMEOUT=300",
    ]);
    for (k, v) in std::env::vars() {
        if k.starts_with("PIP_") || k.starts_with("UV_") {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
    }
    cmd.arg(image);
    let out = cmd.output().unwrap();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let outputs =
        crate::helpers::parse_outputs(&std::fs::read_to_string(files.join("output")).unwrap());
    assert_eq!(outputs["tests"], "passed", "{log}");
    assert!(!outputs["pr-number"].is_empty(), "{outputs:?}");
    assert_eq!(
        ctx.origin_branches().get(&outputs["branch"]),
        Some(&outputs["sha"])
    );
    let prism_log = std::fs::read_to_string(&prism.log).unwrap();
    assert!(!prism_log.contains("Violation: request"), "{prism_log}");
    let leaked = log
        .lines()
        .any(|l| l.contains(TOKEN) && !l.starts_with("::add-mask::"));
    assert!(!leaked, "{log}");

    // The hostile fill ran as the image's sandbox user and reached nothing of ours.
    let marker_path =
        find_marker(&shared_cache(), &nonce).unwrap_or_else(|| panic!("the fill never ran\n{log}"));
    let marker: Value = serde_json::from_slice(&std::fs::read(&marker_path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&marker_path);
    // The image's e2e-sandbox user (65000 in the test image: see scripts/container-image.sh).
    assert_eq!(marker["uid"], 65000, "{marker:#}");
    assert_eq!(marker["canary_seen"], false, "{marker:#}");
    for name in [
        "github_output",
        "github_env",
        "step_summary",
        "workspace_file",
        "git_config",
    ] {
        let r = marker[format!("write_{name}")].as_str().unwrap_or("");
        assert!(r.starts_with("refused"), "{name}: {r}");
    }
    assert!(
        marker["connect"]
            .as_str()
            .unwrap_or("")
            .starts_with("refused"),
        "{marker:#}"
    );
    assert_eq!(
        std::fs::read_to_string(files.join("env")).unwrap(),
        "KEEP=1\n"
    );
    assert_eq!(
        std::fs::read(ctx.workspace.join(".git/config")).unwrap(),
        config_before
    );
    assert!(
        std::fs::read_to_string(&attacker.log)
            .unwrap_or_default()
            .trim()
            .is_empty()
    );
    assert!(log.contains("reverted to the scaffold"), "{log}");
    assert!(log.contains(&format!("pwned-{nonce}")), "{log}");
    assert_no_command_echoed(&String::from_utf8_lossy(&out.stdout), &nonce);
    wait_for_no_sleepers();
    assert_eq!(sleepers(), Vec::<String>::new(), "processes left behind");
}
