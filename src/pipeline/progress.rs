//! Progress: stage states and timings, the progress comment (edited in place after every
//! stage), the step summary and `run-report.json`.
//!
//! A failure to post or edit the comment is a warning, never the run's failure.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::event::Trigger;
use crate::github::{GitHub, PROGRESS_MARKER};
use crate::pipeline::deploy::Delivery;
use crate::pipeline::test::TestReport;
use crate::pipeline::usage::LlmReport;
use crate::report::Reporter;
use crate::scaffold::filters;
use crate::spec::Spec;

/// Appends to the step summary; a failure to write it is a warning.
pub fn append_summary(reporter: &Reporter, markdown: &str) {
    if let Err(e) = reporter.summary(markdown) {
        reporter.warning(&format!("cannot write the step summary: {e}"));
    }
}

/// The stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Event payload → trigger.
    Intake,
    /// Who may trigger.
    Guard,
    /// Issue → spec.
    Spec,
    /// Spec → architecture.
    Architecture,
    /// Spec → file tasks.
    Plan,
    /// Tasks → files.
    Develop,
    /// Files → commit.
    Integrate,
    /// The app's tests.
    Test,
    /// Push.
    Deploy,
    /// Summary and outputs.
    Report,
}

/// All stages in order.
pub const STAGES: [Stage; 10] = [
    Stage::Intake,
    Stage::Guard,
    Stage::Spec,
    Stage::Architecture,
    Stage::Plan,
    Stage::Develop,
    Stage::Integrate,
    Stage::Test,
    Stage::Deploy,
    Stage::Report,
];

impl Stage {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Guard => "guard",
            Stage::Spec => "spec",
            Stage::Architecture => "architecture",
            Stage::Plan => "plan",
            Stage::Develop => "develop",
            Stage::Integrate => "integrate",
            Stage::Test => "test",
            Stage::Deploy => "deploy",
            Stage::Report => "report",
        }
    }
}

/// State of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not started.
    Pending,
    /// Under way.
    Running,
    /// Finished well.
    Done,
    /// Failed.
    Failed,
}

/// One stage's record.
#[derive(Debug, Clone, Serialize)]
pub struct StageRecord {
    /// Stage.
    pub stage: Stage,
    /// State.
    pub state: State,
    /// Wall time in ms.
    pub ms: u128,
    /// One line about the outcome.
    pub note: String,
}

/// The run's progress, mirrored to the issue comment when there is a token.
pub struct Progress<'a> {
    stages: Vec<StageRecord>,
    started: Option<Instant>,
    github: Option<&'a GitHub>,
    reporter: &'a Reporter,
    comment_id: Option<u64>,
    issue: u64,
    spec_summary: Option<String>,
    sandbox: Option<String>,
    branch: Option<String>,
    failure: Option<String>,
    run_started: Instant,
    group_open: bool,
    llm: Option<LlmReport>,
    pull_url: Option<String>,
    server_repo: Option<String>,
}

/// `run-report.json`.
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    /// Generator version.
    pub version: &'static str,
    /// Issue number.
    pub issue: u64,
    /// App name as written.
    pub app: &'a str,
    /// Entity count.
    pub entities: usize,
    /// Stage records.
    pub stages: &'a [StageRecord],
    /// Sum of the stages' times except install and tests, ms.
    pub own_ms: u128,
    /// Test report.
    pub tests: &'a TestReport,
    /// Delivery.
    pub delivery: &'a Delivery,
    /// What the LLM did (`None` with `llm-provider: none`).
    pub llm: Option<&'a LlmReport>,
}

