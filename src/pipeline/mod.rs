//! The orchestrator: the only place that knows the order of the stages. Each stage is a
//! function with a typed input and output, in its own module:
//!
//! 1. intake — event payload → complete `Trigger` (or a skip)        [`crate::event`], [`prepare`]
//! 2. guard — may this author trigger a build? → `Verdict`           [`crate::guard`]
//! 3. spec — issue → `Spec` (the strategist for free text)           [`spec`]
//! 4. architecture — `Spec` → `Architecture` (+ the architect)       [`architecture`]
//! 5. plan — `Spec` + pack → `Plan` (file tasks, deps)               [`plan`]
//! 6. develop — `Plan` → `Files`: rendered code, the developers'
//!    fills ([`fill`]), the ops files with DevOps' figures ([`ops`]) [`develop`]
//! 7. integrate — `Files` → a commit on `e2e/issue-<n>-<slug>`      [`integrate`]
//! 8. test ⟲ repair — `Files` → final `Files` + `TestReport` (QA;
//!    repaired files replace the commit, same parent)                [`repair`], [`test`](mod@test)
//! 9. deploy — push → `Delivery`, then the pull request →
//!    `PullOutcome`                                                   [`deploy`], [`pull`]
//! 10. report — step summary, outputs and `run-report.json`          [`progress`], [`usage`]
//!
//! The architect, the developers and DevOps do not need each other's answers, so their LLM
//! calls run at the same time. Nothing is written to the repository before the integrate
//! stage, and nothing is pushed unless the tests pass (or `push-on-failure` says otherwise).

use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Settings;
use crate::error::E2eError;
use crate::event::Trigger;
use crate::github::GitHub;
use crate::guard::Verdict;
use crate::report::Reporter;
use crate::scaffold;

pub mod architecture;
pub mod close;
pub mod deploy;
pub mod develop;
pub mod fill;
pub mod integrate;
pub mod ops;
pub mod plan;
pub mod prepare;
pub mod progress;
pub mod prompt;
pub mod pull;
pub mod repair;
pub mod request;
pub mod run;
pub mod spec;
pub mod summary;
pub mod test;
pub mod usage;

pub use request::RunRequest;

use deploy::Delivery;
use prepare::Prepared;
use progress::Progress;
use run::{PullInput, Run};

/// How a run ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum RunOutcome {
    /// Nothing to do, with the reason.
    Skipped {
        /// Why.
        reason: String,
    },
    /// The app was built.
    Built(Delivery),
    /// The issue was closed as not planned and its pull request closed (`pull-request-*`
    /// outputs describe it; none when there was nothing to close).
    Closed(Delivery),
}

/// Runs the pipeline for `req`, reporting through `reporter`.
pub async fn run(req: &RunRequest, reporter: &Reporter) -> anyhow::Result<RunOutcome> {
    let secrets = [
        &req.github_token,
        &req.llm_api_key,
        &req.openai_api_key,
        &req.anthropic_api_key,
    ];
    for secret in secrets.into_iter().flatten() {
        reporter.mask(secret.expose_secret());
    }
    let (settings, trigger, github) = match prepare::prepare(req, reporter).await {
        Ok(Prepared::Build(prepared)) => *prepared,
        Ok(Prepared::Skip(reason)) => {
            summary::skipped(reporter, &reason);
            return Ok(RunOutcome::Skipped { reason });
        }
        Err(e) => {
            summary::failed(reporter, &e);
            return Err(e);
        }
    };
    let allowed = &settings.allowed_associations;
    match crate::guard::authorize(&trigger, allowed, github.as_ref()).await {
        Ok(Verdict::Build) => {}
        Ok(Verdict::Refuse(reason)) => {
            summary::refused(reporter, &trigger, github.as_ref(), &reason).await;
            return Ok(RunOutcome::Skipped { reason });
        }
        Err(e) => {
            let e = anyhow::Error::from(e);
            summary::guard_failed(reporter, trigger.issue.number, &e);
            return Err(e);
        }
    }
    if trigger.action == "closed" {
        return close::close(&trigger, github.as_ref(), reporter).await;
    }
    reporter.debug(&format!(
        "building issue #{} for {} ({} event, action `{}`)",
        trigger.issue.number, trigger.sender.login, trigger.event_name, trigger.action
    ));
    let mut progress = Progress::new(&trigger, github.as_ref(), reporter).await;
    if let Some(repo) = &req.repository {
        progress.set_server_repo(&format!("{}/{repo}", req.server_url.trim_end_matches('/')));
    }
    let gh = github.as_ref();
    let result = build(req, &settings, &trigger, gh, &mut progress, reporter)
        .await
        .map_err(anyhow::Error::from);
    if let Err(e) = &result {
        progress.fail(&format!("{e:#}")).await;
    }
    let mut markdown = progress.summary_markdown();
    markdown.push_str(&summary::next_step(result.as_ref()));
    progress::append_summary(reporter, &markdown);
    result.map(RunOutcome::Built)
}

/// Stages 3–10 for an authorised trigger, in order.
async fn build(
    req: &RunRequest,
    settings: &Settings,
    trigger: &Trigger,
    github: Option<&GitHub>,
    progress: &mut Progress<'_>,
    reporter: &Reporter,
) -> Result<Delivery, E2eError> {
    let mut run = Run::open(req, settings, trigger, github, progress, reporter).await?;
    let (spec, spec_from_llm) = run.spec(&trigger.issue).await?;
    let mut developed = run.develop(&spec).await?;
    let dirs = run.test_dirs(&spec);
    let (target, mut integration) = run.integrate(&spec, &developed.files, &dirs).await?;
    let files = std::mem::take(&mut developed.files);
    let tested = run.test(files, &dirs).await?;
    if let Some(repaired) = run.recommit(&spec, &target, &tested)? {
        integration = repaired;
    }
    let llm = run.llm_report(&mut developed, &tested, spec_from_llm);
    run.tested(&tested.report).await;
    let mut delivery = run
        .deploy(&integration, &tested.files, &tested.report)
        .await?;
    let base = integration.pull_base(&trigger.default_branch);
    let (arch, report) = (&developed.arch, &tested.report);
    let said = PullInput {
        spec: &spec,
        arch,
        report,
        llm: llm.as_ref(),
        base,
    };
    run.pull_request(said, &mut delivery).await?;
    run.report(&spec, &delivery, report).await?;
    Ok(delivery)
}

/// Stages 4–6 without git or tests: the files of the app for `spec` on `pack`.
pub fn render_app(
    spec: &crate::spec::Spec,
    pack: &scaffold::Pack,
    app_dir: &str,
) -> Result<develop::Files, E2eError> {
    let arch = architecture::design(spec, pack);
    let plan = plan::build(spec, pack)?;
    develop::develop(spec, &arch, &plan, pack, app_dir)
}
