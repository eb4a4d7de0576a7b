//! The acceptance checks of one issue: the `checks.yaml` format, the names and placeholders
//! they may use (resolved through the generated `spec.yaml`), and running them against a
//! started app over HTTP with new accounts per check.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use super::CheckResult;

/// The acceptance checks of one issue (`checks.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    /// The checks, each run with new accounts.
    pub checks: Vec<Check>,
}

/// One acceptance check: steps run in order; the check passes when every step does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// What the check proves, in words.
    pub name: String,
    /// Requests and what their answers must hold.
    pub steps: Vec<Step>,
}

/// One request and its expectations. Exactly one of `get`, `post`, `put`, `patch`, `delete`
/// names the path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `GET path`.
    pub get: Option<String>,
    /// `POST path`.
    pub post: Option<String>,
    /// `PUT path`.
    pub put: Option<String>,
    /// `PATCH path`.
    pub patch: Option<String>,
    /// `DELETE path`.
    pub delete: Option<String>,
    /// Which of the check's accounts sends it (`a` when absent).
    #[serde(rename = "as")]
    pub user: Option<String>,
    /// JSON body; keys may be the field names.
    pub json: Option<Value>,
    /// Expected status (default: any 2xx).
    pub status: Option<u16>,
    /// Keep the answer's `id` as `{id:<name>}` for later steps.
    pub save: Option<String>,
    /// Fields the answer object must hold (a subset).
    pub body: Option<serde_json::Map<String, Value>>,
    /// Fields each named in some `detail[].loc` of the answer.
    pub loc: Option<Vec<String>>,
    /// The answer's `items`, exactly these many, in this order, each holding the given fields.
    pub items: Option<Vec<Value>>,
    /// The answer's `total`.
    pub total: Option<u64>,
    /// The answer's `sums` (numbers compare by value: `"120.5"` equals `"120.50"`).
    pub sums: Option<serde_json::Map<String, Value>>,
}

impl Step {
    /// The method and the (unresolved) path.
    pub fn request(&self) -> Result<(reqwest::Method, &str), String> {
        let all = [
            (reqwest::Method::GET, &self.get),
            (reqwest::Method::POST, &self.post),
            (reqwest::Method::PUT, &self.put),
            (reqwest::Method::PATCH, &self.patch),
            (reqwest::Method::DELETE, &self.delete),
        ];
        let mut given = all
            .into_iter()
            .filter_map(|(m, p)| p.as_deref().map(|p| (m, p)));
        match (given.next(), given.next()) {
            (Some(one), None) => Ok(one),
            _ => Err("a step needs exactly one of get, post, put, patch, delete".into()),
        }
    }
}

/// Names the checks may use, resolved through the generated `spec.yaml` (read as plain data so
/// any format version serves).
#[derive(Debug, Clone, Default)]
pub struct SpecIndex {
    entities: Vec<Value>,
    views: Vec<Value>,
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().to_lowercase().replace(['_', '-'], " ");
    norm(a) == norm(b)
}

impl SpecIndex {
    /// Reads `spec.yaml`.
    pub fn read(path: &std::path::Path) -> anyhow::Result<SpecIndex> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        SpecIndex::parse(&text)
    }

    /// Parses the text of a `spec.yaml`.
    pub fn parse(text: &str) -> anyhow::Result<SpecIndex> {
        let v: Value = yaml_serde::from_str(text).context("spec.yaml")?;
        let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
        Ok(SpecIndex {
            entities: list("entities"),
            views: list("views"),
        })
    }

    /// An entity by its class name, label (either's words), ident or route.
    fn entity(&self, name: &str) -> Option<&Value> {
        let keys = ["name", "label", "ident", "route", "plural_label"];
        self.entities
            .iter()
            .find(|e| keys.iter().any(|k| e[k].as_str() == Some(name)))
            .or_else(|| {
                self.entities.iter().find(|e| {
                    keys.iter()
                        .any(|k| e[k].as_str().is_some_and(|v| same_name(v, name)))
                })
            })
    }

    fn view(&self, name: &str) -> Option<&Value> {
        self.views
            .iter()
            .find(|v| v["name"].as_str() == Some(name) || v["slug"].as_str() == Some(name))
            .or_else(|| {
                self.views
                    .iter()
                    .find(|v| v["name"].as_str().is_some_and(|n| same_name(n, name)))
            })
    }

    /// The JSON key of a field of `entity` named by its ident or its label.
    fn field(&self, entity: Option<&Value>, name: &str) -> String {
        let Some(fields) = entity.and_then(|e| e["fields"].as_array()) else {
            return name.to_string();
        };
        let ident = |f: &Value| f["ident"].as_str().map(String::from);
        fields
            .iter()
            .find(|f| f["ident"].as_str() == Some(name))
            .or_else(|| fields.iter().find(|f| f["label"].as_str() == Some(name)))
            .or_else(|| {
                fields
                    .iter()
                    .find(|f| f["label"].as_str().is_some_and(|l| same_name(l, name)))
            })
            .and_then(ident)
            .unwrap_or_else(|| name.to_string())
    }
}

