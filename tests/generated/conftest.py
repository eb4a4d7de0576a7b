"""Shared fixtures for the checks of GENERATED apps with real tools.

Run with `.venv-test/bin/python -m pytest tests/generated -q` from the repository root.

Environment:
- `E2E_BIN`: the e2e-action binary (default `target/release/e2e-action`, else `target/debug/e2e-action`).
- `E2E_ALLOW_MISSING_TOOLS=1`: skip (instead of fail) the checks whose tool is not installed.
- `E2E_PG_BINDIR`: PostgreSQL's server binaries (default `/usr/lib/postgresql/15/bin`).
- `E2E_CHROMIUM`: the browser (default `/usr/bin/chromium`).

Every app is generated once per session into a temp folder; every app's test suite runs in ONE
virtual environment made with uv per session (requirements are identical across apps), with the
uv cache in `<repo>/.cache/uv`. Servers started here (PostgreSQL, uvicorn) are stopped here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EVENTS = {
    "sample": REPO / "examples/events/issue-opened.json",
    "wide": REPO / "tests/fixtures/events/issue-wide.json",
    "i18n": REPO / "tests/fixtures/events/issue-i18n.json",
    "reserved": REPO / "tests/fixtures/events/issue-reserved.json",
    "teams": REPO / "tests/fixtures/events/issue-teams.json",
}
# Apps rendered from a spec.yaml (`generate --spec`): the issue-11 examples with rules and views.
SPECS = {
    "invoices": REPO / "tests/fixtures/specs/invoices.yaml",
    "bookings": REPO / "tests/fixtures/specs/bookings.yaml",
    # Hangul labels: the generated app's UI is Korean (issue 14).
    "korean": REPO / "tests/fixtures/specs/korean.yaml",
}
# Apps rendered from an issue-form body (`generate --issue-body`): every rule and view form, teams on.
BODIES = {
    "tasks": REPO / "tests/fixtures/bodies/rules-all-forms.md",
}
FREETEXT_EVENT = REPO / "tests/fixtures/events/issue-freetext.json"
COMMENT_EVENT = REPO / "tests/fixtures/events/issue-comment.json"

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PG_BINDIR = Path(os.environ.get("E2E_PG_BINDIR", "/usr/lib/postgresql/15/bin"))


# --- tools -------------------------------------------------------------------------------


def allow_missing_tools() -> bool:
    return os.environ.get("E2E_ALLOW_MISSING_TOOLS", "").strip() == "1"


def missing_tool(message: str) -> None:
    """Fails (default) or skips (E2E_ALLOW_MISSING_TOOLS=1) when a tool is not installed."""
    if allow_missing_tools():
        pytest.skip(message)
    pytest.fail(message + " (set E2E_ALLOW_MISSING_TOOLS=1 to skip instead)", pytrace=False)


def require_tool(name: str) -> str:
    """The absolute path of `name` from PATH (or, failing that, beside the running Python)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        missing_tool(f"tool {name!r} is not on PATH; install it with scripts/install-test-deps.sh")
    return str(found)


def require_file(path: Path | str, what: str) -> str:
    if not os.access(path, os.X_OK):
        missing_tool(f"{what} not found at {path}")
    return str(path)


def e2e_bin() -> Path:
    if os.environ.get("E2E_BIN"):
        path = Path(os.environ["E2E_BIN"])
        if not path.is_absolute():
            path = REPO / path
    else:
        path = REPO / "target/release/e2e-action"
        if not path.exists():
            path = REPO / "target/debug/e2e-action"
    if not path.exists():
        pytest.fail(f"e2e-action binary not found at {path}: run `cargo build` (or set E2E_BIN)", pytrace=False)
    return path


def run(cmd: list[str], *, timeout: float = 120, check: bool = True, **kwargs) -> subprocess.CompletedProcess[str]:
    """Runs a command, capturing text output; on failure, the assertion shows the output."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check:
        assert proc.returncode == 0, (
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}"
            f"\n--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- generated apps ----------------------------------------------------------------------


def generate(event: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`e2e-action generate --event EVENT --out OUT`, unchecked."""
    return run([str(e2e_bin()), "generate", "--event", str(event), "--out", str(out)], check=False, timeout=60)


