//! Both HTTP sides through a real forward proxy (PyPI `proxy.py`): GitHub's API (octocrab on
//! the shared reqwest client) and the LLM's, with `HTTPS_PROXY`/`HTTP_PROXY` honoured and
//! `NO_PROXY` bypassing the proxy. The proxy's access log shows what went through it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestContext, sample_event, text};

/// `proxy --hostname 127.0.0.1 --port P`, stopped on drop.
struct ForwardProxy {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl ForwardProxy {
    fn start(dir: &Path) -> ForwardProxy {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("proxy.log");
        let child = Command::new("proxy")
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .args(["--log-level", "INFO", "--num-workers", "1"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("`proxy` (PyPI proxy.py, in tests/requirements.txt) on PATH");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "proxy.py did not listen: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        ForwardProxy { child, port, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log once it contains `line` (10 s at most).
    fn wait_for(&self, line: &str) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if log.contains(line) {
                return log;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{line} not in the proxy's log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn refusing_api() -> MockServer {
    // A read-only author: the run asks the permission, replies once and stops.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/repos/octo-org/reading-list/collaborators/octocat/permission",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"permission": "read"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octo-org/reading-list/issues/42/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/octo-org/reading-list/issues/42/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn github_requests_go_through_the_proxy_unless_no_proxy_says_otherwise() {
    let server = refusing_api().await;
    let mut ctx = TestContext::new();
    let proxy = ForwardProxy::start(ctx.dir.path());
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    ctx.env.insert("GITHUB_API_URL".into(), server.uri());
    ctx.env.insert(
        "INPUT_GITHUB-TOKEN".into(),
        "ghs_ProxyCanary000000000000".into(),
    );
    ctx.env.insert("HTTP_PROXY".into(), proxy_url.clone());
    ctx.env.insert("HTTPS_PROXY".into(), proxy_url);
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("has read access"), "{}", text(&out));
    let authority = server.uri().trim_start_matches("http://").to_string();
    // proxy.py writes one access line per client connection, naming its first request, when
    // the connection ends (from a worker process: wait for it). The run's first request is the
    // permission check.
    let first =
        format!("GET {authority}/repos/octo-org/reading-list/collaborators/octocat/permission");
    let log = proxy.wait_for(&first);
    assert!(
        !log.contains("ghs_ProxyCanary"),
        "the token is in the proxy's log"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    // NO_PROXY names the API's host: the proxy sees nothing more.
    std::thread::sleep(Duration::from_secs(2));
    let log = proxy.log();
    let before = log.matches(" - GET ").count() + log.matches(" - POST ").count();
    ctx.env
        .insert("NO_PROXY".into(), "127.0.0.1,localhost".into());
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        6,
        "the same three requests, straight to the API"
    );
    std::thread::sleep(Duration::from_secs(2));
    let log = proxy.log();
    assert_eq!(
        log.matches(" - GET ").count() + log.matches(" - POST ").count(),
        before,
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_that_cannot_be_reached_is_a_clear_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut ctx = TestContext::new();
    ctx.env
        .insert("GITHUB_API_URL".into(), "http://127.0.0.1:9/".into());
    ctx.env.insert(
        "INPUT_GITHUB-TOKEN".into(),
        "ghs_ProxyCanary000000000000".into(),
    );
    ctx.env
        .insert("HTTP_PROXY".into(), format!("http://127.0.0.1:{port}"));
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("GitHub API: reading the permission of `octocat`: no answer:"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_requests_go_through_the_proxy_too() {
    // An unknown model makes the run ask the server's model list before anything else; the
    // list offers neither it nor the default, so the run stops there (nothing is written).
    let llm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "list", "data": [{"id": "only-this-one"}]})),
        )
        .mount(&llm)
        .await;
    let mut ctx = TestContext::new();
    let proxy = ForwardProxy::start(ctx.dir.path());
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    ctx.env.insert("INPUT_LLM-PROVIDER".into(), "openai".into());
    ctx.env.insert("INPUT_LLM-BASE-URL".into(), llm.uri());
    ctx.env
        .insert("INPUT_LLM-MODEL".into(), "no-such-model-here".into());
    ctx.env
        .insert("INPUT_LLM-API-KEY".into(), "sk-proxy-canary-000000".into());
    ctx.env.insert("HTTP_PROXY".into(), proxy_url.clone());
    ctx.env.insert("HTTPS_PROXY".into(), proxy_url);
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("only-this-one"), "{}", text(&out));
    let authority = llm.uri().trim_start_matches("http://").to_string();
    proxy.wait_for(&format!("GET {authority}/models"));
    assert_eq!(llm.received_requests().await.unwrap().len(), 1);
}