/// What placeholders resolve against while a check runs.
struct Scope<'a> {
    spec: &'a SpecIndex,
    ids: BTreeMap<String, i64>,
    today: i64,
    now: i64,
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian; Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn date_text(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn datetime_text(secs: i64) -> String {
    let (day, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}",
        date_text(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `+N`/`-N` with an optional unit (`h`, `m`, `d`; days for dates).
fn offset(text: &str, unit_secs: bool) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes()[0] {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (num, mult) = if !unit_secs {
        (rest, 1)
    } else if let Some(n) = rest.strip_suffix('h') {
        (n, 3600)
    } else if let Some(n) = rest.strip_suffix('m') {
        (n, 60)
    } else if let Some(n) = rest.strip_suffix('d') {
        (n, 86_400)
    } else {
        return None;
    };
    num.parse::<i64>().ok().map(|n| sign * n * mult)
}

/// One resolved placeholder: text to splice in, or a JSON value when it is the whole string.
enum Resolved {
    Text(String),
    Id(i64),
}

impl<'a> Scope<'a> {
    fn resolve(&self, token: &str) -> Result<Resolved, String> {
        if let Some(rest) = token.strip_prefix("today") {
            let days =
                offset(rest, false).ok_or_else(|| format!("bad date placeholder {{{token}}}"))?;
            return Ok(Resolved::Text(date_text(self.today + days)));
        }
        if let Some(rest) = token.strip_prefix("now") {
            let secs =
                offset(rest, true).ok_or_else(|| format!("bad time placeholder {{{token}}}"))?;
            return Ok(Resolved::Text(datetime_text(self.now + secs)));
        }
        if let Some(name) = token.strip_prefix("id:") {
            return self
                .ids
                .get(name)
                .map(|id| Resolved::Id(*id))
                .ok_or_else(|| format!("{{{token}}}: no earlier step saved {name:?}"));
        }
        if let Some(name) = token.strip_prefix("api:") {
            let e = self
                .spec
                .entity(name)
                .ok_or_else(|| format!("{{{token}}}: spec.yaml has no entity {name:?}"))?;
            return Ok(Resolved::Text(format!(
                "/api/{}",
                e["route"].as_str().unwrap_or_default()
            )));
        }
        if let Some(name) = token.strip_prefix("view:") {
            let v = self
                .spec
                .view(name)
                .ok_or_else(|| format!("{{{token}}}: spec.yaml has no view {name:?}"))?;
            return Ok(Resolved::Text(format!(
                "/api/views/{}",
                v["slug"].as_str().unwrap_or_default()
            )));
        }
        Err(format!("unknown placeholder {{{token}}}"))
    }

    /// Replaces every `{…}` in `text`; a string that is exactly `{id:x}` becomes the number.
    fn text(&self, text: &str) -> Result<Value, String> {
        if let Some(token) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
            && !token.contains(['{', '}'])
            && let Resolved::Id(id) = self.resolve(token)?
        {
            return Ok(Value::from(id));
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed placeholder in {text:?}"))?;
            out.push_str(&rest[..open]);
            match self.resolve(&rest[open + 1..open + close])? {
                Resolved::Text(t) => out.push_str(&t),
                Resolved::Id(id) => out.push_str(&id.to_string()),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    /// Resolves placeholders in every string of `v`, and the top-level keys as field names of
    /// `entity` (so a check may use the issue's own words).
    fn value(&self, v: &Value, entity: Option<&Value>) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) if s == "{any}" => v.clone(),
            Value::String(s) => self.text(s)?,
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.value(x, None))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, x) in o {
                    m.insert(self.spec.field(entity, k), self.value(x, None)?);
                }
                Value::Object(m)
            }
            other => other.clone(),
        })
    }

    /// The entity a path is about: the first `{api:…}` or `{view:…}` in it.
    fn entity_of(&self, path: &str) -> Option<&'a Value> {
        let start = path.find('{')?;
        let token = &path[start + 1..start + path[start..].find('}')?];
        let spec: &'a SpecIndex = self.spec;
        if let Some(name) = token.strip_prefix("api:") {
            return spec.entity(name);
        }
        let view = spec.view(token.strip_prefix("view:")?)?;
        spec.entity(view["entity"].as_str()?)
    }
}

