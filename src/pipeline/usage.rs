//! Reporting what the LLM did in a run: usage per stage and role, fills made and refused,
//! QA rounds, reverts. Read by the step summary, the PR body and `run-report.json`.

use serde::Serialize;

use crate::llm::{Llm, Role};
use crate::pipeline::fill::FillRecord;
use crate::pipeline::ops::Ops;

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

    fn row(stage: &str, calls: u64, cost: f64) -> UsageRow {
        UsageRow {
            stage: stage.into(),
            role: Role::Developer,
            calls,
            cached: 0,
            retries: 0,
            invalid: 0,
            tokens_in: 10 * calls,
            tokens_out: calls,
            cost_usd: cost,
            longest_ask_ms: 0,
        }
    }

    #[test]
    fn totals_add_the_rows_and_the_markdown_says_what_changed() {
        let mut r = LlmReport {
            provider: "replay (m)".into(),
            usage: vec![row("develop", 2, 0.5), row("test", 1, 0.25)],
            ..LlmReport::default()
        };
        assert_eq!(r.totals(), (3, 30, 3, 0.75));
        r.fills = vec![
            FillRecord {
                file: "a.py".into(),
                hole: "h".into(),
                changed: true,
                rejected: None,
            },
            FillRecord {
                file: "b.py".into(),
                hole: "h".into(),
                changed: false,
                rejected: Some("no `code`\n".into()),
            },
        ];
        r.repairs = 1;
        r.reverted = vec!["a.py#h".into()];
        let md = r.markdown();
        assert!(
            md.starts_with("LLM: replay (m) — 3 calls, 30 tokens in, 3 out, about $0.7500."),
            "{md}"
        );
        assert!(md.contains("Filled by the LLM: `a.py#h`. QA repair rounds: 1. Reverted to the scaffold because the tests kept failing: `a.py#h`."), "{md}");
        // The reason quotes the model: no backtick or control character gets through.
        assert!(md.contains("Why: `no 'code' `"), "{md}");
        assert!(!md.contains("DevOps"));
        r.ops = Some(Ops::default());
        assert!(
            r.markdown()
                .contains("DevOps: memory limit 512 MiB, p95 latency target 1 s.")
        );
    }
}
