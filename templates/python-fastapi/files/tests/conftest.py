"""Test setup: a fresh temporary SQLite database per test session; no network.

Set TEST_DATABASE_URL to run the suite against another database (e.g. a throw-away
PostgreSQL); DATABASE_URL is never used here, so the tests cannot touch a real database.
The environment is set before `app` is imported, because settings are read at import time.
"""

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
gc.enable()

if engine.dialect.name == "sqlite":

    @sa.event.listens_for(engine, "connect")
    def _no_fsync(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        """The throw-away test database need not survive a power cut: no fsync per commit."""
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


@pytest.fixture(scope="session", autouse=True)
def started_app() -> Iterator[TestClient]:
    """Runs the app's lifespan (creates the tables) once for the whole session."""
    with TestClient(app) as client:
        yield client
    shutil.rmtree(_TMP, ignore_errors=True)


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
