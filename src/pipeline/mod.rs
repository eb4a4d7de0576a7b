//! The orchestrator: the only place that knows the order of the stages.
//!
//! 1. intake — event payload → `Trigger` (or a skip)       [`crate::event`]
//! 2. guard — may this author trigger a build?              [`crate::guard`]
//! 3. spec — issue form → `Spec`                            [`spec`]
//! 4. architecture — `Spec` → `Architecture`                [`architecture`]
//! 5. plan — `Spec` + pack → `Plan` (file tasks, deps)      [`plan`]
//! 6. develop — `Plan` → `Files` (rendered templates)       [`develop`]
//! 7. integrate — `Files` → commit on `e2e/issue-<n>-<slug>` [`integrate`]
//! 8. test — the app's own tests, sandboxed → `TestReport`  [`test`]
//! 9. deploy — push the branch, set outputs → `Delivery`    [`deploy`]
//! 10. report — step summary and `run-report.json`          [`progress`]
//!
//! Nothing is written to the repository before the integrate stage, and nothing is pushed
//! unless the tests pass (or `push-on-failure` says otherwise).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use std::sync::Arc;

use crate::config::{self, Inputs, LlmProvider, Settings};
use crate::error::E2eError;
use crate::event::{self, Intake, Trigger};
use crate::github::GitHub;
use crate::llm::{Llm, LlmSettings, ProviderKind};
use crate::report::Reporter;
use crate::scaffold::filters;
use crate::scaffold::{self, PackSource};
use agents::LlmReport;

pub mod agents;
pub mod architecture;
pub mod deploy;
pub mod develop;
pub mod integrate;
pub mod plan;
pub mod progress;
pub mod pull;
pub mod spec;
pub mod test;

use progress::{Progress, Stage};

/// Everything a run needs, already read from the environment or the CLI.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// `GITHUB_EVENT_PATH`.
    pub event_path: Option<PathBuf>,
    /// The checkout (`GITHUB_WORKSPACE`).
    pub workspace: PathBuf,
    /// `GITHUB_REPOSITORY` (`owner/name`), if known.
    pub repository: Option<String>,
    /// `RUNNER_TEMP`.
    pub runner_temp: PathBuf,
    /// Cache folder for virtual environments and package caches.
    pub cache_dir: PathBuf,
    /// Action inputs.
    pub inputs: Inputs,
    /// `github-token` input or `GITHUB_TOKEN`.
    pub github_token: Option<SecretString>,
    /// `llm-api-key` input.
    pub llm_api_key: Option<SecretString>,
    /// `OPENAI_API_KEY`, used when `llm-api-key` is empty and the provider is openai.
    pub openai_api_key: Option<SecretString>,
    /// `ANTHROPIC_API_KEY`, used when `llm-api-key` is empty and the provider is anthropic.
    pub anthropic_api_key: Option<SecretString>,
    /// `GITHUB_API_URL`.
    pub api_url: String,
    /// `GITHUB_SERVER_URL`.
    pub server_url: String,
    /// A folder of the user's own stack packs, instead of the embedded ones.
    pub templates_dir: Option<PathBuf>,
    /// The runner's tool cache (`RUNNER_TOOL_CACHE`): a cache folder may also live there.
    pub tool_cache: Option<PathBuf>,
    /// Whether `cache_dir` came from the `cache-dir` input (confined to the workspace,
    /// `RUNNER_TEMP` or the tool cache) rather than from the command line or a default.
    pub cache_dir_from_input: bool,
}

impl RunRequest {
    /// A local run of an `issues` event: no token, no key, no GitHub API.
    pub fn local(
        event: PathBuf,
        workspace: PathBuf,
        runner_temp: PathBuf,
        cache_dir: PathBuf,
        inputs: Inputs,
    ) -> RunRequest {
        RunRequest {
            event_name: "issues".into(),
            event_path: Some(event),
            workspace,
            repository: None,
            runner_temp,
            cache_dir,
            inputs,
            github_token: None,
            llm_api_key: None,
            openai_api_key: None,
            anthropic_api_key: None,
            api_url: "https://api.github.com".into(),
            server_url: "https://github.com".into(),
            templates_dir: None,
            tool_cache: None,
            cache_dir_from_input: false,
        }
    }
}

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
    Built(deploy::Delivery),
    /// The issue was closed as not planned and its pull request closed (`pull-request-*`
    /// outputs describe it; none when there was nothing to close).
    Closed(deploy::Delivery),
}

