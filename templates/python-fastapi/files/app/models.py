"""Built-in models: the account that owns every entity row."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm

from app.db import Base, utcnow


class Account(Base):
    """A user of the app. Every entity row belongs to exactly one account."""

    __tablename__ = "accounts"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    email: orm.Mapped[str] = orm.mapped_column(sa.String(320), unique=True)
    password_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[dt.datetime] = orm.mapped_column(default=utcnow)
