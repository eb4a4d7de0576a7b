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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Inputs;
use crate::error::E2eError;
use crate::pipeline::{self, RunRequest, test};
use crate::report::Reporter;
use crate::sandbox::{self, Service};

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

/// The acceptance checks of one issue (`checks.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    /// The checks, each run with new accounts.
    pub checks: Vec<Check>,
}

/// One acceptance check: steps run in order; the check passes when every step does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// What the check proves, in words.
    pub name: String,
    /// Requests and what their answers must hold.
    pub steps: Vec<Step>,
}

/// One request and its expectations. Exactly one of `get`, `post`, `put`, `patch`, `delete`
/// names the path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `GET path`.
    pub get: Option<String>,
    /// `POST path`.
    pub post: Option<String>,
    /// `PUT path`.
    pub put: Option<String>,
    /// `PATCH path`.
    pub patch: Option<String>,
    /// `DELETE path`.
    pub delete: Option<String>,
    /// Which of the check's accounts sends it (`a` when absent).
    #[serde(rename = "as")]
    pub user: Option<String>,
    /// JSON body; keys may be the issue's field names.
    pub json: Option<Value>,
    /// Expected status (default: any 2xx).
    pub status: Option<u16>,
    /// Keep the answer's `id` as `{id:<name>}` for later steps.
    pub save: Option<String>,
    /// Fields the answer object must hold (a subset).
    pub body: Option<serde_json::Map<String, Value>>,
    /// Fields each named in some `detail[].loc` of the answer.
    pub loc: Option<Vec<String>>,
    /// The answer's `items`, exactly these many, in this order, each holding the given fields.
    pub items: Option<Vec<Value>>,
    /// The answer's `total`.
    pub total: Option<u64>,
    /// The answer's `sums` (numbers compare by value: `"120.5"` equals `"120.50"`).
    pub sums: Option<serde_json::Map<String, Value>>,
}

