//! The GitHub side against a scripted API (wiremock) for exact bodies and sequences, and against
//! GitHub's own REST description behind prism for "every request is one GitHub accepts".

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::github_api::requests;
use crate::helpers::{TestContext, fixture, sample_event, text};

const REPO: &str = "/repos/octo-org/reading-list";
const BRANCH: &str = "e2e/issue-42-reading-list";

fn with_api(ctx: &mut TestContext, uri: &str) {
    ctx.env.insert("GITHUB_API_URL".into(), uri.into());
    ctx.env
        .insert("GITHUB_SERVER_URL".into(), "https://github.example".into());
    ctx.env.insert(
        "INPUT_GITHUB-TOKEN".into(),
        "ghs_ApiCanaryToken1234567890abcdef".into(),
    );
    ctx.env
        .insert("INPUT_LABELS".into(), "e2e, generated".into());
}

async fn api(existing_comment: bool, existing_pr: bool) -> MockServer {
    let server = MockServer::start().await;
    let comments = if existing_comment {
        json!([{"id": 1, "body": "unrelated"}, {"id": 7, "body": "<!-- e2e-action:progress -->\nold"}])
    } else {
        json!([{"id": 1, "body": "unrelated"}])
    };
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 7, "body": "x"})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{REPO}/issues/comments/7")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 7, "body": "x"})))
        .mount(&server)
        .await;
    // The sample issue's author may build (every trigger's permission is checked).
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/octocat/permission")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"permission": "admin", "role_name": "admin"})),
        )
        .mount(&server)
        .await;
    let pulls = if existing_pr {
        json!([{"number": 3, "html_url": "https://github.example/octo-org/reading-list/pull/3", "head": {"ref": "other"}},
               {"number": 5, "html_url": "https://github.example/octo-org/reading-list/pull/5", "head": {"ref": BRANCH}}])
    } else {
        json!([])
    };
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/pulls")))
        .and(query_param("head", format!("octo-org:{BRANCH}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pulls))
        .mount(&server)
        .await;
    let pr =
        json!({"number": 5, "html_url": "https://github.example/octo-org/reading-list/pull/5"});
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/pulls")))
        .respond_with(ResponseTemplate::new(201).set_body_json(pr.clone()))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{REPO}/pulls/5")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pr))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/5/labels")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/pulls/5/requested_reviewers")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 5})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/5/assignees")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 5})))
        .mount(&server)
        .await;
    server
}

/// The body of the one request `m path`, failing when there is not exactly one.
fn only<'a>(reqs: &'a [(String, String, Value)], m: &str, p: &str) -> &'a Value {
    let found: Vec<_> = reqs
        .iter()
        .filter(|(mm, pp, _)| mm == m && pp == p)
        .collect();
    assert_eq!(found.len(), 1, "{m} {p}: {reqs:?}");
    &found[0].2
}

