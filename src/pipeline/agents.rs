//! The crew: role prompts (`templates/prompts/<role>.md`) and what each role's answer must be.
//!
//! - strategist: a free-text issue → a draft in the issue form's own format (data model,
//!   rules, views), parsed by the deterministic form parser (its errors are quoted back to
//!   the model);
//! - architect: the narrative of ARCHITECTURE.md;
//! - developers: one fill per hole, concurrently (bounded by `llm-concurrency`; when holes
//!   outnumber that bound, neighbouring holes share a call so one wave fills them all);
//! - QA: patches for filled regions from a failing test log.
//!
//! Issue text reaches a prompt only sanitised and inside `<issue-data>` … `</issue-data>`.

use std::sync::Arc;

use minijinja::Value;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::error::E2eError;
use crate::event::Trigger;
use crate::issue::{form, sanitize};
use crate::llm::schema::answer_schema;
use crate::llm::{Ask, Llm, Role};
use crate::pipeline::develop::{Files, Ops};
use crate::scaffold::{self, Pack};
use crate::spec::{IssueRef, Spec};

/// Largest accepted fill, in bytes.
pub const MAX_FILL_BYTES: usize = 24 * 1024;
/// Most lines in a fill.
pub const MAX_FILL_LINES: usize = 400;

/// Untrusted text made safe for a prompt's data block.
pub fn data(text: &str) -> String {
    sanitize::sanitize(text)
        .text
        .replace("<issue-data>", "")
        .replace("</issue-data>", "")
}

