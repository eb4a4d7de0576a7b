"""The sample app's own suite against a real PostgreSQL server."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from conftest import Postgres, Venv, run_app_suite

# The generated tests/conftest.py assigns DATABASE_URL unconditionally (SQLite in a temp dir)
# before importing the app, and the app reads its settings once, at import of app.config.
# This plugin is loaded with `-p` before any conftest: it imports app.config while
# DATABASE_URL still names PostgreSQL, so the app's engine uses PostgreSQL for the whole run.
PLUGIN = '''\
"""Loaded before the app's tests/conftest.py: pins the settings to the DATABASE_URL given."""
import os

_WANTED = os.environ["DATABASE_URL"]

import app.config  # noqa: E402  (settings are read here, once)

assert app.config.settings.database_url == _WANTED, app.config.settings.database_url


def pytest_sessionstart(session):
    import app.db

    url = app.db.engine.url
    assert url.get_backend_name() == "postgresql", f"the app's engine is {url!r}, not PostgreSQL"
'''

FORCED = re.compile(r'^os\.environ\["DATABASE_URL"\]\s*=', re.M)


def test_sample_suite_on_postgresql(postgres: Postgres, generated_app: Callable[[str], Path], app_venv: Venv,
                                    tmp_path: Path) -> None:
    app_dir = generated_app("sample")
    conftest = (app_dir / "tests/conftest.py").read_text()
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    args = ["-q"]
    if FORCED.search(conftest):  # the app's conftest forces SQLite: pin the settings first
        (plugin_dir / "e2e_database_url.py").write_text(PLUGIN)
        args += ["-p", "e2e_database_url"]
    proc = run_app_suite(
        app_dir, app_venv, tmp_path / "home", *args,
        DATABASE_URL=postgres.url, APP_ENV="test", DB_CREATE_TABLES="1",
        SECRET_KEY="postgres-run-secret-key-0123456789abcdef", PYTHONPATH=str(plugin_dir),
    )
    assert proc.returncode == 0, f"sample suite on PostgreSQL failed:\n{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"

    # The run really used this server: the app's tables exist and hold the suite's accounts.
    tables = set(postgres.psql(
        "select table_name from information_schema.tables where table_schema = 'public'").split())
    assert {"accounts", "authors", "books", "reviews"} <= tables, tables
    assert int(postgres.psql("select count(*) from accounts")) > 0
