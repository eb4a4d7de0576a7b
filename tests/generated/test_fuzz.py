"""Schema-driven fuzzing (schemathesis) of each generated app's JSON API: no 5xx for any
input its OpenAPI description allows, as an account that has data (SQLite, and PostgreSQL).

The app is served by uvicorn on 127.0.0.1 (a real server: schemathesis speaks HTTP); the
account and its rows are made beforehand by a script in the app's venv that uses the app's
own test helpers (so every rule of the spec is kept). Examples per operation are few
(`MAX_EXAMPLES`) and the seed fixed, to keep the run to a few minutes and reproducible.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import BODIES, EVENTS, SPECS, Postgres, Venv, require_tool, run, scrubbed_env, serve_app

MAX_EXAMPLES = 5
SEED = 20261127
APPS = [*EVENTS, *SPECS, *BODIES]

# Made in the app's folder with its venv: an account with rows of every entity (its own
# test helpers build valid rows), against the database the server will use.
SEED_SCRIPT = r"""
import json, os
from fastapi.testclient import TestClient
from app.models import BY_NAME
from app.main import app
from tests import helpers

with TestClient(app):  # its lifespan creates the tables; the helpers' clients run in this thread
    user = helpers.new_user("fuzz")
    for meta in BY_NAME.values():
        helpers.create(user, meta)
    print(json.dumps({"email": user.email, "password": helpers.PASSWORD}))
"""


def _account_with_data(app_dir: Path, venv: Venv, home: Path, database_url: str) -> dict[str, str]:
    env = scrubbed_env(venv, home, APP_ENV="development", DATABASE_URL=database_url, DB_CREATE_TABLES="1")
    proc = subprocess.run([venv.python, "-c", SEED_SCRIPT], cwd=app_dir, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"seeding failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _token(base: str, account: dict[str, str]) -> str:
    body = urllib.parse.urlencode({"username": account["email"], "password": account["password"]}).encode()
    with urllib.request.urlopen(base + "/api/auth/token", data=body, timeout=10) as response:  # noqa: S310
        return str(json.load(response)["access_token"])


def _me(base: str, token: str) -> int:
    request = urllib.request.Request(base + "/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _fuzz(app_dir: Path, venv: Venv, workdir: Path, database_url: str) -> None:
    schemathesis = require_tool("schemathesis")
    workdir.mkdir(parents=True, exist_ok=True)
    account = _account_with_data(app_dir, venv, workdir, database_url)
    with serve_app(app_dir, venv, workdir / "server", database_url=database_url) as base:
        token = _token(base, account)
        # cwd: schemathesis writes a `.schemathesis/` cache where it runs.
        proc = run([schemathesis, "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
                    "--checks", "not_a_server_error", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
                    "--generation-database", "none", "--no-color",
                    # Logout revokes the token: every later request would be a mere 401.
                    "--exclude-path", "/api/auth/logout"],
                   cwd=workdir, check=False, timeout=600)
        still_in = _me(base, token)
        log = (workdir / "server/uvicorn.log").read_text(errors="replace")
    assert proc.returncode == 0, f"schemathesis found 5xx answers:\n{proc.stdout[-12000:]}\n{proc.stderr[-3000:]}\n--- server\n{log[-6000:]}"
    assert "Traceback" not in log, log[-6000:]
    assert still_in == 200, "the token was revoked during the run: the fuzzing was not authenticated throughout"


@pytest.mark.parametrize("name", APPS)
def test_fuzz_sqlite(name: str, generated_app: Callable[[str], Path], app_venv: Venv, tmp_path: Path) -> None:
    _fuzz(generated_app(name), app_venv, tmp_path, f"sqlite:///{tmp_path / 'app.db'}")


@pytest.mark.parametrize("name", APPS)
def test_fuzz_postgres(name: str, generated_app: Callable[[str], Path], app_venv: Venv, postgres: Postgres,
                       tmp_path: Path) -> None:
    database = f"fuzz_{name}"
    postgres.psql(f"DROP DATABASE IF EXISTS {database}")
    postgres.psql(f"CREATE DATABASE {database}")
    url = postgres.url.rsplit("/", 1)[0] + "/" + database
    _fuzz(generated_app(name), app_venv, tmp_path, url)
