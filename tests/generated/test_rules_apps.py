"""Apps with the issue's rules and views (tests/fixtures/specs/{invoices,bookings}.yaml) on a real
PostgreSQL server: their own suites, the Alembic migration's constraints, and concurrent inserts
that race past the app's own check (one success and one 422 naming the fields, never a 500)."""

from __future__ import annotations

import dataclasses
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Postgres, Venv, call_json, run, run_app_suite, scrubbed_env, serve_app

PASSWORD = "correct horse battery staple"

# The rules' database constraints, by table: the pack names them ck_/uq_/xc_<table>_r<n>, n
# counting the entity's own rules in spec order (contype c = CHECK, u = UNIQUE, x = EXCLUDE).
CONSTRAINTS = {
    "invoices": {"clients": {"ck_clients_r1": "c"},
                 "invoices": {"ck_invoices_r1": "c", "ck_invoices_r2": "c", "ck_invoices_r3": "c",
                              "uq_invoices_r5": "u"}},
    "bookings": {"rooms": {"ck_rooms_r1": "c"},
                 "bookings": {"ck_bookings_r1": "c", "xc_bookings_r2": "x", "uq_bookings_r3": "u"}},
    # Teams on (the tenant column is team_id); a daterange exclusion; CHECKs on text and decimals.
    "tasks": {"projects": {"ck_projects_r1": "c", "ck_projects_r2": "c", "ck_projects_r3": "c", "uq_projects_r4": "u"},
              "tasks": {"ck_tasks_r1": "c", "ck_tasks_r2": "c", "ck_tasks_r8": "c"},
              "shifts": {"ck_shifts_r1": "c", "xc_shifts_r2": "x"}},
}


def _database(postgres: Postgres, name: str) -> Postgres:
    postgres.psql(f"create database {name}")
    return dataclasses.replace(postgres, database=name)


def _constraints(db: Postgres, table: str) -> dict[str, str]:
    rows = db.psql(f"select conname, contype from pg_constraint where conrelid = '{table}'::regclass")
    return dict(line.split("|") for line in rows.splitlines() if line)


@pytest.mark.parametrize("name", ["invoices", "bookings", "tasks"])
def test_rule_app_suite_on_postgresql(name: str, postgres: Postgres, generated_app: Callable[[str], Path],
                                      app_venv: Venv, tmp_path: Path) -> None:
    db = _database(postgres, f"e2e_suite_{name}")
    proc = run_app_suite(generated_app(name), app_venv, tmp_path / "home", "-q", TEST_DATABASE_URL=db.url)
    assert proc.returncode == 0, f"{name} suite on PostgreSQL failed:\n{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"
    assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-3000:]
    # The suite's tables (made by the app's create_all) carry the rules' constraints.
    for table, expected in CONSTRAINTS[name].items():
        found = _constraints(db, table)
        for constraint, kind in expected.items():
            assert found.get(constraint) == kind, (table, constraint, found)


@pytest.mark.parametrize("name", ["invoices", "bookings", "tasks"])
def test_migration_on_postgresql_makes_the_rule_constraints(name: str, postgres: Postgres,
                                                            generated_app: Callable[[str], Path], app_venv: Venv,
                                                            tmp_path: Path) -> None:
    db = _database(postgres, f"e2e_migrate_{name}")
    env = scrubbed_env(app_venv, tmp_path, APP_ENV="development", DATABASE_URL=db.url)
    app_dir = generated_app(name)
    run([app_venv.python, "-m", "alembic", "upgrade", "head"], cwd=app_dir, env=env, timeout=120)
    for table, expected in CONSTRAINTS[name].items():
        found = _constraints(db, table)
        for constraint, kind in expected.items():
            assert found.get(constraint) == kind, (table, constraint, found)
    run([app_venv.python, "-m", "alembic", "downgrade", "base"], cwd=app_dir, env=env, timeout=120)
    assert db.psql("select count(*) from information_schema.tables where table_schema = 'public' "
                   "and table_name <> 'alembic_version'") == "0"


# --- races --------------------------------------------------------------------------------