impl Step {
    /// The method and the (unresolved) path.
    pub fn request(&self) -> Result<(reqwest::Method, &str), String> {
        let all = [
            (reqwest::Method::GET, &self.get),
            (reqwest::Method::POST, &self.post),
            (reqwest::Method::PUT, &self.put),
            (reqwest::Method::PATCH, &self.patch),
            (reqwest::Method::DELETE, &self.delete),
        ];
        let mut given = all
            .into_iter()
            .filter_map(|(m, p)| p.as_deref().map(|p| (m, p)));
        match (given.next(), given.next()) {
            (Some(one), None) => Ok(one),
            _ => Err("a step needs exactly one of get, post, put, patch, delete".into()),
        }
    }
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
        .context("finding Python crashed (a bug)")??;
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
        (Err(_), Some(r)) => (false, r.summary.clone()),
        (Err(e), None) => (false, format!("no app: {e:#}")),
    };
    let tests_log_tail = report
        .as_ref()
        .map(|r| r.log_tail.clone())
        .unwrap_or_default();
    let app = test::work_dir(&runner_temp, number).join("app");
    let checks = if app.join("spec.yaml").is_file() {
        match serve(&app, root, req, python).await {
            Ok((mut server, base)) => {
                let spec = SpecIndex::read(&app.join("spec.yaml"))?;
                let out = run_checks(&case.checks, &base, &spec, &case.name).await;
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
    app: &Path,
    root: &Path,
    req: &EvalRequest,
    python: &Path,
) -> Result<(Service, String), String> {
    let requirements = std::fs::read_to_string(app.join("requirements.txt"))
        .map_err(|e| format!("requirements.txt: {e}"))?;
    let venv = test::venv_dir(&req.cache_dir, python, &requirements);
    if !venv.join(".e2e-ready").is_file() {
        return Err(format!(
            "no installed virtual environment at {}",
            venv.display()
        ));
    }
    let home = root.join("server-home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
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
        format!("sqlite:///{}", root.join("eval.db").display()),
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
    let mut server =
        Service::start(&argv, app, &env).map_err(|e| format!("cannot start uvicorn: {e}"))?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
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

/// Names the checks may use, resolved through the generated `spec.yaml` (read as plain data so
/// any format version serves).
#[derive(Debug, Clone, Default)]
pub struct SpecIndex {
    entities: Vec<Value>,
    views: Vec<Value>,
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().to_lowercase().replace(['_', '-'], " ");
    norm(a) == norm(b)
}

impl SpecIndex {
    /// Reads `spec.yaml`.
    pub fn read(path: &Path) -> anyhow::Result<SpecIndex> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        SpecIndex::parse(&text)
    }

    /// Parses the text of a `spec.yaml`.
    pub fn parse(text: &str) -> anyhow::Result<SpecIndex> {
        let v: Value = yaml_serde::from_str(text).context("spec.yaml")?;
        let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
        Ok(SpecIndex {
            entities: list("entities"),
            views: list("views"),
        })
    }

    /// An entity by its class name, label (either's words), ident or route.
    fn entity(&self, name: &str) -> Option<&Value> {
        let keys = ["name", "label", "ident", "route", "plural_label"];
        self.entities
            .iter()
            .find(|e| keys.iter().any(|k| e[k].as_str() == Some(name)))
            .or_else(|| {
                self.entities.iter().find(|e| {
                    keys.iter()
                        .any(|k| e[k].as_str().is_some_and(|v| same_name(v, name)))
                })
            })
    }

    fn view(&self, name: &str) -> Option<&Value> {
        self.views
            .iter()
            .find(|v| v["name"].as_str() == Some(name) || v["slug"].as_str() == Some(name))
            .or_else(|| {
                self.views
                    .iter()
                    .find(|v| v["name"].as_str().is_some_and(|n| same_name(n, name)))
            })
    }

    /// The JSON key of a field of `entity` named by its ident or its label.
    fn field(&self, entity: Option<&Value>, name: &str) -> String {
        let Some(fields) = entity.and_then(|e| e["fields"].as_array()) else {
            return name.to_string();
        };
        let ident = |f: &Value| f["ident"].as_str().map(String::from);
        fields
            .iter()
            .find(|f| f["ident"].as_str() == Some(name))
            .or_else(|| fields.iter().find(|f| f["label"].as_str() == Some(name)))
            .or_else(|| {
                fields
                    .iter()
                    .find(|f| f["label"].as_str().is_some_and(|l| same_name(l, name)))
            })
            .and_then(ident)
            .unwrap_or_else(|| name.to_string())
    }
}

/// What placeholders resolve against while a check runs.
struct Scope<'a> {
    spec: &'a SpecIndex,
    ids: BTreeMap<String, i64>,
    today: i64,
    now: i64,
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian; Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn date_text(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn datetime_text(secs: i64) -> String {
    let (day, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}",
        date_text(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `+N`/`-N` with an optional unit (`h`, `m`, `d`; days for dates).
fn offset(text: &str, unit_secs: bool) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes()[0] {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (num, mult) = if !unit_secs {
        (rest, 1)
    } else if let Some(n) = rest.strip_suffix('h') {
        (n, 3600)
    } else if let Some(n) = rest.strip_suffix('m') {
        (n, 60)
    } else if let Some(n) = rest.strip_suffix('d') {
        (n, 86_400)
    } else {
        return None;
    };
    num.parse::<i64>().ok().map(|n| sign * n * mult)
}

/// One resolved placeholder: text to splice in, or a JSON value when it is the whole string.
enum Resolved {
    Text(String),
    Id(i64),
}

impl<'a> Scope<'a> {
    fn resolve(&self, token: &str) -> Result<Resolved, String> {
        if let Some(rest) = token.strip_prefix("today") {
            let days =
                offset(rest, false).ok_or_else(|| format!("bad date placeholder {{{token}}}"))?;
            return Ok(Resolved::Text(date_text(self.today + days)));
        }
        if let Some(rest) = token.strip_prefix("now") {
            let secs =
                offset(rest, true).ok_or_else(|| format!("bad time placeholder {{{token}}}"))?;
            return Ok(Resolved::Text(datetime_text(self.now + secs)));
        }
        if let Some(name) = token.strip_prefix("id:") {
            return self
                .ids
                .get(name)
                .map(|id| Resolved::Id(*id))
                .ok_or_else(|| format!("{{{token}}}: no earlier step saved {name:?}"));
        }
        if let Some(name) = token.strip_prefix("api:") {
            let e = self
                .spec
                .entity(name)
                .ok_or_else(|| format!("{{{token}}}: spec.yaml has no entity {name:?}"))?;
            return Ok(Resolved::Text(format!(
                "/api/{}",
                e["route"].as_str().unwrap_or_default()
            )));
        }
        if let Some(name) = token.strip_prefix("view:") {
            let v = self
                .spec
                .view(name)
                .ok_or_else(|| format!("{{{token}}}: spec.yaml has no view {name:?}"))?;
            return Ok(Resolved::Text(format!(
                "/api/views/{}",
                v["slug"].as_str().unwrap_or_default()
            )));
        }
        Err(format!("unknown placeholder {{{token}}}"))
    }

    /// Replaces every `{…}` in `text`; a string that is exactly `{id:x}` becomes the number.
    fn text(&self, text: &str) -> Result<Value, String> {
        if let Some(token) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
            && !token.contains(['{', '}'])
            && let Resolved::Id(id) = self.resolve(token)?
        {
            return Ok(Value::from(id));
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed placeholder in {text:?}"))?;
            out.push_str(&rest[..open]);
            match self.resolve(&rest[open + 1..open + close])? {
                Resolved::Text(t) => out.push_str(&t),
                Resolved::Id(id) => out.push_str(&id.to_string()),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    /// Resolves placeholders in every string of `v`, and the top-level keys as field names of
    /// `entity` (so a check may use the issue's own words).
    fn value(&self, v: &Value, entity: Option<&Value>) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) if s == "{any}" => v.clone(),
            Value::String(s) => self.text(s)?,
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.value(x, None))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, x) in o {
                    m.insert(self.spec.field(entity, k), self.value(x, None)?);
                }
                Value::Object(m)
            }
            other => other.clone(),
        })
    }

    /// The entity a path is about: the first `{api:…}` or `{view:…}` in it.
    fn entity_of(&self, path: &str) -> Option<&'a Value> {
        let start = path.find('{')?;
        let token = &path[start + 1..start + path[start..].find('}')?];
        let spec: &'a SpecIndex = self.spec;
        if let Some(name) = token.strip_prefix("api:") {
            return spec.entity(name);
        }
        let view = spec.view(token.strip_prefix("view:")?)?;
        spec.entity(view["entity"].as_str()?)
    }
}

/// A decimal number written as text or JSON, normalised (`"120.50"` → `"120.5"`), if it is one.
fn decimal(v: &Value) -> Option<String> {
    let s = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = format!(
        "{}{}{}",
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() { "" } else { "." },
        frac
    );
    Some(if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    })
}

