//! Every request a full run makes is one GitHub's official REST description accepts: the binary
//! against npm `@octokit/openapi` served by prism on 127.0.0.1 (validation on).

use crate::helpers::{Prism, TestContext, sample_event, text};

#[test]
fn a_full_run_makes_only_requests_the_rest_description_accepts() {
    let mut ctx = TestContext::new();
    let prism = Prism::start(ctx.dir.path());
    ctx.env.insert(
        "GITHUB_API_URL".into(),
        format!("http://127.0.0.1:{}", prism.port),
    );
    ctx.env.insert(
        "INPUT_GITHUB-TOKEN".into(),
        "ghs_PrismCanaryToken000000000000".into(),
    );
    ctx.env.insert("INPUT_LABELS".into(), "e2e".into());
    ctx.env.insert("INPUT_DRAFT".into(), "true".into());
    ctx.env.insert("INPUT_REVIEWERS".into(), "octocat".into());
    ctx.env
        .insert("INPUT_TEAM-REVIEWERS".into(), "justice-league".into());
    ctx.env.insert("INPUT_ASSIGNEES".into(), "octocat".into());
    for round in ["first run", "re-run"] {
        let out = ctx.run_action("issues", Some(&sample_event()));
        assert!(out.status.success(), "{round}: {}", text(&out));
        assert!(
            !text(&out).contains("::warning::"),
            "{round}: {}",
            text(&out)
        );
        let outputs = ctx.outputs();
        assert!(
            !outputs["pull-request-number"].is_empty(),
            "{round}: {outputs:?}"
        );
        assert_eq!(outputs["pr-number"], outputs["pull-request-number"]);
    }
    // An issue closed as not planned: the open pull requests are listed (prism's example has no
    // e2e branch, so nothing is closed), and the close request itself is made through the
    // library, so both requests meet the description.
    let mut closed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample_event()).unwrap()).unwrap();
    closed["action"] = "closed".into();
    closed["issue"]["state_reason"] = "not_planned".into();
    let event = ctx.dir.path().join("closed.json");
    std::fs::write(&event, closed.to_string()).unwrap();
    let out = ctx.run_action("issues", Some(&event));
    assert!(out.status.success(), "closed: {}", text(&out));
    assert_eq!(ctx.outputs()["pull-request-operation"], "none");
    e2e_action::llm::ensure_crypto_provider();
    let api = format!("http://127.0.0.1:{}", prism.port);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let gh = e2e_action::github::GitHub::new(
            &api,
            &secrecy::SecretString::from("ghs_PrismCanaryToken000000000000"),
            "octo-org/reading-list",
        )
        .unwrap();
        gh.close_pull(1347).await.unwrap();
    });

    // sign-commits: the commit is made through the git data API (a new repository, so there is
    // a commit to make).
    let mut signed = TestContext::new();
    signed.env = ctx.env.clone();
    signed
        .env
        .insert("INPUT_SIGN-COMMITS".into(), "true".into());
    let out = signed.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "sign-commits: {}", text(&out));
    assert_eq!(signed.origin_branches().len(), 1, "nothing pushed with git");

    let log = std::fs::read_to_string(&prism.log).unwrap();
    let received = log.matches("Request received").count();
    assert!(
        received >= 20,
        "only {received} requests reached prism:\n{log}"
    );
    // Prism also checks its own example responses against the schema and complains about a few;
    // those are GitHub's examples, not our requests.
    for line in log.lines() {
        let ours = line.contains("Violation: request")
            || line.contains("Request did not pass the validation");
        assert!(!ours, "{line}\n{log}");
    }
    for route in [
        "post /repos/octo-org/reading-list/issues/42/comments",
        "patch /repos/octo-org/reading-list/issues/comments/",
        "post /repos/octo-org/reading-list/pulls",
        "get /repos/octo-org/reading-list/pulls",
        "get /repos/octo-org/reading-list/collaborators/octocat/permission",
        "patch /repos/octo-org/reading-list/pulls/1347",
        "get /repos/octo-org/reading-list/git/commits/",
        "get /repos/octo-org/reading-list/git/trees/",
        "post /repos/octo-org/reading-list/git/trees",
        "post /repos/octo-org/reading-list/git/commits",
        "post /repos/octo-org/reading-list/git/refs",
        "/requested_reviewers",
        "/assignees",
        "/labels",
    ] {
        assert!(log.contains(route), "no {route} in the log");
    }
}