/// Renders `templates/prompts/<name>.md` into (system, user).
/// Every role's prompt template, compiled once per process (a 40-entity spec asks for dozens
/// of fills, each rendering the developer prompt).
fn prompts() -> Result<&'static minijinja::Environment<'static>, E2eError> {
    static PROMPTS: std::sync::OnceLock<Result<minijinja::Environment<'static>, String>> =
        std::sync::OnceLock::new();
    PROMPTS
        .get_or_init(|| {
            let files = scaffold::EMBEDDED
                .get_dir("prompts")
                .map(|d| {
                    d.files()
                        .filter_map(|f| {
                            let name = f.path().file_stem()?.to_str()?.to_string();
                            Some((name, f.contents_utf8()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let pack = Pack {
                manifest: scaffold::PackManifest {
                    name: "prompts".into(),
                    description: String::new(),
                    toolchain: String::new(),
                    requirements: None,
                    test: vec![],
                    test_timeout_secs: None,
                    roles: Default::default(),
                    holes: vec![],
                    components: vec![],
                    reserved: Default::default(),
                },
                files,
                docs: Default::default(),
            };
            scaffold::environment(&pack).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| E2eError::Stack(format!("prompt templates: {e} (a bug)")))
}

fn prompt(name: &str, ctx: serde_json::Value) -> Result<(String, String), E2eError> {
    let env = prompts()?;
    let text = scaffold::render(env, name, &Value::from(minijinja::value::Serde(&ctx)))?;
    let (system, user) = text.split_once("=== user ===\n").ok_or_else(|| {
        E2eError::Stack(format!("prompt {name} has no `=== user ===` line (a bug)"))
    })?;
    Ok((system.trim().to_string(), user.trim().to_string()))
}

/// The strategist's draft, in the issue form's terms.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Draft {
    /// Short product name
    app_name: String,
    /// One or two sentences: what the app is for
    #[serde(default)]
    summary: String,
    /// One entity per line in the issue-form format
    data_model: Vec<String>,
    /// Requested features, one per item
    #[serde(default)]
    features: Vec<String>,
    /// One rule per line in the issue form's Rules format; empty when the request states none
    #[serde(default)]
    rules: Vec<String>,
    /// One view per line in the issue form's Views format; empty when the request asks for none
    #[serde(default)]
    views: Vec<String>,
}

/// Most rules and views a strategist draft may hold (a draft is a starting point, not a
/// rule book; the issue form takes more).
const MAX_DRAFT_STATEMENTS: usize = 30;

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Draft {
    fn form_body(&self) -> String {
        let mut body = format!(
            "### App name\n\n{}\n\n### Summary\n\n{}\n\n### Data model\n\n",
            one_line(&self.app_name),
            if self.summary.trim().is_empty() {
                "_No response_".into()
            } else {
                self.summary.trim().to_string()
            }
        );
        for line in &self.data_model {
            body.push_str(&one_line(line));
            body.push('\n');
        }
        // Rules and views go through the same parser as the issue form's sections, so their
        // errors (quoted back to the model) carry the same line numbers and examples.
        for (heading, lines) in [("Rules", &self.rules), ("Views", &self.views)] {
            if !lines.is_empty() {
                body.push_str(&format!("\n### {heading}\n\n"));
                for line in lines {
                    body.push_str(&one_line(line));
                    body.push('\n');
                }
            }
        }
        body.push_str("\n### Features\n\n");
        for f in &self.features {
            body.push_str(&format!("- [X] {}\n", one_line(f)));
        }
        body
    }
}

/// Free-text issue → spec, through a draft the form parser accepts (identifiers avoid the
/// pack's `reserved` names).
pub async fn strategist(
    llm: &Llm,
    trigger: &Trigger,
    reserved: &crate::ident::ReservedNames,
) -> Result<Spec, E2eError> {
    let issue = IssueRef {
        number: trigger.issue.number,
        title: trigger.issue.title.clone(),
        url: trigger.issue.html_url.clone(),
    };
    let (system, user) = prompt(
        "strategist",
        json!({"title": data(&trigger.issue.title), "body": data(&trigger.issue.body), "problem": ""}),
    )?;
    let ask = Ask {
        role: Role::Strategist,
        stage: "spec",
        system,
        user,
        schema_name: "draft",
        schema: answer_schema::<Draft>(),
        max_tokens: 2000,
    };
    llm.ask(&ask, |v| {
        let draft: Draft = parse_answer(v, "draft")?;
        if draft.data_model.len() > 12 {
            return Err(format!("{} entities; at most 12", draft.data_model.len()));
        }
        if draft.rules.len() > MAX_DRAFT_STATEMENTS || draft.views.len() > MAX_DRAFT_STATEMENTS {
            return Err(format!(
                "{} rules and {} views; at most {MAX_DRAFT_STATEMENTS} of each",
                draft.rules.len(),
                draft.views.len()
            ));
        }
        form::parse_issue_form_for(&issue, &draft.form_body(), reserved).map_err(|e| e.to_string())
    })
    .await
}

/// The architect's narrative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Narrative {
    /// Overview paragraph.
    pub overview: String,
    /// Key design decisions.
    pub decisions: Vec<String>,
    /// Risks and mitigations.
    pub risks: Vec<String>,
}

/// Writes the narrative parts of ARCHITECTURE.md.
pub async fn architect(llm: &Llm, spec: &Spec, pack: &Pack) -> Result<Narrative, E2eError> {
    let mut app = serde_json::to_value(&spec.app).unwrap_or_default();
    app["name"] = json!(data(&spec.app.name));
    app["summary"] = json!(data(&spec.app.summary));
    let (system, user) = prompt(
        "architect",
        json!({"app": app, "entities": spec.entities, "pack": {"description": pack.manifest.description}}),
    )?;
    let ask = Ask {
        role: Role::Architect,
        stage: "architecture",
        system,
        user,
        schema_name: "narrative",
        schema: answer_schema::<Narrative>(),
        max_tokens: 1500,
    };
    llm.ask(&ask, |v| {
        let n: Narrative = parse_answer(v, "narrative")?;
        if n.overview.trim().is_empty() || n.overview.len() > 2000 {
            return Err("`overview` must be a paragraph of at most 2000 characters".into());
        }
        if n.decisions.len() > 5
            || n.risks.len() > 5
            || n.decisions.iter().chain(&n.risks).any(|s| s.len() > 600)
        {
            return Err("at most 5 decisions and 5 risks, each under 600 characters".into());
        }
        Ok(n)
    })
    .await
}

/// DevOps: the app's memory limit and latency target for the alert rules, with short notes.
pub async fn devops(llm: &Llm, spec: &Spec) -> Result<Ops, E2eError> {
    let (system, user) = prompt(
        "devops",
        json!({"app": {"name": data(&spec.app.name), "summary": data(&spec.app.summary)}, "entities": spec.entities, "defaults": Ops::default()}),
    )?;
    let ask = Ask {
        role: Role::Devops,
        stage: "develop",
        system,
        user,
        schema_name: "ops",
        schema: answer_schema::<Ops>(),
        max_tokens: 600,
    };
    llm.ask(&ask, |v| {
        let ops: Ops = parse_answer(v, "ops")?;
        if !(128..=16384).contains(&ops.memory_limit_mb) {
            return Err("`memory_limit_mb` must be between 128 and 16384".into());
        }
        if !(0.05..=30.0).contains(&ops.latency_p95_seconds) {
            return Err("`latency_p95_seconds` must be between 0.05 and 30".into());
        }
        if ops.notes.len() > 5
            || ops
                .notes
                .iter()
                .any(|n| n.chars().count() > 200 || n.chars().any(char::is_control))
        {
            return Err("at most 5 notes, each one line of at most 200 characters".into());
        }
        Ok(ops)
    })
    .await
}

/// What a fill may not use: the environment, processes, the network, files, dynamic code.
/// Business rules and extra routes need none of these; a denylist is not a sandbox (the tests
/// run sandboxed anyway), but it keeps an injected or careless answer out of the PR.
pub const FORBIDDEN_IN_CODE: &[&str] = &[
    "os.environ",
    "getenv",
    "environ[",
    "subprocess",
    "os.system",
    "os.popen",
    "os.exec",
    "os.fork",
    "pty.",
    "socket",
    "urllib",
    "requests.",
    "httpx",
    "http.client",
    "aiohttp",
    "ftplib",
    "smtplib",
    "http://",
    "https://",
    "__import__",
    "importlib",
    "eval(",
    "exec(",
    "compile(",
    "open(",
    "pathlib",
    "shutil",
    "os.remove",
    "os.unlink",
    "os.rename",
    "os.chmod",
    ".github",
    "ctypes",
    "pickle",
    "marshal",
    "sys.modules",
    "globals(",
    "setattr(builtins",
];

/// Checks a fill: size, lines, nothing that could confuse the file's assembly, and none of the
/// [`FORBIDDEN_IN_CODE`] capabilities.
pub fn check_code(code: &str) -> Result<String, String> {
    if code.trim().is_empty() {
        return Err("`code` is empty".into());
    }
    if code.len() > MAX_FILL_BYTES || code.lines().count() > MAX_FILL_LINES {
        return Err(format!(
            "`code` is longer than {MAX_FILL_LINES} lines or {MAX_FILL_BYTES} bytes"
        ));
    }
    if code.contains(scaffold::HOLE_SENTINEL) || code.contains('\0') {
        return Err("`code` contains a forbidden character".into());
    }
    if let Some(bad) = FORBIDDEN_IN_CODE.iter().find(|f| code.contains(**f)) {
        return Err(format!(
            "`code` uses `{bad}`; fills may not touch the environment, processes, the network or files"
        ));
    }
    Ok(code.to_string())
}

/// A developer's answer for one hole.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Fill {
    /// The complete replacement of the region
    code: String,
}

/// One region of a several-region answer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RegionFill {
    /// The region's number
    region: u64,
    /// The complete replacement of the region
    code: String,
}

/// A developer's answer for several holes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Fills {
    /// One entry per region
    fills: Vec<RegionFill>,
}

/// QA's patch of one filled region.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Patch {
    /// The file's path, as listed
    file: String,
    /// The hole's name, as listed
    hole: String,
    /// The new code of the region
    code: String,
}

/// QA's answer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Repair {
    /// Patches, one per region to change
    patches: Vec<Patch>,
}