def generate_spec(spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`e2e-action generate --spec SPEC --out OUT`, unchecked."""
    return run([str(e2e_bin()), "generate", "--spec", str(spec), "--out", str(out)], check=False, timeout=60)


@pytest.fixture(scope="session")
def generated_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`generated_app(name)`: the app rendered from EVENTS[name] (or SPECS[name], BODIES[name]), generated once per session."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            out = tmp_path_factory.mktemp(f"app-{name}") / "app"
            if name in SPECS:
                proc = generate_spec(SPECS[name], out)
            elif name in BODIES:
                proc = run([str(e2e_bin()), "generate", "--issue-body", str(BODIES[name]), "--out", str(out)],
                           check=False, timeout=60)
            else:
                proc = generate(EVENTS[name], out)
            assert proc.returncode == 0, f"generate {name} failed:\n{proc.stdout}\n{proc.stderr}"
            assert (out / "app/main.py").is_file(), f"generate {name} wrote no app/main.py"
            cache[name] = out
        return cache[name]

    return get


# --- the shared virtual environment ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Venv:
    root: Path
    requirements: str  # the requirements.txt text it was built from

    @property
    def python(self) -> str:
        return str(self.root / "bin/python")

    @property
    def bin(self) -> Path:
        return self.root / "bin"


@pytest.fixture(scope="session")
def app_venv(generated_app: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One venv per session (uv, cache in <repo>/.cache/uv) with the sample app's requirements."""
    uv = require_tool("uv")
    requirements = generated_app("sample") / "requirements.txt"
    root = tmp_path_factory.mktemp("venv") / "venv"
    env = dict(os.environ)  # uv needs the registry settings of this machine, if any
    env.update(UV_CACHE_DIR=str(REPO / ".cache/uv"), UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")
    env.pop("VIRTUAL_ENV", None)
    base_python = getattr(sys, "_base_executable", sys.executable)
    run([uv, "venv", "--quiet", "--python", base_python, str(root)], env=env, timeout=120)
    # Bytecode once, at install: every app suite then starts in a second, not six.
    run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(root / "bin/python"), "-r",
         str(requirements)],
        env=env, timeout=600)
    return Venv(root=root, requirements=requirements.read_text())


def scrubbed_env(venv: Venv, home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: nothing of the caller's (no DATABASE_URL, tokens, proxies, PYTHON*)."""
    env = {
        "PATH": f"{venv.bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "VIRTUAL_ENV": str(venv.root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    env.update(extra)
    return env


def run_app_suite(app_dir: Path, venv: Venv, home: Path, *args: str, timeout: float = 300,
                  **env: str) -> subprocess.CompletedProcess[str]:
    """Runs the generated app's own pytest suite in the shared venv, unchecked."""
    home.mkdir(parents=True, exist_ok=True)
    cmd = [venv.python, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=app_dir, env=scrubbed_env(venv, home, **env), capture_output=True,
                          text=True, timeout=timeout)


# --- uvicorn -----------------------------------------------------------------------------


def call_json(method: str, url: str, body: dict[str, Any] | None = None, *, form: bool = False,
              token: str | None = None, timeout: float = 60) -> tuple[int, Any]:
    """One request to a served app's API: `body` as JSON (or as a form), with a bearer token if
    given; the status and the answer as JSON (None when empty, the text when not JSON)."""
    headers: dict[str, str] = {}
    data = None
    if body is not None and form:
        data = urllib.parse.urlencode({k: str(v) for k, v in body.items()}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (127.0.0.1 only)
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as err:
        status, raw = int(err.code), err.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (127.0.0.1 only)
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (urllib.error.URLError, OSError):
        return None


@contextlib.contextmanager
def serve_app(app_dir: Path, venv: Venv, workdir: Path, database_url: str | None = None,
              extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Serves the app with uvicorn on 127.0.0.1:<free port>, a temp SQLite database (or
    `database_url`) and APP_ENV=development (plus `extra_env`); yields the base URL; always stops the server."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = scrubbed_env(venv, workdir, APP_ENV="development",
                       DATABASE_URL=database_url or f"sqlite:///{workdir / 'app.db'}", **(extra_env or {}))
    log_path = workdir / "uvicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [venv.python, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _http_status(base + "/healthz") != 200:
            if proc.poll() is not None:
                pytest.fail(f"uvicorn exited {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not answer /healthz in 60 s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# --- PostgreSQL --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Postgres:
    port: int
    database: str
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def psql(self, sql: str) -> str:
        """Runs one statement over TCP; returns unaligned, tuples-only output."""
        cmd = [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", self.database, "-c", sql]
        return run(cmd, timeout=30).stdout.strip()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<free port> (initdb + pg_ctl under a temp
    dir, as user `postgres` when running as root), with one database; stopped at the end."""
    for tool in ("initdb", "pg_ctl", "createdb", "psql"):
        require_file(PG_BINDIR / tool, f"PostgreSQL's {tool}")
    # Not under pytest's basetemp: that is root's 0700 folder, which `postgres` cannot enter.
    root = Path(tempfile.mkdtemp(prefix="e2e-pg-"))
    data, log = root / "data", root / "server.log"
    as_pg: list[str] = []
    if os.geteuid() == 0:
        runuser = require_tool("runuser")
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_pg = [runuser, "-u", "postgres", "--"]
    os.chmod(root, 0o700)
    port = free_port()
    pg = Postgres(port=port, database="e2e_app", bindir=PG_BINDIR)
    pg_ctl = [*as_pg, str(PG_BINDIR / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        run([*as_pg, str(PG_BINDIR / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-locale", "--no-sync"], cwd=root, timeout=120)
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        proc = run([*pg_ctl, "-l", str(log), "-w", "-t", "60", "-o", options, "start"], cwd=root,
                   check=False, timeout=90)
        started = True  # pg_ctl may fail after the postmaster started: always try to stop it
        assert proc.returncode == 0, f"pg_ctl start failed:\n{proc.stdout}{proc.stderr}\n{_read(log)}"
        run([str(PG_BINDIR / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", pg.database],
            timeout=30)
        yield pg
    finally:
        if started:
            run([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"], cwd=root, check=False, timeout=90)
        shutil.rmtree(root, ignore_errors=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
