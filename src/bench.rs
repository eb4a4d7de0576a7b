//! `e2e-action bench`: the whole pipeline against a scripted LLM server with a fixed latency
//! per call, for three specs, with the figures that say where the time goes.
//! `bench --real-model URL --model NAME` runs the sample spec against a real model on an
//! OpenAI-compatible server (llama.cpp, Ollama) and prints the same line.
//!
//! The LLM server is a small in-process HTTP/1.1 responder speaking the OpenAI wire format: a
//! benchmark must run anywhere the binary runs, so it cannot depend on a test-only mock. It
//! answers every developer hole with the scaffold's own code (so the app's tests are the same
//! as without an LLM) and the architect with a short narrative.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::config::Inputs;
use crate::pipeline::{self, RunRequest};
use crate::report::Reporter;

/// One benchmark result.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Spec name.
    pub name: String,
    /// Entities.
    pub entities: usize,
    /// The whole run's wall time, ms.
    pub wall_ms: u128,
    /// Wall time of the LLM phase (architecture ∥ develop), ms.
    pub llm_wall_ms: u128,
    /// The longest chain of dependent LLM calls × latency, ms.
    pub critical_ms: u128,
    /// The action's own time: all stages but install + tests, minus LLM waiting, ms.
    pub own_ms: u128,
    /// CPU time of the action's process (user + system), ms.
    pub cpu_ms: u128,
    /// Peak resident memory of the action's process, MiB.
    pub peak_rss_mb: u64,
    /// LLM calls and tokens.
    pub llm_calls: u64,
    /// Of which developer (fill) calls.
    pub developer_calls: u64,
    /// Tokens in + out.
    pub tokens: u64,
    /// Generated files and bytes.
    pub files: usize,
    /// Bytes of the generated tree.
    pub bytes: u64,
    /// Install and test times of the generated app, ms, and whether the install was cached.
    pub install_ms: u128,
    /// Test run time, ms.
    pub test_ms: u128,
    /// The generated app's own suite as pytest times it (its "passed in X s"), s: without
    /// interpreter start-up and collection outside the session, the figure the issue asks for.
    pub app_pytest_s: Option<f64>,
    /// Stage timings.
    pub stages: Vec<(String, u128)>,
    /// Answers asked again because they were invalid.
    pub invalid: u64,
    /// Fills that changed the scaffold and stayed.
    pub fills_kept: usize,
    /// Fills reverted to the scaffold after failing tests.
    pub fills_reverted: usize,
    /// The longest question among the roles of the LLM phase, ms (its measured critical path).
    pub longest_ask_ms: u128,
}

/// The LLM a bench run talks to.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Base URL of an OpenAI-compatible server.
    pub url: &'a str,
    /// Model name (empty: the provider's default).
    pub model: &'a str,
    /// Cap on each answer's tokens.
    pub max_output_tokens: Option<u32>,
}

/// A deterministic spec body with `n` entities using every field type.
pub fn wide_issue_body(n: usize) -> String {
    let mut lines = Vec::new();
    for i in 1..=n {
        let mut fields = vec![
            format!("title (text, required)"),
            "notes (longtext)".into(),
            "count (int)".into(),
            "amount (decimal)".into(),
            "active (bool)".into(),
            "due (date)".into(),
            "at (datetime)".into(),
            "contact (email)".into(),
            "link (url)".into(),
            "stage (enum: new|open|done)".into(),
        ];
        if i > 1 {
            fields.push(format!("parent (ref Thing{})", i - 1));
        }
        lines.push(format!("Thing{i}: {}", fields.join(", ")));
    }
    format!(
        "### App name\n\nBench {n}\n\n### Summary\n\nA benchmark app with {n} entities.\n\n### Data model\n\n{}\n\n### Features\n\n- [X] CSV export of every list\n",
        lines.join("\n")
    )
}

fn event_with_body(body: &str, number: u64) -> String {
    let mut v: Value = serde_json::from_str(crate::demo::SAMPLE_EVENT).unwrap_or_default();
    v["issue"]["body"] = json!(body);
    v["issue"]["number"] = json!(number);
    v.to_string()
}

