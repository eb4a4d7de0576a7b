[% if app.features.teams %]
"""Built-in models: accounts, and the team workspaces (with their members) that own every entity row."""
[% else %]
"""Built-in models: the account that owns every entity row."""
[% endif %]

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm

from app.core.db import Base, utcnow

[% if app.features.teams %]
OWNER = "owner"
MEMBER = "member"


class Account(Base):
    """A user of the app. Every account owns one personal workspace, created at sign-up."""
[% else %]

class Account(Base):
    """A user of the app. Every entity row belongs to exactly one account."""
[% endif %]

    __tablename__ = "accounts"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    email: orm.Mapped[str] = orm.mapped_column(sa.String(320), unique=True)
    password_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    email_verified: orm.Mapped[bool] = orm.mapped_column(default=False, server_default=sa.false())
    # Raised by logout, password change and deletion: every session and API token carries the
    # version it was issued under, and an older one is refused (server-side revocation).
    auth_version: orm.Mapped[int] = orm.mapped_column(default=0, server_default="0")
    created_at: orm.Mapped[dt.datetime] = orm.mapped_column(default=utcnow)
[% if app.features.teams %]


class Team(Base):
    """A workspace: every entity row belongs to exactly one team; its members share those rows."""

    __tablename__ = "teams"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    owner_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: orm.Mapped[dt.datetime] = orm.mapped_column(default=utcnow)


class Membership(Base):
    """An account's access to a team: `owner` (manages the members) or `member`.

    Access is checked against this table on every request: deleting the row revokes it at once.
    """

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("team_id", "account_id"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    team_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    account_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    created_at: orm.Mapped[dt.datetime] = orm.mapped_column(default=utcnow)

    team: orm.Mapped[Team] = orm.relationship(lazy="joined")
    account: orm.Mapped[Account] = orm.relationship(lazy="joined")

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER
[% endif %]


class LoginFailure(Base):
    """A failed login, by account (`account:<e-mail>`) or client (`client:<address>`).

    Kept in the database, not in a process, so every worker and replica counts the same
    failures (app.login_limits); rows older than LOGIN_WINDOW are pruned as new ones come in.
    """

    __tablename__ = "login_failures"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(400), index=True)
    at: orm.Mapped[dt.datetime] = orm.mapped_column(default=utcnow)
