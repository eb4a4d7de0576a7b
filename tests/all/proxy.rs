//! Both HTTP sides through a real forward proxy (PyPI `proxy.py`): GitHub's API (octocrab on
//! the shared reqwest client) and the LLM's, with `HTTPS_PROXY`/`HTTP_PROXY` honoured and
//! `NO_PROXY` bypassing the proxy. The proxy's access log shows what went through it.
//! Also: a CA bundle named by `SSL_CERT_FILE` is trusted (a TLS server with a test CA).

use std::os::unix::process::CommandExt;
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
        // Its own process group: proxy.py forks its acceptor and worker, which outlive a kill
        // of the parent alone (drop kills the group).
        let child = Command::new("proxy")
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .args(["--log-level", "INFO", "--num-workers", "1"])
            .process_group(0)
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
        // SAFETY: kill(2) on the process group this test made (its leader's pid).
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
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

/// A CA and a certificate for 127.0.0.1 signed by it (openssl), in `dir`.
fn make_ca(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=e2e test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
}

/// A TLS server with the refusing API's three answers (Python's http.server behind ssl).
struct TlsApi {
    child: Child,
    port: u16,
}

impl TlsApi {
    fn start(dir: &Path) -> TlsApi {
        let script = r#"
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path.endswith("/permission"):
            self.answer(200, {"permission": "read"})
        else:
            self.answer(200, [])
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.answer(201, {"id": 1})
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("leaf.pem", "leaf.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line.trim().parse().expect("the TLS server's port");
        TlsApi { child, port }
    }
}

impl Drop for TlsApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_ca_bundle_named_by_ssl_cert_file_is_trusted_and_the_system_store_otherwise() {
    let mut ctx = TestContext::new();
    let certs = ctx.dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    make_ca(&certs);
    let api = TlsApi::start(&certs);
    ctx.env.insert(
        "GITHUB_API_URL".into(),
        format!("https://127.0.0.1:{}", api.port),
    );
    ctx.env.insert(
        "INPUT_GITHUB-TOKEN".into(),
        "ghs_CaCanary00000000000000".into(),
    );
    // The system store does not know the test CA: the certificate is refused.
    ctx.env.insert(
        "SSL_CERT_FILE".into(),
        "/etc/ssl/certs/ca-certificates.crt".into(),
    );
    let started = Instant::now();
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("reading the permission of `octocat`: no answer:")
            && text(&out).contains("invalid peer certificate")
            && text(&out).contains("set SSL_CERT_FILE"),
        "{}",
        text(&out)
    );
    // Not retried: another attempt would meet the same certificate.
    assert!(started.elapsed() < Duration::from_secs(10));
    // Named by SSL_CERT_FILE, it is trusted.
    ctx.env.insert(
        "SSL_CERT_FILE".into(),
        certs.join("ca.pem").display().to_string(),
    );
    let out = ctx.run_action("issues", Some(&sample_event()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("has read access"), "{}", text(&out));
}
