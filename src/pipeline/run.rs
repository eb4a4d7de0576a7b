//! One run's context, and each stage as the orchestrator calls it: the stage module's
//! function with its input taken from the context (settings, the workspace, the LLM, the
//! request's folders and credentials), its line in the progress comment and its timing.
//! The order of the calls is the orchestrator's (`build` in `pipeline/mod.rs`); nothing here
//! decides it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{LlmProvider, Settings};
use crate::error::E2eError;
use crate::event::{Issue, Trigger};
use crate::github::GitHub;
use crate::llm::Llm;
use crate::pipeline::architecture::{self, Architecture};
use crate::pipeline::deploy::{self, Delivery};
use crate::pipeline::develop::{self, Files};
use crate::pipeline::fill::{self, FillRecord};
use crate::pipeline::integrate::{self, Integration, Target};
use crate::pipeline::ops::{self, Ops};
use crate::pipeline::plan::{self, Plan};
use crate::pipeline::progress::{Progress, Stage};
use crate::pipeline::repair::{self, Tested};
use crate::pipeline::request::{RunRequest, llm_settings};
use crate::pipeline::test::{self, TestDirs, TestReport};
use crate::pipeline::usage::LlmReport;
use crate::pipeline::{pull, spec};
use crate::report::Reporter;
use crate::scaffold::{self, Pack, PackSource};
use crate::spec::Spec;
use crate::workspace::git::Workspace;

/// What every stage of one build may use.
pub struct Run<'a, 'p, 'g> {
    /// The request (folders, credentials).
    pub req: &'a RunRequest,
    /// The resolved settings.
    pub settings: &'a Settings,
    /// The API client, when there is a token.
    pub github: Option<&'a GitHub>,
    /// Where messages go.
    pub reporter: &'a Reporter,
    /// The stage table, mirrored to the issue comment.
    pub progress: &'p mut Progress<'g>,
    /// The stack pack.
    pub pack: Pack,
    /// The checkout.
    pub workspace: Workspace,
    /// The LLM, when one is configured.
    pub llm: Option<Arc<Llm>>,
    /// The interpreter being looked for (started first: a shim may take 250 ms).
    interpreter: Option<tokio::task::JoinHandle<Result<std::path::PathBuf, E2eError>>>,
}

/// What the develop phase (stages 4–6) produced.
pub struct Developed {
    /// The architecture, with the architect's narrative when it answered.
    pub arch: Architecture,
    /// The file tasks.
    pub plan: Plan,
    /// The app's files.
    pub files: Files,
    /// The developers' fills.
    pub fills: Vec<FillRecord>,
    /// DevOps' figures, when it answered.
    pub ops: Option<Ops>,
}

