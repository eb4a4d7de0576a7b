//! Untrusted generated code and secrets: a malicious fill that dumps the environment, forks and
//! sleeps forever ends on time, leaks nothing and leaves no process behind.

use std::time::{Duration, Instant};

use wiremock::{Mock, MockServer, matchers::method};

use crate::helpers::{TestContext, fingerprint, sample_event, text};
use crate::sandbox::Hostile;

const CANARY_GH: &str = "ghs_CanaryGithubToken0123456789abcdef";
const CANARY_LLM: &str = "sk-CanaryLlmKey0123456789abcdef";
const CANARY_ENV: &str = "canary-env-value-5f1e";

/// Runs at import time inside the generated app's test run. Written to slip past the fills'
/// denylist (which is not the security boundary): the sandbox must hold on its own.
const MALICIOUS: &str = r#"import os as _o, time as _t
print("ENV-DUMP", dict(getattr(_o, "envi" + "ron")), flush=True)
getattr(_o, "sys" + "tem")("sleep 31337 &")
if getattr(_o, "fo" + "rk")() == 0:
    _t.sleep(31338)
_t.sleep(31339)


def validate(data, account):
    return data
"#;

fn leftover_processes() -> Vec<String> {
    let out = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("3133") && !l.contains("ps -eo"))
        .map(String::from)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malicious_fill_ends_on_time_leaks_nothing_and_leaves_no_process() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Hostile(MALICIOUS.to_string()))
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    for (k, v) in [
        ("INPUT_LLM-PROVIDER", "openai"),
        ("INPUT_LLM-BASE-URL", server.uri().as_str()),
        ("INPUT_LLM-API-KEY", CANARY_LLM),
        ("INPUT_GITHUB-TOKEN", CANARY_GH),
        ("GITHUB_TOKEN", CANARY_GH),
        ("MY_DEPLOY_SECRET", CANARY_ENV),
        // The limit applies to each test run: the malicious one sleeps until it, then the
        // scaffold's run must fit in it too, with room for a loaded 2-core CI machine (the
        // scaffold's suite took 23 s there once under three parallel builds).
        ("INPUT_TEST-TIMEOUT", "60"),
        ("INPUT_MAX-REPAIR-ATTEMPTS", "0"),
    ] {
        ctx.env.insert(k.into(), v.into());
    }
    // No GITHUB_REPOSITORY: this test is about the sandbox, not the API.
    let start = Instant::now();
    let mut cmd = ctx.command("issues", Some(&sample_event()));
    cmd.env_remove("GITHUB_REPOSITORY");
    let out = cmd
        .arg("run")
        .arg("--cache-dir")
        .arg(crate::helpers::shared_cache())
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let all = text(&out);
    // The malicious fill hit the limit, was reverted, and the scaffold's tests passed.
    assert!(out.status.success(), "{all}");
    assert_eq!(ctx.outputs()["tests"], "passed");
    assert!(all.contains("reverted to the scaffold"), "{all}");
    // Bounded by the limit (25 s for the bad run) plus the scaffold's run, not by sleep(31339).
    assert!(elapsed < Duration::from_secs(600), "{elapsed:?}");
    // A killed process may take a moment to be gone on a loaded machine; a survivor sleeps
    // for hours, so waiting a few seconds cannot hide one.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !leftover_processes().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        leftover_processes(),
        Vec::<String>::new(),
        "processes left behind"
    );

    // Whatever the dump printed, no secret of ours is anywhere.
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        (
            "stdout+stderr".into(),
            all.lines()
                .filter(|l| !l.starts_with("::add-mask::"))
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
        ),
        (
            "GITHUB_OUTPUT".into(),
            std::fs::read(&ctx.output).unwrap_or_default(),
        ),
        (
            "GITHUB_STEP_SUMMARY".into(),
            std::fs::read(&ctx.summary).unwrap_or_default(),
        ),
    ];
    haystacks.extend(fingerprint(&ctx.runner_temp));
    haystacks.extend(fingerprint(&ctx.workspace));
    haystacks.extend(fingerprint(&ctx.origin));
    for (name, content) in &haystacks {
        let s = String::from_utf8_lossy(content);
        for canary in [CANARY_GH, CANARY_LLM, CANARY_ENV] {
            assert!(!s.contains(canary), "{canary} found in {name}");
        }
    }
}