/// Someone edits a generated file on the branch in the origin (so a re-run has work to do).
fn edit_branch_in_origin(ctx: &TestContext) {
    let clone = ctx.dir.path().join("someone");
    let git = |args: &[&str], cwd: &std::path::Path| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
    };
    git(
        &[
            "clone",
            "-q",
            "-b",
            BRANCH,
            ctx.origin.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
        ctx.dir.path(),
    );
    std::fs::write(clone.join("apps/reading-list/SPEC.md"), "edited by hand\n").unwrap();
    git(
        &[
            "-c",
            "user.name=someone",
            "-c",
            "user.email=someone@example.invalid",
            "commit",
            "-qam",
            "hand edit",
        ],
        &clone,
    );
    git(&["push", "-q", "origin", BRANCH], &clone);
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_comment_and_pull_request_are_created_then_updated_never_duplicated() {
    let server = api(false, false).await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    ctx.env.insert("INPUT_DRAFT".into(), "true".into());
    ctx.env
        .insert("INPUT_REVIEWERS".into(), "@octocat, hubot".into());
    ctx.env.insert("INPUT_TEAM-REVIEWERS".into(), "core".into());
    ctx.env.insert("INPUT_ASSIGNEES".into(), "octocat".into());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let outputs = ctx.outputs();
    assert!(
        outputs.contains_key("pull-request-number"),
        "{outputs:?}\n{}",
        text(&out)
    );
    let branches = ctx.origin_branches();
    for (name, want) in [
        ("pull-request-number", "5"),
        ("pull-request-operation", "created"),
        (
            "pull-request-url",
            "https://github.example/octo-org/reading-list/pull/5",
        ),
        ("pull-request-branch", BRANCH),
        ("pull-request-head-sha", branches[BRANCH].as_str()),
        // The deprecated names still carry the same values.
        ("pr-number", "5"),
        ("pr-operation", "created"),
        (
            "pr-url",
            "https://github.example/octo-org/reading-list/pull/5",
        ),
        ("sha", branches[BRANCH].as_str()),
    ] {
        assert_eq!(outputs[name], want, "{name}: {outputs:?}");
    }

    let reqs = requests(&server).await;
    let count = |m: &str, p: &str| reqs.iter().filter(|(mm, pp, _)| mm == m && pp == p).count();
    assert_eq!(
        count("POST", &format!("{REPO}/issues/42/comments")),
        1,
        "one progress comment"
    );
    assert!(
        count("PATCH", &format!("{REPO}/issues/comments/7")) >= 8,
        "edited after every stage"
    );
    let (_, _, pr) = reqs
        .iter()
        .find(|(m, p, _)| m == "POST" && p == &format!("{REPO}/pulls"))
        .unwrap();
    assert_eq!(pr["head"], BRANCH);
    assert_eq!(pr["base"], "main");
    assert_eq!(pr["draft"], true);
    assert_eq!(
        only(
            &reqs,
            "POST",
            &format!("{REPO}/pulls/5/requested_reviewers")
        ),
        &json!({"reviewers": ["octocat", "hubot"], "team_reviewers": ["core"]})
    );
    assert_eq!(
        only(&reqs, "POST", &format!("{REPO}/issues/5/assignees")),
        &json!({"assignees": ["octocat"]})
    );
    let body = pr["body"].as_str().unwrap();
    for needle in [
        "Closes #42",
        "```mermaid",
        "erDiagram",
        "**passed**",
        "No LLM was used",
        ".github/workflows/reading-list-deploy.yml",
    ] {
        assert!(body.contains(needle), "PR body lacks {needle}:\n{body}");
    }
    let (_, _, labels) = reqs
        .iter()
        .find(|(m, p, _)| m == "POST" && p == &format!("{REPO}/issues/5/labels"))
        .unwrap();
    assert_eq!(labels["labels"], json!(["e2e", "generated"]));
    let last_edit = reqs
        .iter()
        .rev()
        .find(|(m, p, _)| m == "PATCH" && p == &format!("{REPO}/issues/comments/7"))
        .unwrap();
    let comment = last_edit.2["body"].as_str().unwrap();
    assert!(
        comment.starts_with("<!-- e2e-action:progress -->"),
        "{comment}"
    );
    assert!(
        comment.contains("https://github.example/octo-org/reading-list/pull/5"),
        "{comment}"
    );
    assert!(
        comment.contains(&format!(
            "(https://github.example/octo-org/reading-list/tree/{BRANCH})"
        )),
        "{comment}"
    );
    for (_, _, b) in &reqs {
        assert!(
            !b.to_string().contains("ghs_ApiCanaryToken"),
            "token in a request body"
        );
    }

    // A re-run finds both again by marker and by head branch: no new comment, no new PR.
    // Nothing changed, so nothing is pushed and the operation is `none` (the description is
    // still refreshed, and reviewers and assignees asked again, as create-pull-request does).
    let server2 = api(true, true).await;
    with_api(&mut ctx, &server2.uri());
    std::fs::remove_file(&ctx.output).unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ctx.outputs()["pull-request-operation"], "none");
    assert_eq!(ctx.outputs()["pull-request-number"], "5");
    let reqs = requests(&server2).await;
    assert!(
        !reqs
            .iter()
            .any(|(m, p, _)| m == "POST" && (p.ends_with("/comments") || p.ends_with("/pulls"))),
        "{reqs:?}"
    );
    assert!(
        reqs.iter()
            .any(|(m, p, _)| m == "PATCH" && p == &format!("{REPO}/pulls/5"))
    );
    only(
        &reqs,
        "POST",
        &format!("{REPO}/pulls/5/requested_reviewers"),
    );

    // Someone edits a generated file on the branch: the re-run restores it with a new commit
    // on the open PR's branch, which is `updated`.
    edit_branch_in_origin(&ctx);
    let server3 = api(true, true).await;
    with_api(&mut ctx, &server3.uri());
    std::fs::remove_file(&ctx.output).unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let outputs = ctx.outputs();
    assert_eq!(
        outputs["pull-request-operation"],
        "updated",
        "{}",
        text(&out)
    );
    assert_eq!(
        outputs["pull-request-head-sha"],
        ctx.origin_branches()[BRANCH]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reviewer_github_refuses_is_a_warning_and_the_pull_request_stands() {
    let server = api(false, false).await;
    // Priority 1 wins over `api`'s mock for the same route (default priority 5).
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/pulls/5/requested_reviewers")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the octo-org/reading-list repository.",
            "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request"
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    ctx.env.insert("INPUT_REVIEWERS".into(), "stranger".into());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("::warning::pull request #5: GitHub API: requesting reviewers: Reviews may only be requested from collaborators"),
        "{}",
        text(&out)
    );
    assert_eq!(ctx.outputs()["pull-request-operation"], "created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_error_is_reported_on_the_issue_with_how_to_retry() {
    let server = api(false, false).await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let out = ctx.run_action("issues", Some(&fixture("events/issue-bad-type.json")));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let reqs = requests(&server).await;
    let last = reqs
        .iter()
        .rev()
        .find(|(m, _, _)| m == "PATCH")
        .expect("the comment was edited");
    let body = last.2["body"].as_str().unwrap();
    assert!(
        body.contains("unknown type") && body.contains("integer"),
        "{body}"
    );
    assert!(body.contains("/e2e retry"), "{body}");
    assert!(
        !reqs.iter().any(|(_, p, _)| p.ends_with("/pulls")),
        "no PR for a failed run"
    );
}

fn comment_event(dir: &std::path::Path, body: &str, login: &str) -> std::path::PathBuf {
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("events/issue-comment.json")).unwrap(),
    )
    .unwrap();
    v["comment"]["body"] = json!(body);
    v["sender"]["login"] = json!(login);
    v["comment"]["user"]["login"] = json!(login);
    let p = dir.join("comment.json");
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn a_comment_command_from_a_reader_is_refused_with_a_reply() {
    let server = api(false, false).await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/stranger/permission")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"permission": "read", "user": {"login": "stranger"}})),
        )
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let event = comment_event(ctx.dir.path(), "/e2e build", "stranger");
    let out = ctx.run_action("issue_comment", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("::notice::e2e-action: not building: `stranger` has read access to this repository; `/e2e` commands need write access"),
        "{}",
        text(&out)
    );
    let reqs = requests(&server).await;
    let reply = reqs
        .iter()
        .find(|(m, p, _)| m == "POST" && p.ends_with("/issues/42/comments"))
        .expect("a reply");
    assert!(
        reply.2["body"]
            .as_str()
            .unwrap()
            .contains("@stranger e2e-action did not run")
    );
    assert_eq!(ctx.origin_branches().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_comment_command_from_a_writer_builds_and_other_comments_are_skipped() {
    let server = api(false, false).await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/octocat/permission")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"permission": "write", "user": {"login": "octocat"}})),
        )
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let chat = comment_event(ctx.dir.path(), "Looks great!", "octocat");
    let out = ctx.run_action("issue_comment", Some(&chat));
    assert!(
        out.status.success() && text(&out).contains("not an `/e2e` command"),
        "{}",
        text(&out)
    );
    let event = comment_event(ctx.dir.path(), "/e2e retry\nplease", "octocat");
    let out = ctx.run_action("issue_comment", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ctx.outputs()["pr-operation"], "created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispatch_fetches_the_issue_through_the_api() {
    let server = api(false, false).await;
    let sample: Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/octocat/permission")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"permission": "admin"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/issues/42")))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample["issue"].clone()))
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let event = ctx.dir.path().join("dispatch.json");
    std::fs::write(
        &event,
        json!({"inputs": {"issue-number": "42"}, "ref": "refs/heads/main", "repository": sample["repository"], "sender": sample["sender"], "workflow": ".github/workflows/e2e.yml"}).to_string(),
    )
    .unwrap();
    let out = ctx.run_action("workflow_dispatch", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ctx.outputs()["branch"], BRANCH);
}

