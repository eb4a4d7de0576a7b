//! Architecture (architect): `Spec` + pack → components, data model, data flow, security and
//! scaling notes, rendered later as `ARCHITECTURE.md` with mermaid diagrams.
//!
//! In: the spec and the pack manifest. Out: an [`Architecture`]. [`design`] is pure and
//! infallible; the architect (an LLM role, [`architect`]) may add a [`Narrative`]. The
//! diagrams use identifiers only: issue text never reaches mermaid source.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::E2eError;
use crate::llm::schema::answer_schema;
use crate::llm::{Ask, Llm, Role};
use crate::pipeline::prompt::{data, optional, parse_answer, prompt};
use crate::report::Reporter;

use crate::scaffold::{Component, Pack};
use crate::spec::{FieldKind, Operand, RuleCheck, Spec, words};

/// The architecture of the generated app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// The system's parts.
    pub components: Vec<Component>,
    /// Relations between entities: `(from, to, field ident, required)`.
    pub relations: Vec<Relation>,
    /// Mermaid `erDiagram` of the data model.
    pub er_diagram: String,
    /// How each rule of the spec is enforced, in the spec's order.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// Mermaid `flowchart` of a request through the system.
    pub flow_diagram: String,
    /// Security measures.
    pub security: Vec<String>,
    /// How it scales.
    pub scaling: Vec<String>,
    /// The architect's narrative (LLM), if any.
    #[serde(default)]
    pub narrative: Option<Narrative>,
}

/// How one rule is enforced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// SQL table of the rule's entity.
    pub table: String,
    /// The rule in words (issue text: escape when rendering).
    pub rule: String,
    /// Where it is enforced.
    pub enforced: String,
}

/// Where a rule is enforced, for ARCHITECTURE.md; `owner_fk` scopes `unique` and `no overlap`.
fn enforcement(check: &RuleCheck, columns: &dyn Fn(&[String]) -> String, owner_fk: &str) -> String {
    let clock = |o: &Operand| matches!(o, Operand::Today | Operand::Now);
    match check {
        RuleCheck::Compare { value, .. } if clock(value) => {
            "checked by the app on every write (it depends on the clock, so no database constraint)".into()
        }
        RuleCheck::Between { min, max, .. } if clock(min) || clock(max) => {
            "checked by the app on every write (it depends on the clock, so no database constraint)".into()
        }
        RuleCheck::Compare { .. } | RuleCheck::Between { .. } | RuleCheck::Length { .. } => {
            "CHECK constraint in the model and the migration; checked by the app first for a 422 naming the field".into()
        }
        RuleCheck::Default { .. } => "filled into the create form and the API's create body".into(),
        RuleCheck::Unique { fields } => format!(
            "UNIQUE constraint on ({owner_fk}, {}); checked by the app first, and a race that reaches the constraint is a 422 too",
            columns(fields)
        ),
        RuleCheck::NoOverlap { .. } => format!(
            "checked by the app on insert and update (scoped by {owner_fk}, the row itself excluded); on PostgreSQL also an exclusion constraint, so concurrent writes end in one success and one 422"
        ),
    }
}

/// A foreign key between two entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// Entity holding the reference (class name).
    pub from: String,
    /// Referenced entity (class name).
    pub to: String,
    /// Field identifier.
    pub field: String,
    /// Whether the reference is required.
    pub required: bool,
}

