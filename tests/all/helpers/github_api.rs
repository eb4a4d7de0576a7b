//! A scripted GitHub API (wiremock) for a first run on the sample issue: no progress comment and
//! no pull request yet, the author may build. The requests it received are read back as
//! `(method, path, JSON body)`.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::TestContext;

/// The repository the `TestContext` runs in.
pub const REPO: &str = "/repos/octo-org/reading-list";

/// Starts the API for issue `issue`; its pull request is number 5.
pub async fn first_run(issue: u64) -> MockServer {
    let server = MockServer::start().await;
    let pr =
        json!({"number": 5, "html_url": "https://github.example/octo-org/reading-list/pull/5"});
    let comment = json!({"id": 7, "body": "x"});
    for (verb, route, status, body) in [
        (
            "GET",
            format!("{REPO}/issues/{issue}/comments"),
            200,
            json!([]),
        ),
        (
            "POST",
            format!("{REPO}/issues/{issue}/comments"),
            201,
            comment.clone(),
        ),
        ("PATCH", format!("{REPO}/issues/comments/7"), 200, comment),
        (
            "GET",
            format!("{REPO}/collaborators/octocat/permission"),
            200,
            json!({"permission": "admin", "role_name": "admin"}),
        ),
        ("GET", format!("{REPO}/pulls"), 200, json!([])),
        ("POST", format!("{REPO}/pulls"), 201, pr.clone()),
        ("PATCH", format!("{REPO}/pulls/5"), 200, pr),
        ("POST", format!("{REPO}/issues/5/labels"), 200, json!([])),
    ] {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
    }
    server
}

/// Points the run at `uri` with a token.
pub fn use_api(ctx: &mut TestContext, uri: &str) {
    ctx.env.insert("GITHUB_API_URL".into(), uri.into());
    ctx.env
        .insert("GITHUB_SERVER_URL".into(), "https://github.example".into());
    ctx.env.insert(
        "INPUT_GITHUB-TOKEN".into(),
        "ghs_SnapshotCanaryToken1234567890ab".into(),
    );
}

/// The requests `server` received, in order.
pub async fn requests(server: &MockServer) -> Vec<(String, String, Value)> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.url.path().to_string(),
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// The body of the last `verb route` request, if any.
pub fn last_body<'a>(
    reqs: &'a [(String, String, Value)],
    verb: &str,
    route: &str,
) -> Option<&'a Value> {
    reqs.iter()
        .rev()
        .find(|(m, p, _)| m == verb && p == route)
        .map(|(_, _, b)| b)
}