/// Answers `first` once, then `then`.
struct Once(
    ResponseTemplate,
    ResponseTemplate,
    std::sync::atomic::AtomicBool,
);

impl wiremock::Respond for Once {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        if self.2.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.1.clone()
        } else {
            self.0.clone()
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_and_secondary_rate_limits_are_retried() {
    let server = MockServer::start().await;
    let ok_comment = ResponseTemplate::new(201).set_body_json(json!({"id": 7, "body": "x"}));
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(Once(
            ResponseTemplate::new(502).set_body_string("bad gateway"),
            ResponseTemplate::new(200).set_body_json(json!([])),
            Default::default(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(Once(
            ResponseTemplate::new(500).set_body_json(json!({"message": "Server Error"})),
            ok_comment,
            Default::default(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{REPO}/issues/comments/7")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 7, "body": "x"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/pulls")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/octocat/permission")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"permission": "write"})))
        .mount(&server)
        .await;
    let secondary = ResponseTemplate::new(403)
        .insert_header("retry-after", "1")
        .set_body_json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}));
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/pulls")))
        .respond_with(Once(
            secondary,
            ResponseTemplate::new(201).set_body_json(
                json!({"number": 9, "html_url": "https://github.example/o/r/pull/9"}),
            ),
            Default::default(),
        ))
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    ctx.env.insert("INPUT_LABELS".into(), String::new());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("::warning::"), "{}", text(&out));
    assert_eq!(ctx.outputs()["pr-number"], "9");
    let reqs = requests(&server).await;
    assert_eq!(
        reqs.iter()
            .filter(|(m, p, _)| m == "POST" && p.ends_with("/pulls"))
            .count(),
        2
    );
    assert_eq!(
        reqs.iter()
            .filter(|(m, p, _)| m == "POST" && p.ends_with("/42/comments"))
            .count(),
        2
    );
}

/// The sample issue event, as written by `login` with `association`, with `action`.
fn issue_event(
    dir: &std::path::Path,
    login: &str,
    association: &str,
    action: &str,
) -> std::path::PathBuf {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    v["action"] = json!(action);
    v["issue"]["user"]["login"] = json!(login);
    v["issue"]["author_association"] = json!(association);
    v["sender"]["login"] = json!(login);
    let p = dir.join(format!("issue-{login}-{action}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

/// Comments on the issue: the refusal reply posted once, remembered for later runs.
async fn refusal_api(login: &str, permission: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/{login}/permission")))
        .respond_with(permission)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(Once(
            ResponseTemplate::new(200).set_body_json(json!([])),
            ResponseTemplate::new(200).set_body_json(
                json!([{"id": 9, "body": "<!-- e2e-action:refused -->\n@x e2e-action did not run"}]),
            ),
            Default::default(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 9, "body": "x"})))
        .mount(&server)
        .await;
    server
}

/// Runs `opened` then `edited` for an issue by `login`; both are refused with exit 0, one
/// reply on the issue, nothing pushed. Returns the reply's text and the first run's log.
async fn refused_twice(
    login: &str,
    association: &str,
    permission: ResponseTemplate,
) -> (String, String) {
    let server = refusal_api(login, permission).await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let first = ctx.run_action(
        "issues",
        Some(&issue_event(ctx.dir.path(), login, association, "opened")),
    );
    assert!(first.status.success(), "{}", text(&first));
    let second = ctx.run_action(
        "issues",
        Some(&issue_event(ctx.dir.path(), login, association, "edited")),
    );
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("not building"), "{}", text(&second));
    assert_eq!(ctx.origin_branches().len(), 1, "nothing pushed");
    let reqs = requests(&server).await;
    let replies: Vec<_> = reqs
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == &format!("{REPO}/issues/42/comments"))
        .collect();
    assert_eq!(
        replies.len(),
        1,
        "one reply for two refused events: {reqs:?}"
    );
    assert!(
        !reqs.iter().any(|(_, p, _)| p.contains("/pulls")),
        "no pull request: {reqs:?}"
    );
    (
        replies[0].2["body"].as_str().unwrap().to_string(),
        text(&first),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issue_from_a_read_only_collaborator_is_refused_with_one_reply() {
    // `COLLABORATOR` passes the association filter; the API says the account can only read.
    let (reply, log) = refused_twice(
        "reader",
        "COLLABORATOR",
        ResponseTemplate::new(200)
            .set_body_json(json!({"permission": "read", "role_name": "triage"})),
    )
    .await;
    assert!(
        log.contains(
            "::notice::e2e-action: not building: the issue author `reader` has read access"
        ),
        "{log}"
    );
    assert!(reply.starts_with("<!-- e2e-action:refused -->\n@reader e2e-action did not run: the issue author `reader` has read access"), "{reply}");
    assert!(reply.contains("`/e2e build`"), "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issue_from_an_org_member_without_access_is_refused() {
    // `MEMBER` is any member of the organisation; GitHub answers 404 for one who is not a
    // collaborator of this repository in any way.
    let (reply, log) = refused_twice(
        "member",
        "MEMBER",
        ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user"})),
    )
    .await;
    assert!(log.contains("`member` has none access"), "{log}");
    assert!(reply.contains("@member e2e-action did not run"), "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_on_the_permission_check_fails_the_run_rather_than_building() {
    let server = refusal_api(
        "octocat",
        ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})),
    )
    .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Bad credentials"), "{}", text(&out));
    assert_eq!(ctx.origin_branches().len(), 1, "nothing pushed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issue_closed_as_not_planned_closes_its_pull_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/maintainer/permission")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"permission": "write"})))
        .mount(&server)
        .await;
    let sha = "1".repeat(40);
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/pulls")))
        .and(query_param("state", "open"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"number": 3, "html_url": "https://github.example/octo-org/reading-list/pull/3",
             "head": {"ref": "feature", "sha": "2".repeat(40), "label": "octo-org:feature"}},
            // A fork's branch of the same name is not ours to close.
            {"number": 4, "html_url": "https://github.example/octo-org/reading-list/pull/4",
             "head": {"ref": BRANCH, "sha": "3".repeat(40), "label": "someone:e2e/issue-42-reading-list"}},
            {"number": 5, "html_url": "https://github.example/octo-org/reading-list/pull/5",
             "head": {"ref": BRANCH, "sha": sha, "label": format!("octo-org:{BRANCH}")}},
            // Issue 420's branch shares the digits, not the prefix.
            {"number": 6, "html_url": "https://github.example/octo-org/reading-list/pull/6",
             "head": {"ref": "e2e/issue-420-x", "sha": "4".repeat(40), "label": "octo-org:e2e/issue-420-x"}}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{REPO}/pulls/5")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"number": 5})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/5/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 11})))
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    v["action"] = json!("closed");
    v["issue"]["state"] = json!("closed");
    v["issue"]["state_reason"] = json!("not_planned");
    v["sender"]["login"] = json!("maintainer");
    let event = ctx.dir.path().join("closed.json");
    std::fs::write(&event, v.to_string()).unwrap();
    let out = ctx.run_action("issues", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    let outputs = ctx.outputs();
    assert_eq!(outputs["pull-request-operation"], "closed", "{outputs:?}");
    assert_eq!(outputs["pull-request-number"], "5");
    assert_eq!(outputs["pull-request-branch"], BRANCH);
    assert_eq!(outputs["pull-request-head-sha"], sha);
    let reqs = requests(&server).await;
    assert_eq!(
        only(&reqs, "PATCH", &format!("{REPO}/pulls/5")),
        &json!({"state": "closed"})
    );
    let note = only(&reqs, "POST", &format!("{REPO}/issues/5/comments"));
    assert!(
        note["body"]
            .as_str()
            .unwrap()
            .contains("#42 was closed as not planned"),
        "{note}"
    );
    assert!(
        !reqs
            .iter()
            .any(|(m, p, _)| m == "PATCH" && !p.ends_with("/pulls/5")),
        "only #5 is closed: {reqs:?}"
    );
    assert_eq!(ctx.origin_branches().len(), 1, "nothing built or pushed");
    let summary = std::fs::read_to_string(&ctx.summary).unwrap();
    assert!(summary.contains("closed as not planned"), "{summary}");

    // Closed as completed (say, by merging that pull request): nothing to do, no request.
    let server2 = MockServer::start().await;
    with_api(&mut ctx, &server2.uri());
    v["issue"]["state_reason"] = json!("completed");
    std::fs::write(&event, v.to_string()).unwrap();
    let out = ctx.run_action("issues", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("closed as completed"), "{}", text(&out));
    assert!(requests(&server2).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_needs_write_access_of_the_closer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/triager/permission")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"permission": "read", "role_name": "triage"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/42/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 9})))
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    v["action"] = json!("closed");
    v["issue"]["state_reason"] = json!("not_planned");
    v["sender"]["login"] = json!("triager");
    let event = ctx.dir.path().join("closed.json");
    std::fs::write(&event, v.to_string()).unwrap();
    let out = ctx.run_action("issues", Some(&event));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("`triager` has read access to this repository; closing the issue's pull request needs write access"),
        "{}",
        text(&out)
    );
    let reqs = requests(&server).await;
    assert!(
        !reqs.iter().any(|(_, p, _)| p.contains("/pulls")),
        "{reqs:?}"
    );
}

/// The git data API of a repository whose parent tree holds a file the new app dropped.
async fn git_data_api(server: &MockServer) {
    use wiremock::matchers::path_regex;
    Mock::given(method("GET"))
        .and(path_regex(format!("^{REPO}/git/commits/[0-9a-f]{{40}}$")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sha": "p", "tree": {"sha": "a".repeat(40)}})),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/git/trees/{}", "a".repeat(40))))
        .and(query_param("recursive", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": "a".repeat(40),
            "tree": [
                {"path": "README.md", "type": "blob", "mode": "100644", "sha": "b".repeat(40)},
                {"path": "apps", "type": "tree", "mode": "040000", "sha": "c".repeat(40)},
                {"path": "apps/reading-list/stale.py", "type": "blob", "mode": "100644", "sha": "d".repeat(40)}
            ],
            "truncated": false
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/git/trees")))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"sha": "e".repeat(40), "tree": []})),
        )
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/git/commits")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sha": "f".repeat(40),
            "verification": {"verified": true, "reason": "valid"}
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/git/refs")))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"ref": format!("refs/heads/{BRANCH}"), "object": {"sha": "f".repeat(40)}}),
        ))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_commits_makes_the_commit_through_the_git_data_api() {
    let server = api(false, false).await;
    git_data_api(&server).await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    ctx.env.insert("INPUT_SIGN-COMMITS".into(), "true".into());
    let main = ctx.origin_branches()["main"].clone();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let reqs = requests(&server).await;
    let tree = only(&reqs, "POST", &format!("{REPO}/git/trees"));
    assert_eq!(tree["base_tree"], "a".repeat(40));
    let entries = tree["tree"].as_array().unwrap();
    assert!(entries.len() > 20, "{}", entries.len());
    for e in entries {
        let p = e["path"].as_str().unwrap();
        assert!(p.starts_with("apps/reading-list/"), "{p}");
        assert_eq!(
            (e["mode"].as_str(), e["type"].as_str()),
            (Some("100644"), Some("blob"))
        );
    }
    // A deletion is `"sha": null`; a written file has no `sha` key at all.
    let stale: Vec<_> = entries
        .iter()
        .filter(|e| e.get("sha").is_some_and(Value::is_null))
        .collect();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0]["path"], "apps/reading-list/stale.py");
    let spec = entries
        .iter()
        .find(|e| e["path"] == "apps/reading-list/spec.yaml")
        .unwrap();
    assert!(spec["content"].as_str().unwrap().contains("Reading List"));
    let commit = only(&reqs, "POST", &format!("{REPO}/git/commits"));
    assert_eq!(commit["tree"], "e".repeat(40));
    assert_eq!(commit["parents"], json!([main]));
    assert!(
        commit["message"]
            .as_str()
            .unwrap()
            .starts_with("e2e-action: generate apps/reading-list for issue #42"),
        "{commit}"
    );
    // No author or committer: GitHub authors the commit as the token's account and signs it.
    assert!(commit.get("author").is_none() && commit.get("committer").is_none());
    assert_eq!(
        only(&reqs, "POST", &format!("{REPO}/git/refs")),
        &json!({"ref": format!("refs/heads/{BRANCH}"), "sha": "f".repeat(40)})
    );
    let outputs = ctx.outputs();
    assert_eq!(outputs["pull-request-head-sha"], "f".repeat(40));
    assert_eq!(outputs["pull-request-operation"], "created");
    // Nothing went through git: the origin has no new branch.
    assert_eq!(ctx.origin_branches().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_commit_that_is_not_a_fast_forward_is_a_refused_push() {
    // The branch exists (an earlier unsigned run pushed it) and was edited by hand since.
    let server = api(false, false).await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    edit_branch_in_origin(&ctx);

    let server = api(true, true).await;
    git_data_api(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!("{REPO}/git/refs/heads/{BRANCH}")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Update is not a fast forward",
            "documentation_url": "https://docs.github.com/rest/git/refs#update-a-reference"
        })))
        .mount(&server)
        .await;
    with_api(&mut ctx, &server.uri());
    ctx.env.insert("INPUT_SIGN-COMMITS".into(), "true".into());
    std::fs::remove_file(&ctx.output).unwrap();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("push rejected: GitHub refused to move e2e/issue-42-reading-list: Update is not a fast forward"),
        "{}",
        text(&out)
    );
    let reqs = requests(&server).await;
    assert_eq!(
        only(&reqs, "PATCH", &format!("{REPO}/git/refs/heads/{BRANCH}")),
        &json!({"sha": "f".repeat(40), "force": false})
    );
    assert!(
        !reqs
            .iter()
            .any(|(m, p, _)| m == "PATCH" && p.ends_with("/pulls/5")),
        "no PR update after a refused push"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_primary_rate_limit_that_resets_too_late_fails_at_once_saying_when() {
    let server = MockServer::start().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/octocat/permission")))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(
                    json!({"message": "API rate limit exceeded for installation ID 1."}),
                ),
        )
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let started = std::time::Instant::now();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "waited for the reset"
    );
    assert!(
        text(&out)
            .contains("API rate limit exceeded for installation ID 1.; the server asks to wait 3"),
        "{}",
        text(&out)
    );
    assert_eq!(requests(&server).await.len(), 1, "not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_date_is_waited_for_then_the_request_is_repeated() {
    let server = api(false, false).await;
    // Mounted with priority over `api`'s permission mock: a 429 with an HTTP-date Retry-After
    // (now + 1 s, rounded down by the date's second precision), then the answer.
    let when =
        httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(2));
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/collaborators/octocat/permission")))
        .respond_with(Once(
            ResponseTemplate::new(429)
                .insert_header("retry-after", when.as_str())
                .set_body_json(json!({"message": "Too many requests"})),
            ResponseTemplate::new(200).set_body_json(json!({"permission": "admin"})),
            Default::default(),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    let mut ctx = TestContext::new();
    with_api(&mut ctx, &server.uri());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let reqs = server.received_requests().await.unwrap();
    let times: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path().ends_with("/permission"))
        .collect();
    assert_eq!(times.len(), 2);
    assert_eq!(ctx.outputs()["pull-request-operation"], "created");
}