/// Serves the OpenAI wire format on 127.0.0.1 with `latency` per call until dropped.
async fn mock_llm(latency: Duration) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let handle = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    let mut first = true;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" && !first {
                            break;
                        }
                        first = false;
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    if r.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(latency).await;
                    let answer = answer(&serde_json::from_slice(&body).unwrap_or(Value::Null));
                    let out = answer.to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        out.len()
                    );
                    if w.write_all(head.as_bytes()).await.is_err()
                        || w.write_all(out.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok((url, handle))
}

/// The scripted crew: the architect writes a narrative, developers return the scaffold's code.
fn answer(req: &Value) -> Value {
    let system = req["messages"][0]["content"].as_str().unwrap_or("");
    let user = req["messages"][1]["content"].as_str().unwrap_or("");
    let content = if system.contains("DevOps engineer") {
        json!({"memory_limit_mb": 512, "latency_p95_seconds": 1.0, "notes": []})
    } else if system.contains("software architect") {
        json!({"overview": "Benchmark app.", "decisions": [], "risks": []})
    } else if user.contains("\n## Region ") {
        // Several regions in one call: each one's scaffold code, by number.
        let fills: Vec<Value> = user
            .split("# >>> region ")
            .skip(1)
            .filter_map(|r| {
                let (n, rest) = r.split_once(" (replace this)\n")?;
                let (code, _) = rest.split_once("# <<< region")?;
                Some(json!({"region": n.parse::<u64>().ok()?, "code": code}))
            })
            .collect();
        json!({ "fills": fills })
    } else {
        let default = user
            .split_once("(replace this)\n")
            .and_then(|(_, rest)| rest.split_once("# <<< region"))
            .map(|(code, _)| code.to_string())
            .unwrap_or_else(|| "pass\n".into());
        json!({"code": default})
    };
    let prompt_tokens = (system.len() + user.len()) as u64 / 4;
    json!({
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content.to_string()}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": content.to_string().len() as u64 / 4}
    })
}

fn rusage(who: i32) -> (u128, u64) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let ms = |t: libc::timeval| t.tv_sec as u128 * 1000 + t.tv_usec as u128 / 1000;
    (
        ms(ru.ru_utime) + ms(ru.ru_stime),
        ru.ru_maxrss as u64 / 1024,
    )
}