impl<'a> Progress<'a> {
    /// Starts tracking; creates (or finds again) the progress comment when a client is given.
    pub async fn new(
        trigger: &Trigger,
        github: Option<&'a GitHub>,
        reporter: &'a Reporter,
    ) -> Progress<'a> {
        let mut p = Progress {
            stages: STAGES
                .iter()
                .map(|&stage| StageRecord {
                    stage,
                    state: State::Pending,
                    ms: 0,
                    note: String::new(),
                })
                .collect(),
            started: None,
            github,
            reporter,
            comment_id: None,
            issue: trigger.issue.number,
            spec_summary: None,
            sandbox: None,
            branch: None,
            failure: None,
            run_started: Instant::now(),
            group_open: false,
            llm: None,
            pull_url: None,
            server_repo: None,
        };
        if let Some(gh) = github {
            let found = match gh.find_comment(p.issue, PROGRESS_MARKER).await {
                Ok(found) => found,
                Err(e) => {
                    reporter.warning(&format!("progress comment: {e}"));
                    None
                }
            };
            p.comment_id = match found {
                Some(id) => Some(id),
                None => match gh.create_comment(p.issue, &p.comment_body()).await {
                    Ok(id) => Some(id),
                    Err(e) => {
                        reporter.warning(&format!("progress comment: {e}"));
                        None
                    }
                },
            };
        }
        p
    }

    fn record(&mut self, stage: Stage) -> &mut StageRecord {
        let i = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
        &mut self.stages[i]
    }

    fn current(&self) -> Option<Stage> {
        self.stages
            .iter()
            .find(|s| s.state == State::Running)
            .map(|s| s.stage)
    }

    /// Marks `stage` as running.
    pub async fn start(&mut self, stage: Stage) {
        self.reporter
            .group(&format!("e2e-action: {}", stage.name()));
        self.group_open = true;
        self.started = Some(Instant::now());
        self.record(stage).state = State::Running;
        self.sync().await;
    }

    /// Marks `stage` done, timed from its `start`.
    pub async fn done(&mut self, stage: Stage, note: &str) {
        let elapsed = self.started.take().map(|s| s.elapsed()).unwrap_or_default();
        self.done_timed(stage, note, elapsed).await;
    }

    /// Marks `stage` done with a measured duration.
    pub async fn done_timed(&mut self, stage: Stage, note: &str, elapsed: Duration) {
        self.finish_stage(stage, State::Done, note, elapsed).await;
    }

    /// Marks `stage` failed (the run goes on, e.g. failed tests still get reported).
    pub async fn failed(&mut self, stage: Stage, note: &str) {
        let elapsed = self.started.take().map(|s| s.elapsed()).unwrap_or_default();
        self.finish_stage(stage, State::Failed, note, elapsed).await;
    }

    async fn finish_stage(&mut self, stage: Stage, state: State, note: &str, elapsed: Duration) {
        let r = self.record(stage);
        r.state = state;
        r.ms = elapsed.as_millis();
        r.note = note.to_string();
        let line = format!("{:<12} {:>7} ms  {}", stage.name(), r.ms, note);
        self.reporter.info(&line);
        if self.group_open {
            self.reporter.end_group();
            self.group_open = false;
        }
        self.sync().await;
    }

    /// Records the isolation layers the tests ran in, for the step summary.
    pub fn set_sandbox(&mut self, description: &str) {
        self.sandbox = Some(description.to_string());
    }

    /// Records the spec's summary for the comment.
    pub fn set_spec(&mut self, spec: &Spec) {
        let names: Vec<String> = spec
            .entities
            .iter()
            .map(|e| filters::mdcell(e.label.as_str().into()))
            .collect();
        self.spec_summary = Some(format!(
            "**{}** — {} entities: {}",
            filters::mdcell(spec.app.name.as_str().into()),
            spec.entities.len(),
            names.join(", ")
        ));
    }

    /// Records what the LLM did, for the summary and the run report.
    pub fn set_llm(&mut self, report: LlmReport) {
        self.llm = Some(report);
    }

    /// What the LLM did, if one was used.
    pub fn llm(&self) -> Option<&LlmReport> {
        self.llm.as_ref()
    }

    /// Records `<server>/<owner>/<repo>` for links to the branch.
    pub fn set_server_repo(&mut self, url: &str) {
        self.server_repo = Some(url.trim_end_matches('/').to_string());
    }

    /// Records the pull request's URL for the comment.
    pub fn set_pull(&mut self, url: &str) {
        self.pull_url = Some(url.to_string());
    }

    /// Records the branch for the comment.
    pub fn set_branch(&mut self, branch: &str) {
        self.branch = Some(branch.to_string());
    }

    /// Marks the running stage (or the first pending one) failed with `reason`.
    pub async fn fail(&mut self, reason: &str) {
        let stage = self
            .current()
            .or_else(|| {
                self.stages
                    .iter()
                    .find(|s| s.state == State::Pending)
                    .map(|s| s.stage)
            })
            .unwrap_or(Stage::Report);
        self.failure = Some(format!("{}: {reason}", stage.name()));
        self.failed(stage, reason).await;
    }

    /// Marks the report stage done.
    pub async fn finish(&mut self, delivery: &Delivery, tests: &TestReport) {
        let note = format!("tests {}, {}", tests.status, delivery.describe());
        self.done_timed(Stage::Report, &note, Duration::ZERO).await;
    }

    /// The action's own time: every stage but test, in ms.
    pub fn own_ms(&self) -> u128 {
        self.stages
            .iter()
            .filter(|s| s.stage != Stage::Test)
            .map(|s| s.ms)
            .sum()
    }

    /// `run-report.json`.
    pub fn run_report<'b>(
        &'b self,
        spec: &'b Spec,
        delivery: &'b Delivery,
        tests: &'b TestReport,
    ) -> RunReport<'b> {
        RunReport {
            version: env!("CARGO_PKG_VERSION"),
            issue: spec.issue.number,
            app: &spec.app.name,
            entities: spec.entities.len(),
            stages: &self.stages,
            own_ms: self.own_ms(),
            tests,
            delivery,
            llm: self.llm.as_ref(),
        }
    }

    fn stage_table(&self) -> String {
        let mut s = String::from("| | stage | time | result |\n|---|---|---:|---|\n");
        for r in &self.stages {
            let icon = match r.state {
                State::Pending => "⬜",
                State::Running => "⏳",
                State::Done => "✅",
                State::Failed => "❌",
            };
            let ms = if r.state == State::Pending {
                String::new()
            } else {
                format!("{} ms", r.ms)
            };
            s.push_str(&format!(
                "| {icon} | {} | {ms} | {} |\n",
                r.stage.name(),
                filters::mdcell(r.note.as_str().into())
            ));
        }
        s
    }

    /// The step summary.
    pub fn summary_markdown(&self) -> String {
        let mut s = format!("## e2e-action: issue #{}\n\n", self.issue);
        if let Some(spec) = &self.spec_summary {
            s.push_str(&format!("{spec}\n\n"));
        }
        if let Some(b) = &self.branch {
            s.push_str(&format!("Branch: `{b}`\n\n"));
        }
        s.push_str(&self.stage_table());
        s.push_str(&format!(
            "\nOwn time (all stages but the app's tests): {} ms; total {} ms.\n",
            self.own_ms(),
            self.run_started.elapsed().as_millis()
        ));
        if let Some(sandbox) = &self.sandbox {
            s.push_str(&format!("\n{}\n", filters::md(sandbox.as_str().into())));
        }
        if let Some(llm) = &self.llm {
            s.push('\n');
            s.push_str(&llm.markdown());
        }
        if let Some(f) = &self.failure {
            s.push_str(&format!(
                "\n**Failed** — {}\n",
                filters::md(f.as_str().into())
            ));
        }
        s
    }

    fn comment_body(&self) -> String {
        let mut s = format!("{PROGRESS_MARKER}\n### e2e-action is building this issue\n\n");
        if let Some(spec) = &self.spec_summary {
            s.push_str(&format!("{spec}\n\n"));
        }
        if let Some(b) = &self.branch {
            match &self.server_repo {
                Some(base) => s.push_str(&format!("Branch: [`{b}`]({base}/tree/{b})")),
                None => s.push_str(&format!("Branch: `{b}`")),
            }
            if let Some(url) = &self.pull_url {
                s.push_str(&format!(" · Pull request: {url}"));
            }
            s.push_str("\n\n");
        }
        s.push_str(&self.stage_table());
        if let Some(f) = &self.failure {
            s.push_str(&format!(
                "\n**Failed** — {}\n\nFix what the message says, then edit the issue or comment `/e2e retry` to run again.\n",
                filters::md(f.as_str().into())
            ));
        }
        s
    }

    async fn sync(&mut self) {
        let (Some(gh), Some(id)) = (self.github, self.comment_id) else {
            return;
        };
        if let Err(e) = gh.update_comment(id, &self.comment_body()).await {
            self.reporter.warning(&format!("progress comment: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger() -> Trigger {
        let text = include_str!("../../examples/events/issue-opened.json");
        match crate::event::parse_event("issues", text).unwrap() {
            crate::event::Intake::Build(t) => *t,
            crate::event::Intake::Skip(r) => panic!("{r}"),
        }
    }

    #[tokio::test]
    async fn stages_are_recorded_in_order_and_the_tests_are_not_own_time() {
        let reporter = Reporter::quiet();
        let t = trigger();
        let mut p = Progress::new(&t, None, &reporter).await;
        p.done_timed(Stage::Intake, "issues event", Duration::from_millis(5))
            .await;
        p.done_timed(Stage::Test, "12 passed", Duration::from_millis(1000))
            .await;
        p.start(Stage::Deploy).await;
        assert_eq!(p.current(), Some(Stage::Deploy));
        assert_eq!(p.own_ms(), 5);
        p.set_branch("e2e/issue-1-x");
        p.fail("the remote refused").await;
        let md = p.summary_markdown();
        assert!(
            md.starts_with(&format!(
                "## e2e-action: issue #{}\n\nBranch: `e2e/issue-1-x`",
                t.issue.number
            )),
            "{md}"
        );
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).skip(1).collect();
        assert_eq!(rows.len(), STAGES.len());
        assert!(rows[0].starts_with("| ✅ | intake | 5 ms |"), "{}", rows[0]);
        assert!(rows[2].starts_with("| ⬜ | spec |  |"), "{}", rows[2]);
        assert!(rows[8].starts_with("| ❌ | deploy |"), "{}", rows[8]);
        assert!(
            md.contains("**Failed** — deploy: the remote refused"),
            "{md}"
        );
        // The comment shows a link to the branch when the server is known.
        p.set_server_repo("https://github.example/o/r/");
        assert!(
            p.comment_body()
                .contains("[`e2e/issue-1-x`](https://github.example/o/r/tree/e2e/issue-1-x)")
        );
    }

    #[tokio::test]
    async fn a_failure_before_any_stage_started_lands_on_the_first_pending_one() {
        let reporter = Reporter::quiet();
        let mut p = Progress::new(&trigger(), None, &reporter).await;
        p.done(Stage::Intake, "ok").await;
        p.fail("boom").await;
        assert_eq!(p.stages[1].state, State::Failed);
        assert_eq!(p.failure.as_deref(), Some("guard: boom"));
    }
}
