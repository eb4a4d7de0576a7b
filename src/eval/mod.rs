//! `e2e-action eval`: how well the automation does what issues ask, measured from the outside.
//!
//! In: a corpus folder with one sub-folder per issue, each holding `event.json` (an `issues`
//! event whose body is an issue form) and `checks.yaml` (acceptance checks written for that
//! issue, format in `tests/eval/README.md`). For each issue, in name order:
//!
//! 1. the whole pipeline runs on a throw-away repository with `llm-provider: none` and no token,
//!    as the demo does, including the generated app's own tests;
//! 2. the generated app is started (uvicorn from the venv the test stage made, on 127.0.0.1, a
//!    fresh SQLite database, sandboxed like the tests);
//! 3. each check signs up new accounts through `/api/auth/signup` and `/api/auth/token` and runs
//!    its steps (HTTP requests and what their answers must hold) against the app.
//!
//! Out: an [`EvalSummary`], reported as one line per issue, every failing check with the step
//! that failed and why, and the closing line
//! `eval issues=<n> apps_passing=<n> intent_checks=<passed>/<total> median_s=<n>`.
//! An app passes when its own tests pass and all of its checks pass. Failing checks and apps
//! are results, not errors; errors are a corpus that cannot be read or an app that cannot be
//! started at all.
//!
//! `without_rules` (the hidden `--without-rules` flag) removes the `### Rules` section from every
//! event before the run, so the app is generated with no rules at all while the checks stay the
//! same: the test that proves the checks can fail compares the two runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::config::Inputs;
use crate::error::E2eError;
use crate::pipeline::{self, RunRequest, test};
use crate::report::Reporter;
use crate::sandbox::{self, Access, Isolation, Service};

mod checks;

pub use checks::{Check, ChecksFile, SpecIndex, Step, matches};

/// What `eval` runs.
#[derive(Debug, Clone)]
pub struct EvalRequest {
    /// The corpus folder (one sub-folder per issue).
    pub corpus: PathBuf,
    /// Keep each issue's repositories, staged app, database and server log under this folder.
    pub keep: Option<PathBuf>,
    /// Cache for virtual environments (shared with `demo`).
    pub cache_dir: PathBuf,
    /// Generate every app without its `### Rules` section (proves the checks can fail).
    pub without_rules: bool,
}

/// One issue of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// Folder name.
    pub name: String,
    /// `event.json`.
    pub event: PathBuf,
    /// Its checks.
    pub checks: Vec<Check>,
}

/// Reads every `<corpus>/<name>/{event.json,checks.yaml}`, in name order.
pub fn load_corpus(corpus: &Path) -> Result<Vec<Case>, E2eError> {
    let bad = |what: String| E2eError::Config(format!("eval corpus {}: {what}", corpus.display()));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus)
        .map_err(|e| bad(format!("cannot read the folder ({e})")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("event.json").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(bad(
            "no <name>/event.json in it; expected one folder per issue with event.json and checks.yaml".into(),
        ));
    }
    dirs.iter()
        .map(|dir| {
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let path = dir.join("checks.yaml");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| bad(format!("{name}/checks.yaml: {e}")))?;
            let file: ChecksFile =
                yaml_serde::from_str(&text).map_err(|e| bad(format!("{name}/checks.yaml: {e}")))?;
            for check in &file.checks {
                if check.steps.is_empty() {
                    return Err(bad(format!(
                        "{name}/checks.yaml: check {:?} has no steps",
                        check.name
                    )));
                }
                for (i, step) in check.steps.iter().enumerate() {
                    step.request().map_err(|e| {
                        bad(format!(
                            "{name}/checks.yaml: check {:?}, step {}: {e}",
                            check.name,
                            i + 1
                        ))
                    })?;
                }
            }
            Ok(Case {
                name,
                event: dir.join("event.json"),
                checks: file.checks,
            })
        })
        .collect()
}

/// How one check ended.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// `None` when it passed, else which step failed and why.
    pub failure: Option<String>,
}