/// `T` from an answer object, or what is wrong with it (quoted back to the model).
fn parse_answer<T: serde::de::DeserializeOwned>(
    v: &serde_json::Value,
    what: &str,
) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("not a {what} object: {e}"))
}

/// A fill the developers made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FillRecord {
    /// File path in the app.
    pub file: String,
    /// Hole name.
    pub hole: String,
    /// Whether the fill differs from the scaffold.
    pub changed: bool,
    /// Why the LLM's answers were refused (the scaffold's code stays), if they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// Most holes one developer call fills when holes outnumber `llm-concurrency`.
pub const MAX_HOLES_PER_CALL: usize = 6;
/// Output budget of a developer call that fills several holes.
const BATCH_MAX_TOKENS: u32 = 8192;

/// Groups hole sites into developer calls. While the holes fit the concurrency bound each gets
/// its own call; beyond it, neighbouring holes (files sorted by path, so the same kind of file)
/// share a call, so that one wave of at most `concurrency` calls fills them all: the longest
/// chain of dependent calls stays one deep instead of ⌈holes / concurrency⌉. A call takes at
/// most [`MAX_HOLES_PER_CALL`] holes, which bounds its answer; past that, calls queue.
pub fn batches(sites: &[(usize, usize)], concurrency: usize) -> Vec<Vec<(usize, usize)>> {
    if sites.is_empty() {
        return Vec::new();
    }
    let per_call = sites
        .len()
        .div_ceil(concurrency.max(1))
        .clamp(1, MAX_HOLES_PER_CALL);
    let calls = sites.len().div_ceil(per_call);
    // Even sizes: the first `long` calls take one hole more than the rest.
    let (short, long) = (sites.len() / calls, sites.len() % calls);
    let mut out = Vec::with_capacity(calls);
    let mut rest = sites;
    for k in 0..calls {
        let (head, tail) = rest.split_at(short + usize::from(k < long));
        out.push(head.to_vec());
        rest = tail;
    }
    out
}

