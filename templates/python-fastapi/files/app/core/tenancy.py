[% if app.features.teams %]
"""Tenancy: team workspaces. Every entity row belongs to a team (`team_id`); its members share it.

A request acts in ONE workspace, given by the caller's Membership row, which is looked up on
every request: a removed member loses access at once. Pages use the workspace chosen with
POST /teams/switch (kept in the session, default: the personal one); the API uses the
`X-Workspace` header (a team id, default: the personal workspace). The FastAPI dependencies
that apply this (`ApiMembership`, `PageMembership`) are in `app.api.deps`.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import HTTPException, Request, status
from sqlalchemy import orm

from app.models import OWNER, Account, Membership, Team

WORKSPACE_HEADER = "X-Workspace"
MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database


def create_personal_workspace(db: orm.Session, account: Account) -> Membership:
    """Adds (without committing) the account's personal workspace, with the account as owner."""
    team = Team(name=f"Workspace of {account.email}", owner_id=account.id)
    db.add(team)
    db.flush()
    membership = Membership(team_id=team.id, account_id=account.id, role=OWNER)
    db.add(membership)
    db.flush()
    return membership


def membership_of(db: orm.Session, account_id: int, team_id: int) -> Membership | None:
    """The account's membership of the team, or None when it is not a member."""
    if not (0 < account_id <= MAX_ID and 0 < team_id <= MAX_ID):
        return None
    return db.scalar(sa.select(Membership).where(Membership.team_id == team_id, Membership.account_id == account_id))


def personal_membership(db: orm.Session, account: Account) -> Membership:
    """The account's membership of its personal workspace (created if it is missing)."""
    membership = db.scalar(
        sa.select(Membership)
        .join(Team, Team.id == Membership.team_id)
        .where(Membership.account_id == account.id, Team.owner_id == account.id)
        .order_by(Team.id)
        .limit(1)
    )
    if membership is None:
        membership = create_personal_workspace(db, account)
        db.commit()
    return membership


def memberships(db: orm.Session, account_id: int) -> list[Membership]:
    """Every workspace the account belongs to, the personal one first."""
    rows = db.scalars(sa.select(Membership).where(Membership.account_id == account_id).order_by(Membership.team_id)).all()
    return sorted(rows, key=lambda m: (m.team.owner_id != account_id, m.team_id))


def requested_membership(db: orm.Session, account: Account, team_id: int | None) -> Membership:
    """The API's workspace: the `X-Workspace` team (403 when not a member), else the personal one."""
    if team_id is None:
        return personal_membership(db, account)
    membership = membership_of(db, account.id, team_id)
    if membership is None:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="You are not a member of this workspace.")
    return membership


def session_membership(request: Request, db: orm.Session, account: Account) -> Membership:
    """The pages' workspace: the one chosen in this session (default: the personal one).

    When the account was removed from that workspace, the session falls back to the personal one.
    """
    team_id = request.session.get("team_id")
    membership = membership_of(db, account.id, team_id) if isinstance(team_id, int) else None
    if membership is None:
        if team_id is not None:
            request.session.pop("team_id", None)
            request.session.setdefault("flash", []).append(["error", "You are no longer a member of that workspace."])
        membership = personal_membership(db, account)
    request.state.workspace = membership.team.name
    return membership


def switch_workspace(request: Request, membership: Membership) -> None:
    """Makes the pages of this session act in the membership's workspace."""
    request.session["team_id"] = membership.team_id
[% endif %]