/// Runs the pipeline for `req`, reporting through `reporter`.
pub async fn run(req: &RunRequest, reporter: &Reporter) -> anyhow::Result<RunOutcome> {
    for secret in [
        &req.github_token,
        &req.llm_api_key,
        &req.openai_api_key,
        &req.anthropic_api_key,
    ]
    .into_iter()
    .flatten()
    {
        reporter.mask(secret.expose_secret());
    }
    let (settings, mut trigger, github) = match prepare(req, reporter).await {
        Ok(Prepared::Build(prepared)) => *prepared,
        Ok(Prepared::Skip(reason)) => {
            reporter.notice(&format!("e2e-action: nothing to do: {reason}"));
            summary(
                reporter,
                &format!(
                    "## e2e-action: nothing to do\n\n{}\n",
                    filters::md(reason.as_str().into())
                ),
            );
            return Ok(RunOutcome::Skipped { reason });
        }
        Err(e) => {
            summary(
                reporter,
                &format!(
                    "## e2e-action failed\n\n{}\n\n**What to do next:** {}\n",
                    filters::md(format!("{e:#}").as_str().into()),
                    crate::error::next_step_of(&e)
                ),
            );
            return Err(e);
        }
    };

    // 2. guard
    let authorized = crate::guard::authorize(
        &mut trigger,
        &settings.allowed_associations,
        github.as_ref(),
    )
    .await;
    let refusal = match authorized {
        Ok(verdict) => verdict.err(),
        Err(e) => {
            let e = anyhow::Error::from(e);
            summary(
                reporter,
                &format!(
                    "## e2e-action failed: issue #{}\n\nThe permission check failed: {}\n\n**What to do next:** {}\n",
                    trigger.issue.number,
                    filters::md(format!("{e:#}").as_str().into()),
                    crate::error::next_step_of(&e)
                ),
            );
            return Err(e);
        }
    };
    if let Some(reason) = refusal {
        reporter.notice(&format!("e2e-action: not building: {reason}"));
        if let Some(gh) = &github
            && let Err(e) = crate::guard::reply(gh, &trigger, &reason).await
        {
            reporter.warning(&format!("cannot reply on the issue: {e}"));
        }
        let next = if trigger.action == "closed" {
            "someone with write access to the repository can close the pull request."
        } else {
            "someone with write access to the repository can comment `/e2e build` on the issue to build it."
        };
        summary(
            reporter,
            &format!(
                "## e2e-action: not building issue #{}\n\n{}.\n\n**What to do next:** {next}\n",
                trigger.issue.number,
                filters::md(reason.as_str().into())
            ),
        );
        return Ok(RunOutcome::Skipped { reason });
    }
    if trigger.action == "closed" {
        return close(&trigger, github.as_ref(), reporter).await;
    }
    reporter.debug(&format!(
        "building issue #{} for {} ({} event, action `{}`)",
        trigger.issue.number, trigger.sender.login, trigger.event_name, trigger.action
    ));
    let mut progress = Progress::new(&trigger, github.as_ref(), reporter).await;
    if let Some(repo) = &req.repository {
        progress.set_server_repo(&format!("{}/{repo}", req.server_url.trim_end_matches('/')));
    }
    let result = build(
        req,
        &settings,
        &trigger,
        github.as_ref(),
        &mut progress,
        reporter,
    )
    .await;
    if let Err(e) = &result {
        progress.fail(&format!("{e:#}")).await;
    }
    let mut markdown = progress.summary_markdown();
    markdown.push_str(&match &result {
        Ok(RunOutcome::Built(d)) => match (&d.pull, &d.not_pushed_because) {
            (Some(pr), _) => format!(
                "\n**What to do next:** review pull request #{} ({}), then merge it; its description says how to enable the deploy workflow.\n",
                pr.number, pr.url
            ),
            (None, Some(why)) => format!(
                "\n**Not pushed:** {}. The app is in `{}` on the local branch `{}`.\n",
                filters::md(why.as_str().into()),
                d.app_path,
                d.branch
            ),
            (None, None) => format!(
                "\n**What to do next:** open a pull request from `{}` (no token was given to open one).\n",
                d.branch
            ),
        },
        Ok(RunOutcome::Skipped { .. } | RunOutcome::Closed(_)) => String::new(),
        Err(e) => format!(
            "\n**What to do next:** {}\n",
            crate::error::next_step_of(e)
        ),
    });
    summary(reporter, &markdown);
    result
}