/// Checks a several-region answer: every region 1..=`n` exactly once, each code acceptable.
pub fn check_fills(v: &serde_json::Value, n: usize) -> Result<Vec<String>, String> {
    let fills: Fills = parse_answer(v, "fills")?;
    let mut codes: Vec<Option<String>> = vec![None; n];
    for f in fills.fills {
        let region = usize::try_from(f.region)
            .ok()
            .filter(|r| (1..=n).contains(r))
            .ok_or_else(|| format!("`region` must be a number from 1 to {n}"))?;
        let code = check_code(&f.code).map_err(|why| format!("region {region}: {why}"))?;
        if codes[region - 1].replace(code).is_some() {
            return Err(format!("region {region} is answered twice"));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|r| codes[r - 1].is_none())
        .map(|r| r.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no fill for region(s) {}; answer every region",
            missing.join(", ")
        ));
    }
    Ok(codes.into_iter().flatten().collect())
}

/// What a developer needs to know of one hole: its file, the spec slice, the code around it.
fn region(files: &Files, spec: &Spec, pack: &Pack, (i, j): (usize, usize)) -> serde_json::Value {
    let file = &files.files[i];
    let hole = &file.holes[j];
    let description = pack
        .manifest
        .holes
        .iter()
        .find(|h| h.name == hole.name)
        .map(|h| h.description.clone())
        .unwrap_or_default();
    let entity = hole.entity.as_deref().and_then(|n| spec.entity(n));
    let (before, after) = file.around(j);
    json!({
        "file": file.path, "hole": hole.name, "description": description,
        "entity": entity, "before": before, "default": hole.default, "after": after,
    })
}

/// The developer call for `regions` (from [`region`], one per hole of a group): the one-hole
/// prompt for one, the several-region prompt for more. `app` holds the app's name, summary and
/// requested features, as data.
fn developer_ask(app: &serde_json::Value, regions: &[serde_json::Value]) -> Result<Ask, E2eError> {
    let (system, user, schema_name, schema, max_tokens) = if let [one] = regions {
        let mut ctx = one.clone();
        ctx["app"] = app["app"].clone();
        ctx["requested"] = app["requested"].clone();
        let (system, user) = prompt("developer", ctx)?;
        (system, user, "fill", answer_schema::<Fill>(), 4000)
    } else {
        let numbered: Vec<serde_json::Value> = regions
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let mut r = r.clone();
                r["region"] = json!(k + 1);
                r
            })
            .collect();
        let (system, user) = prompt(
            "developer_batch",
            json!({"app": app["app"], "requested": app["requested"], "regions": numbered}),
        )?;
        (
            system,
            user,
            "fills",
            answer_schema::<Fills>(),
            BATCH_MAX_TOKENS,
        )
    };
    Ok(Ask {
        role: Role::Developer,
        stage: "develop",
        system,
        user,
        schema_name,
        schema,
        max_tokens,
    })
}

/// One fill per site of `group`, in order, from one call.
async fn ask_group(llm: &Llm, ask: &Ask, n: usize) -> Result<Vec<String>, E2eError> {
    if n == 1 {
        let code = llm
            .ask(ask, |v| check_code(&parse_answer::<Fill>(v, "fill")?.code))
            .await?;
        Ok(vec![code])
    } else {
        llm.ask(ask, |v| check_fills(v, n)).await
    }
}

type FillResult = ((usize, usize), Result<String, E2eError>);