# Holds `LOCK TABLE <t> IN SHARE MODE` (reads pass, inserts wait) until `want` INSERTs wait on it,
# then commits: both requests have passed the app's own check before either row exists.
_HOLDER = r"""
import sys, time, psycopg
url, table, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
with psycopg.connect(url) as conn:
    conn.execute(f"LOCK TABLE {table} IN SHARE MODE")
    print("locked", flush=True)
    deadline = time.monotonic() + 60
    while True:
        conn.execute("select pg_stat_clear_snapshot()")  # the view is a snapshot per transaction
        waiting = conn.execute(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query ilike 'insert%'"
        ).fetchone()[0]
        if waiting >= want:
            break
        if time.monotonic() > deadline:
            print(f"only {waiting} inserts waited", flush=True)
            sys.exit(1)
        time.sleep(0.05)
    conn.commit()
print("released", flush=True)
"""


def _token(base: str, email: str) -> str:
    status, _ = call_json("POST", base + "/api/auth/signup", {"email": email, "password": PASSWORD})
    assert status == 201
    status, body = call_json("POST", base + "/api/auth/token", {"username": email, "password": PASSWORD}, form=True)
    assert status == 200, body
    return body["access_token"]  # type: ignore[index]


def _race(base: str, db: Postgres, venv: Venv, table: str, path: str, bodies: list[dict], token: str,
          tmp_path: Path) -> list[tuple[int, object]]:
    holder = subprocess.Popen(
        [venv.python, "-c", _HOLDER, db.url.replace("postgresql+psycopg", "postgresql"), table, str(len(bodies))],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=scrubbed_env(venv, tmp_path),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        results: list[tuple[int, object]] = [(0, None)] * len(bodies)

        def send(i: int) -> None:
            results[i] = call_json("POST", base + path, bodies[i], token=token)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        out = holder.communicate(timeout=60)[0]
        assert holder.returncode == 0, f"the lock holder failed: {out}"
        assert "released" in out, out
        return results
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


def _one_success_one_422(results: list[tuple[int, object]], fields: set[str]) -> None:
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 422], results
    refused = next(body for status, body in results if status == 422)
    locs = {err["loc"][-1] for err in refused["detail"]}  # type: ignore[index]
    assert fields <= locs, refused


def test_concurrent_inserts_breaking_unique_give_one_422(postgres: Postgres, generated_app: Callable[[str], Path],
                                                         app_venv: Venv, tmp_path: Path) -> None:
    db = _database(postgres, "e2e_race_unique")
    with serve_app(generated_app("invoices"), app_venv, tmp_path / "srv", database_url=db.url) as base:
        token = _token(base, "race-unique@example.com")
        status, client = call_json("POST", base + "/api/clients", {"name": "Acme"}, token=token)
        assert status == 201, client
        invoice = {"number": "INV-1", "client": client["id"], "amount": "10.00",  # type: ignore[index]
                   "issued_on": "2026-01-01", "due_on": "2026-02-01", "status": "sent"}
        results = _race(base, db, app_venv, "invoices", "/api/invoices", [invoice, dict(invoice)], token, tmp_path)
        _one_success_one_422(results, {"number"})
        assert db.psql("select count(*) from invoices where number = 'INV-1'") == "1"


def test_concurrent_inserts_breaking_no_overlap_give_one_422(postgres: Postgres,
                                                             generated_app: Callable[[str], Path], app_venv: Venv,
                                                             tmp_path: Path) -> None:
    db = _database(postgres, "e2e_race_overlap")
    with serve_app(generated_app("bookings"), app_venv, tmp_path / "srv", database_url=db.url) as base:
        token = _token(base, "race-overlap@example.com")
        status, room = call_json("POST", base + "/api/rooms", {"name": "Blue room", "capacity": 8}, token=token)
        assert status == 201, room
        # Overlapping, not equal: only the exclusion constraint (not the unique one) can catch it.
        first = {"room": room["id"], "guest": "Ann", "starts_at": "2026-03-01T09:00", "ends_at": "2026-03-01T11:00"}  # type: ignore[index]
        second = {**first, "guest": "Bob", "starts_at": "2026-03-01T10:00", "ends_at": "2026-03-01T12:00"}
        results = _race(base, db, app_venv, "bookings", "/api/bookings", [first, second], token, tmp_path)
        _one_success_one_422(results, {"starts_at", "ends_at"})
        assert db.psql("select count(*) from bookings") == "1"