/// The issue was closed as not planned: close its open pull request, set the outputs.
async fn close(
    trigger: &Trigger,
    github: Option<&GitHub>,
    reporter: &Reporter,
) -> anyhow::Result<RunOutcome> {
    let n = trigger.issue.number;
    let Some(gh) = github else {
        let reason = "closing the issue's pull request needs a github-token".to_string();
        reporter.notice(&format!("e2e-action: nothing to do: {reason}"));
        summary(
            reporter,
            &format!("## e2e-action: nothing to do\n\n{reason}.\n"),
        );
        return Ok(RunOutcome::Skipped { reason });
    };
    let closed = match pull::close_for_issue(gh, n, reporter).await {
        Ok(c) => c,
        Err(e) => {
            let e = anyhow::Error::from(e);
            summary(
                reporter,
                &format!(
                    "## e2e-action failed: issue #{n}\n\nClosing its pull request failed: {}\n\n**What to do next:** {}\n",
                    filters::md(format!("{e:#}").as_str().into()),
                    crate::error::next_step_of(&e)
                ),
            );
            return Err(e);
        }
    };
    let mut delivery = deploy::Delivery {
        branch: String::new(),
        sha: String::new(),
        app_path: String::new(),
        tests: String::new(),
        pushed: false,
        changed: false,
        remote: None,
        not_pushed_because: Some(format!("#{n} was closed as not planned")),
        pull: None,
    };
    let mut md = format!("## e2e-action: issue #{n} closed as not planned\n\n");
    if closed.is_empty() {
        md.push_str("It had no open pull request: nothing to close.\n");
    }
    for (pr, outcome) in closed {
        reporter.notice(&format!(
            "e2e-action: closed pull request #{} ({}) of #{n}",
            pr.number, pr.branch
        ));
        md.push_str(&format!(
            "Closed pull request #{} ({}); the branch `{}` is kept.\n",
            pr.number, pr.html_url, pr.branch
        ));
        delivery.branch = pr.branch;
        delivery.sha = pr.sha;
        delivery.pull = Some(outcome);
    }
    reporter
        .set_outputs(&delivery.outputs())
        .map_err(|e| E2eError::Workspace(format!("cannot write GITHUB_OUTPUT: {e}")))?;
    md.push_str("\n**What to do next:** reopen the issue to build it again.\n");
    summary(reporter, &md);
    Ok(RunOutcome::Closed(delivery))
}

/// What the stages before the guard decided.
enum Prepared {
    /// Build this trigger with these settings (and the API client, when there is a token).
    Build(Box<(Settings, Trigger, Option<GitHub>)>),
    /// Nothing to do, for this reason.
    Skip(String),
}