/// Fills every hole concurrently (at most `concurrency` calls in flight, holes grouped by
/// [`batches`]) and applies the fills. A group whose answer stays invalid is asked again one
/// hole per call, so one bad region does not cost its neighbours their fills.
pub async fn fill_holes(
    llm: Arc<Llm>,
    spec: &Spec,
    pack: &Pack,
    files: &mut Files,
    concurrency: usize,
) -> Result<Vec<FillRecord>, E2eError> {
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let app = Arc::new(json!({
        "app": {"name": data(&spec.app.name), "summary": data(&spec.app.summary)},
        "requested": spec.app.requested_features.iter().map(|f| data(f)).collect::<Vec<_>>(),
    }));
    for group in batches(&files.hole_sites(), concurrency) {
        let regions: Vec<serde_json::Value> = group
            .iter()
            .map(|site| region(files, spec, pack, *site))
            .collect();
        let ask = developer_ask(&app, &regions)?;
        let app = app.clone();
        let (llm, sem) = (llm.clone(), sem.clone());
        set.spawn(async move {
            let permit = sem.clone().acquire_owned().await;
            let answer = ask_group(&llm, &ask, group.len()).await;
            drop(permit);
            let out: Vec<FillResult> = match answer {
                Ok(codes) => group.into_iter().zip(codes.into_iter().map(Ok)).collect(),
                Err(E2eError::LlmInvalid(_)) if group.len() > 1 => {
                    let mut each = tokio::task::JoinSet::new();
                    for (site, region) in group.into_iter().zip(regions) {
                        let ask = developer_ask(&app, std::slice::from_ref(&region))?;
                        let (llm, sem) = (llm.clone(), sem.clone());
                        each.spawn(async move {
                            let _permit = sem.acquire_owned().await;
                            (
                                site,
                                ask_group(&llm, &ask, 1).await.map(|mut c| c.remove(0)),
                            )
                        });
                    }
                    let mut out = Vec::new();
                    while let Some(r) = each.join_next().await {
                        out.push(r.map_err(|e| {
                            E2eError::Llm(format!("a developer task crashed: {e} (a bug)"))
                        })?);
                    }
                    out
                }
                Err(E2eError::LlmInvalid(why)) => group
                    .into_iter()
                    .map(|site| (site, Err(E2eError::LlmInvalid(why.clone()))))
                    .collect(),
                // Budget, transport: the stage ends.
                Err(e) => return Err(e),
            };
            Ok::<_, E2eError>(out)
        });
    }
    let mut results: Vec<FillResult> = Vec::new();
    while let Some(r) = set.join_next().await {
        results.extend(
            r.map_err(|e| E2eError::Llm(format!("a developer task crashed: {e} (a bug)")))??,
        );
    }
    results.sort_by_key(|(site, _)| *site);
    let mut records = Vec::new();
    for ((i, j), code) in results {
        let (file, hole) = (
            files.files[i].path.clone(),
            files.files[i].holes[j].name.clone(),
        );
        let code = match code {
            Ok(code) => code,
            // An answer that stays invalid keeps the scaffold's code; anything else (budget,
            // transport) ends the stage.
            Err(E2eError::LlmInvalid(why)) => {
                records.push(FillRecord {
                    file,
                    hole,
                    changed: false,
                    rejected: Some(why),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let default = files.files[i].holes[j].default.clone();
        let changed = code.trim() != default.trim();
        records.push(FillRecord {
            file,
            hole,
            changed,
            rejected: None,
        });
        if changed {
            files.set_fill(i, j, Some(code));
        }
    }
    Ok(records)
}

/// The test log as QA sees it: the run's own folders and timings taken out, so the same
/// failure makes the same prompt in every run (a recorded QA answer then replays).
pub fn normalise_log(log: &str, work: &std::path::Path) -> String {
    let mut out = log.to_string();
    let mut dirs = vec![work.display().to_string()];
    if let Ok(c) = work.canonicalize() {
        dirs.push(c.display().to_string());
    }
    // The longest first, so a canonical path that extends the given one is taken whole.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in dirs.iter().filter(|d| d.len() > 1) {
        out = out.replace(d.as_str(), "<run>");
    }
    // pytest's "in 4.81s" and "(0:00:04)".
    let mut clean = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find(" in ") {
        let (head, tail) = rest.split_at(at + 4);
        clean.push_str(head);
        let digits = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        if digits > 0 && tail[digits..].starts_with('s') {
            clean.push_str("<t>");
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    clean.push_str(rest);
    // Object addresses in reprs ("<Foo object at 0x7f3a…>").
    let mut out = String::with_capacity(clean.len());
    let mut rest = clean.as_str();
    while let Some(at) = rest.find("0x") {
        let (head, tail) = rest.split_at(at + 2);
        out.push_str(head);
        let hex = tail
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(tail.len());
        if hex >= 6 {
            out.push('…');
            rest = &tail[hex..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// QA: new code for filled regions, from the failing log. Returns `(file, hole, code)` triples.
pub async fn qa_repair(
    llm: &Llm,
    files: &Files,
    log_tail: &str,
) -> Result<Vec<(usize, usize, String)>, E2eError> {
    let filled: Vec<(usize, usize)> = files
        .hole_sites()
        .into_iter()
        .filter(|&(i, j)| files.files[i].holes[j].fill.is_some())
        .collect();
    let fills: Vec<serde_json::Value> = filled
        .iter()
        .map(|&(i, j)| json!({"file": files.files[i].path, "hole": files.files[i].holes[j].name, "code": files.files[i].holes[j].fill}))
        .collect();
    let log: String = log_tail
        .chars()
        .rev()
        .take(8000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let (system, user) = prompt("qa", json!({"log": log, "fills": fills}))?;
    let ask = Ask {
        role: Role::Qa,
        stage: "test",
        system,
        user,
        schema_name: "repair",
        schema: answer_schema::<Repair>(),
        max_tokens: 6000,
    };
    llm.ask(&ask, |v| {
        let repair: Repair = parse_answer(v, "repair")?;
        if repair.patches.is_empty() {
            return Err("`patches` is empty; change at least one region".into());
        }
        repair
            .patches
            .iter()
            .map(|p| {
                let (file, hole) = (p.file.as_str(), p.hole.as_str());
                let &(i, j) = filled
                    .iter()
                    .find(|&&(i, j)| {
                        files.files[i].path == file && files.files[i].holes[j].name == hole
                    })
                    .ok_or_else(|| {
                        format!(
                            "no filled region {hole:?} in {file:?}; patch only the regions listed"
                        )
                    })?;
                Ok((i, j, check_code(&p.code)?))
            })
            .collect()
    })
    .await
}

/// What the LLM did in a run, for the summary, the PR body and `run-report.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlmReport {
    /// Provider and model.
    pub provider: String,
    /// Usage rows: stage, role, calls, cached, retries, tokens in/out, cost.
    pub usage: Vec<UsageRow>,
    /// Fills made by the developers.
    pub fills: Vec<FillRecord>,
    /// QA repair rounds run.
    pub repairs: u32,
    /// Fills reverted to the scaffold (`file#hole`).
    pub reverted: Vec<String>,
    /// Whether the architect wrote the narrative.
    pub narrative: bool,
    /// Whether the spec came from the strategist (free text) rather than the form.
    pub spec_from_llm: bool,
    /// The DevOps role's monitoring figures, if it answered.
    pub ops: Option<Ops>,
}

/// One usage row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRow {
    /// Stage.
    pub stage: String,
    /// Role.
    pub role: Role,
    /// Calls sent.
    pub calls: u64,
    /// Answers from the cache or recording.
    pub cached: u64,
    /// Transport retries.
    pub retries: u64,
    /// Answers asked again for being invalid.
    pub invalid: u64,
    /// Tokens in.
    pub tokens_in: u64,
    /// Tokens out.
    pub tokens_out: u64,
    /// Estimated cost, USD.
    pub cost_usd: f64,
    /// The longest question of this row, ms (re-asks included).
    pub longest_ask_ms: u64,
}

impl LlmReport {
    /// Copies the client's usage book into the report.
    pub fn take_usage(&mut self, llm: &Llm) {
        self.provider = llm.describe();
        self.usage = llm
            .usage()
            .into_iter()
            .map(|((stage, role), l)| UsageRow {
                stage,
                role,
                calls: l.calls,
                cached: l.cached,
                retries: l.retries,
                invalid: l.invalid,
                tokens_in: l.tokens.input,
                tokens_out: l.tokens.output,
                cost_usd: l.cost_usd,
                longest_ask_ms: l.longest_ask_ms,
            })
            .collect();
    }

    /// Totals: (calls, tokens in, tokens out, cost).
    pub fn totals(&self) -> (u64, u64, u64, f64) {
        self.usage.iter().fold((0, 0, 0, 0.0), |(c, i, o, d), r| {
            (
                c + r.calls,
                i + r.tokens_in,
                o + r.tokens_out,
                d + r.cost_usd,
            )
        })
    }

    /// Markdown for the step summary and the PR body.
    pub fn markdown(&self) -> String {
        let (calls, tin, tout, cost) = self.totals();
        let mut s = format!(
            "LLM: {} — {calls} calls, {tin} tokens in, {tout} out, about ${cost:.4}.\n\n",
            self.provider
        );
        s.push_str("| stage | role | calls | cached | retries | invalid | tokens in | tokens out | cost |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.usage {
            s.push_str(&format!(
                "| {} | {:?} | {} | {} | {} | {} | {} | {} | ${:.4} |\n",
                r.stage,
                r.role,
                r.calls,
                r.cached,
                r.retries,
                r.invalid,
                r.tokens_in,
                r.tokens_out,
                r.cost_usd
            ));
        }
        let changed: Vec<String> = self
            .fills
            .iter()
            .filter(|f| f.changed)
            .map(|f| format!("`{}#{}`", f.file, f.hole))
            .collect();
        if let Some(ops) = &self.ops {
            s.push_str(&format!(
                "\nDevOps: memory limit {} MiB, p95 latency target {} s.\n",
                ops.memory_limit_mb, ops.latency_p95_seconds
            ));
        }
        let rejected: Vec<String> = self
            .fills
            .iter()
            .filter(|f| f.rejected.is_some())
            .map(|f| format!("`{}#{}`", f.file, f.hole))
            .collect();
        if !rejected.is_empty() {
            // Why, once: the first reason (all holes usually share it, e.g. a server that
            // refuses the request or answers prose). It may quote the model: a code span keeps
            // it from being read as Markdown.
            let why = self
                .fills
                .iter()
                .find_map(|f| f.rejected.as_deref())
                .map(|w| {
                    w.chars()
                        .map(|c| {
                            if c == '`' {
                                '\''
                            } else if c.is_control() {
                                ' '
                            } else {
                                c
                            }
                        })
                        .take(300)
                        .collect::<String>()
                })
                .unwrap_or_default();
            s.push_str(&format!(
                "\nRefused LLM answers (the scaffold's code stays): {}. Why: `{why}`\n",
                rejected.join(", ")
            ));
        }
        s.push_str(&format!(
            "\nFilled by the LLM: {}.{}{}\n",
            if changed.is_empty() {
                "nothing".into()
            } else {
                changed.join(", ")
            },
            if self.repairs > 0 {
                format!(" QA repair rounds: {}.", self.repairs)
            } else {
                String::new()
            },
            if self.reverted.is_empty() {
                String::new()
            } else {
                format!(
                    " Reverted to the scaffold because the tests kept failing: {}.",
                    self.reverted
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(views: &[&str]) -> Draft {
        serde_json::from_value(json!({
            "app_name": "Invoices",
            "summary": "",
            "data_model": [
                "Client: name (text, required)",
                "Invoice: client (ref Client), amount (decimal, required), due_on (date), status (enum: draft|sent|paid)"
            ],
            "features": [],
            "rules": ["Invoice.amount >= 0", "Invoice.status default draft"],
            "views": views,
        }))
        .unwrap()
    }

    #[test]
    fn a_draft_carries_rules_and_views_through_the_form_parser() {
        let issue = IssueRef {
            number: 7,
            title: "t".into(),
            url: String::new(),
        };
        let body = draft(&["Overdue: Invoice where due_on < today and status != paid, sum amount"])
            .form_body();
        assert!(
            body.contains("\n### Rules\n\nInvoice.amount >= 0\nInvoice.status default draft\n"),
            "{body}"
        );
        let spec = form::parse_issue_form(&issue, &body).unwrap();
        assert_eq!(spec.rules.len(), 2);
        assert_eq!(spec.views[0].slug, "overdue");
        assert_eq!(spec.views[0].sums, ["amount"]);
        // A draft without the keys (an older answer) has no such sections.
        let old: Draft =
            serde_json::from_value(json!({"app_name": "A", "data_model": ["A: b"]})).unwrap();
        assert!(!old.form_body().contains("### Rules") && !old.form_body().contains("### Views"));
        // The parser's error, exactly as the issue form would show it, is what the model reads.
        let err = form::parse_issue_form(
            &issue,
            &draft(&["Overdue: Invoice where due < today"]).form_body(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "views line 1 \"Overdue: Invoice where due < today\": entity \"Invoice\" has no field \"due\"; expected one of client, amount, due_on, status"
        );
    }

    fn sites(n: usize) -> Vec<(usize, usize)> {
        (0..n).map(|i| (i, 0)).collect()
    }

    #[test]
    fn holes_that_fit_the_bound_get_one_call_each() {
        let b = batches(&sites(8), 8);
        assert_eq!(b.len(), 8);
        assert!(b.iter().all(|g| g.len() == 1));
        assert!(batches(&[], 8).is_empty());
    }

    #[test]
    fn more_holes_than_the_bound_share_calls_in_one_wave() {
        // 41 holes (40 entities + extra routes) at the default bound: 7 calls of 6 or 5.
        let b = batches(&sites(41), 8);
        assert_eq!(b.len(), 7);
        assert!(b.iter().all(|g| (5..=6).contains(&g.len())), "{b:?}");
        // Every hole exactly once, in order.
        assert_eq!(b.concat(), sites(41));
        // 9 holes at 8: five calls of at most 2 (one wave), not 8 calls and a straggler.
        let b = batches(&sites(9), 8);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![2, 2, 2, 2, 1]
        );
    }

    #[test]
    fn a_call_never_takes_more_than_the_cap() {
        let b = batches(&sites(100), 4);
        assert!(b.iter().all(|g| g.len() <= MAX_HOLES_PER_CALL));
        assert_eq!(b.len(), 100usize.div_ceil(MAX_HOLES_PER_CALL));
        assert_eq!(b.concat(), sites(100));
        assert_eq!(batches(&sites(3), 0).len(), 1, "a bound of 0 means 1");
    }

    /// Every schema the crew sends is derived from the type its answer is parsed into, in the
    /// strict form; an answer that fills the schema parses into that type.
    #[test]
    fn the_crew_schemas_are_derived_strict_and_parse_back() {
        use crate::llm::schema::{property_names, strict_compatible};
        let cases = [
            (
                answer_schema::<Draft>(),
                json!({"app_name": "A", "summary": "s", "data_model": ["Book: title (text)"], "features": [], "rules": [], "views": []}),
            ),
            (
                answer_schema::<Narrative>(),
                json!({"overview": "o", "decisions": [], "risks": []}),
            ),
            (
                answer_schema::<Ops>(),
                json!({"memory_limit_mb": 512, "latency_p95_seconds": 0.5, "notes": []}),
            ),
            (answer_schema::<Fill>(), json!({"code": "pass"})),
            (
                answer_schema::<Fills>(),
                json!({"fills": [{"region": 1, "code": "pass"}]}),
            ),
            (
                answer_schema::<Repair>(),
                json!({"patches": [{"file": "f", "hole": "h", "code": "pass"}]}),
            ),
        ];
        for (schema, sample) in &cases {
            assert!(strict_compatible(schema), "{schema:#}");
            let keys: Vec<String> = {
                let mut k: Vec<String> = sample.as_object().unwrap().keys().cloned().collect();
                k.sort();
                k
            };
            assert_eq!(property_names(schema), keys, "{schema:#}");
        }
        assert!(parse_answer::<Draft>(&cases[0].1, "draft").is_ok());
        assert!(parse_answer::<Narrative>(&cases[1].1, "narrative").is_ok());
        assert!(parse_answer::<Ops>(&cases[2].1, "ops").is_ok());
        assert!(parse_answer::<Fill>(&cases[3].1, "fill").is_ok());
        assert!(parse_answer::<Fills>(&cases[4].1, "fills").is_ok());
        assert!(parse_answer::<Repair>(&cases[5].1, "repair").is_ok());
        // The DevOps bounds come from the type's attributes.
        let ops = &cases[2].0["properties"];
        assert_eq!(ops["memory_limit_mb"]["minimum"], json!(128));
        assert_eq!(ops["memory_limit_mb"]["maximum"], json!(16384));
        assert_eq!(ops["notes"]["maxItems"], json!(5));
        assert_eq!(
            cases[0].0["properties"]["app_name"]["description"],
            "Short product name"
        );
    }

    #[test]
    fn the_qa_log_loses_the_runs_folders_and_timings() {
        let work = std::path::Path::new("/tmp/.tmpAbC/runner-temp/e2e-action/issue-42");
        let log = "/tmp/.tmpAbC/runner-temp/e2e-action/issue-42/app/tests/test_x.py:3: in f\n<A object at 0x7f3a9c2b1d90> 0x10\n==== 1 failed, 90 passed in 4.81s ====";
        assert_eq!(
            normalise_log(log, work),
            "<run>/app/tests/test_x.py:3: in f\n<A object at 0x…> 0x10\n==== 1 failed, 90 passed in <t>s ===="
        );
    }

    #[test]
    fn a_several_region_answer_must_cover_every_region_once() {
        let ok = json!({"fills": [
            {"region": 2, "code": "return data\n"},
            {"region": 1, "code": "pass\n"}
        ]});
        assert_eq!(
            check_fills(&ok, 2).unwrap(),
            vec!["pass\n", "return data\n"]
        );
        let missing = json!({"fills": [{"region": 1, "code": "pass\n"}]});
        assert!(
            check_fills(&missing, 3)
                .unwrap_err()
                .contains("region(s) 2, 3")
        );
        let twice =
            json!({"fills": [{"region": 1, "code": "pass\n"}, {"region": 1, "code": "pass\n"}]});
        assert!(check_fills(&twice, 2).unwrap_err().contains("twice"));
        let outside = json!({"fills": [{"region": 3, "code": "pass\n"}]});
        assert!(
            check_fills(&outside, 2)
                .unwrap_err()
                .contains("from 1 to 2")
        );
        let bad = json!({"fills": [{"region": 2, "code": "import subprocess\n"}, {"region": 1, "code": "pass\n"}]});
        let why = check_fills(&bad, 2).unwrap_err();
        assert!(
            why.starts_with("region 2:") && why.contains("subprocess"),
            "{why}"
        );
        assert!(check_fills(&json!({"code": "pass"}), 1).is_err());
    }
}