impl<'a, 'p, 'g> Run<'a, 'p, 'g> {
    /// Opens what the stages need and checks it before any stage writes anything: the pack,
    /// the workspace (clean), the LLM (a retired or unknown model fails here).
    pub async fn open(
        req: &'a RunRequest,
        settings: &'a Settings,
        trigger: &Trigger,
        github: Option<&'a GitHub>,
        progress: &'p mut Progress<'g>,
        reporter: &'a Reporter,
    ) -> Result<Run<'a, 'p, 'g>, E2eError> {
        let issue = &trigger.issue;
        let intake = format!("{} event, issue #{}", trigger.event_name, issue.number);
        progress.done(Stage::Intake, &intake).await;
        let guard = format!("{} is {}", issue.author.login, issue.author_association);
        progress.done(Stage::Guard, &guard).await;
        let source = req
            .templates_dir
            .as_deref()
            .map_or(PackSource::Embedded, PackSource::Dir);
        let pack = scaffold::load_pack(&source, &settings.stack)?;
        let interpreter = Some(tokio::task::spawn_blocking(test::find_python));
        let workspace = Workspace::open(&req.workspace)?;
        if workspace.trusted_foreign_owner {
            reporter.notice("the workspace belongs to another user (the runner's checkout); trusting it because it is the workspace this job was given");
        }
        workspace.ensure_clean()?;
        let llm = match settings.llm_provider {
            LlmProvider::None => None,
            LlmProvider::Llm(kind) => {
                let mut llm = Llm::new(llm_settings(kind, settings, req))?;
                for note in llm.resolve_model().await? {
                    reporter.warning(&note);
                }
                Some(Arc::new(llm))
            }
        };
        Ok(Run {
            req,
            settings,
            github,
            reporter,
            progress,
            pack,
            workspace,
            llm,
            interpreter,
        })
    }

    /// Stage 3: the spec of the issue, and whether the strategist wrote it.
    pub async fn spec(&mut self, issue: &Issue) -> Result<(Spec, bool), E2eError> {
        self.progress.start(Stage::Spec).await;
        let reserved = &self.pack.manifest.reserved;
        let (spec, from_llm) = spec::spec(issue, self.llm.as_deref(), reserved).await?;
        self.progress.set_spec(&spec);
        let note = format!("{}: {} entities", spec.app.name, spec.entities.len());
        self.progress.done(Stage::Spec, &note).await;
        Ok((spec, from_llm))
    }

    /// Stages 4–6: architecture, plan and the app's files. The architect, the developers
    /// and DevOps do not need each other's answers, so their LLM calls run at the same time;
    /// the files that use DevOps' figures are rendered once those are known.
    pub async fn develop(&mut self, spec: &Spec) -> Result<Developed, E2eError> {
        let (pack, llm, reporter) = (&self.pack, self.llm.as_deref(), self.reporter);
        let started = Instant::now();
        let mut arch = architecture::design(spec, pack);
        let plan = plan::build(spec, pack)?;
        let plan_ms = started.elapsed();
        let started = Instant::now();
        let app_dir = self.settings.app_dir_for(&spec.app.slug, spec.issue.number);
        let mut renderer = develop::Renderer::new(spec, pack, &app_dir)?;
        let code = renderer.code(&plan)?;
        let render_ms = started.elapsed();
        let concurrency = self.settings.llm.concurrency;
        let ((narrative, arch_ms), (filled, fill_ms), ops) = tokio::join!(
            timed(architecture::narrative(llm, spec, pack, reporter)),
            timed(fill::fill(self.llm.clone(), spec, pack, code, concurrency)),
            ops::ops(llm, spec, reporter),
        );
        for w in llm.iter().flat_map(|llm| llm.take_warnings()) {
            // A model found retired mid-phase and replaced by the default.
            reporter.warning(&w);
        }
        arch.narrative = narrative?;
        let note = format!(
            "{} components, {} relations",
            arch.components.len(),
            arch.relations.len()
        );
        self.progress
            .done_timed(Stage::Architecture, &note, arch_ms)
            .await;
        let note = format!("{} file tasks", plan.tasks.len());
        self.progress.done_timed(Stage::Plan, &note, plan_ms).await;
        let started = Instant::now();
        let ((code, fills), ops) = (filled?, ops?);
        let files = renderer.assemble(code, &plan, ops.as_ref(), spec, &arch)?;
        let filled = fills.iter().filter(|f| f.changed).count();
        let note = format!(
            "{} files, {} KiB, {filled} holes filled by the LLM",
            files.files.len(),
            files.bytes() / 1024
        );
        let develop_ms = render_ms + fill_ms + started.elapsed();
        self.progress
            .done_timed(Stage::Develop, &note, develop_ms)
            .await;
        Ok(Developed {
            arch,
            plan,
            files,
            fills,
            ops,
        })
    }

    /// Where the test stage works for `spec`.
    pub fn test_dirs(&self, spec: &Spec) -> TestDirs {
        TestDirs {
            work: test::work_dir(&self.req.runner_temp, spec.issue.number),
            cache: self.req.cache_dir.clone(),
        }
    }

    /// Stage 7: the files committed on the issue's branch, while the test stage's copy of
    /// them is written. Returns where the commit went (for a commit after QA's repair) and
    /// the commit.
    pub async fn integrate(
        &mut self,
        spec: &Spec,
        files: &Files,
        dirs: &TestDirs,
    ) -> Result<(Target, Integration), E2eError> {
        self.progress.start(Stage::Integrate).await;
        let staging = {
            let (files, dirs) = (files.clone(), dirs.clone());
            tokio::task::spawn_blocking(move || test::stage(&files, &dirs))
        };
        let app_dir = self.settings.app_dir_for(&spec.app.slug, spec.issue.number);
        let remote = self.req.remote();
        let (ws, settings) = (&self.workspace, self.settings);
        let integrated = integrate::prepare(ws, settings, spec, &app_dir, &remote).and_then(|t| {
            let integration = integrate::commit(ws, settings, spec, &t, files)?;
            Ok((t, integration))
        });
        let staged = staging.await;
        let (target, integration) = integrated?;
        staged.map_err(|e| E2eError::Internal(format!("staging the tests crashed: {e}")))??;
        self.progress.set_branch(&integration.branch);
        let done = if integration.changed {
            "committed"
        } else {
            "unchanged"
        };
        let note = format!("{done} on {}", integration.branch);
        self.progress.done(Stage::Integrate, &note).await;
        Ok((target, integration))
    }

    /// Stage 8: the app's tests, sandboxed, with QA repairing failing LLM fills.
    pub async fn test(&mut self, files: Files, dirs: &TestDirs) -> Result<Tested, E2eError> {
        self.progress.start(Stage::Test).await;
        let finding = self
            .interpreter
            .take()
            .ok_or_else(|| E2eError::Internal("the tests ran twice".into()))?;
        let python = finding
            .await
            .map_err(|e| E2eError::Internal(format!("finding Python crashed: {e}")))??;
        let (iso, python) = test::prepare_isolation(python, dirs);
        self.reporter.info(&iso.describe());
        self.progress.set_sandbox(&iso.describe());
        let limit = self.settings.test_timeout_secs;
        let secs = self
            .pack
            .manifest
            .test_timeout_secs
            .unwrap_or(limit)
            .min(limit);
        let bench = repair::Bench {
            manifest: &self.pack.manifest,
            dirs,
            python: &python,
            timeout: Duration::from_secs(secs),
            iso: &iso,
            workspace: &self.workspace,
        };
        let max_repairs = self.settings.llm.max_repair_attempts;
        let tested = repair::test_and_repair(
            files,
            &bench,
            self.llm.as_deref(),
            max_repairs,
            self.reporter,
        )
        .await?;
        Ok(tested)
    }

    /// What the LLM did, for the summary, the PR body and the run report; `None` without one.
    pub fn llm_report(
        &mut self,
        developed: &mut Developed,
        tested: &Tested,
        spec_from_llm: bool,
    ) -> Option<LlmReport> {
        let llm = self.llm.as_deref()?;
        let mut r = LlmReport {
            fills: std::mem::take(&mut developed.fills),
            repairs: tested.repairs,
            reverted: tested.reverted.clone(),
            narrative: developed.arch.narrative.is_some(),
            spec_from_llm,
            ops: developed.ops.clone(),
            ..LlmReport::default()
        };
        r.take_usage(llm);
        self.progress.set_llm(r.clone());
        Some(r)
    }

    /// The test stage's line: done, or failed with the log shown.
    pub async fn tested(&mut self, report: &TestReport) {
        if report.passed() {
            self.progress.done(Stage::Test, &report.summary).await;
        } else {
            let what = format!("test log ({}):", report.log_path.display());
            self.reporter.untrusted_block(&what, &report.log_tail);
            self.progress.failed(Stage::Test, &report.summary).await;
        }
    }

    /// Stage 8b: QA's repair changed the files: they replace the first commit (same parent).
    pub fn recommit(
        &self,
        spec: &Spec,
        target: &Target,
        tested: &Tested,
    ) -> Result<Option<Integration>, E2eError> {
        if tested.repairs == 0 && tested.reverted.is_empty() {
            return Ok(None);
        }
        integrate::commit(&self.workspace, self.settings, spec, target, &tested.files).map(Some)
    }

    /// Stage 9: the push (when the tests passed, or `push-on-failure`).
    pub async fn deploy(
        &mut self,
        integration: &Integration,
        files: &Files,
        report: &TestReport,
    ) -> Result<Delivery, E2eError> {
        self.progress.start(Stage::Deploy).await;
        let auth = self.req.auth();
        let (ws, settings, github, reporter) =
            (&self.workspace, self.settings, self.github, self.reporter);
        deploy::deploy(
            ws,
            settings,
            integration,
            files,
            report,
            &auth,
            github,
            reporter,
        )
        .await
    }

    /// Stage 9: the pull request, when the branch on the remote is what this run built and
    /// there is a client; then the deploy stage's line.
    pub async fn pull_request(
        &mut self,
        the: PullInput<'_>,
        delivery: &mut Delivery,
    ) -> Result<(), E2eError> {
        if let (Some(gh), true) = (self.github, delivery.on_remote()) {
            let head = pull::Head {
                branch: &delivery.branch,
                pushed: delivery.pushed,
            };
            let own_ms = self.progress.own_ms();
            let body = pull::body(
                the.spec,
                the.arch,
                &delivery.app_path,
                the.report,
                own_ms,
                the.llm,
                &delivery.workflows,
            );
            let title = pull::title(the.spec);
            let pr = pull::open_or_update(
                gh,
                head,
                the.base,
                &title,
                &body,
                self.settings,
                self.reporter,
            )
            .await?;
            self.progress.set_pull(&pr.url);
            delivery.pull = Some(pr);
        }
        self.progress
            .done(Stage::Deploy, &delivery.describe())
            .await;
        Ok(())
    }

    /// Stage 10: the report stage: the run report, the outputs; failed tests fail the run.
    pub async fn report(
        &mut self,
        spec: &Spec,
        delivery: &Delivery,
        report: &TestReport,
    ) -> Result<(), E2eError> {
        self.progress.finish(delivery, report).await;
        let run_report = self.progress.run_report(spec, delivery, report);
        let report_path = self
            .req
            .runner_temp
            .join("e2e-action")
            .join("run-report.json");
        if let Err(e) = crate::report::write_json(&report_path, &run_report) {
            self.reporter
                .warning(&format!("cannot write {}: {e}", report_path.display()));
        }
        self.reporter
            .set_outputs(&delivery.outputs())
            .map_err(|e| E2eError::Workspace(format!("cannot write GITHUB_OUTPUT: {e}")))?;
        if report.passed() {
            return Ok(());
        }
        let pushed = if delivery.pushed {
            "the branch was pushed anyway (push-on-failure)"
        } else {
            "nothing was pushed"
        };
        let log = report.log_path.display();
        Err(E2eError::TestsFailed(format!(
            "{}; {pushed}; full log: {log}",
            report.summary
        )))
    }
}

/// What the pull request says, from the earlier stages.
pub struct PullInput<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The architecture.
    pub arch: &'a Architecture,
    /// The last test run.
    pub report: &'a TestReport,
    /// What the LLM did.
    pub llm: Option<&'a LlmReport>,
    /// The branch the pull request targets.
    pub base: &'a str,
}

/// `fut`'s output and how long it took.
async fn timed<T>(fut: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    (fut.await, started.elapsed())
}
