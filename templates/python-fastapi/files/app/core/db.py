"""Database engine, session factory and the declarative base shared by all models."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import orm

from app.core.config import settings

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# Python value types for the `Mapped[...]` annotations of entity models. They are PascalCase
# on purpose: field names are snake_case, so no field of a model can shadow them.
PyStr = str
PyInt = int
PyBool = bool
PyDecimal = decimal.Decimal
PyDate = dt.date
PyDateTime = dt.datetime


def utcnow() -> dt.datetime:
    """Current UTC time as a naive datetime (stored the same way on every database)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FOREIGN KEY clauses otherwise
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


engine = make_engine(settings.database_url)
SessionLocal = orm.sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)


def get_db() -> Iterator[orm.Session]:
    """FastAPI dependency: one session per request, always closed."""
    with SessionLocal() as session:
        yield session
[% if rules | selectattr("kind", "equalto", "no_overlap") | list %]


# `no overlap` rules are also exclusion constraints on PostgreSQL. They need the btree_gist
# extension (PostgreSQL's contrib; trusted since PostgreSQL 13, so a database owner may enable
# it). Where it cannot be enabled, the app's own check (app.rules) is all there is.
_btree_gist: dict[str, bool] = {}


@sa.event.listens_for(Base.metadata, "before_create")
def _enable_btree_gist(_target, connection, **_kw) -> None:  # type: ignore[no-untyped-def]
    ready = False
    if connection.dialect.name == "postgresql" and connection.scalar(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gist'")
    ):
        try:
            with connection.begin_nested():
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            ready = True
        except sa.exc.DBAPIError:
            ready = False
    _btree_gist["ready"] = ready


def exclusion_ready(_ddl, _target, _bind, **kw) -> bool:  # type: ignore[no-untyped-def]
    """`ddl_if` of the exclusion constraints: PostgreSQL with btree_gist enabled."""
    return kw["dialect"].name == "postgresql" and _btree_gist.get("ready", False)
[% endif %]
