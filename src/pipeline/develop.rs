//! Develop (developers): the plan's tasks rendered from the pack's templates, plus the
//! documents of the earlier stages (`spec.yaml`, `SPEC.md`, `ARCHITECTURE.md`, `PLAN.md`).
//!
//! In: spec, architecture, plan, pack. Out: [`Files`], sorted by path, every path validated.
//! Fails when a template does not render (a pack bug: strict undefined variables).
//! The code is rendered first ([`Renderer::code`]): its holes keep their scaffold code until
//! the developers fill them ([`super::fill`]); the files that use the DevOps figures and the
//! documents follow once those answers are in ([`Renderer::assemble`]).

use minijinja::Value;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::E2eError;
use crate::pipeline::architecture::Architecture;
use crate::pipeline::ops::{self, Ops};
use crate::pipeline::plan::Plan;
use crate::scaffold::{self, Pack};
use crate::spec::{Spec, words};
use crate::workspace::confine;

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedFile {
    /// Path relative to the app folder.
    pub path: String,
    /// Role that produced it.
    pub role: String,
    /// Content (with each hole's fill, or its scaffold code).
    pub content: String,
    /// The holes of this file, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holes: Vec<HoleSite>,
    /// The text around the holes (`holes.len() + 1` parts).
    #[serde(skip)]
    parts: Vec<String>,
}

/// One hole of a rendered file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoleSite {
    /// Hole name from the pack.
    pub name: String,
    /// Entity `name` for per-entity files.
    pub entity: Option<String>,
    /// Indentation of the region.
    pub indent: String,
    /// The scaffold's code for the region.
    pub default: String,
    /// The accepted LLM fill, if any.
    pub fill: Option<String>,
}

impl GeneratedFile {
    /// A file without holes.
    pub fn plain(path: &str, role: &str, content: String) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            role: role.into(),
            parts: vec![content.clone()],
            content,
            holes: Vec::new(),
        }
    }

    /// Splits rendered text at its hole sentinels.
    fn from_rendered(
        path: &str,
        role: &str,
        entity: Option<&str>,
        rendered: &str,
    ) -> Result<GeneratedFile, E2eError> {
        let sentinel = scaffold::HOLE_SENTINEL;
        if !rendered.contains(sentinel) {
            return Ok(GeneratedFile::plain(path, role, rendered.to_string()));
        }
        let bad = |why: &str| E2eError::Internal(format!("{path}: {why} (in the pack)"));
        let mut parts = vec![String::new()];
        let mut holes: Vec<HoleSite> = Vec::new();
        let mut open: Option<HoleSite> = None;
        for line in rendered.split_inclusive('\n') {
            let t = line.trim();
            if let Some(name) = t
                .strip_prefix(sentinel)
                .and_then(|r| r.strip_suffix(sentinel))
            {
                if let Some(name) = name.strip_prefix("hole:") {
                    if open.is_some() {
                        return Err(bad("nested hole"));
                    }
                    let indent: String = line
                        .chars()
                        .take_while(|c| *c == ' ' || *c == '\t')
                        .collect();
                    open = Some(HoleSite {
                        name: name.into(),
                        entity: entity.map(String::from),
                        indent,
                        default: String::new(),
                        fill: None,
                    });
                } else if name == "endhole" {
                    holes.push(open.take().ok_or_else(|| bad("endhole without hole"))?);
                    parts.push(String::new());
                } else {
                    return Err(bad("unknown hole marker"));
                }
                continue;
            }
            match &mut open {
                Some(h) => h.default.push_str(line),
                None => parts
                    .last_mut()
                    .map(|p| p.push_str(line))
                    .unwrap_or_default(),
            }
        }
        if open.is_some() {
            return Err(bad("hole without endhole"));
        }
        let mut f = GeneratedFile {
            path: path.into(),
            role: role.into(),
            content: String::new(),
            holes,
            parts,
        };
        f.assemble();
        Ok(f)
    }

    /// Recomputes `content` from the parts and each hole's fill or default.
    pub fn assemble(&mut self) {
        let mut out = String::new();
        for (i, part) in self.parts.iter().enumerate() {
            out.push_str(part);
            if let Some(h) = self.holes.get(i) {
                match &h.fill {
                    Some(code) => out.push_str(&indent(code, &h.indent)),
                    None => out.push_str(&h.default),
                }
            }
        }
        self.content = out;
    }

    /// The text before and after hole `i` (with other holes at their current code).
    pub fn around(&self, i: usize) -> (String, String) {
        let mut before = String::new();
        let mut after = String::new();
        for (j, part) in self.parts.iter().enumerate() {
            let target = if j <= i { &mut before } else { &mut after };
            target.push_str(part);
            if let Some(h) = self.holes.get(j).filter(|_| j != i) {
                let code = h
                    .fill
                    .as_ref()
                    .map_or_else(|| h.default.clone(), |c| indent(c, &h.indent));
                if j < i {
                    before.push_str(&code)
                } else {
                    after.push_str(&code)
                }
            }
        }
        (before, after)
    }
}