/// Configuration and intake: nothing is written and nothing is sent.
async fn prepare(req: &RunRequest, reporter: &Reporter) -> anyhow::Result<Prepared> {
    // The configuration decides what the intake accepts; reading it writes nothing.
    let config_path = config::config_path(&req.workspace, &req.inputs);
    let file = config::read_config_file(&config_path).map_err(|e| match e {
        // Annotations need the path from the repository root to point at the file.
        E2eError::ConfigFile {
            file,
            line,
            message,
        } => E2eError::ConfigFile {
            file: config_path
                .strip_prefix(&req.workspace)
                .map(|p| p.display().to_string())
                .unwrap_or(file),
            line,
            message,
        },
        e => e,
    })?;
    let settings = Settings::resolve(&file, &req.inputs)?;
    check_destinations(req, &settings, reporter)?;
    if reporter.debug {
        // A base URL may carry credentials in its userinfo; the debug log never shows them.
        let mut shown = settings.clone();
        shown.llm.base_url = shown
            .llm
            .base_url
            .as_deref()
            .map(crate::workspace::git::redact_url);
        reporter.debug(&format!(
            "settings: {}",
            serde_json::to_string(&shown).unwrap_or_default()
        ));
    }

    // 1. intake
    let event_path = req.event_path.clone().ok_or_else(|| E2eError::Event {
        path: PathBuf::from("<unset>"),
        reason: "GITHUB_EVENT_PATH is not set (use --event FILE outside Actions)".into(),
    })?;
    let opts = event::IntakeOptions {
        trigger_label: settings.trigger_label.clone(),
    };
    let trigger = match event::read_event(&req.event_name, &event_path, &opts)? {
        Intake::Skip(reason) => return Ok(Prepared::Skip(reason)),
        Intake::Build(t) => *t,
    };
    let github = match (&req.github_token, &req.repository) {
        (Some(token), Some(repo)) => {
            Some(GitHub::new(&req.api_url, token, repo)?.with_reporter(reporter.clone()))
        }
        _ => None,
    };
    Ok(Prepared::Build(Box::new((settings, trigger, github))))
}

/// Appends to the step summary; a failure to write it is a warning.
fn summary(reporter: &Reporter, markdown: &str) {
    if let Err(e) = reporter.summary(markdown) {
        reporter.warning(&format!("cannot write the step summary: {e}"));
    }
}