/// How one issue ended.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Folder name.
    pub name: String,
    /// Whether the generated app's own tests passed.
    pub tests_passed: bool,
    /// The test stage's summary line, or why there is no app.
    pub tests_summary: String,
    /// The end of the failing tests' output (empty when they passed).
    pub tests_log_tail: String,
    /// Per-check results (all failed when the app could not be built or started).
    pub checks: Vec<CheckResult>,
    /// Pipeline, start and checks, seconds.
    pub seconds: f64,
}

impl CaseResult {
    /// Checks that passed.
    pub fn passed_checks(&self) -> usize {
        self.checks.iter().filter(|c| c.failure.is_none()).count()
    }

    /// The app's own tests and every check passed.
    pub fn app_passes(&self) -> bool {
        self.tests_passed && self.passed_checks() == self.checks.len()
    }
}

/// The whole evaluation.
#[derive(Debug, Clone)]
pub struct EvalSummary {
    /// One result per issue, in corpus order.
    pub cases: Vec<CaseResult>,
}

impl EvalSummary {
    /// Median seconds per issue.
    pub fn median_seconds(&self) -> f64 {
        let mut s: Vec<f64> = self.cases.iter().map(|c| c.seconds).collect();
        s.sort_by(|a, b| a.total_cmp(b));
        match s.len() {
            0 => 0.0,
            n if n % 2 == 1 => s[n / 2],
            n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
        }
    }

    /// The closing line.
    pub fn line(&self) -> String {
        let total: usize = self.cases.iter().map(|c| c.checks.len()).sum();
        let passed: usize = self.cases.iter().map(CaseResult::passed_checks).sum();
        format!(
            "eval issues={} apps_passing={} intent_checks={passed}/{total} median_s={}",
            self.cases.len(),
            self.cases.iter().filter(|c| c.app_passes()).count(),
            self.median_seconds().round() as u64
        )
    }

    /// Every app's tests and every check passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(CaseResult::app_passes)
    }
}

/// Runs the corpus and reports as it goes; the closing line is the last thing reported.
pub async fn eval(req: &EvalRequest, reporter: &Reporter) -> anyhow::Result<EvalSummary> {
    let cases = load_corpus(&req.corpus)?;
    let python = tokio::task::spawn_blocking(test::find_python)
        .await
        .map_err(|e| crate::error::E2eError::Internal(format!("finding Python crashed: {e}")))??;
    let mut results = Vec::new();
    for case in &cases {
        let root = match &req.keep {
            Some(dir) => {
                let d = dir.join(&case.name);
                if d.exists() {
                    std::fs::remove_dir_all(&d)
                        .with_context(|| format!("cleaning {}", d.display()))?;
                }
                std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
                Keep::Folder(d)
            }
            None => Keep::Temp(tempfile::Builder::new().prefix("e2e-eval-").tempdir()?),
        };
        let result = run_case(case, root.path(), req, &python).await?;
        report_case(&result, reporter);
        results.push(result);
    }
    let summary = EvalSummary { cases: results };
    reporter.info(&summary.line());
    Ok(summary)
}

enum Keep {
    Folder(PathBuf),
    Temp(tempfile::TempDir),
}

impl Keep {
    fn path(&self) -> &Path {
        match self {
            Keep::Folder(p) => p,
            Keep::Temp(t) => t.path(),
        }
    }
}

fn report_case(r: &CaseResult, reporter: &Reporter) {
    reporter.info(&format!(
        "eval {}: app tests {} ({}), checks {}/{}, {:.0} s",
        r.name,
        if r.tests_passed { "passed" } else { "FAILED" },
        r.tests_summary,
        r.passed_checks(),
        r.checks.len(),
        r.seconds
    ));
    if !r.tests_passed && !r.tests_log_tail.is_empty() {
        let all: Vec<&str> = r.tests_log_tail.lines().collect();
        for l in &all[all.len().saturating_sub(15)..] {
            reporter.info(&format!("  | {l}"));
        }
    }
    for c in &r.checks {
        if let Some(why) = &c.failure {
            reporter.info(&format!("  FAIL {}: {}", c.name, why));
        }
    }
}