/// Re-indents `code` (dedented first) at `prefix`, ending with one newline.
pub fn indent(code: &str, prefix: &str) -> String {
    let lines: Vec<&str> = code.trim_end().lines().collect();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        if l.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(prefix);
            out.push_str(&l[common.min(l.len() - l.trim_start().len())..]);
            out.push('\n');
        }
    }
    out
}

/// Everything the develop stage produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    /// Files sorted by path.
    pub files: Vec<GeneratedFile>,
}

/// Identity of the generator, for templates and reports.
pub fn generator() -> serde_json::Value {
    json!({"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")})
}

/// The template context for `spec`: the spec with each `ref` field given its target entity,
/// and `app_dir`, the app's folder in the repository.
pub fn context(spec: &Spec, app_dir: &str) -> serde_json::Value {
    let mut entities = serde_json::to_value(&spec.entities).unwrap_or_default();
    if let Some(list) = entities.as_array_mut() {
        for e in list.iter_mut() {
            if let Some(fields) = e.get_mut("fields").and_then(|f| f.as_array_mut()) {
                for f in fields.iter_mut() {
                    let target = f
                        .get("target")
                        .and_then(|t| t.as_str())
                        .and_then(|t| spec.entity(t));
                    f["ref"] = serde_json::to_value(target).unwrap_or_default();
                }
            }
        }
    }
    // Rules and views as in spec.yaml, each with its sentence (`words`) for the documents.
    let with_words = |value: serde_json::Value, words: Vec<String>| {
        let mut list = value.as_array().cloned().unwrap_or_default();
        for (item, words) in list.iter_mut().zip(words) {
            item["words"] = json!(words);
        }
        serde_json::Value::Array(list)
    };
    let rules = with_words(
        serde_json::to_value(&spec.rules).unwrap_or_default(),
        spec.rules.iter().map(|r| words::rule(spec, r)).collect(),
    );
    let views = with_words(
        serde_json::to_value(&spec.views).unwrap_or_default(),
        spec.views.iter().map(|v| words::view(spec, v)).collect(),
    );
    json!({
        "app": spec.app,
        "issue": spec.issue,
        "requirements": spec.requirements,
        "entities": entities,
        "rules": rules,
        "views": views,
        "generator": generator(),
        "app_dir": app_dir,
        "ops": Ops::default(),
    })
}

/// Renders templates for one spec: the environment is compiled once and the context converted
/// once (each task only adds its `entity`), so rendering stays linear in the number of files.
pub struct Renderer<'p> {
    env: minijinja::Environment<'static>,
    base: Value,
    entities: std::collections::BTreeMap<String, Value>,
    pack: &'p Pack,
}

