//! Plan (task distribution): `Spec` + pack → a dependency graph of file tasks.
//!
//! In: the spec and the pack's file list. Out: one [`Task`] per output file with its role
//! (backend, frontend, tests, devops, monitoring, docs), the entity it is for, and the tasks it
//! depends on. Pure: nothing is rendered or written here. Fails only on an output path that
//! the confinement rules refuse (a bug in the pack).
//!
//! Dependencies: a per-entity backend file depends on the same template's file for every
//! entity it references; a per-entity frontend or test file depends on its entity's backend
//! files; a shared (non-entity) test file depends on every backend file; docs depend on nothing
//! (they describe the spec, not the code).

use serde::{Deserialize, Serialize};

use crate::error::E2eError;
use crate::scaffold::Pack;
use crate::spec::{FieldKind, Spec};
use crate::workspace::confine;

/// Marker in a template path that makes it a per-entity template.
pub const ENTITY_MARKER: &str = crate::scaffold::ENTITY_MARKER;

/// The plan of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Tasks, in template order, entities in spec order.
    pub tasks: Vec<Task>,
}

/// One file to produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Output path inside the app folder; also the task's id.
    pub path: String,
    /// Template it is rendered from.
    pub template: String,
    /// Role responsible for it.
    pub role: String,
    /// Entity `name` for per-entity files.
    pub entity: Option<String>,
    /// Paths of the tasks this one depends on.
    pub depends_on: Vec<String>,
    /// Names of the holes an LLM may fill in this file.
    pub holes: Vec<String>,
}

/// Builds the plan for `spec` with `pack`.
pub fn build(spec: &Spec, pack: &Pack) -> Result<Plan, E2eError> {
    let mut tasks = Vec::new();
    for template in pack.files.keys() {
        let holes: Vec<String> = pack
            .manifest
            .holes
            .iter()
            .filter(|h| &h.file == template)
            .map(|h| h.name.clone())
            .collect();
        if template.contains(ENTITY_MARKER) {
            for e in &spec.entities {
                tasks.push(task(
                    pack,
                    template,
                    template.replace(ENTITY_MARKER, &e.ident),
                    Some(e.name.clone()),
                    &holes,
                )?);
            }
        } else {
            tasks.push(task(pack, template, template.clone(), None, &holes)?);
        }
    }
    let snapshot = tasks.clone();
    for t in &mut tasks {
        t.depends_on = dependencies(spec, t, &snapshot);
    }
    Ok(Plan { tasks })
}

fn task(
    pack: &Pack,
    template: &str,
    path: String,
    entity: Option<String>,
    holes: &[String],
) -> Result<Task, E2eError> {
    let path = confine::validate_relative(&path)
        .map_err(|e| E2eError::Stack(format!("pack {}: {e}", pack.manifest.name)))?;
    Ok(Task {
        role: pack.manifest.role_of(&path),
        path,
        template: template.to_string(),
        entity,
        depends_on: Vec::new(),
        holes: holes.to_vec(),
    })
}

fn dependencies(spec: &Spec, t: &Task, all: &[Task]) -> Vec<String> {
    let backend = |pred: &dyn Fn(&Task) -> bool| -> Vec<String> {
        all.iter()
            .filter(|o| o.role == "backend" && o.path != t.path && pred(o))
            .map(|o| o.path.clone())
            .collect()
    };
    match (t.role.as_str(), &t.entity) {
        ("docs", _) => Vec::new(),
        ("backend", Some(name)) => {
            let refs: Vec<&str> = spec
                .entity(name)
                .map(|e| {
                    e.fields
                        .iter()
                        .filter(|f| f.kind == FieldKind::Ref)
                        .filter_map(|f| f.target.as_deref())
                        .filter(|target| target != name)
                        .collect()
                })
                .unwrap_or_default();
            backend(&|o| {
                o.template == t.template && o.entity.as_deref().is_some_and(|e| refs.contains(&e))
            })
        }
        (_, Some(name)) => backend(&|o| o.entity.as_deref() == Some(name.as_str())),
        ("tests", None) => backend(&|_| true),
        _ => Vec::new(),
    }
}

impl Plan {
    /// Tasks grouped by role, with counts, for PLAN.md.
    pub fn roles(&self) -> Vec<(String, usize)> {
        let mut roles: Vec<(String, usize)> = Vec::new();
        for t in &self.tasks {
            match roles.iter_mut().find(|(r, _)| *r == t.role) {
                Some((_, n)) => *n += 1,
                None => roles.push((t.role.clone(), 1)),
            }
        }
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaffold::{PackSource, load_pack};

    fn plan() -> (Spec, Plan) {
        let pack = load_pack(&PackSource::Embedded, "python-fastapi").unwrap();
        let spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/bookings.yaml")).unwrap();
        let plan = build(&spec, &pack).unwrap();
        (spec, plan)
    }

    #[test]
    fn per_entity_templates_give_one_task_per_entity() {
        let (spec, plan) = plan();
        let per_entity: Vec<&Task> = plan
            .tasks
            .iter()
            .filter(|t| t.template.contains(ENTITY_MARKER))
            .collect();
        assert!(!per_entity.is_empty());
        assert_eq!(per_entity.len() % spec.entities.len(), 0);
        for t in &per_entity {
            let entity = spec.entity(t.entity.as_deref().unwrap()).unwrap();
            assert_eq!(t.path, t.template.replace(ENTITY_MARKER, &entity.ident));
        }
        // Every path is unique: it is the task's id.
        let mut paths: Vec<&str> = plan.tasks.iter().map(|t| t.path.as_str()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), plan.tasks.len());
        let counted: usize = plan.roles().iter().map(|(_, n)| n).sum();
        assert_eq!(counted, plan.tasks.len());
    }

    #[test]
    fn dependencies_follow_references_entities_and_roles() {
        let (_, plan) = plan();
        let find = |template: &str, entity: &str| {
            plan.tasks
                .iter()
                .find(|t| t.template == template && t.entity.as_deref() == Some(entity))
                .unwrap()
        };
        // A booking references a room: each backend file of a booking waits for the room's.
        let backend: Vec<&Task> = plan
            .tasks
            .iter()
            .filter(|t| t.role == "backend" && t.entity.as_deref() == Some("Booking"))
            .collect();
        assert!(!backend.is_empty());
        for t in &backend {
            assert_eq!(
                t.depends_on,
                [find(&t.template, "Room").path.clone()],
                "{}",
                t.path
            );
        }
        // The room references nothing.
        for t in plan
            .tasks
            .iter()
            .filter(|t| t.role == "backend" && t.entity.as_deref() == Some("Room"))
        {
            assert!(t.depends_on.is_empty(), "{}", t.path);
        }
        for t in &plan.tasks {
            match (t.role.as_str(), &t.entity) {
                ("docs", _) => assert!(t.depends_on.is_empty()),
                ("backend", _) => {}
                (_, Some(e)) => assert!(
                    t.depends_on
                        .iter()
                        .all(|d| plan.tasks.iter().any(|o| &o.path == d
                            && o.entity.as_ref() == Some(e)
                            && o.role == "backend")),
                    "{}",
                    t.path
                ),
                ("tests", None) => assert!(!t.depends_on.is_empty(), "{}", t.path),
                _ => assert!(t.depends_on.is_empty(), "{}", t.path),
            }
        }
        // Holes are the pack's, for the file's template.
        assert!(plan.tasks.iter().any(|t| !t.holes.is_empty()));
    }
}
