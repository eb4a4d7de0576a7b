[% if app.features.teams %]
"""Team workspaces: JSON API under /api/teams and the /teams pages (members, switching workspaces)."""

from __future__ import annotations

import pydantic
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError

from app.api.deps import ApiAccount, ApiMembership, CsrfForm, Db, PageMembership
from app.core.tenancy import membership_of, memberships, switch_workspace
from app.crud import FieldErrors, ItemId
from app.i18n import _
from app.models import MEMBER, Account, Membership
from app.msg import N_
from app.schemas.teams import MemberIn, MemberOut, TeamOut
from app.templating import flash, render

api = APIRouter(prefix="/api/teams", tags=["teams"])
pages = APIRouter(include_in_schema=False)

# --- JSON API ------------------------------------------------------------------------------


def _team_out(membership: Membership) -> TeamOut:
    return TeamOut(id=membership.team_id, name=membership.team.name, role=membership.role)


def _member_out(membership: Membership) -> MemberOut:
    return MemberOut(account_id=membership.account_id, email=membership.account.email, role=membership.role)


def _members(db: orm.Session, team_id: int) -> list[Membership]:
    """The team's members, the owner first, then in the order they joined."""
    rows = db.scalars(sa.select(Membership).where(Membership.team_id == team_id).order_by(Membership.id)).all()
    return sorted(rows, key=lambda m: not m.is_owner)


def _member_of(db: orm.Session, account: Account, team_id: int) -> Membership:
    """The caller's membership of the team; 404 for a team the caller is not a member of."""
    membership = membership_of(db, account.id, team_id)
    if membership is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Workspace not found")
    return membership


def _add_member(db: orm.Session, by: Membership, email: str) -> Membership:
    """Adds the account with this e-mail to `by`'s team. Only the owner may; the account must exist."""
    if not by.is_owner:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=N_("Only the owner of the workspace can add members."))
    email = email.strip().lower()
    account = db.scalar(sa.select(Account).where(Account.email == email))
    if account is None:
        raise FieldErrors({"email": N_("No account uses this e-mail: ask them to sign up first.")})
    if membership_of(db, account.id, by.team_id) is not None:
        raise FieldErrors({"email": N_("This account is already a member.")}, status.HTTP_409_CONFLICT, "conflict")
    membership = Membership(team_id=by.team_id, account_id=account.id, role=MEMBER)
    db.add(membership)
    try:
        db.commit()
    except IntegrityError:  # added concurrently
        db.rollback()
        raise FieldErrors({"email": N_("This account is already a member.")}, status.HTTP_409_CONFLICT, "conflict") from None
    db.refresh(membership)
    return membership


def _remove_member(db: orm.Session, by: Membership, account_id: int) -> None:
    """Removes a member from `by`'s team: the owner removes anyone else; a member may leave."""
    if not by.is_owner and account_id != by.account_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=N_("Only the owner of the workspace can remove members."))
    target = membership_of(db, account_id, by.team_id)
    if target is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Member not found")
    if target.is_owner:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=N_("The owner cannot be removed from the workspace."))
    db.delete(target)
    db.commit()


@api.get("", response_model=list[TeamOut])
def list_teams(account: ApiAccount, db: Db) -> list[TeamOut]:
    """The workspaces you belong to (send one's `id` as the `X-Workspace` header to act in it)."""
    return [_team_out(m) for m in memberships(db, account.id)]


@api.get("/current", response_model=TeamOut)
def current_team(membership: ApiMembership) -> TeamOut:
    """The workspace a request acts in: the `X-Workspace` header (403 if you are not a member), else your personal one."""
    return _team_out(membership)


@api.get("/{team_id}/members", response_model=list[MemberOut])
def list_members(team_id: ItemId, account: ApiAccount, db: Db) -> list[MemberOut]:
    """The members of a workspace you belong to; 404 for any other."""
    _member_of(db, account, team_id)
    return [_member_out(m) for m in _members(db, team_id)]


@api.post("/{team_id}/members", response_model=MemberOut, status_code=status.HTTP_201_CREATED)
def add_member(team_id: ItemId, body: MemberIn, account: ApiAccount, db: Db) -> MemberOut:
    """Add a signed-up account by e-mail (owner only: 403 otherwise). 422 unknown e-mail, 409 already a member."""
    return _member_out(_add_member(db, _member_of(db, account, team_id), str(body.email)))


@api.delete("/{team_id}/members/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(team_id: ItemId, account_id: ItemId, account: ApiAccount, db: Db) -> Response:
    """Remove a member (owner only: 403 otherwise; a member may remove itself to leave). Access ends at once."""
    _remove_member(db, _member_of(db, account, team_id), account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- pages -----------------------------------------------------------------------------


def _team_page(
    request: Request, db: orm.Session, membership: Membership, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status_code: int = status.HTTP_200_OK,
) -> Response:
    context = {
        "membership": membership,
        "members": _members(db, membership.team_id),
        "workspaces": memberships(db, membership.account_id),
        "values": values or {"email": ""},
        "errors": errors or {},
    }
    return render(request, "dashboard.html", context, status_code=status_code)


@pages.get("/teams")
def team_page(request: Request, membership: PageMembership, db: Db) -> Response:
    """The current workspace: its members, adding and removing them, and switching workspaces."""
    return _team_page(request, db, membership)


@pages.post("/teams/members")
def team_add_member(request: Request, membership: PageMembership, form: CsrfForm, db: Db) -> Response:
    email = str(form.get("email") or "").strip()
    try:
        MemberIn(email=email)
    except pydantic.ValidationError:
        errors = {"email": "Enter a valid e-mail address."}
        return _team_page(request, db, membership, {"email": email}, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        added = _add_member(db, membership, email)
    except FieldErrors as exc:
        return _team_page(request, db, membership, {"email": email}, exc.errors, exc.status_code)
    flash(request, _("{email} is now a member of this workspace.", email=added.account.email), "success")
    return RedirectResponse("/teams", status_code=status.HTTP_303_SEE_OTHER)


@pages.post("/teams/members/{account_id}/remove")
def team_remove_member(account_id: ItemId, request: Request, membership: PageMembership, _form: CsrfForm, db: Db) -> Response:
    leaving = account_id == membership.account_id
    _remove_member(db, membership, account_id)
    if leaving:
        request.session.pop("team_id", None)
        flash(request, N_("You left the workspace."), "success")
        return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    flash(request, N_("Member removed."), "success")
    return RedirectResponse("/teams", status_code=status.HTTP_303_SEE_OTHER)


@pages.post("/teams/switch")
def team_switch(request: Request, membership: PageMembership, form: CsrfForm, db: Db) -> Response:
    raw = str(form.get("team_id") or "")
    target = membership_of(db, membership.account_id, int(raw)) if raw.isascii() and raw.isdigit() else None
    if target is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Workspace not found")
    switch_workspace(request, target)
    flash(request, _("Switched to {name}.", name=target.team.name), "success")
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
[% endif %]