/// A decimal number written as text or JSON, normalised (`"120.50"` → `"120.5"`), if it is one.
fn decimal(v: &Value) -> Option<String> {
    let s = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = format!(
        "{}{}{}",
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() { "" } else { "." },
        frac
    );
    Some(if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    })
}

/// Whether `actual` holds what `expected` asks: objects by subset, numbers by value,
/// `"{any}"` for any non-null value.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), a) if s == "{any}" => !a.is_null(),
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| matches(v, a.get(k).unwrap_or(&Value::Null))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        (e, a) if e == a => true,
        (e, a) => match (decimal(e), decimal(a)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

fn days_now() -> (i64, i64) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (secs.div_euclid(86_400), secs)
}

pub(super) async fn run_checks(
    checks: &[Check],
    base: &str,
    spec: &SpecIndex,
    case: &str,
) -> Vec<CheckResult> {
    let client = super::local_client();
    let mut out = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let failure = run_check(&client, check, base, spec, &format!("{case}-{i}"))
            .await
            .err();
        out.push(CheckResult {
            name: check.name.clone(),
            failure,
        });
    }
    out
}

/// Signs up `email` and returns a bearer token.
async fn account(client: &reqwest::Client, base: &str, email: &str) -> Result<String, String> {
    let password = "eval-password-1234";
    let r = client
        .post(format!("{base}/api/auth/signup"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| format!("sign-up request failed: {e}"))?;
    if r.status().as_u16() != 201 {
        return Err(format!(
            "sign-up answered {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        ));
    }
    let form = format!(
        "username={}&password={password}",
        email.replace('@', "%40").replace('+', "%2B")
    );
    let r = client
        .post(format!("{base}/api/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| format!("token request failed: {e}"))?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    body["access_token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("token answered {status}: {}", short(&body)))
}

async fn run_check(
    client: &reqwest::Client,
    check: &Check,
    base: &str,
    spec: &SpecIndex,
    tag: &str,
) -> Result<(), String> {
    let (today, now) = days_now();
    let mut scope = Scope {
        spec,
        ids: BTreeMap::new(),
        today,
        now,
    };
    let mut tokens: BTreeMap<String, String> = BTreeMap::new();
    for (n, step) in check.steps.iter().enumerate() {
        let (method, raw_path) = step.request()?;
        let entity = scope.entity_of(raw_path);
        // Failures name the resolved path (`/api/invoices/4`), or the written one if it is bad.
        let path = match scope.text(raw_path) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => return Err(format!("step {} ({method} {raw_path}): {e}", n + 1)),
        };
        let fail = |why: String| format!("step {} ({method} {path}): {why}", n + 1);
        let user = step.user.clone().unwrap_or_else(|| "a".into());
        if !tokens.contains_key(&user) {
            let email = format!("eval-{tag}-{user}@example.com").to_lowercase();
            let token = account(client, base, &email)
                .await
                .map_err(|e| fail(format!("account {user}: {e}")))?;
            tokens.insert(user.clone(), token);
        }
        let mut request = client
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(&tokens[&user])
            .timeout(Duration::from_secs(30));
        if let Some(json) = &step.json {
            request = request.json(&scope.value(json, entity).map_err(&fail)?);
        }
        let response = request
            .send()
            .await
            .map_err(|e| fail(format!("request failed: {e}")))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let status_ok = match step.status {
            Some(s) => s == status,
            None => (200..300).contains(&status),
        };
        if !status_ok {
            let want = step
                .status
                .map_or("a 2xx status".to_string(), |s| s.to_string());
            return Err(fail(format!(
                "expected {want}, got {status}: {}",
                short(&body)
            )));
        }
        if let Some(name) = &step.save {
            let id = body["id"]
                .as_i64()
                .ok_or_else(|| fail(format!("no id to save in {}", short(&body))))?;
            scope.ids.insert(name.clone(), id);
        }
        if let Some(want) = &step.body {
            let want = scope
                .value(&Value::Object(want.clone()), entity)
                .map_err(&fail)?;
            if !matches(&want, &body) {
                return Err(fail(format!(
                    "expected the answer to hold {}, got {}",
                    short(&want),
                    short(&body)
                )));
            }
        }
        if let Some(locs) = &step.loc {
            let detail = body["detail"].as_array().cloned().unwrap_or_default();
            for name in locs {
                let field = spec.field(entity, name);
                let named = detail.iter().any(|d| {
                    d["loc"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(&field)))
                });
                if !named {
                    return Err(fail(format!(
                        "expected a detail[].loc naming {field:?}, got {}",
                        short(&body)
                    )));
                }
            }
        }
        if let Some(items) = &step.items {
            let want = scope
                .value(&Value::Array(items.clone()), None)
                .map_err(&fail)?;
            let want = match want {
                Value::Array(a) => Value::Array(
                    a.iter()
                        .map(|x| scope.value(x, entity))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(&fail)?,
                ),
                other => other,
            };
            if !matches(&want, &body["items"]) {
                return Err(fail(format!(
                    "expected items {}, got {}",
                    short(&want),
                    short(&body["items"])
                )));
            }
        }
        if let Some(total) = step.total
            && body["total"].as_u64() != Some(total)
        {
            return Err(fail(format!(
                "expected total {total}, got {}",
                short(&body["total"])
            )));
        }
        if let Some(sums) = &step.sums {
            let want = scope
                .value(&Value::Object(sums.clone()), entity)
                .map_err(&fail)?;
            if !matches(&want, &body["sums"]) {
                return Err(fail(format!(
                    "expected sums {}, got {}",
                    short(&want),
                    short(&body["sums"])
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_follow_the_calendar() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_782), "2024-02-29");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(datetime_text(86_400 + 3661), "1970-01-02T01:01:01");
    }

    fn spec() -> SpecIndex {
        SpecIndex::parse(
            "entities:\n- {name: MemberRecord, label: Member, route: member-records, fields: [{label: 이름, ident: ireum}]}\n\
             - {name: Loan, label: Loan, route: loans, fields: [{label: Member, ident: member_value}, {label: Lent on, ident: lent_on}]}\n\
             views:\n- {name: 큰 지출, slug: keun-jicul, entity: Loan}\n",
        )
        .unwrap()
    }

    #[test]
    fn placeholders_and_names_resolve_through_the_spec() {
        let spec = spec();
        let scope = Scope {
            spec: &spec,
            ids: BTreeMap::from([("ann".to_string(), 7)]),
            today: 0,
            now: 3600,
        };
        assert_eq!(
            scope.text("{api:Member}/{id:ann}").unwrap(),
            json!("/api/member-records/7")
        );
        assert_eq!(
            scope.text("{view:큰 지출}").unwrap(),
            json!("/api/views/keun-jicul")
        );
        assert_eq!(scope.text("{id:ann}").unwrap(), json!(7));
        assert_eq!(scope.text("{today-1}").unwrap(), json!("1969-12-31"));
        assert_eq!(
            scope.text("{now+2h}").unwrap(),
            json!("1970-01-01T03:00:00")
        );
        assert!(scope.text("{view:Nope}").unwrap_err().contains("no view"));
        assert!(scope.text("{id:bob}").is_err());
        let loan = scope.entity_of("{api:Loan}/{id:ann}");
        let body = scope
            .value(&json!({"member": "{id:ann}", "lent_on": "{today}"}), loan)
            .unwrap();
        assert_eq!(body, json!({"member_value": 7, "lent_on": "1970-01-01"}));
        let via_view = scope.entity_of("{view:큰 지출}");
        assert_eq!(spec.field(via_view, "Lent on"), "lent_on");
        assert_eq!(spec.field(scope.entity_of("{api:Member}"), "이름"), "ireum");
    }

    #[test]
    fn answers_match_by_subset_and_numbers_by_value() {
        assert!(matches(
            &json!({"amount": "120.50"}),
            &json!({"amount": "120.5", "id": 1})
        ));
        assert!(matches(&json!({"n": 3}), &json!({"n": "3.00"})));
        assert!(!matches(&json!({"n": 3}), &json!({"n": 4})));
        assert!(!matches(&json!({"s": "draft"}), &json!({"s": null})));
        assert!(matches(
            &json!({"at": "{any}"}),
            &json!({"at": "2030-01-01T00:00:00"})
        ));
        assert!(!matches(&json!({"at": "{any}"}), &json!({"at": null})));
        assert!(matches(
            &json!([{"a": 1}, {"a": 2}]),
            &json!([{"a": 1, "b": 0}, {"a": 2}])
        ));
        assert!(!matches(&json!([{"a": 1}]), &json!([{"a": 1}, {"a": 2}])));
        assert!(!matches(
            &json!([{"a": 2}, {"a": 1}]),
            &json!([{"a": 1}, {"a": 2}])
        ));
        assert!(matches(&json!("-0.50"), &json!("-0.5")));
        assert!(!matches(&json!("A-1"), &json!("A-2")));
    }

    #[test]
    fn a_step_names_exactly_one_method() {
        let two: Step = yaml_serde::from_str("{get: /a, post: /b}").unwrap();
        assert!(two.request().is_err());
        assert!(Step::default().request().is_err());
        let one: Step = yaml_serde::from_str("{post: /a, status: 201}").unwrap();
        assert_eq!(one.request().unwrap().1, "/a");
        assert!(yaml_serde::from_str::<Step>("{get: /a, stauts: 200}").is_err());
    }
}