/// Designs the architecture for `spec` on `pack`.
pub fn design(spec: &Spec, pack: &Pack) -> Architecture {
    let mut relations = Vec::new();
    for e in &spec.entities {
        for f in e.fields.iter().filter(|f| f.kind == FieldKind::Ref) {
            if let Some(to) = &f.target {
                relations.push(Relation {
                    from: e.name.clone(),
                    to: to.clone(),
                    field: f.ident.clone(),
                    required: f.required,
                });
            }
        }
    }
    // With team workspaces, rows belong to a team that accounts join through memberships.
    let teams = spec.app.features.teams;
    let (owner, owner_fk, scope) = if teams {
        ("Team", "team_id", "team workspace")
    } else {
        ("Account", "account_id", "account")
    };
    let mut er = String::from("erDiagram\n");
    if teams {
        er.push_str("    Account ||--o{ Membership : joins\n    Team ||--o{ Membership : has\n");
    }
    for e in &spec.entities {
        er.push_str(&format!("    {owner} ||--o{{ {} : owns\n", e.name));
    }
    for r in &relations {
        let card = if r.required { "||" } else { "|o" };
        er.push_str(&format!(
            "    {} }}o--{card} {} : {}\n",
            r.from, r.to, r.field
        ));
    }
    for e in &spec.entities {
        er.push_str(&format!(
            "    {} {{\n        int id PK\n        int {owner_fk} FK\n",
            e.name
        ));
        for f in &e.fields {
            let ty = match f.kind {
                FieldKind::Ref => "int",
                FieldKind::Longtext => "text",
                k => k.keyword(),
            };
            let key = match (f.kind, f.unique) {
                (FieldKind::Ref, _) => " FK",
                (_, true) => " UK",
                _ => "",
            };
            er.push_str(&format!("        {ty} {}{key}\n", f.ident));
        }
        er.push_str("    }\n");
    }
    let flow = format!(
        "flowchart LR\n    browser[Browser] -->|HTML forms + session cookie| web[FastAPI app]\n    client[API client] -->|JSON + bearer token| web\n    web -->|SQLAlchemy, scoped by {scope}| db[(SQLite / PostgreSQL)]\n    prom[Prometheus] -->|scrapes /metrics| web\n    prom -->|alert rules| am[Alertmanager]\n    grafana[Grafana] -->|queries| prom\n"
    );
    let tenancy = if teams {
        "Every row belongs to a team workspace; every request looks the caller's membership up in the database, every query is filtered by that workspace, and referenced rows are checked to belong to it too. Only a workspace's owner adds or removes members; a removed member loses access on the next request.".to_string()
    } else {
        "Every row belongs to an account; every query is filtered by the signed-in user's account, and referenced rows are checked to belong to it too.".to_string()
    };
    let constraints = spec
        .rules
        .iter()
        .map(|rule| {
            let entity = spec.entity(&rule.entity);
            // SQL columns: a reference is stored as `<field>_id`.
            let columns = |fields: &[String]| {
                fields
                    .iter()
                    .map(|f| match entity.and_then(|e| e.field(f)) {
                        Some(field) if field.kind == FieldKind::Ref => format!("{f}_id"),
                        _ => f.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Constraint {
                table: entity.map_or_else(|| rule.entity.clone(), |e| e.table.clone()),
                rule: words::rule(spec, rule),
                enforced: enforcement(&rule.check, &columns, owner_fk),
            }
        })
        .collect();
    let components = if pack.manifest.components.is_empty() {
        vec![Component {
            name: "app".into(),
            technology: pack.manifest.description.clone(),
            responsibility: "everything".into(),
        }]
    } else {
        pack.manifest.components.clone()
    };
    Architecture {
        components,
        relations,
        er_diagram: er,
        constraints,
        flow_diagram: flow,
        security: vec![
            tenancy,
            "Passwords are hashed with Argon2; sessions are signed, HTTP-only cookies; API access uses bearer tokens.".into(),
            "Forms carry a CSRF token bound to the session.".into(),
            "Input is validated by type (e-mail, URL, enum, decimal, dates) before it reaches the database; unique fields answer 409.".into(),
            "Configuration and secrets come from environment variables; production refuses to start without a real SECRET_KEY.".into(),
            "The container runs as a non-root user.".into(),
        ],
        scaling: vec![
            "The app is stateless: run several replicas behind a load balancer; sessions live in signed cookies.".into(),
            "Switch DATABASE_URL from SQLite to PostgreSQL for concurrent writers; schema changes go through Alembic migrations.".into(),
            format!("Lists are paginated and indexed by {scope}, so response time does not grow with others' data."),
            "Prometheus alerts on CPU above 80 %, memory above 85 % and an error rate above 5 %; the Grafana dashboard shows rate, errors, latency percentiles, CPU and memory.".into(),
        ],
        narrative: None,
    }
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

/// The architect's narrative when there is an LLM; `None` without one, or when its answer
/// stays invalid (ARCHITECTURE.md then keeps its generated sections only).
pub async fn narrative(
    llm: Option<&Llm>,
    spec: &Spec,
    pack: &Pack,
    reporter: &Reporter,
) -> Result<Option<Narrative>, E2eError> {
    let Some(llm) = llm else {
        return Ok(None);
    };
    optional(
        architect(llm, spec, pack).await,
        "architect's narrative",
        "ARCHITECTURE.md keeps its generated sections only",
        reporter,
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaffold::{PackSource, load_pack};

    #[test]
    fn the_narrative_schema_is_derived_strict_and_parses_back() {
        use crate::llm::schema::{property_names, strict_compatible};
        let schema = answer_schema::<Narrative>();
        assert!(strict_compatible(&schema), "{schema:#}");
        assert_eq!(property_names(&schema), ["decisions", "overview", "risks"]);
        let sample = json!({"overview": "o", "decisions": [], "risks": []});
        assert!(parse_answer::<Narrative>(&sample, "narrative").is_ok());
    }

    #[test]
    fn relations_follow_the_references_and_teams_change_the_owner() {
        let pack = load_pack(&PackSource::Embedded, "python-fastapi").unwrap();
        let mut spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/bookings.yaml")).unwrap();
        let arch = design(&spec, &pack);
        assert_eq!(
            arch.relations.len(),
            spec.entities
                .iter()
                .flat_map(|e| &e.fields)
                .filter(|f| f.kind == FieldKind::Ref)
                .count()
        );
        let r = &arch.relations[0];
        assert!(
            arch.er_diagram.contains(&format!("{} }}o--", r.from)),
            "{}",
            arch.er_diagram
        );
        assert!(arch.er_diagram.contains("Account ||--o{"));
        assert!(!arch.er_diagram.contains("Membership"));
        assert!(!arch.components.is_empty() && arch.narrative.is_none());
        spec.app.features.teams = true;
        let arch = design(&spec, &pack);
        assert!(arch.er_diagram.contains("Team ||--o{ Membership : has"));
        assert!(arch.security[0].starts_with("Every row belongs to a team workspace"));
    }

    #[test]
    fn every_rule_says_where_it_is_enforced() {
        let pack = load_pack(&PackSource::Embedded, "python-fastapi").unwrap();
        let spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/bookings.yaml")).unwrap();
        let arch = design(&spec, &pack);
        let rows: Vec<(&str, &str)> = arch
            .constraints
            .iter()
            .map(|c| (c.table.as_str(), c.enforced.split(';').next().unwrap_or("")))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "bookings",
                    "CHECK constraint in the model and the migration"
                ),
                (
                    "bookings",
                    "checked by the app on insert and update (scoped by account_id, the row itself excluded)"
                ),
                (
                    "bookings",
                    "UNIQUE constraint on (account_id, room_id, starts_at)"
                ),
                ("rooms", "CHECK constraint in the model and the migration"),
            ]
        );
        assert_eq!(
            arch.constraints[0].rule,
            "Booking: Ends at must be after Starts at."
        );

        let mut spec = spec;
        spec.app.features.teams = true;
        spec.rules[0].check = RuleCheck::Compare {
            field: "starts_at".into(),
            op: crate::spec::CompareOp::Ge,
            value: Operand::Now,
        };
        let arch = design(&spec, &pack);
        assert!(
            arch.constraints[0]
                .enforced
                .contains("depends on the clock")
        );
        assert!(
            arch.constraints[2]
                .enforced
                .starts_with("UNIQUE constraint on (team_id, ")
        );
    }
}
