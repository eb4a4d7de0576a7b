//! Architecture (architect): `Spec` + pack → components, data model, data flow, security and
//! scaling notes, rendered later as `ARCHITECTURE.md` with mermaid diagrams.
//!
//! In: the spec and the pack manifest. Out: an [`Architecture`]. Pure and infallible. The
//! diagrams use identifiers only: issue text never reaches mermaid source.

use serde::{Deserialize, Serialize};

use crate::scaffold::{Component, Pack};
use crate::spec::{FieldKind, Spec};

/// The architecture of the generated app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// The system's parts.
    pub components: Vec<Component>,
    /// Relations between entities: `(from, to, field ident, required)`.
    pub relations: Vec<Relation>,
    /// Mermaid `erDiagram` of the data model.
    pub er_diagram: String,
    /// Mermaid `flowchart` of a request through the system.
    pub flow_diagram: String,
    /// Security measures.
    pub security: Vec<String>,
    /// How it scales.
    pub scaling: Vec<String>,
    /// The architect's narrative (LLM), if any.
    #[serde(default)]
    pub narrative: Option<crate::pipeline::agents::Narrative>,
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
    let mut er = String::from("erDiagram\n    Account ||--o{ User : has\n");
    for e in &spec.entities {
        er.push_str(&format!("    Account ||--o{{ {} : owns\n", e.name));
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
            "    {} {{\n        int id PK\n        int account_id FK\n",
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
    let flow = "flowchart LR\n    browser[Browser] -->|HTML forms + session cookie| web[FastAPI app]\n    client[API client] -->|JSON + bearer token| web\n    web -->|SQLAlchemy, scoped by account| db[(SQLite / PostgreSQL)]\n    prom[Prometheus] -->|scrapes /metrics| web\n    prom -->|alert rules| am[Alertmanager]\n    grafana[Grafana] -->|queries| prom\n".to_string();
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
        flow_diagram: flow,
        security: vec![
            "Every row belongs to an account; every query is filtered by the signed-in user's account, and referenced rows are checked to belong to it too.".into(),
            "Passwords are hashed with Argon2; sessions are signed, HTTP-only cookies; API access uses bearer tokens.".into(),
            "Forms carry a CSRF token bound to the session.".into(),
            "Input is validated by type (e-mail, URL, enum, decimal, dates) before it reaches the database; unique fields answer 409.".into(),
            "Configuration and secrets come from environment variables; production refuses to start without a real SECRET_KEY.".into(),
            "The container runs as a non-root user.".into(),
        ],
        scaling: vec![
            "The app is stateless: run several replicas behind a load balancer; sessions live in signed cookies.".into(),
            "Switch DATABASE_URL from SQLite to PostgreSQL for concurrent writers; schema changes go through Alembic migrations.".into(),
            "Lists are paginated and indexed by account, so response time does not grow with other accounts' data.".into(),
            "Prometheus alerts on CPU above 80 %, memory above 85 % and an error rate above 5 %; the Grafana dashboard shows rate, errors, latency percentiles, CPU and memory.".into(),
        ],
        narrative: None,
    }
}