impl<'p> Renderer<'p> {
    /// Compiles the pack's templates for `spec`.
    pub fn new(spec: &Spec, pack: &'p Pack, app_dir: &str) -> Result<Renderer<'p>, E2eError> {
        let base = context(spec, app_dir);
        let entities = base["entities"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| {
                        (
                            e["name"].as_str().unwrap_or_default().to_string(),
                            Value::from(minijinja::value::Serde(e)),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Renderer {
            env: scaffold::environment(pack)?,
            base: Value::from(minijinja::value::Serde(&base)),
            entities,
            pack,
        })
    }

    /// Uses `ops` instead of the defaults from now on.
    pub fn set_ops(&mut self, ops: &Ops) {
        let ops = Value::from(minijinja::value::Serde(ops));
        self.base = minijinja::context! { ops => ops, ..self.base.clone() };
    }

    /// Renders every task of `plan` (empty renders are dropped).
    pub fn tasks(&self, plan: &Plan) -> Result<Vec<GeneratedFile>, E2eError> {
        self.tasks_where(plan, |_| true)
    }

    /// Renders the code: every task of `plan` but the files that use the [`Ops`] figures
    /// (known only once the DevOps role answered). The developers fill its holes.
    pub fn code(&self, plan: &Plan) -> Result<Files, E2eError> {
        Ok(Files {
            files: self.tasks_where(plan, |t| !ops::uses_ops(t))?,
        })
    }

    /// Renders the files that use the [`Ops`] figures, with `ops`.
    pub fn ops_files(&mut self, plan: &Plan, ops: &Ops) -> Result<Vec<GeneratedFile>, E2eError> {
        self.set_ops(ops);
        self.tasks_where(plan, ops::uses_ops)
    }

    /// The develop stage's result: `code` (with its fills), the files that use the ops
    /// figures (`ops`, or the defaults), and the stage documents, sorted and validated.
    pub fn assemble(
        &mut self,
        code: Files,
        plan: &Plan,
        ops: Option<&Ops>,
        spec: &Spec,
        arch: &Architecture,
    ) -> Result<Files, E2eError> {
        let mut all = code.files;
        match ops {
            Some(ops) => all.extend(self.ops_files(plan, ops)?),
            None => all.extend(self.tasks_where(plan, ops::uses_ops)?),
        }
        all.extend(self.docs(spec, arch, plan)?);
        finish(all)
    }

    /// Renders the tasks of `plan` that `keep` selects.
    pub fn tasks_where(
        &self,
        plan: &Plan,
        keep: impl Fn(&crate::pipeline::plan::Task) -> bool,
    ) -> Result<Vec<GeneratedFile>, E2eError> {
        let mut files = Vec::with_capacity(plan.tasks.len());
        for task in plan.tasks.iter().filter(|t| keep(t)) {
            let ctx = match &task.entity {
                Some(name) => {
                    let e = self.entities.get(name).ok_or_else(|| {
                        E2eError::Internal(format!(
                            "the plan names an entity the spec does not have: {name}"
                        ))
                    })?;
                    minijinja::context! { entity => e, ..self.base.clone() }
                }
                None => self.base.clone(),
            };
            let content = scaffold::render(&self.env, &task.template, &ctx)?;
            if content.trim().is_empty() {
                continue;
            }
            files.push(GeneratedFile::from_rendered(
                &task.path,
                &task.role,
                task.entity.as_deref(),
                &content,
            )?);
        }
        Ok(files)
    }

    /// Renders the stage documents (`SPEC.md`, `ARCHITECTURE.md`, `PLAN.md`, `spec.yaml`).
    pub fn docs(
        &self,
        spec: &Spec,
        arch: &Architecture,
        plan: &Plan,
    ) -> Result<Vec<GeneratedFile>, E2eError> {
        let extra = json!({
            "architecture": arch,
            "plan": plan,
            "roles": plan.roles(),
            "pack": self.pack.manifest,
        });
        let ctx = minijinja::context! { ..Value::from(minijinja::value::Serde(&extra)), ..self.base.clone() };
        let mut files = Vec::new();
        for doc in ["SPEC.md", "ARCHITECTURE.md", "PLAN.md"] {
            if self.pack.docs.contains_key(doc) {
                files.push(GeneratedFile::plain(
                    doc,
                    "docs",
                    scaffold::render(&self.env, &format!("docs/{doc}"), &ctx)?,
                ));
            }
        }
        files.push(GeneratedFile::plain("spec.yaml", "docs", spec_yaml(spec)?));
        Ok(files)
    }
}

/// Sorts the files by path and validates every path.
pub fn finish(mut files: Vec<GeneratedFile>) -> Result<Files, E2eError> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    for f in &files {
        confine::validate_relative(&f.path).map_err(|e| E2eError::Stack(e.to_string()))?;
    }
    Ok(Files { files })
}

/// Renders every task of `plan` and the stage documents.
pub fn develop(
    spec: &Spec,
    arch: &Architecture,
    plan: &Plan,
    pack: &Pack,
    app_dir: &str,
) -> Result<Files, E2eError> {
    let r = Renderer::new(spec, pack, app_dir)?;
    let mut files = r.tasks(plan)?;
    files.extend(r.docs(spec, arch, plan)?);
    finish(files)
}

/// `spec.yaml`: the spec as YAML, with a header saying how to replay from it.
pub fn spec_yaml(spec: &Spec) -> Result<String, E2eError> {
    let body =
        yaml_serde::to_string(spec).map_err(|e| E2eError::Stack(format!("spec.yaml: {e}")))?;
    Ok(format!(
        "# Generated by e2e-action from issue #{}. Edit and replay with:\n#   e2e-action generate --spec spec.yaml --out <dir>\n{body}",
        spec.issue.number
    ))
}

impl Files {
    /// Every hole: `(file index, hole index)`.
    pub fn hole_sites(&self) -> Vec<(usize, usize)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| (0..f.holes.len()).map(move |j| (i, j)))
            .collect()
    }

