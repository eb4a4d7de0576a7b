//! Fill (developers): an LLM answer for each hole of the rendered code, concurrently.
//!
//! In: the rendered code ([`Files`] with holes), the spec and the pack's hole descriptions.
//! Out: the files with accepted fills applied, and a [`FillRecord`] per hole. Calls are
//! bounded by `llm-concurrency`; when holes outnumber that bound, neighbouring holes share a
//! call so one wave fills them all. An answer that stays invalid keeps the scaffold's code;
//! budget and transport errors end the stage. Every fill is checked ([`check_code`]) before
//! it reaches a file.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::error::E2eError;
use crate::llm::schema::answer_schema;
use crate::llm::{Ask, Llm, Role};
use crate::pipeline::develop::Files;
use crate::pipeline::prompt::{data, parse_answer, prompt};
use crate::scaffold::{self, Pack};
use crate::spec::Spec;

/// Largest accepted fill, in bytes.
pub const MAX_FILL_BYTES: usize = 24 * 1024;
/// Most lines in a fill.
pub const MAX_FILL_LINES: usize = 400;

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

/// The developers' stage: fills the holes of `code` when there is an LLM and there are
/// holes; returns the files and a record per hole.
pub async fn fill(
    llm: Option<Arc<Llm>>,
    spec: &Spec,
    pack: &Pack,
    mut code: Files,
    concurrency: usize,
) -> Result<(Files, Vec<FillRecord>), E2eError> {
    match llm {
        Some(llm) if !code.hole_sites().is_empty() => {
            let records = fill_holes(llm, spec, pack, &mut code, concurrency).await?;
            Ok((code, records))
        }
        _ => Ok((code, Vec::new())),
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
                            E2eError::Internal(format!("a developer task crashed: {e}"))
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
        results
            .extend(r.map_err(|e| E2eError::Internal(format!("a developer task crashed: {e}")))??);
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_developer_schemas_are_derived_strict_and_parse_back() {
        use crate::llm::schema::{property_names, strict_compatible};
        let one = answer_schema::<Fill>();
        let many = answer_schema::<Fills>();
        assert!(strict_compatible(&one) && strict_compatible(&many));
        assert_eq!(property_names(&one), ["code"]);
        assert_eq!(property_names(&many), ["fills"]);
        assert!(parse_answer::<Fill>(&json!({"code": "pass"}), "fill").is_ok());
        assert!(
            parse_answer::<Fills>(&json!({"fills": [{"region": 1, "code": "pass"}]}), "fills")
                .is_ok()
        );
    }

    #[test]
    fn a_fill_may_not_reach_outside_its_function() {
        assert_eq!(check_code("return 1\n").unwrap(), "return 1\n");
        assert!(check_code("  \n").unwrap_err().contains("empty"));
        assert!(
            check_code("import os\nos.environ['X']\n")
                .unwrap_err()
                .contains("os.environ")
        );
        assert!(
            check_code(&"x = 1\n".repeat(MAX_FILL_LINES + 1))
                .unwrap_err()
                .contains("longer")
        );
        assert!(
            check_code(&format!("x = 1 {}", scaffold::HOLE_SENTINEL))
                .unwrap_err()
                .contains("forbidden character")
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