/// Whether `actual` holds what `expected` asks: objects by subset, numbers by value,
/// `"{any}"` for any non-null value.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), a) if s == "{any}" => !a.is_null(),
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| matches(v, a.get(k).unwrap_or(&Value::Null))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        (e, a) if e == a => true,
        (e, a) => match (decimal(e), decimal(a)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

fn days_now() -> (i64, i64) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (secs.div_euclid(86_400), secs)
}

async fn run_checks(
    checks: &[Check],
    base: &str,
    spec: &SpecIndex,
    case: &str,
) -> Vec<CheckResult> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let failure = run_check(&client, check, base, spec, &format!("{case}-{i}"))
            .await
            .err();
        out.push(CheckResult {
            name: check.name.clone(),
            failure,
        });
    }
    out
}

/// Signs up `email` and returns a bearer token.
async fn account(client: &reqwest::Client, base: &str, email: &str) -> Result<String, String> {
    let password = "eval-password-1234";
    let r = client
        .post(format!("{base}/api/auth/signup"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| format!("sign-up request failed: {e}"))?;
    if r.status().as_u16() != 201 {
        return Err(format!(
            "sign-up answered {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        ));
    }
    let form = format!(
        "username={}&password={password}",
        email.replace('@', "%40").replace('+', "%2B")
    );
    let r = client
        .post(format!("{base}/api/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| format!("token request failed: {e}"))?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    body["access_token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("token answered {status}: {}", short(&body)))
}

async fn run_check(
    client: &reqwest::Client,
    check: &Check,
    base: &str,
    spec: &SpecIndex,
    tag: &str,
) -> Result<(), String> {
    let (today, now) = days_now();
    let mut scope = Scope {
        spec,
        ids: BTreeMap::new(),
        today,
        now,
    };
    let mut tokens: BTreeMap<String, String> = BTreeMap::new();
    for (n, step) in check.steps.iter().enumerate() {
        let (method, raw_path) = step.request()?;
        let entity = scope.entity_of(raw_path);
        // Failures name the resolved path (`/api/invoices/4`), or the written one if it is bad.
        let path = match scope.text(raw_path) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => return Err(format!("step {} ({method} {raw_path}): {e}", n + 1)),
        };
        let fail = |why: String| format!("step {} ({method} {path}): {why}", n + 1);
        let user = step.user.clone().unwrap_or_else(|| "a".into());
        if !tokens.contains_key(&user) {
            let email = format!("eval-{tag}-{user}@example.com").to_lowercase();
            let token = account(client, base, &email)
                .await
                .map_err(|e| fail(format!("account {user}: {e}")))?;
            tokens.insert(user.clone(), token);
        }
        let mut request = client
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(&tokens[&user])
            .timeout(Duration::from_secs(30));
        if let Some(json) = &step.json {
            request = request.json(&scope.value(json, entity).map_err(&fail)?);
        }
        let response = request
            .send()
            .await
            .map_err(|e| fail(format!("request failed: {e}")))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let status_ok = match step.status {
            Some(s) => s == status,
            None => (200..300).contains(&status),
        };
        if !status_ok {
            let want = step
                .status
                .map_or("a 2xx status".to_string(), |s| s.to_string());
            return Err(fail(format!(
                "expected {want}, got {status}: {}",
                short(&body)
            )));
        }
        if let Some(name) = &step.save {
            let id = body["id"]
                .as_i64()
                .ok_or_else(|| fail(format!("no id to save in {}", short(&body))))?;
            scope.ids.insert(name.clone(), id);
        }
        if let Some(want) = &step.body {
            let want = scope
                .value(&Value::Object(want.clone()), entity)
                .map_err(&fail)?;
            if !matches(&want, &body) {
                return Err(fail(format!(
                    "expected the answer to hold {}, got {}",
                    short(&want),
                    short(&body)
                )));
            }
        }
        if let Some(locs) = &step.loc {
            let detail = body["detail"].as_array().cloned().unwrap_or_default();
            for name in locs {
                let field = spec.field(entity, name);
                let named = detail.iter().any(|d| {
                    d["loc"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(&field)))
                });
                if !named {
                    return Err(fail(format!(
                        "expected a detail[].loc naming {field:?}, got {}",
                        short(&body)
                    )));
                }
            }
        }
        if let Some(items) = &step.items {
            let want = scope
                .value(&Value::Array(items.clone()), None)
                .map_err(&fail)?;
            let want = match want {
                Value::Array(a) => Value::Array(
                    a.iter()
                        .map(|x| scope.value(x, entity))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(&fail)?,
                ),
                other => other,
            };
            if !matches(&want, &body["items"]) {
                return Err(fail(format!(
                    "expected items {}, got {}",
                    short(&want),
                    short(&body["items"])
                )));
            }
        }
        if let Some(total) = step.total
            && body["total"].as_u64() != Some(total)
        {
            return Err(fail(format!(
                "expected total {total}, got {}",
                short(&body["total"])
            )));
        }
        if let Some(sums) = &step.sums {
            let want = scope
                .value(&Value::Object(sums.clone()), entity)
                .map_err(&fail)?;
            if !matches(&want, &body["sums"]) {
                return Err(fail(format!(
                    "expected sums {}, got {}",
                    short(&want),
                    short(&body["sums"])
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn rules_section_is_removed_and_nothing_else() {
        let body = "### App name\n\nX\n\n### Rules\n\nA.b >= 0\nA: unique b\n\n### Views\n\nV: A where b > 1\n";
        let out = strip_rules(body);
        assert!(!out.contains("Rules") && !out.contains(">= 0") && !out.contains("unique"));
        assert!(out.contains("### Views\n\nV: A where b > 1") && out.contains("### App name"));
        assert_eq!(strip_rules("### App name\nX"), "### App name\nX");
    }

    #[test]
    fn dates_follow_the_calendar() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_782), "2024-02-29");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(datetime_text(86_400 + 3661), "1970-01-02T01:01:01");
    }

    fn spec() -> SpecIndex {
        SpecIndex::parse(
            "entities:\n- {name: MemberRecord, label: Member, route: member-records, fields: [{label: 이름, ident: ireum}]}\n\
             - {name: Loan, label: Loan, route: loans, fields: [{label: Member, ident: member_value}, {label: Lent on, ident: lent_on}]}\n\
             views:\n- {name: 큰 지출, slug: keun-jicul, entity: Loan}\n",
        )
        .unwrap()
    }

    #[test]
    fn placeholders_and_names_resolve_through_the_spec() {
        let spec = spec();
        let scope = Scope {
            spec: &spec,
            ids: BTreeMap::from([("ann".to_string(), 7)]),
            today: 0,
            now: 3600,
        };
        assert_eq!(
            scope.text("{api:Member}/{id:ann}").unwrap(),
            json!("/api/member-records/7")
        );
        assert_eq!(
            scope.text("{view:큰 지출}").unwrap(),
            json!("/api/views/keun-jicul")
        );
        assert_eq!(scope.text("{id:ann}").unwrap(), json!(7));
        assert_eq!(scope.text("{today-1}").unwrap(), json!("1969-12-31"));
        assert_eq!(
            scope.text("{now+2h}").unwrap(),
            json!("1970-01-01T03:00:00")
        );
        assert!(scope.text("{view:Nope}").unwrap_err().contains("no view"));
        assert!(scope.text("{id:bob}").is_err());
        let loan = scope.entity_of("{api:Loan}/{id:ann}");
        let body = scope
            .value(&json!({"member": "{id:ann}", "lent_on": "{today}"}), loan)
            .unwrap();
        assert_eq!(body, json!({"member_value": 7, "lent_on": "1970-01-01"}));
        let via_view = scope.entity_of("{view:큰 지출}");
        assert_eq!(spec.field(via_view, "Lent on"), "lent_on");
        assert_eq!(spec.field(scope.entity_of("{api:Member}"), "이름"), "ireum");
    }

    #[test]
    fn answers_match_by_subset_and_numbers_by_value() {
        assert!(matches(
            &json!({"amount": "120.50"}),
            &json!({"amount": "120.5", "id": 1})
        ));
        assert!(matches(&json!({"n": 3}), &json!({"n": "3.00"})));
        assert!(!matches(&json!({"n": 3}), &json!({"n": 4})));
        assert!(!matches(&json!({"s": "draft"}), &json!({"s": null})));
        assert!(matches(
            &json!({"at": "{any}"}),
            &json!({"at": "2030-01-01T00:00:00"})
        ));
        assert!(!matches(&json!({"at": "{any}"}), &json!({"at": null})));
        assert!(matches(
            &json!([{"a": 1}, {"a": 2}]),
            &json!([{"a": 1, "b": 0}, {"a": 2}])
        ));
        assert!(!matches(&json!([{"a": 1}]), &json!([{"a": 1}, {"a": 2}])));
        assert!(!matches(
            &json!([{"a": 2}, {"a": 1}]),
            &json!([{"a": 1}, {"a": 2}])
        ));
        assert!(matches(&json!("-0.50"), &json!("-0.5")));
        assert!(!matches(&json!("A-1"), &json!("A-2")));
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

    #[test]
    fn a_step_names_exactly_one_method() {
        let two: Step = yaml_serde::from_str("{get: /a, post: /b}").unwrap();
        assert!(two.request().is_err());
        assert!(Step::default().request().is_err());
        let one: Step = yaml_serde::from_str("{post: /a, status: 201}").unwrap();
        assert_eq!(one.request().unwrap().1, "/a");
        assert!(yaml_serde::from_str::<Step>("{get: /a, stauts: 200}").is_err());
    }
}
