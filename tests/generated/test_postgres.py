"""The generated apps' own suites against a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from conftest import Postgres, Venv, run_app_suite

def test_sample_suite_on_postgresql(postgres: Postgres, generated_app: Callable[[str], Path], app_venv: Venv,
                                    tmp_path: Path) -> None:
    app_dir = generated_app("sample")
    # The app's tests take their database from TEST_DATABASE_URL (never DATABASE_URL).
    proc = run_app_suite(app_dir, app_venv, tmp_path / "home", "-q", TEST_DATABASE_URL=postgres.url)
    assert proc.returncode == 0, f"sample suite on PostgreSQL failed:\n{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"

    # The run really used this server: the app's tables exist and hold the suite's accounts.
    tables = set(postgres.psql(
        "select table_name from information_schema.tables where table_schema = 'public'").split())
    assert {"accounts", "authors", "books", "reviews"} <= tables, tables
    assert int(postgres.psql("select count(*) from accounts")) > 0


def test_wide_suite_on_postgresql(postgres: Postgres, generated_app: Callable[[str], Path], app_venv: Venv,
                                  tmp_path: Path) -> None:
    """Reference cycles and a self-reference: on PostgreSQL, `create_all` adds their foreign keys
    with ALTER TABLE afterwards (SQLite creates them inline), which the suite must cope with."""
    app_dir = generated_app("wide")
    # A database of its own: `create_all` takes that path only for the tables it creates.
    postgres.psql("create database e2e_wide")
    wide = dataclasses.replace(postgres, database="e2e_wide")
    proc = run_app_suite(app_dir, app_venv, tmp_path / "home", "-x", "-q", TEST_DATABASE_URL=wide.url)
    assert proc.returncode == 0, f"wide suite on PostgreSQL failed:\n{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"
    tables = set(wide.psql(
        "select table_name from information_schema.tables where table_schema = 'public'").split())
    assert {"companies", "departments", "employees", "milestones", "reviews"} <= tables, tables
