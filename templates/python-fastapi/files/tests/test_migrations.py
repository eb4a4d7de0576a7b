"""The Alembic migration creates exactly the schema of the models."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from app.core.db import Base, make_engine

ROOT = Path(__file__).resolve().parent.parent


def _alembic(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    return config


def _schema(engine: sa.Engine) -> dict[str, dict[str, object]]:
    inspector = sa.inspect(engine)
    schema: dict[str, dict[str, object]] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        schema[table] = {
            "columns": {c["name"]: (type(c["type"]).__name__, c["nullable"]) for c in inspector.get_columns(table)},
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (fk["constrained_columns"][0], fk["referred_table"], (fk.get("options") or {}).get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "checks": sorted((c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)),
        }
    return schema


def _models() -> sa.MetaData:
    """A fresh copy of the models' tables.

    Not Base.metadata itself: `create_all` on a database with ALTER TABLE (PostgreSQL) adds
    the foreign keys of tables in a reference cycle afterwards, and marks them on the MetaData
    to be left out of every later CREATE TABLE, in any database. When TEST_DATABASE_URL is a
    PostgreSQL one, the app's startup in this session has done that: the reference made from
    Base.metadata would lack those foreign keys.
    """
    models = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        copy = table.to_metadata(models)
        # PostgreSQL-only exclusion constraints (`no overlap` rules) lose their `ddl_if` in
        # the copy; the SQLite schemas compared here have none.
        for constraint in [c for c in copy.constraints if c.__visit_name__ == "exclude_constraint"]:
            copy.constraints.discard(constraint)
    return models


def test_migration_matches_the_models(tmp_path: Path) -> None:
    migrated_url = f"sqlite:///{tmp_path / 'migrated.db'}"
    command.upgrade(_alembic(migrated_url), "head")
    created = make_engine(f"sqlite:///{tmp_path / 'created.db'}")
    _models().create_all(created)
    migrated = make_engine(migrated_url)
    try:
        assert _schema(migrated) == _schema(created)
        assert set(_schema(migrated)) == set(Base.metadata.tables)
    finally:
        migrated.dispose()
        created.dispose()


def test_migration_downgrades_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    config = _alembic(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
