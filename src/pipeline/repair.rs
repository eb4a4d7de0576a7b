//! Test ⟲ repair (QA): the app's own tests, and LLM fills that break them sent back.
//!
//! In: the final files of the develop stage (already staged for the tests), the test bench
//! (pack, folders, interpreter, sandbox) and the LLM, if any. Out: [`Tested`]: the files as
//! they will be committed, the last [`TestReport`], and what QA did. When the tests fail with
//! LLM fills in the code, QA patches the filled regions from the failing log (at most
//! `llm-max-repair-attempts` rounds); fills that keep failing go back to the scaffold and the
//! tests run once more. Failing tests are a report, not an error; the stage fails when the
//! tests cannot run, the generated code touched the repository's git configuration, or the
//! LLM's budget or transport fails.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::error::E2eError;
use crate::llm::schema::answer_schema;
use crate::llm::{Ask, Llm, Role};
use crate::pipeline::develop::Files;
use crate::pipeline::fill::check_code;
use crate::pipeline::prompt::{parse_answer, prompt};
use crate::pipeline::test::{self, TestDirs, TestReport};
use crate::report::Reporter;
use crate::sandbox::Isolation;
use crate::scaffold::PackManifest;
use crate::workspace::git::Workspace;

/// Where and how the tests run.
pub struct Bench<'a> {
    /// The pack's toolchain and test command.
    pub manifest: &'a PackManifest,
    /// Staging and cache folders.
    pub dirs: &'a TestDirs,
    /// The interpreter.
    pub python: &'a Path,
    /// Longest test run.
    pub timeout: Duration,
    /// The sandbox.
    pub iso: &'a Isolation,
    /// The checkout, whose git configuration the generated code must leave alone.
    pub workspace: &'a Workspace,
}

impl Bench<'_> {
    /// Runs the tests on `files` (staged again unless `staged`) and checks that the
    /// generated code left the repository's git configuration alone.
    async fn run(&self, files: &Files, staged: bool) -> Result<TestReport, E2eError> {
        if !staged {
            test::stage(files, self.dirs)?;
        }
        let report = test::run_staged(
            files,
            self.manifest,
            self.dirs,
            self.python,
            self.timeout,
            self.iso,
        )
        .await?;
        self.workspace.ensure_config_unchanged()?;
        Ok(report)
    }
}

/// What the test ⟲ repair stage produced.
#[derive(Debug, Clone)]
pub struct Tested {
    /// The files to commit (QA's patches applied, failing fills reverted).
    pub files: Files,
    /// The last test run.
    pub report: TestReport,
    /// QA repair rounds run.
    pub repairs: u32,
    /// Fills reverted to the scaffold (`file#hole`).
    pub reverted: Vec<String>,
}

/// Runs the tests on `files` (already staged) and repairs or reverts failing LLM fills.
pub async fn test_and_repair(
    mut files: Files,
    bench: &Bench<'_>,
    llm: Option<&Llm>,
    max_repairs: u32,
    reporter: &Reporter,
) -> Result<Tested, E2eError> {
    let mut report = bench.run(&files, true).await?;
    let (mut repairs, mut reverted) = (0, Vec::new());
    let Some(llm) = llm else {
        return Ok(Tested {
            files,
            report,
            repairs,
            reverted,
        });
    };
    while !report.passed() && files.has_fills() && repairs < max_repairs {
        repairs += 1;
        reporter.info(&format!(
            "tests failed with LLM fills ({}); QA repair round {repairs}",
            report.summary
        ));
        let log = normalise_log(&report.log_tail, &bench.dirs.work);
        match qa_repair(llm, &files, &log).await {
            Ok(patches) => {
                for (i, j, code) in patches {
                    files.set_fill(i, j, Some(code));
                }
            }
            // No usable patch: the fills go back to the scaffold below.
            Err(E2eError::LlmInvalid(why)) => {
                reporter.warning(&format!("QA's repair stayed invalid: {why}"));
                break;
            }
            Err(e) => return Err(e),
        }
        report = bench.run(&files, false).await?;
    }
    if !report.passed() && files.has_fills() {
        reporter.untrusted_block(
            &format!("test log with the LLM fills ({}):", report.summary),
            &report.log_tail,
        );
        reverted = files.clear_fills();
        reporter.warning(&format!(
            "the LLM fills kept failing the tests; reverted to the scaffold: {}",
            reverted.join(", ")
        ));
        report = bench.run(&files, false).await?;
    }
    Ok(Tested {
        files,
        report,
        repairs,
        reverted,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repair_schema_is_derived_strict_and_parses_back() {
        use crate::llm::schema::{property_names, strict_compatible};
        let schema = answer_schema::<Repair>();
        assert!(strict_compatible(&schema), "{schema:#}");
        assert_eq!(property_names(&schema), ["patches"]);
        let sample = json!({"patches": [{"file": "f", "hole": "h", "code": "pass"}]});
        assert!(parse_answer::<Repair>(&sample, "repair").is_ok());
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
}