    /// Whether any hole holds an LLM fill.
    pub fn has_fills(&self) -> bool {
        self.files
            .iter()
            .any(|f| f.holes.iter().any(|h| h.fill.is_some()))
    }

    /// Reverts every fill to the scaffold; returns what was reverted (`file#hole`).
    pub fn clear_fills(&mut self) -> Vec<String> {
        let mut reverted = Vec::new();
        for f in &mut self.files {
            for h in &mut f.holes {
                if h.fill.take().is_some() {
                    reverted.push(format!("{}#{}", f.path, h.name));
                }
            }
            f.assemble();
        }
        reverted
    }

    /// Sets (or clears) the fill of hole `j` of file `i`.
    pub fn set_fill(&mut self, i: usize, j: usize, fill: Option<String>) {
        if let Some(f) = self.files.get_mut(i) {
            if let Some(h) = f.holes.get_mut(j) {
                h.fill = fill;
            }
            f.assemble();
        }
    }

    /// Total size in bytes.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.content.len()).sum()
    }

    /// Writes every file under `root` (created if needed), refusing symlinks in the way.
    pub fn write_to(&self, root: &std::path::Path) -> Result<(), E2eError> {
        for f in &self.files {
            let path = confine::confined_join(root, &f.path)
                .map_err(|e| E2eError::Workspace(e.to_string()))?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| E2eError::Workspace(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(&path, &f.content)
                .map_err(|e| E2eError::Workspace(format!("{}: {e}", path.display())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{architecture, plan};
    use crate::scaffold::{PackSource, load_pack};

    #[test]
    fn holes_split_a_file_and_fills_replace_their_region_reindented() {
        let s = scaffold::HOLE_SENTINEL;
        let text =
            format!("def f():\n    {s}hole:rules{s}\n    return 1\n    {s}endhole{s}\nend\n");
        let mut f = GeneratedFile::from_rendered("a.py", "backend", Some("Book"), &text).unwrap();
        assert_eq!(f.content, "def f():\n    return 1\nend\n");
        assert_eq!(f.holes[0].indent, "    ");
        assert_eq!(f.holes[0].entity.as_deref(), Some("Book"));
        assert_eq!(f.around(0), ("def f():\n".into(), "end\n".into()));
        f.holes[0].fill = Some("x = 2\nreturn x".into());
        f.assemble();
        assert_eq!(f.content, "def f():\n    x = 2\n    return x\nend\n");
        let bad = format!("{s}endhole{s}\n");
        assert!(matches!(
            GeneratedFile::from_rendered("a.py", "b", None, &bad),
            Err(E2eError::Internal(_))
        ));
        let open = format!("{s}hole:x{s}\n");
        assert!(GeneratedFile::from_rendered("a.py", "b", None, &open).is_err());
        assert_eq!(indent("  a\n    b\n\n", "\t"), "\ta\n\t  b\n");
    }

    #[test]
    fn fills_are_set_and_cleared_per_hole() {
        let s = scaffold::HOLE_SENTINEL;
        let text = format!("{s}hole:h{s}\npass\n{s}endhole{s}\n");
        let mut files = finish(vec![
            GeneratedFile::from_rendered("b.py", "backend", None, &text).unwrap(),
            GeneratedFile::plain("a.md", "docs", "# a\n".into()),
        ])
        .unwrap();
        assert_eq!(files.files[0].path, "a.md", "sorted by path");
        assert_eq!(files.hole_sites(), [(1, 0)]);
        assert!(!files.has_fills());
        files.set_fill(1, 0, Some("return 1".into()));
        assert!(files.has_fills() && files.files[1].content == "return 1\n");
        assert_eq!(files.clear_fills(), ["b.py#h"]);
        assert_eq!(files.files[1].content, "pass\n");
        assert!(finish(vec![GeneratedFile::plain("../x", "docs", String::new())]).is_err());
    }

    #[test]
    fn the_code_and_the_ops_files_together_are_the_whole_app() {
        let pack = load_pack(&PackSource::Embedded, "python-fastapi").unwrap();
        let spec =
            Spec::from_yaml(include_str!("../../tests/fixtures/specs/bookings.yaml")).unwrap();
        let arch = architecture::design(&spec, &pack);
        let plan = plan::build(&spec, &pack).unwrap();
        let whole = develop(&spec, &arch, &plan, &pack, "apps/x").unwrap();
        let mut r = Renderer::new(&spec, &pack, "apps/x").unwrap();
        let code = r.code(&plan).unwrap();
        assert!(
            code.files
                .iter()
                .all(|f| f.role != "monitoring" && f.role != "devops")
        );
        assert_eq!(
            r.assemble(code.clone(), &plan, None, &spec, &arch).unwrap(),
            whole
        );
        // Other figures change the ops files only.
        let ops = Ops {
            memory_limit_mb: 2048,
            ..Ops::default()
        };
        let tuned = r.assemble(code, &plan, Some(&ops), &spec, &arch).unwrap();
        assert_eq!(tuned.files.len(), whole.files.len());
        let changed: Vec<&str> = tuned
            .files
            .iter()
            .zip(&whole.files)
            .filter(|(a, b)| a.content != b.content)
            .map(|(a, _)| a.role.as_str())
            .collect();
        assert!(!changed.is_empty());
        assert!(
            changed
                .iter()
                .all(|r| ["monitoring", "devops", "docs"].contains(r)),
            "{changed:?}"
        );
        assert!(whole.files.iter().any(|f| {
            f.path == "spec.yaml"
                && f.content
                    .starts_with("# Generated by e2e-action from issue #")
        }));
    }
}