async fn build(
    req: &RunRequest,
    settings: &Settings,
    trigger: &Trigger,
    github: Option<&GitHub>,
    progress: &mut Progress<'_>,
    reporter: &Reporter,
) -> anyhow::Result<RunOutcome> {
    progress
        .done(
            Stage::Intake,
            &format!(
                "{} event, issue #{}",
                trigger.event_name, trigger.issue.number
            ),
        )
        .await;
    progress
        .done(
            Stage::Guard,
            &format!(
                "{} is {}",
                trigger.issue.author.login, trigger.issue.author_association
            ),
        )
        .await;

    // The pack and the workspace are checked before any stage writes anything.
    let source = match &req.templates_dir {
        Some(d) => PackSource::Dir(d),
        None => PackSource::Embedded,
    };
    let pack = scaffold::load_pack(&source, &settings.stack)?;
    // Finding the interpreter may start Python through a shim (250 ms with pyenv's): it runs
    // while the stages before the tests do their work.
    let interpreter = tokio::task::spawn_blocking(test::find_python);
    let workspace = crate::workspace::git::Workspace::open(&req.workspace)?;
    if workspace.trusted_foreign_owner {
        reporter.notice("the workspace belongs to another user (the runner's checkout); trusting it because it is the workspace this job was given");
    }
    workspace.ensure_clean()?;

    let llm = match settings.llm_provider {
        LlmProvider::None => None,
        LlmProvider::Llm(kind) => {
            let mut llm = Llm::new(llm_settings(kind, settings, req))?;
            // A retired or unknown model fails here, before anything is written.
            for note in llm.resolve_model().await? {
                reporter.warning(&note);
            }
            Some(Arc::new(llm))
        }
    };
    let mut llm_report = LlmReport::default();

    // 3. spec: the form is parsed deterministically; free text needs the strategist.
    progress.start(Stage::Spec).await;
    let spec = match &llm {
        Some(llm) if !crate::issue::form::is_issue_form(&trigger.issue.body) => {
            llm_report.spec_from_llm = true;
            agents::strategist(llm, trigger, &pack.manifest.reserved).await?
        }
        _ => spec::from_issue(trigger, &pack.manifest.reserved)?,
    };
    progress.set_spec(&spec);
    progress
        .done(
            Stage::Spec,
            &format!("{}: {} entities", spec.app.name, spec.entities.len()),
        )
        .await;

    // 4–6. architecture, plan, develop. The architect's narrative and the developers' fills
    // do not depend on each other, so their LLM calls run at the same time.
    let started = Instant::now();
    let mut arch = architecture::design(&spec, &pack);
    let plan = plan::build(&spec, &pack)?;
    let plan_ms = started.elapsed();
    let render_started = Instant::now();
    let app_dir = settings.app_dir_for(&spec.app.slug, spec.issue.number);
    let mut renderer = develop::Renderer::new(&spec, &pack, &app_dir)?;
    let mut code = renderer.tasks(&plan)?;
    let mut render_ms = render_started.elapsed();
    let narrative = async {
        let t = Instant::now();
        let n = match &llm {
            Some(llm) => optional(
                agents::architect(llm, &spec, &pack).await,
                "architect's narrative",
                "ARCHITECTURE.md keeps its generated sections only",
                reporter,
            ),
            None => Ok(None),
        };
        (n, t.elapsed())
    };
    let fills = async {
        let t = Instant::now();
        let mut files = develop::Files {
            files: std::mem::take(&mut code),
        };
        let fills = match &llm {
            Some(llm) if !files.hole_sites().is_empty() => {
                agents::fill_holes(
                    llm.clone(),
                    &spec,
                    &pack,
                    &mut files,
                    settings.llm.concurrency,
                )
                .await
            }
            _ => Ok(Vec::new()),
        };
        (fills.map(|f| (f, files)), t.elapsed())
    };
    let ops = async {
        match &llm {
            Some(llm) => optional(
                agents::devops(llm, &spec).await,
                "DevOps role's figures",
                "the monitoring keeps its default limits",
                reporter,
            ),
            None => Ok(None),
        }
    };
    let ((narrative, arch_time), (fills, develop_time), ops) = tokio::join!(narrative, fills, ops);
    if let Some(llm) = &llm {
        // A model found retired mid-phase and replaced by the default.
        for w in llm.take_warnings() {
            reporter.warning(&w);
        }
    }
    arch.narrative = narrative?;
    llm_report.narrative = arch.narrative.is_some();
    progress
        .done_timed(
            Stage::Architecture,
            &format!(
                "{} components, {} relations",
                arch.components.len(),
                arch.relations.len()
            ),
            arch_time,
        )
        .await;
    progress
        .done_timed(
            Stage::Plan,
            &format!("{} file tasks", plan.tasks.len()),
            plan_ms,
        )
        .await;
    let (fills, code) = fills?;
    llm_report.fills = fills;
    let docs_started = Instant::now();
    let mut all = code.files;
    if let Some(ops) = ops? {
        // The DevOps role tuned the monitoring: render the files that use its figures again
        // (the alert rules, and the deploy files, where the container's memory limit is set).
        renderer.set_ops(&ops);
        let monitoring =
            renderer.tasks_where(&plan, |t| t.role == "monitoring" || t.role == "devops")?;
        all.retain(|f| !monitoring.iter().any(|m| m.path == f.path));
        all.extend(monitoring);
        llm_report.ops = Some(ops);
    }
    all.extend(renderer.docs(&spec, &arch, &plan)?);
    let mut files = develop::finish(all)?;
    render_ms += docs_started.elapsed();
    let filled = llm_report.fills.iter().filter(|f| f.changed).count();
    progress
        .done_timed(
            Stage::Develop,
            &format!(
                "{} files, {} KiB, {filled} holes filled by the LLM",
                files.files.len(),
                files.bytes() / 1024
            ),
            render_ms + develop_time,
        )
        .await;

    // 7. integrate, while the test stage's copy of the tree is written.
    progress.start(Stage::Integrate).await;
    let dirs = test::TestDirs {
        work: test::work_dir(&req.runner_temp, spec.issue.number),
        cache: req.cache_dir.clone(),
    };
    let staging = {
        let (files, dirs) = (files.clone(), dirs.clone());
        tokio::task::spawn_blocking(move || test::stage(&files, &dirs))
    };
    let integrated = integrate::integrate(&workspace, settings, &spec, &files, &app_dir, req);
    let staged = staging.await;
    let mut integration = integrated?;
    staged.map_err(|e| E2eError::Internal(format!("staging the tests crashed: {e}")))??;
    progress.set_branch(&integration.branch);
    progress
        .done(
            Stage::Integrate,
            &format!(
                "{} on {}",
                if integration.changed {
                    "committed"
                } else {
                    "unchanged"
                },
                integration.branch
            ),
        )
        .await;

    // 8. test ⟲ repair: LLM fills that break the tests go to QA, then back to the scaffold.
    progress.start(Stage::Test).await;
    let python = interpreter
        .await
        .map_err(|e| E2eError::Internal(format!("finding Python crashed: {e}")))??;
    let (iso, python) = test::prepare_isolation(python, &dirs);
    reporter.info(&iso.describe());
    progress.set_sandbox(&iso.describe());
    let timeout = Duration::from_secs(
        pack.manifest
            .test_timeout_secs
            .unwrap_or(settings.test_timeout_secs)
            .min(settings.test_timeout_secs),
    );
    let mut report =
        test::run_staged(&files, &pack.manifest, &dirs, &python, timeout, &iso).await?;
    // Generated code ran: prove it left the repository's git configuration alone.
    workspace.ensure_config_unchanged()?;
    if let Some(llm) = &llm {
        while !report.passed()
            && files.has_fills()
            && llm_report.repairs < settings.llm.max_repair_attempts
        {
            llm_report.repairs += 1;
            reporter.info(&format!(
                "tests failed with LLM fills ({}); QA repair round {}",
                report.summary, llm_report.repairs
            ));
            let log = agents::normalise_log(&report.log_tail, &dirs.work);
            match agents::qa_repair(llm, &files, &log).await {
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
                Err(e) => return Err(e.into()),
            }
            report = test::run_tests(&files, &pack.manifest, &dirs, &python, timeout, &iso).await?;
            workspace.ensure_config_unchanged()?;
        }
        if !report.passed() && files.has_fills() {
            reporter.untrusted_block(
                &format!("test log with the LLM fills ({}):", report.summary),
                &report.log_tail,
            );
            llm_report.reverted = files.clear_fills();
            reporter.warning(&format!(
                "the LLM fills kept failing the tests; reverted to the scaffold: {}",
                llm_report.reverted.join(", ")
            ));
            report = test::run_tests(&files, &pack.manifest, &dirs, &python, timeout, &iso).await?;
            workspace.ensure_config_unchanged()?;
        }
        if llm_report.repairs > 0 || !llm_report.reverted.is_empty() {
            integration = integrate::integrate(&workspace, settings, &spec, &files, &app_dir, req)?;
        }
        llm_report.take_usage(llm);
        progress.set_llm(llm_report);
    }
    if report.passed() {
        progress.done(Stage::Test, &report.summary).await;
    } else {
        reporter.untrusted_block(
            &format!("test log ({}):", report.log_path.display()),
            &report.log_tail,
        );
        progress.failed(Stage::Test, &report.summary).await;
    }

    // 9. deploy
    progress.start(Stage::Deploy).await;
    let mut delivery = deploy::deploy(
        &workspace,
        settings,
        &integration,
        &files,
        &report,
        req,
        github,
        reporter,
    )
    .await?;
    // The PR: when the branch is on the remote and its content is what we built.
    let on_remote =
        delivery.pushed || delivery.not_pushed_because.as_deref() == Some(deploy::UP_TO_DATE);
    if let (Some(gh), true) = (github, on_remote) {
        let base = if integration.base.len() == 40
            && integration.base.chars().all(|c| c.is_ascii_hexdigit())
        {
            trigger.default_branch.clone()
        } else {
            integration.base.clone()
        };
        let body = pull::body(
            &spec,
            &arch,
            &delivery,
            &report,
            progress.own_ms(),
            progress.llm(),
        );
        let pr = pull::open_or_update(
            gh,
            &delivery,
            &base,
            &pull::title(&spec),
            &body,
            settings,
            reporter,
        )
        .await?;
        progress.set_pull(&pr.url);
        delivery.pull = Some(pr);
    }
    progress.done(Stage::Deploy, &delivery.describe()).await;

    // 10. report
    progress.finish(&delivery, &report).await;
    let run_report = progress.run_report(&spec, &delivery, &report);
    let report_path = req.runner_temp.join("e2e-action").join("run-report.json");
    if let Err(e) = crate::report::write_json(&report_path, &run_report) {
        reporter.warning(&format!("cannot write {}: {e}", report_path.display()));
    }
    reporter
        .set_outputs(&delivery.outputs())
        .map_err(|e| E2eError::Workspace(format!("cannot write GITHUB_OUTPUT: {e}")))?;
    if !report.passed() {
        return Err(E2eError::TestsFailed(format!(
            "{}; {}; full log: {}",
            report.summary,
            if delivery.pushed {
                "the branch was pushed anyway (push-on-failure)"
            } else {
                "nothing was pushed"
            },
            report.log_path.display()
        ))
        .into());
    }
    Ok(RunOutcome::Built(delivery))
}

