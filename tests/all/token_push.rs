//! Pushing over HTTP with the token given only through the credentials callback, against a
//! real git smart-HTTP server that demands Basic auth.

use crate::helpers::{GitServer, TestContext, fingerprint, sample_event, text};

const TOKEN: &str = "ghs_PushCanaryToken000111222333444";

fn over_http(ctx: &mut TestContext, token: &str) -> GitServer {
    let server = GitServer::start(ctx.dir.path(), TOKEN);
    let repo = git2::Repository::open(&ctx.workspace).unwrap();
    repo.remote_set_url("origin", &server.url("origin.git"))
        .unwrap();
    ctx.env.insert("INPUT_GITHUB-TOKEN".into(), token.into());
    // No API calls in this test: it is about git.
    ctx.env.insert("GITHUB_REPOSITORY".into(), String::new());
    server
}

fn assert_no_token_anywhere(
    ctx: &TestContext,
    server: &GitServer,
    out: &std::process::Output,
    token: &str,
) {
    let mut places = vec![
        (
            "log".to_string(),
            text(out)
                .lines()
                .filter(|l| !l.starts_with("::add-mask::"))
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
        ),
        (
            "server log".to_string(),
            std::fs::read(&server.log).unwrap_or_default(),
        ),
    ];
    places.extend(fingerprint(&ctx.workspace));
    places.extend(fingerprint(&ctx.origin));
    places.extend(fingerprint(&ctx.runner_temp));
    for (name, content) in places {
        assert!(
            !String::from_utf8_lossy(&content).contains(token),
            "token found in {name}"
        );
    }
}

#[test]
fn the_right_token_pushes_and_is_stored_nowhere() {
    let mut ctx = TestContext::new();
    let server = over_http(&mut ctx, TOKEN);
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    let outputs = ctx.outputs();
    assert_eq!(
        ctx.origin_branches().get(&outputs["branch"]),
        Some(&outputs["sha"])
    );
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        log.contains("POST /origin.git/git-receive-pack 200 auth=yes"),
        "{log}"
    );
    let config = std::fs::read_to_string(ctx.workspace.join(".git/config")).unwrap();
    assert!(!config.contains("x-access-token"), "{config}");
    assert_no_token_anywhere(&ctx, &server, &out, TOKEN);
}

#[test]
fn a_wrong_token_fails_with_a_clear_message() {
    let mut ctx = TestContext::new();
    let wrong = "ghs_WrongCanaryToken999888777666555";
    let server = over_http(&mut ctx, wrong);
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let errors: Vec<String> = text(&out)
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::error::"))
        .map(String::from)
        .collect();
    assert_eq!(errors.len(), 1, "{}", text(&out));
    assert!(
        errors[0].contains("the remote refused the token"),
        "{}",
        errors[0]
    );
    assert_eq!(ctx.origin_branches().len(), 1, "nothing pushed");
    assert_no_token_anywhere(&ctx, &server, &out, wrong);
}
