//! Ops (DevOps): the figures the monitoring and deploy files use — the container's memory
//! limit, the latency target of the alert rules — and the files that use them.
//!
//! In: the spec (the DevOps role reads the app's name, summary and entities). Out: [`Ops`]:
//! the role's answer, or the defaults without an LLM or when its answer stays invalid. The
//! develop stage renders the files [`uses_ops`] selects once these figures are known.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::E2eError;
use crate::llm::schema::answer_schema;
use crate::llm::{Ask, Llm, Role};
use crate::pipeline::plan::Task;
use crate::pipeline::prompt::{data, optional, parse_answer, prompt};
use crate::report::Reporter;
use crate::spec::Spec;

/// Operations figures the monitoring templates use; the DevOps role may tune them (its answer
/// schema is derived from this type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ops {
    /// Memory limit of the app's container, MiB (the memory alert fires at 85 % of it).
    #[schemars(range(min = 128, max = 16384))]
    pub memory_limit_mb: u32,
    /// p95 latency above which the slow-requests alert fires, seconds.
    #[schemars(range(min = 0.05, max = 30))]
    pub latency_p95_seconds: f64,
    /// Short notes for the operators, one line each.
    #[serde(default)]
    #[schemars(length(max = 5))]
    pub notes: Vec<String>,
}

impl Default for Ops {
    fn default() -> Self {
        Ops {
            memory_limit_mb: 512,
            latency_p95_seconds: 1.0,
            notes: Vec::new(),
        }
    }
}

/// Whether a task's file uses the [`Ops`] figures: the alert rules, and the deploy files,
/// where the container's memory limit is set.
pub fn uses_ops(task: &Task) -> bool {
    task.role == "monitoring" || task.role == "devops"
}

/// The ops stage: the DevOps role's figures when there is an LLM; the defaults without
/// one, or when its answer stays invalid. `None` means the defaults.
pub async fn ops(
    llm: Option<&Llm>,
    spec: &Spec,
    reporter: &Reporter,
) -> Result<Option<Ops>, E2eError> {
    let Some(llm) = llm else {
        return Ok(None);
    };
    optional(
        devops(llm, spec).await,
        "DevOps role's figures",
        "the monitoring keeps its default limits",
        reporter,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ops_schema_takes_its_bounds_from_the_type() {
        use crate::llm::schema::{property_names, strict_compatible};
        let schema = answer_schema::<Ops>();
        assert!(strict_compatible(&schema), "{schema:#}");
        assert_eq!(
            property_names(&schema),
            ["latency_p95_seconds", "memory_limit_mb", "notes"]
        );
        let sample = json!({"memory_limit_mb": 512, "latency_p95_seconds": 0.5, "notes": []});
        assert_eq!(
            parse_answer::<Ops>(&sample, "ops").unwrap(),
            Ops {
                latency_p95_seconds: 0.5,
                ..Ops::default()
            }
        );
        let ops = &schema["properties"];
        assert_eq!(ops["memory_limit_mb"]["minimum"], json!(128));
        assert_eq!(ops["memory_limit_mb"]["maximum"], json!(16384));
        assert_eq!(ops["notes"]["maxItems"], json!(5));
    }

    #[test]
    fn only_monitoring_and_devops_files_use_the_figures() {
        let task = |role: &str| Task {
            path: "x".into(),
            template: "x".into(),
            role: role.into(),
            entity: None,
            depends_on: vec![],
            holes: vec![],
        };
        assert!(uses_ops(&task("monitoring")) && uses_ops(&task("devops")));
        assert!(!uses_ops(&task("backend")) && !uses_ops(&task("docs")));
    }
}