/// Runs one spec through the pipeline with the scripted LLM (or none) and collects figures.
pub async fn bench_one(
    name: &str,
    body: &str,
    number: u64,
    llm: Option<Target<'_>>,
    concurrency: usize,
    cache: &Path,
) -> anyhow::Result<BenchResult> {
    let llm_url = llm.map(|t| t.url);
    let root = tempfile::tempdir()?;
    let (_, workspace) = crate::demo::make_repos(root.path())?;
    let event = root.path().join("event.json");
    std::fs::write(&event, event_with_body(body, number))?;
    let runner_temp = root.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp)?;
    let inputs = Inputs {
        llm_provider: Some(if llm_url.is_some() { "openai" } else { "none" }.into()),
        llm_base_url: llm_url.map(String::from),
        llm_model: llm.map(|t| t.model.to_string()),
        llm_max_output_tokens: llm.and_then(|t| t.max_output_tokens.map(|n| n.to_string())),
        llm_timeout: llm.map(|_| "300".to_string()),
        llm_concurrency: Some(concurrency.to_string()),
        llm_max_calls: Some("1000".into()),
        llm_max_tokens: Some("100000000".into()),
        ..Inputs::default()
    };
    let req = RunRequest::local(
        event,
        workspace,
        runner_temp.clone(),
        cache.to_path_buf(),
        inputs,
    );
    let (cpu_before, _) = rusage(libc::RUSAGE_SELF);
    let start = Instant::now();
    pipeline::run(&req, &Reporter::quiet()).await?;
    let wall_ms = start.elapsed().as_millis();
    let (cpu_after, peak_rss_mb) = rusage(libc::RUSAGE_SELF);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(
        runner_temp.join("e2e-action/run-report.json"),
    )?)?;
    let stage_ms = |s: &str| {
        report["stages"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["stage"] == s))
            .and_then(|x| x["ms"].as_u64())
            .unwrap_or(0) as u128
    };
    let stages = report["stages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["stage"].as_str().unwrap_or("").to_string(),
                        x["ms"].as_u64().unwrap_or(0) as u128,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let usage = report["llm"]["usage"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sum = |k: &str| {
        usage
            .iter()
            .map(|u| u[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let llm_calls = sum("calls");
    let reverted = report["llm"]["reverted"].as_array().map_or(0, Vec::len);
    let changed = report["llm"]["fills"]
        .as_array()
        .map_or(0, |f| f.iter().filter(|f| f["changed"] == true).count());
    let longest_ask_ms = usage
        .iter()
        .filter(|u| u["stage"] == "architecture" || u["stage"] == "develop")
        .map(|u| u["longest_ask_ms"].as_u64().unwrap_or(0))
        .max()
        .unwrap_or(0) as u128;
    let developer_calls = usage
        .iter()
        .filter(|u| u["role"] == "developer")
        .map(|u| u["calls"].as_u64().unwrap_or(0))
        .sum::<u64>();
    // The LLM phase is the architect, the developers and the DevOps role side by side; the
    // stages time the first two, and the DevOps role's future is its one question.

    let llm_wall_ms = stage_ms("architecture")
        .max(stage_ms("develop"))
        .max(longest_ask_ms);
    let install_ms = report["tests"]["install_ms"].as_u64().unwrap_or(0) as u128;
    let test_ms = report["tests"]["test_ms"].as_u64().unwrap_or(0) as u128;
    let app_pytest_s = report["tests"]["summary"].as_str().and_then(pytest_seconds);
    let entities = report["entities"].as_u64().unwrap_or(0) as usize;
    let files = walk(
        &root
            .path()
            .join("runner-temp/e2e-action")
            .join(format!("issue-{number}/app")),
    );
    Ok(BenchResult {
        name: name.into(),
        entities,
        wall_ms,
        llm_wall_ms,
        critical_ms: 0,
        own_ms: wall_ms
            .saturating_sub(install_ms + test_ms + if llm_calls > 0 { llm_wall_ms } else { 0 }),
        cpu_ms: cpu_after - cpu_before,
        peak_rss_mb,
        llm_calls,
        developer_calls,
        tokens: sum("tokens_in") + sum("tokens_out"),
        files: files.0,
        bytes: files.1,
        install_ms,
        test_ms,
        app_pytest_s,
        stages,
        invalid: sum("invalid"),
        fills_kept: changed.saturating_sub(reverted),
        fills_reverted: reverted,
        longest_ask_ms,
    })
}

/// The seconds of a pytest summary line (`862 passed, 1 skipped in 8.12s (0:00:08)` → 8.12).
fn pytest_seconds(summary: &str) -> Option<f64> {
    let (_, tail) = summary.rsplit_once(" in ")?;
    tail.split_whitespace()
        .next()?
        .strip_suffix('s')?
        .parse()
        .ok()
}

fn walk(dir: &Path) -> (usize, u64) {
    let mut n = (0, 0);
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                let (a, b) = walk(&p);
                n.0 += a;
                n.1 += b;
            } else if let Ok(m) = e.metadata() {
                n.0 += 1;
                n.1 += m.len();
            }
        }
    }
    n
}

/// The `bench …` line.
fn line(name: &str, r: &BenchResult, none: &BenchResult) -> String {
    format!(
        "bench spec={name} entities={} wall_over_critical={:.2} own_ms={} peak_rss_mb={} llm_calls={} tokens={} invalid={} fills_kept={} fills_reverted={} app_pytest_s={}",
        r.entities,
        r.llm_wall_ms as f64 / r.critical_ms.max(1) as f64,
        none.own_ms,
        r.peak_rss_mb,
        r.llm_calls,
        r.tokens,
        r.invalid,
        r.fills_kept,
        r.fills_reverted,
        none.app_pytest_s
            .map_or_else(|| "-".to_string(), |s| format!("{s:.1}"))
    )
}

/// `bench --real-model`: the sample spec against a real model (no scripted latency: the
/// critical path is the longest question the LLM phase asked, as measured).
pub async fn bench_real(
    target: Target<'_>,
    concurrency: usize,
    cache: &Path,
    reporter: &Reporter,
) -> anyhow::Result<()> {
    let sample: Value = serde_json::from_str(crate::demo::SAMPLE_EVENT)?;
    let body = sample["issue"]["body"].as_str().unwrap_or_default();
    let none = bench_one("sample", body, 900, None, concurrency, cache).await?;
    let mut r = bench_one("sample", body, 900, Some(target), concurrency, cache).await?;
    r.critical_ms = r.longest_ask_ms;
    reporter.info(&format!(
        "spec sample against {} at {}: wall {} ms, LLM phase {} ms, longest question {} ms, {} calls, {} tokens, {} asked again, fills kept {} / reverted {}, install {} ms, app tests {} ms\n  stages: {}",
        if target.model.is_empty() { "the default model" } else { target.model },
        target.url,
        r.wall_ms, r.llm_wall_ms, r.longest_ask_ms, r.llm_calls, r.tokens, r.invalid,
        r.fills_kept, r.fills_reverted, r.install_ms, r.test_ms,
        r.stages.iter().map(|(s, ms)| format!("{s} {ms}")).collect::<Vec<_>>().join(", ")
    ));
    reporter.info(&format!(
        "{} model={}",
        line("sample", &r, &none),
        if target.model.is_empty() {
            "default"
        } else {
            target.model
        }
    ));
    Ok(())
}

/// Runs the benchmark and writes its report through `reporter`.
pub async fn bench(
    latency: Duration,
    concurrency: usize,
    only: &[String],
    cache: &Path,
    reporter: &Reporter,
) -> anyhow::Result<()> {
    let known = ["sample", "wide10", "wide40"];
    if let Some(bad) = only.iter().find(|s| !known.contains(&s.as_str())) {
        anyhow::bail!("unknown bench spec {bad:?} (known: {})", known.join(", "));
    }
    let (url, server) = mock_llm(latency).await?;
    let sample: Value = serde_json::from_str(crate::demo::SAMPLE_EVENT)?;
    let specs = [
        (
            "sample",
            sample["issue"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        ("wide10", wide_issue_body(10)),
        ("wide40", wide_issue_body(40)),
    ];
    let mut lines = Vec::new();
    for (i, (name, body)) in specs.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|s| s == name) {
            continue;
        }
        let none = bench_one(name, body, 900 + i as u64, None, concurrency, cache).await?;
        let target = Target {
            url: &url,
            // A model of the built-in table: the scripted server has no model list to ask.
            model: crate::llm::default_model(crate::llm::ProviderKind::Openai),
            max_output_tokens: None,
        };
        let mut r = bench_one(name, body, 900 + i as u64, Some(target), concurrency, cache).await?;
        // Spec from the form (no call), then the architect and the fills side by side: one
        // dependent call deep.
        r.critical_ms = latency.as_millis();
        // Fill calls queue behind the bound in waves (the architect and DevOps calls run
        // beside them); batching keeps that to one wave while holes fit 6 per call.
        let waves = r.developer_calls.div_ceil(concurrency as u64).max(1);
        reporter.info(&format!(
            "spec {name}: {} entities, {} files, {} KiB\n  llm-provider none: own {} ms (cpu {} ms), install {} ms, app tests {} ms ({})\n  scripted LLM ({} ms/call, concurrency {concurrency}): wall {} ms, LLM phase {} ms, critical path {} ms, {} calls ({} developer calls: {waves} wave(s)), {} tokens ({} per entity), own {} ms, cpu {} ms, peak RSS {} MiB\n  stages: {}",
            r.entities, r.files, r.bytes / 1024,
            none.own_ms, none.cpu_ms, none.install_ms, none.test_ms,
            none.app_pytest_s.map_or_else(|| "no pytest summary".to_string(), |s| format!("pytest: {s:.2} s")),
            latency.as_millis(), r.wall_ms, r.llm_wall_ms, r.critical_ms, r.llm_calls, r.developer_calls, r.tokens,
            r.tokens / r.entities.max(1) as u64, r.own_ms, r.cpu_ms, r.peak_rss_mb,
            r.stages.iter().map(|(s, ms)| format!("{s} {ms}")).collect::<Vec<_>>().join(", ")
        ));
        lines.push(line(name, &r, &none));
    }
    server.abort();
    for l in lines {
        reporter.info(&l);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytest_seconds_reads_the_summary_figure() {
        assert_eq!(
            pytest_seconds("862 passed, 1 skipped in 8.12s (0:00:08)"),
            Some(8.12)
        );
        assert_eq!(pytest_seconds("91 passed in 4.80s"), Some(4.8));
        assert_eq!(pytest_seconds("tests did not run"), None);
    }

    #[test]
    fn the_wide40_fixture_is_the_bench_spec() {
        // tests/generated times the same app's own suite: the fixture must not drift from it.
        assert_eq!(
            wide_issue_body(40),
            include_str!("../tests/fixtures/bodies/wide40.md")
        );
    }
}
