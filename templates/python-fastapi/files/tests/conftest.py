"""Test setup: a fresh temporary SQLite database per test process; no network.

The tests run in one process per CPU (pytest-xdist, `-n auto` in pyproject.toml), a test
file or an entity's tests in one process (`--dist loadgroup`, see pytest_collection_modifyitems);
`-n 0` runs them all in this process.

Set TEST_DATABASE_URL to run the suite against another database (e.g. a throw-away
PostgreSQL); DATABASE_URL is never used here, so the tests cannot touch a real database.
The environment is set before `app` is imported, because settings are read at import time.
"""

import atexit
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator

# The imports below create ~100k objects that live as long as the run: the garbage collector
# need not scan them over and over (nor once more at exit). See gc.freeze() further down.
gc.disable()

_TMP = tempfile.mkdtemp(prefix="app-tests-")
os.environ["APP_ENV"] = "test"
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
os.environ["SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["DB_CREATE_TABLES"] = "1"

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from app.core.db import engine  # noqa: E402
from app.main import app  # noqa: E402
from tests.helpers import User, new_client, new_user, run_sync_inline  # noqa: E402

run_sync_inline()
gc.freeze()  # everything imported so far stays: keep it out of every later collection
# A request leaves a few thousand short-lived objects: with the default threshold (700) the
# youngest generation was collected ~1,600 times per run, 8 % of the suite's time; at
# 100,000 a few dozen collections find the same garbage (memory grows by a few MB at most).
gc.set_threshold(100_000, 50, 1000)
gc.enable()
# At exit the interpreter collects once more over every object before freeing them all
# (0.4 s per test process, which xdist's controller waits for): nothing needs that pass.
atexit.register(gc.freeze)

if engine.dialect.name == "sqlite":

    @sa.event.listens_for(engine, "connect")
    def _no_fsync(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        """The throw-away test database need not survive a crash: no fsync per commit, and the
        rollback journal in memory instead of a file created and deleted by every write."""
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.close()


@pytest.fixture(scope="session", autouse=True)
def started_app() -> Iterator[TestClient]:
    """Runs the app's lifespan (creates the tables) once for the whole session."""
    with TestClient(app) as client:
        yield client


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_TMP, ignore_errors=True)  # every process made one (xdist's controller too)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test file's tests run in one process (they share its accounts), as do one entity's
    tests in tests/test_entities.py (grouped there): `--dist loadgroup` in pyproject.toml.
    The many small entity groups go last, so that the processes run out of work together."""
    grouped = {item: item.get_closest_marker("xdist_group") is not None for item in items}
    for item in items:
        if not grouped[item]:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    items.sort(key=lambda item: grouped[item])


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many processes `-n auto` (pyproject.toml) runs the tests in: one per CPU this
    process may use (each with its own SQLite database), at most 8 (each costs ~1.3 s of
    start-up and ~150 MB, and the suite has a few dozen groups), or none (the tests run here)
    on one CPU, for named tests (`file::test`, where starting workers costs more than it
    saves) and on a TEST_DATABASE_URL that is not SQLite (the workers would share it)."""
    if not os.environ["DATABASE_URL"].startswith("sqlite"):
        return 0
    if any("::" in arg for arg in config.args):
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cpus, 8) if cpus > 1 else 0


@pytest.fixture
def anon() -> TestClient:
    """A client without credentials (redirects are not followed, so they can be checked)."""
    return new_client()


@pytest.fixture(scope="module")
def user_a(started_app: TestClient) -> User:
    """An account with data (fresh for each test module)."""
    return new_user("alice")


@pytest.fixture(scope="module")
def user_b(started_app: TestClient) -> User:
    """Another account: must never see or change user_a's data."""
    return new_user("bob")