/// Removes the `### Rules` section (heading and lines up to the next `### ` heading).
pub fn strip_rules(body: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in body.lines() {
        if let Some(h) = line.trim().strip_prefix("###") {
            skipping = h
                .trim()
                .trim_end_matches('#')
                .trim()
                .eq_ignore_ascii_case("rules");
        }
        if !skipping {
            out.push(line);
        }
    }
    out.join("\n")
}

async fn run_case(
    case: &Case,
    root: &Path,
    req: &EvalRequest,
    python: &Path,
) -> anyhow::Result<CaseResult> {
    let started = Instant::now();
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(&case.event)
            .with_context(|| format!("reading {}", case.event.display()))?,
    )
    .map_err(|e| E2eError::Event {
        path: case.event.clone(),
        reason: e.to_string(),
    })?;
    if req.without_rules
        && let Some(body) = event["issue"]["body"].as_str()
    {
        event["issue"]["body"] = Value::String(strip_rules(body));
    }
    let number = event["issue"]["number"].as_u64().unwrap_or(0);
    let (_, workspace) = crate::demo::make_repos(root)?;
    let event_path = root.join("event.json");
    std::fs::write(&event_path, event.to_string())?;
    let runner_temp = root.join("runner-temp");
    std::fs::create_dir_all(&runner_temp)?;
    let run = RunRequest::local(
        event_path,
        workspace,
        runner_temp.clone(),
        req.cache_dir.clone(),
        Inputs {
            llm_provider: Some("none".into()),
            ..Inputs::default()
        },
    );
    let outcome = pipeline::run(&run, &Reporter::quiet()).await;
    let report: Option<test::TestReport> =
        std::fs::read_to_string(runner_temp.join("e2e-action/run-report.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| serde_json::from_value(v["tests"].clone()).ok());
    let (tests_passed, tests_summary) = match (&outcome, &report) {
        (Ok(pipeline::RunOutcome::Built(_)), Some(r)) => (r.passed(), r.summary.clone()),
        (Ok(pipeline::RunOutcome::Built(d)), None) => (true, d.tests.clone()),
        (Ok(pipeline::RunOutcome::Skipped { reason }), _) => (false, format!("skipped: {reason}")),
        (Ok(pipeline::RunOutcome::Closed(_)), _) => (false, "the issue was closed".into()),
        (Err(_), Some(r)) => (false, r.summary.clone()),
        (Err(e), None) => (false, format!("no app: {e:#}")),
    };
    let tests_log_tail = report
        .as_ref()
        .map(|r| r.log_tail.clone())
        .unwrap_or_default();
    let work = test::work_dir(&runner_temp, number);
    let app = work.join("app");
    // The app runs in the layers its tests ran in (LLM fills are part of it), with the
    // interpreter the test stage chose (the sandbox user may need the system's): its venv is
    // the one the tests installed.
    let dirs = test::TestDirs {
        work,
        cache: req.cache_dir.clone(),
    };
    let (iso, python) = test::prepare_isolation(python.to_path_buf(), &dirs);
    let checks = if app.join("spec.yaml").is_file() {
        match serve(&dirs.work, req, &python, iso).await {
            Ok((mut server, base)) => {
                let spec = SpecIndex::read(&app.join("spec.yaml"))?;
                let out = checks::run_checks(&case.checks, &base, &spec, &case.name).await;
                // Kept with `--keep`: what the app logged while the checks ran (tracebacks).
                let _ = std::fs::write(root.join("server.log"), server.output());
                if let Some(code) = server.exited() {
                    let log = server.output();
                    failing(
                        &case.checks,
                        &format!("the app stopped (exit {code:?}): {}", tail(&log, 5)),
                    )
                } else {
                    drop(server);
                    out
                }
            }
            Err(why) => failing(&case.checks, &format!("the app did not start: {why}")),
        }
    } else {
        failing(
            &case.checks,
            &format!("no app was generated: {tests_summary}"),
        )
    };
    Ok(CaseResult {
        name: case.name.clone(),
        tests_passed,
        tests_summary,
        tests_log_tail,
        checks,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn failing(checks: &[Check], why: &str) -> Vec<CheckResult> {
    checks
        .iter()
        .map(|c| CheckResult {
            name: c.name.clone(),
            failure: Some(why.to_string()),
        })
        .collect()
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}

/// Starts the app on a free port with a fresh database; returns it and its base URL once
/// `/healthz` answers.
async fn serve(
    work: &Path,
    req: &EvalRequest,
    python: &Path,
    iso: Isolation,
) -> Result<(Service, String), String> {
    let app = work.join("app");
    let requirements = std::fs::read_to_string(app.join("requirements.txt"))
        .map_err(|e| format!("requirements.txt: {e}"))?;
    let included = test::included_requirements(
        |p| std::fs::read_to_string(app.join(p)).ok(),
        "requirements.txt",
    );
    let venv = test::venv_dir(&req.cache_dir, python, &requirements, &included);
    if !venv.join(".e2e-ready").is_file() {
        return Err(format!(
            "no installed virtual environment at {}",
            venv.display()
        ));
    }
    // The staging folder the tests ran in: the sandbox user's, with its `home`; the database
    // goes beside the app.
    let home = work.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    iso.hand_over(work)
        .map_err(|e| format!("handing the staging folder to the sandbox user: {e}"))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let venv_bin = venv.join("bin");
    let mut env = sandbox::base_env(&[&venv_bin], &home);
    env.insert("VIRTUAL_ENV".into(), venv.display().to_string());
    // `test` makes password hashing cheap: every check signs up new accounts.
    env.insert("APP_ENV".into(), "test".into());
    // `today` in a rule is the server's date; the checks' `{today}` is the UTC date.
    env.insert("TZ".into(), "UTC".into());
    env.insert(
        "DATABASE_URL".into(),
        format!("sqlite:///{}", work.join("eval.db").display()),
    );
    let argv: Vec<String> = [
        venv_bin.join("python").display().to_string(),
        "-m".into(),
        "uvicorn".into(),
        "app.main:app".into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--log-level".into(),
        "warning".into(),
    ]
    .into();
    // It reads the venv and the interpreter, writes only the staging folder, connects nowhere.
    let access = Access {
        write: vec![work.to_path_buf()],
        read: [vec![venv.clone()], test::interpreter_reads(python, &env)].concat(),
        tcp_ports: Vec::new(),
    };
    let mut server = Service::start(&argv, &app, &env, iso, &access)
        .map_err(|e| format!("cannot start uvicorn: {e}"))?;
    let base = format!("http://127.0.0.1:{port}");
    let client = local_client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(code) = server.exited() {
            return Err(format!(
                "uvicorn exited ({code:?}): {}",
                tail(&server.output(), 8)
            ));
        }
        let ok = client
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Ok((server, base));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "/healthz did not answer within 60 s: {}",
                tail(&server.output(), 8)
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A client for the app under evaluation on 127.0.0.1: never through a proxy of the
/// environment (a corporate `HTTP_PROXY` would otherwise receive the local requests).
fn local_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eval")
    }

    #[test]
    fn the_repository_corpus_loads_and_covers_what_issue_11_asks() {
        let cases = load_corpus(&corpus()).unwrap();
        assert!(cases.len() >= 12, "{} issues", cases.len());
        let mut bodies = String::new();
        let mut teams = (0, 0);
        for c in &cases {
            let event: Value =
                serde_json::from_str(&std::fs::read_to_string(&c.event).unwrap()).unwrap();
            let body = event["issue"]["body"].as_str().unwrap();
            assert!(
                body.contains("### Rules") && body.contains("### Views"),
                "{}",
                c.name
            );
            if body.contains("- [X] Team workspaces") {
                teams.0 += 1;
            } else {
                teams.1 += 1;
            }
            bodies.push_str(body);
            assert!(!c.checks.is_empty(), "{}", c.name);
        }
        assert!(teams.0 >= 2 && teams.1 >= 2, "teams on/off: {teams:?}");
        for form in [
            " >= 0",
            " > ",
            " < ",
            " <= ",
            " = \"",
            " != \"",
            ">= today",
            "<= today",
            "> now",
            " between ",
            " length ",
            " default ",
            " default today",
            " default now",
            ": unique ",
            " no overlap ",
            " per ",
            " label \"",
            " and ",
            " in ",
            " is empty",
            " is not empty",
            " sorted by ",
            " desc",
            ", sum ",
            "!= paid",
        ] {
            assert!(bodies.contains(form), "no event uses {form:?}");
        }
        assert!(bodies.contains("Booking: no overlap starts_at..ends_at per room"));
        assert!(
            bodies.contains(
                "Overdue: Invoice where due_on < today and status != paid sorted by due_on"
            )
        );
        // Korean and at least one more non-Latin script.
        assert!(
            bodies
                .chars()
                .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
        );
        assert!(
            bodies
                .chars()
                .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
        );
    }

    #[test]
    fn a_bad_corpus_is_refused_naming_the_folder_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_corpus(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no <name>/event.json"), "{err}");
        let case = dir.path().join("one");
        std::fs::create_dir_all(&case).unwrap();
        std::fs::write(case.join("event.json"), "{}").unwrap();
        let err = load_corpus(dir.path()).unwrap_err().to_string();
        assert!(err.contains("one/checks.yaml"), "{err}");
        std::fs::write(
            case.join("checks.yaml"),
            "checks:\n- name: x\n  steps: []\n",
        )
        .unwrap();
        let err = load_corpus(dir.path()).unwrap_err().to_string();
        assert!(err.contains("check \"x\" has no steps"), "{err}");
        std::fs::write(
            case.join("checks.yaml"),
            "checks:\n- name: x\n  steps:\n  - {status: 200}\n",
        )
        .unwrap();
        let err = load_corpus(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("step 1: a step needs exactly one of get"),
            "{err}"
        );
        std::fs::write(
            case.join("checks.yaml"),
            "checks:\n- name: x\n  steps:\n  - {get: /a, expect: 1}\n",
        )
        .unwrap();
        let err = load_corpus(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown field `expect`"), "{err}");
    }

    #[test]
    fn rules_section_is_removed_and_nothing_else() {
        let body = "### App name\n\nX\n\n### Rules\n\nA.b >= 0\nA: unique b\n\n### Views\n\nV: A where b > 1\n";
        let out = strip_rules(body);
        assert!(!out.contains("Rules") && !out.contains(">= 0") && !out.contains("unique"));
        assert!(out.contains("### Views\n\nV: A where b > 1") && out.contains("### App name"));
        assert_eq!(strip_rules("### App name\nX"), "### App name\nX");
    }

    #[test]
    fn summary_line_counts_checks_apps_and_the_median() {
        let case = |name: &str, tests: bool, fails: usize, secs: f64| CaseResult {
            name: name.into(),
            tests_passed: tests,
            tests_summary: String::new(),
            tests_log_tail: String::new(),
            checks: (0..3)
                .map(|i| CheckResult {
                    name: format!("c{i}"),
                    failure: (i < fails).then(|| "x".into()),
                })
                .collect(),
            seconds: secs,
        };
        let s = EvalSummary {
            cases: vec![
                case("a", true, 0, 10.0),
                case("b", true, 1, 30.0),
                case("c", false, 0, 20.0),
            ],
        };
        assert_eq!(
            s.line(),
            "eval issues=3 apps_passing=1 intent_checks=8/9 median_s=20"
        );
        assert!(!s.passed());
    }
}
