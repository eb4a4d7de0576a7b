"""The generated app's production stack (deploy/, monitoring/, Dockerfile), checked with real tools.

- For every fixture app: compose.yaml against the Compose specification, the rendered Alertmanager
  configuration (amtool), the rules, their unit tests and the Prometheus configuration (promtool),
  the Dockerfile (hadolint), the Caddyfile (`caddy validate`), the deploy script (shellcheck), the
  deploy workflow (actionlint, and zizmor when installed), and one Python version for image,
  workflow and these tests.
- The production install set holds no test tool; production over plain http refuses to start.
- deploy/remote-deploy.sh rolls back to the previous tag, against a stand-in `docker` (no Docker
  engine here).
- The stack as processes (no Docker here): the app from the production install set on PostgreSQL,
  started by the image's own command (migrations, then uvicorn) behind Caddy (Debian's, the
  shipped Caddyfile with test-only global options: local ports and a local CA), Prometheus
  (Debian's) scraping it with the shipped rules, Alertmanager (Debian's) with the shipped
  configuration rendered by deploy/render-alertmanager.py, a real SMTP server (aiosmtpd, Maildir)
  and a local webhook standing in for Slack. A burst of real 500s on the app fires HighErrorRate.
  Test copies change only timings: scrape/evaluation every second, the rule's `for:` 1s (instead
  of 5m), Alertmanager's group_wait/group_interval 1s. Every process started here is stopped here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import http.server
import json
import mailbox
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

import conftest
from conftest import EVENTS, REPO, Postgres, free_port, require_tool, run

FIXTURES = [*EVENTS, *getattr(conftest, "SPECS", {})]
EXAMPLE_RECEIVERS = {
    "ALERT_EMAIL_TO": "ops@example.com",
    "SMTP_SMARTHOST": "smtp.example.com:587",
    "SMTP_FROM": "Alerts <alerts@example.com>",
}


def _tool_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    return env


def render_alertmanager(app: Path, out: Path, **env: str) -> Path:
    run([sys.executable, str(app / "deploy/render-alertmanager.py"), str(app / "monitoring/alertmanager.yml"), str(out)],
        env={"PATH": os.environ.get("PATH", ""), **EXAMPLE_RECEIVERS, **env})
    return out


def python_versions(app: Path) -> dict[str, str]:
    """The Python (major.minor) each place names: the image's stages and the workflow's test job."""
    found = {f"Dockerfile stage {i}": m for i, m in
             enumerate(re.findall(r"^FROM python:(\d+\.\d+)", (app / "Dockerfile").read_text(), re.M))}
    workflow = yaml.safe_load((app / "deploy/deploy.yml").read_text())
    for step in workflow["jobs"]["test"]["steps"]:
        if "setup-python" in step.get("uses", ""):
            found["deploy.yml setup-python"] = str(step["with"]["python-version"])
    return found


# --- every fixture app: static checks with the real tools ----------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_stack_files_pass_their_own_tools(name: str, generated_app: Callable[[str], Path], tmp_path: Path) -> None:
    app = generated_app(name)
    run([require_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "deploy/compose.yaml"], cwd=app)
    run([require_tool("hadolint"), "Dockerfile"], cwd=app)
    run([require_tool("shellcheck"), "--shell=sh", "deploy/remote-deploy.sh"], cwd=app)
    run([require_tool("actionlint"), "deploy/deploy.yml"], cwd=app)  # with shellcheck on PATH: run: blocks too
    if shutil.which("zizmor"):  # added to the suite's tools by another change; run when present
        proc = run([require_tool("zizmor"), "--offline", "--no-progress", "deploy/deploy.yml"], cwd=app)
        assert "No findings to report" in proc.stdout + proc.stderr, proc.stdout + proc.stderr

    promtool = require_tool("promtool")
    assert "SUCCESS" in run([promtool, "check", "rules", "monitoring/alerts.yml"], cwd=app).stdout
    proc = run([promtool, "test", "rules", "monitoring/alerts.test.yml"], cwd=app)
    assert "SUCCESS" in proc.stdout + proc.stderr
    assert "1 rule files found" in run([promtool, "check", "config", "monitoring/prometheus.yml"], cwd=app).stdout
    rules = yaml.safe_load((app / "monitoring/alerts.yml").read_text())["groups"][0]["rules"]
    tests = (app / "monitoring/alerts.test.yml").read_text()
    for rule in rules:  # each alert has a firing and a quiet case
        assert tests.count(f"alertname: {rule['alert']}") >= 3, f"{rule['alert']} lacks unit tests"

    config = render_alertmanager(app, tmp_path / "alertmanager.yml")
    amtool = require_tool("amtool")
    assert "SUCCESS" in run([amtool, "check-config", str(config)]).stdout
    routes = {labels: run([amtool, "config", "routes", "test", f"--config.file={config}", *labels.split()]
                          ).stdout.split()[-1] for labels in ("severity=critical", "severity=warning")}
    assert routes == {"severity=critical": "email-and-slack", "severity=warning": "slack"}
    am = yaml.safe_load(config.read_text())
    assert am["inhibit_rules"] == [{"source_matchers": ['severity="critical"'],
                                    "target_matchers": ['severity="warning"'], "equal": ["app"]}]
    receivers = {r["name"]: r for r in am["receivers"]}
    assert receivers["email-and-slack"]["email_configs"][0]["send_resolved"] is True
    assert all(c["send_resolved"] for r in receivers.values() for c in r.get("slack_configs", []))
    assert am["route"]["group_by"] and am["global"]["slack_api_url_file"].startswith("/run/secrets/")

    caddy = require_tool("caddy")
    home = tmp_path / "caddy-home"
    proc = run([caddy, "validate", "--adapter", "caddyfile", "--config", str(app / "deploy/Caddyfile")],
               env={**_tool_env(home), "DOMAIN": "app.example.com", "ACME_EMAIL": "ops@example.com"}, timeout=60)
    assert "Valid configuration" in proc.stdout + proc.stderr

    # One Python: the image's stages, the workflow's tests and this suite's run of the app's tests
    # (the shared venv is built from the interpreter running pytest).
    versions = python_versions(app)
    suite = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert len(versions) == 3 and set(versions.values()) == {suite}, (versions, suite)


@pytest.mark.parametrize("name", ["sample"])
def test_compose_wires_the_stack_together(name: str, generated_app: Callable[[str], Path]) -> None:
    app = generated_app(name)
    compose = yaml.safe_load((app / "deploy/compose.yaml").read_text())
    services = compose["services"]
    assert {"app", "db", "caddy", "prometheus", "alertmanager", "grafana"} <= set(services)
    web = services["app"]
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthz" in " ".join(web["healthcheck"]["test"]) and "healthcheck" in services["db"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    # the memory limit exists, and the rule divides by the limit the app reports, not a constant
    assert web["deploy"]["resources"]["limits"]["memory"]
    memory_rule = next(r for r in yaml.safe_load((app / "monitoring/alerts.yml").read_text())["groups"][0]["rules"]
                       if r["alert"] == "HighMemoryUsage")
    assert "process_memory_limit_bytes" in memory_rule["expr"] and not re.search(r"\d{6,}", memory_rule["expr"])
    # the app trusts X-Forwarded-Proto from Caddy's fixed address only
    assert web["environment"]["FORWARDED_ALLOW_IPS"] == services["caddy"]["networks"]["edge"]["ipv4_address"]
    # every file a service mounts is one the app ships (or the deploy workflow writes)
    written = {"./alertmanager.yml"}
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert source in written or (app / "deploy" / source).resolve().is_file(), source
    datasource = yaml.safe_load((app / "monitoring/grafana/datasources.yml").read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090" and datasource["isDefault"]
    provider = yaml.safe_load((app / "monitoring/grafana/dashboards.yml").read_text())["providers"][0]
    assert any(v.split(":")[1].startswith(provider["options"]["path"] + "/")
               for v in services["grafana"]["volumes"] if "grafana-dashboard.json" in v)
    prometheus = yaml.safe_load((app / "monitoring/prometheus.yml").read_text())
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    # the image installs the production set only
    dockerfile = (app / "Dockerfile").read_text()
    assert "-r /tmp/requirements-prod.txt" in dockerfile and "requirements.txt" not in dockerfile
    assert "--require-hashes" in dockerfile


# --- the production install set ------------------------------------------------------------------


def _names(requirements: Path) -> set[str]:
    return {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", requirements.read_text(), re.M)}


@pytest.fixture(scope="module")
def prod_venv(generated_app: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the sample app's requirements-prod.txt only, installed as the image does."""
    uv = require_tool("uv")
    root = tmp_path_factory.mktemp("prod-venv") / "venv"
    env = dict(os.environ, UV_CACHE_DIR=str(REPO / ".cache/uv"), UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")
    env.pop("VIRTUAL_ENV", None)
    run([uv, "venv", "--quiet", "--python", getattr(sys, "_base_executable", sys.executable), str(root)], env=env)
    run([uv, "pip", "install", "--quiet", "--require-hashes", "--no-deps", "--python", str(root / "bin/python"),
         "-r", str(generated_app("sample") / "requirements-prod.txt")], env=env, timeout=600)
    run([uv, "pip", "check", "--python", str(root / "bin/python")], env=env)
    return root


def test_production_install_set_has_no_test_tools(prod_venv: Path, generated_app: Callable[[str], Path]) -> None:
    app = generated_app("sample")
    test_only = _names(app / "requirements.txt")  # requirements.txt pins only what prod lacks
    assert {"pytest", "httpx", "pluggy", "iniconfig"} <= test_only
    assert not test_only & _names(app / "requirements-prod.txt")
    installed = {Path(p).name.split("-")[0].lower().replace("_", "-")
                 for p in map(str, (prod_venv / "lib").glob("python3.*/site-packages/*.dist-info"))}
    assert {"fastapi", "uvicorn", "alembic", "psycopg"} <= installed
    assert not installed & test_only, f"test tools in the production set: {installed & test_only}"
    proc = run([str(prod_venv / "bin/python"), "-c", "import pytest"], check=False)
    assert proc.returncode != 0


def _image_command(app: Path, host: str) -> str:
    """The shell command of the Dockerfile's CMD, listening on `host` instead of 0.0.0.0."""
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", (app / "Dockerfile").read_text(), re.M).group(1))
    assert cmd[:2] == ["sh", "-c"] and "alembic upgrade head" in cmd[2]
    return cmd[2].replace("--host 0.0.0.0", f"--host {host}")


def _prod_env(prod_venv: Path, home: Path, **extra: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": f"{prod_venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "APP_ENV": "production", "SECRET_KEY": "k" * 48, "PYTHONDONTWRITEBYTECODE": "1",
            # Production needs a mail server too; nothing listens there unless a test passes its own.
            "SMTP_URL": "smtp://127.0.0.1:9", **extra}


def test_production_over_plain_http_refuses_to_start(prod_venv: Path, generated_app: Callable[[str], Path],
                                                     tmp_path: Path) -> None:
    app = generated_app("sample")
    port = free_port()
    env = _prod_env(prod_venv, tmp_path, PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}")
    proc = subprocess.run(["sh", "-c", _image_command(app, "127.0.0.1")], cwd=app, env=env, capture_output=True,
                          text=True, timeout=60, start_new_session=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "APP_ENV=production needs https" in out and "set FORWARDED_ALLOW_IPS to that proxy's address" in out, out


# --- the deploy script's rollback (stand-in docker: there is no Docker engine here) ---------------

FAKE_DOCKER = """#!/bin/sh
# Stand-in for the docker CLI: logs each call; the app is healthy unless its tag starts with "bad".
echo "$*" >> "$FAKE_LOG"
case "$*" in
  "compose ps -q app") echo c0ffee ;;
  inspect*) tag=$(sed -n 's/^APP_TAG=//p' .env); case "$tag" in bad*) echo unhealthy ;; *) echo healthy ;; esac ;;
esac
exit 0
"""


def test_remote_deploy_rolls_back_to_the_previous_tag(generated_app: Callable[[str], Path], tmp_path: Path) -> None:
    app = generated_app("sample")
    host = tmp_path / "host"
    (host / "deploy").mkdir(parents=True)
    shutil.copy(app / "deploy/remote-deploy.sh", host / "deploy")
    (host / "deploy/.env").write_text("APP_IMAGE=ghcr.io/o/r/app\nSECRET_KEY=x\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").write_text(FAKE_DOCKER)
    (bindir / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "FAKE_LOG": str(log), "HEALTH_TIMEOUT": "1"}
    script = ["sh", str(host / "deploy/remote-deploy.sh")]

    def env_tag() -> str:
        return re.findall(r"^APP_TAG=(.*)$", (host / "deploy/.env").read_text(), re.M)[-1]

    run([*script, "sha-good1"], env=env)
    run([*script, "sha-good2"], env=env)
    assert env_tag() == "sha-good2" and "SECRET_KEY=x" in (host / "deploy/.env").read_text()
    failed = run([*script, "bad-sha3"], env=env, check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "rolled back to sha-good2" in failed.stderr
    assert env_tag() == "sha-good2"
    assert (host / "deploy/.deploy/history").read_text().split() == ["sha-good1", "sha-good2"]
    calls = log.read_text().splitlines()
    assert calls.count("compose pull") == 4 and calls.count("compose up -d --remove-orphans") == 4
    run([*script, "rollback"], env=env)
    assert env_tag() == "sha-good1"
    assert oct((host / "deploy/.env").stat().st_mode & 0o777) == "0o600"


# --- the stack as processes ----------------------------------------------------------------------


class Webhook(http.server.ThreadingHTTPServer):
    """A local stand-in for Slack's incoming webhook: keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler) -> None:  # noqa: N805
                length = int(handler.headers.get("Content-Length", "0"))
                self.bodies.append(json.loads(handler.rfile.read(length) or b"{}"))
                handler.send_response(200)
                handler.end_headers()
                handler.wfile.write(b"ok")

            def log_message(handler, *args) -> None:  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/XXXX"


@contextlib.contextmanager
def process(cmd: list[str], log: Path, **kwargs) -> Iterator[subprocess.Popen]:
    """Starts a process in its own session with output to `log`; always stops it (and its group)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=10)


def wait_for(what: str, check: Callable[[], object], timeout: float, logs: list[Path],
             procs: list[subprocess.Popen] = ()) -> object:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError, KeyError):
            result = check()
            if result:
                return result
        dead = [p.args for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.exists())
            pytest.fail(f"{what}: {'exited: ' + str(dead) if dead else f'not within {timeout} s'}\n{tails}")
        time.sleep(0.25)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (127.0.0.1 only)
        return json.loads(response.read())


def test_stack_fires_a_real_error_burst_to_email_and_slack(
        prod_venv: Path, postgres: Postgres, generated_app: Callable[[str], Path], tmp_path: Path) -> None:
    app = generated_app("sample")
    prometheus_bin, alertmanager_bin = require_tool("prometheus"), require_tool("prometheus-alertmanager")
    caddy = require_tool("caddy")
    with contextlib.suppress(ImportError):
        import aiosmtpd  # noqa: F401
    if "aiosmtpd" not in sys.modules:
        conftest.missing_tool("PyPI aiosmtpd is not installed in the test venv (tests/requirements.txt)")
    slug = yaml.safe_load((app / "monitoring/prometheus.yml").read_text())["scrape_configs"][0]["job_name"]
    logs: list[Path] = []

    def log(name: str) -> Path:
        logs.append(tmp_path / name)
        return logs[-1]

    postgres.psql("create database e2e_stack")
    postgres = dataclasses.replace(postgres, database="e2e_stack")
    database_url = postgres.url
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    smtp_port, am_port, prom_port = free_port(), free_port(), free_port()
    maildir = tmp_path / "maildir"
    webhook = Webhook()
    threading.Thread(target=webhook.serve_forever, daemon=True).start()

    # Alertmanager: the shipped config, rendered for a local SMTP server and webhook
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "slack_webhook_url").write_text(webhook.url + "\n")
    (secrets / "smtp_password").write_text("")
    am_config = yaml.safe_load(render_alertmanager(
        app, tmp_path / "alertmanager.rendered.yml", SMTP_SMARTHOST=f"127.0.0.1:{smtp_port}", SMTP_REQUIRE_TLS="false",
        SLACK_WEBHOOK_URL_FILE=str(secrets / "slack_webhook_url"), SMTP_PASSWORD_FILE=str(secrets / "smtp_password"),
    ).read_text())
    am_config["route"].update(group_wait="1s", group_interval="1s")  # timings only (shipped: 30s, 5m)
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(am_config))

    # Prometheus: the shipped config and rules, pointed at this machine's ports, faster timings
    prom_dir = tmp_path / "prometheus"
    prom_dir.mkdir()
    prom = yaml.safe_load((app / "monitoring/prometheus.yml").read_text())
    prom["global"].update(scrape_interval="1s", evaluation_interval="1s")
    prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{am_port}"]
    prom["scrape_configs"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{app_port}"]
    prom["scrape_configs"][1]["static_configs"][0]["targets"] = [f"127.0.0.1:{prom_port}"]
    (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(prom))
    rules = yaml.safe_load((app / "monitoring/alerts.yml").read_text())
    for rule in rules["groups"][0]["rules"]:
        if rule["alert"] == "HighErrorRate":
            rule["for"] = "1s"  # shipped: 5m
    (prom_dir / "alerts.yml").write_text(yaml.safe_dump(rules))

    # Caddy: the shipped site block; only the global options differ (loopback, local ports, local CA)
    caddyfile = (app / "deploy/Caddyfile").read_text()
    site = caddyfile[caddyfile.index("{$DOMAIN}"):]
    caddy_home = tmp_path / "caddy"
    (tmp_path / "Caddyfile").write_text(
        f"{{\n\tdefault_bind 127.0.0.1\n\tadmin off\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tlocal_certs\n\tskip_install_trust\n"
        f"\tstorage file_system {caddy_home}\n}}\n\n{site}")

    app_env = _prod_env(prod_venv, tmp_path / "app-home", PORT=str(app_port), DATABASE_URL=database_url,
                        SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
                        FORWARDED_ALLOW_IPS="127.0.0.1")
    with contextlib.ExitStack() as stack:
        stack.callback(webhook.shutdown)
        procs = [
            stack.enter_context(process(["sh", "-c", _image_command(app, "127.0.0.1")], log("app.log"), cwd=app,
                                        env=app_env)),
            stack.enter_context(process(
                [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c",
                 "aiosmtpd.handlers.Mailbox", str(maildir)], log("smtp.log"))),
            stack.enter_context(process(
                [alertmanager_bin, f"--config.file={tmp_path / 'alertmanager.yml'}",
                 f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{am_port}",
                 "--cluster.listen-address="], log("alertmanager.log"))),
            stack.enter_context(process(
                [prometheus_bin, f"--config.file={prom_dir / 'prometheus.yml'}",
                 f"--storage.tsdb.path={tmp_path / 'prom-data'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
                log("prometheus.log"))),
            stack.enter_context(process(
                [caddy, "run", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile")], log("caddy.log"),
                env={**_tool_env(caddy_home), "DOMAIN": "localhost", "ACME_EMAIL": "ops@example.com",
                     "APP_UPSTREAM": f"127.0.0.1:{app_port}", "GRAFANA_UPSTREAM": "127.0.0.1:9"})),
        ]
        base = f"http://127.0.0.1:{app_port}"
        wait_for("the app (migrations, then uvicorn)", lambda: get_json(base + "/healthz")["status"] == "ok", 60,
                 logs, procs)
        # the image's command ran the migrations (production creates no tables itself)
        assert postgres.psql("select count(*) from alembic_version") == "1"
        wait_for("Prometheus scraping the app", lambda: any(
            t["health"] == "up" and t["labels"]["job"] == slug
            for t in get_json(f"http://127.0.0.1:{prom_port}/api/v1/targets")["data"]["activeTargets"]), 60, logs, procs)
        loaded = {r["name"] for g in get_json(f"http://127.0.0.1:{prom_port}/api/v1/rules")["data"]["groups"]
                  for r in g["rules"]}
        assert loaded == {r["alert"] for r in rules["groups"][0]["rules"]} >= {"HighErrorRate", "HighMemoryUsage"}
        limit = wait_for("the memory limit metric", lambda: get_json(
            f"http://127.0.0.1:{prom_port}/api/v1/query?query=process_memory_limit_bytes")["data"]["result"], 30, logs)
        assert float(limit[0]["value"][1]) > 0

        # https through Caddy: a browser-like sign-up keeps its Secure session cookie (no 403)
        root_ca = wait_for("Caddy's local CA", lambda: next(caddy_home.glob("pki/authorities/local/root.crt")), 30,
                           logs, procs)
        tls = ssl.create_default_context(cafile=str(root_ca))
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls),
                                             urllib.request.HTTPCookieProcessor())
        site_url = f"https://localhost:{https_port}"
        page = wait_for("Caddy serving https", lambda: opener.open(site_url + "/signup", timeout=5), 30, logs, procs)
        assert page.headers["Strict-Transport-Security"], "the app did not see https through the trusted proxy"
        cookie = page.headers["Set-Cookie"] or ""
        assert "secure" in cookie.lower(), cookie
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
        form = urllib.parse.urlencode({"csrf_token": csrf, "email": "first@example.com", "password": "long-enough-1"})
        after = opener.open(site_url + "/signup", data=form.encode(), timeout=10)
        assert after.status == 200 and after.url.rstrip("/") == site_url, (after.status, after.url)
        assert "first@example.com" in after.read().decode()
        with pytest.raises(urllib.error.HTTPError) as hidden:
            opener.open(site_url + "/metrics", timeout=5)
        assert hidden.value.code == 404
        # X-Forwarded-Proto from an address not in FORWARDED_ALLOW_IPS (127.0.0.2) is ignored
        direct = http.client.HTTPConnection("127.0.0.1", app_port, timeout=5, source_address=("127.0.0.2", 0))
        direct.request("GET", "/signup", headers={"X-Forwarded-Proto": "https"})
        spoofed = direct.getresponse()
        assert spoofed.status == 200 and spoofed.getheader("Strict-Transport-Security") is None
        direct.close()

        # a real error burst: the accounts table goes away, every sign-up fails with 500
        def signup(email: str) -> int:
            request = urllib.request.Request(base + "/api/auth/signup", method="POST", headers={
                "Content-Type": "application/json"}, data=json.dumps(
                {"email": email, "password": "long-enough-1"}).encode())
            try:
                return urllib.request.urlopen(request, timeout=10).status  # noqa: S310
            except urllib.error.HTTPError as err:
                return err.code

        assert [signup(f"ok{i}@example.com") for i in range(5)] == [201] * 5
        postgres.psql("alter table accounts rename to accounts_gone")
        # The errors go on (5 a second, at most 600) until the alert arrives: rate() counts only
        # increases between scrapes, so a burst inside one scrape interval would show as none.
        statuses: list[int] = []
        stop = threading.Event()

        def burst() -> None:
            while not stop.is_set() and len(statuses) < 600:
                statuses.append(signup(f"burst{len(statuses)}@example.com"))
                stop.wait(0.2)

        burster = threading.Thread(target=burst, daemon=True)
        burster.start()
        stack.callback(burster.join, 15)
        stack.callback(stop.set)

        # The app's own mails (verification on sign-up) reach the same server: only the alert counts.
        def alerts() -> list:
            mails = list(mailbox.Maildir(str(maildir), create=False)) if (maildir / "new").exists() else []
            return [m for m in mails if m["To"] == "ops@example.com"]

        def delivered() -> bool:
            return bool(alerts()) and bool(webhook.bodies)

        wait_for("the alert by e-mail and on the Slack webhook", delivered, 120, logs, procs)
        stop.set()
        burster.join(15)
        assert statuses and set(statuses) == {500}, statuses
        message = alerts()[0]
        assert message["To"] == "ops@example.com" and "alerts@example.com" in message["From"]
        body = message.get_payload(decode=True) if not message.is_multipart() else b"".join(
            part.get_payload(decode=True) or b"" for part in message.walk())
        assert b"HighErrorRate" in (message["Subject"] or "").encode() + body
        slack = webhook.bodies[0]
        text = json.dumps(slack)
        assert "HighErrorRate" in text and "FIRING" in text and slug in text, text

        # inhibition: while the critical alert fires, a warning of the same app is silenced
        warning = [{"labels": {"alertname": "HighCpuUsage", "severity": "warning", "app": slug},
                    "annotations": {"summary": "test warning"}}]
        request = urllib.request.Request(f"http://127.0.0.1:{am_port}/api/v2/alerts", method="POST",
                                         data=json.dumps(warning).encode(), headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(request, timeout=5).status == 200  # noqa: S310

        def inhibited() -> bool:
            alerts = get_json(f"http://127.0.0.1:{am_port}/api/v2/alerts")
            return any(a["labels"]["alertname"] == "HighCpuUsage" and a["status"]["inhibitedBy"] for a in alerts)

        wait_for("the warning inhibited by the critical alert", inhibited, 30, logs, procs)
        postgres.psql("alter table accounts_gone rename to accounts")