/// A role's answer that only improves the app: one that stays invalid leaves the default in
/// place (with a warning) instead of failing the run; budget and transport errors still do.
fn optional<T>(
    answer: Result<T, E2eError>,
    what: &str,
    instead: &str,
    reporter: &Reporter,
) -> Result<Option<T>, E2eError> {
    match answer {
        Ok(v) => Ok(Some(v)),
        Err(E2eError::LlmInvalid(why)) => {
            reporter.warning(&format!("the {what} stayed invalid, so {instead}: {why}"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The LLM client's settings for this run.
/// Before anything is written or sent: the cache folders stay inside the workspace,
/// `RUNNER_TEMP` or the runner's tool cache, and an LLM key travels only over https (or plain
/// http to this machine). Says where the key goes.
fn check_destinations(
    req: &RunRequest,
    settings: &Settings,
    reporter: &Reporter,
) -> Result<(), E2eError> {
    let mut roots: Vec<&std::path::Path> = vec![&req.workspace, &req.runner_temp];
    if let Some(t) = &req.tool_cache {
        roots.push(t);
    }
    if req.cache_dir_from_input {
        crate::workspace::confine::confine_cache_dir("cache-dir", &req.cache_dir, &roots)
            .map_err(E2eError::Config)?;
    }
    if let Some(d) = &settings.llm.cache_dir {
        crate::workspace::confine::confine_cache_dir(
            "llm-cache-dir",
            std::path::Path::new(d),
            &roots,
        )
        .map_err(E2eError::Config)?;
    }
    if let LlmProvider::Llm(kind) = settings.llm_provider
        && kind != ProviderKind::Replay
    {
        let key = llm_settings(kind, settings, req).api_key.is_some();
        let url = settings.llm.base_url.clone().unwrap_or_else(|| {
            match kind {
                ProviderKind::Anthropic => "https://api.anthropic.com",
                _ => "https://api.openai.com/v1",
            }
            .into()
        });
        let lower = url.to_ascii_lowercase();
        let plain = !lower.starts_with("https://");
        if key && plain && !crate::workspace::git::is_loopback_url(&lower) {
            return Err(E2eError::Config(format!(
                "llm-base-url {} is not https: the LLM key would travel unencrypted. Use https (plain http is accepted only for a server on this machine)",
                crate::workspace::git::redact_url(&url)
            )));
        }
        if key {
            reporter.info(&format!(
                "LLM: the {} key is sent to {}",
                kind.name(),
                crate::workspace::git::redact_url(&url)
            ));
        }
    }
    Ok(())
}

fn llm_settings(kind: ProviderKind, settings: &Settings, req: &RunRequest) -> LlmSettings {
    let env_key = match kind {
        ProviderKind::Openai => req.openai_api_key.clone(),
        ProviderKind::Anthropic => req.anthropic_api_key.clone(),
        ProviderKind::Replay => None,
    };
    LlmSettings {
        provider: kind,
        model: settings.llm.model.clone(),
        base_url: settings.llm.base_url.clone(),
        api_key: req.llm_api_key.clone().or(env_key),
        cache_dir: settings
            .llm
            .cache_dir
            .as_ref()
            .map(|d| req.workspace.join(d)),
        max_calls: settings.llm.max_calls,
        max_tokens: settings.llm.max_tokens,
        timeout: Duration::from_secs(settings.llm.timeout_secs),
        max_retries: 4,
        max_invalid: 2,
        min_backoff: Duration::from_millis(500),
        price: settings.llm.price,
        prices: settings.llm.prices.clone(),
        max_output_tokens: settings.llm.max_output_tokens,
    }
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
