[% if app.features.teams %]
"""Sign-up, login, logout and team workspaces: JSON API (bearer tokens) and pages (session cookie)."""
[% else %]
"""Sign-up, login, logout: JSON API (bearer tokens) and pages (session cookie)."""
[% endif %]

from __future__ import annotations

from typing import Annotated

import pydantic
[% if app.features.teams %]
import sqlalchemy as sa
[% endif %]
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError

[% if app.features.teams %]
from app.crud import FieldErrors, ItemId
[% endif %]
from app.core.db import get_db
[% if app.features.teams %]
from app.models import MEMBER, Account, Membership
[% else %]
from app.models import Account
[% endif %]
from app.core.security import (
    ApiAccount,
[% if app.features.teams %]
    ApiMembership,
[% endif %]
    CsrfForm,
[% if app.features.teams %]
    PageMembership,
[% endif %]
[% if app.features.teams %]
    create_personal_workspace,
[% endif %]
    create_token,
    hash_password,
    login_session,
    logout_session,
    optional_page_account,
    revoke_sessions,
[% if app.features.teams %]
    membership_of,
    memberships,
[% endif %]
    safe_next,
[% if app.features.teams %]
    switch_workspace,
[% endif %]
)
from app.api.routes.account import login, send_verification
[% if app.features.teams %]
from app.i18n import _
[% endif %]
from app.msg import N_
from app.templating import flash, render

PASSWORD_MIN = 8
PASSWORD_MAX = 256

Db = Annotated[orm.Session, Depends(get_db)]
api = APIRouter(prefix="/api/auth", tags=["auth"])
pages = APIRouter(include_in_schema=False)
[% if app.features.teams %]
teams_api = APIRouter(prefix="/api/teams", tags=["teams"])
[% endif %]


class SignupIn(pydantic.BaseModel):
    email: pydantic.EmailStr
    password: Annotated[str, pydantic.StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class AccountOut(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(from_attributes=True)
    id: int
    email: str


class TokenOut(pydantic.BaseModel):
    access_token: str
    token_type: str = "bearer"


def _create_account(db: orm.Session, email: str, password: str) -> Account | None:
    """A new account[% if app.features.teams %] with its personal workspace[% endif %], or None when the e-mail is already registered."""
    email = email.strip().lower()
    if db.query(Account.id).filter(Account.email == email).first() is not None:
        return None
    account = Account(email=email, password_hash=hash_password(password))
    db.add(account)
    try:
[% if app.features.teams %]
        db.flush()
        create_personal_workspace(db, account)
[% endif %]
        db.commit()
    except IntegrityError:  # registered concurrently
        db.rollback()
        return None
    return account


# --- API -------------------------------------------------------------------------------


@api.post("/signup", response_model=AccountOut, status_code=status.HTTP_201_CREATED)
def signup(body: SignupIn, request: Request, db: Db) -> Account:
    """Create an account (JSON `email`, `password`) and mail a verification link. 409 when the e-mail is taken."""
    account = _create_account(db, body.email, body.password)
    if account is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=N_("An account with this e-mail already exists."))
    send_verification(request, account)
    return account


@api.post("/token", response_model=TokenOut)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, db: Db) -> TokenOut:
    """OAuth2 password flow: `username` (the e-mail) and `password` as a form; returns a bearer token.

    429 with `Retry-After` after too many failed logins for the account or from the client address.
    """
    account = login(request, db, form.username, form.password)
    if account is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect e-mail or password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return TokenOut(access_token=create_token(account))


@api.get("/me", response_model=AccountOut)
def me(account: ApiAccount) -> Account:
    """The account of the bearer token."""
    return account


# --- pages -----------------------------------------------------------------------------


@pages.get("/signup")
def signup_page(request: Request) -> Response:
    return render(request, "signup.html", {"values": {"email": ""}, "errors": {}})


@pages.post("/signup")
def signup_submit(request: Request, form: CsrfForm, db: Db) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    errors: dict[str, str] = {}
    try:
        SignupIn(email=email, password=password)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            errors.setdefault(str(err["loc"][0]), str(err["msg"]).removeprefix("Value error, "))
    account = None if errors else _create_account(db, email, password)
    if account is None and not errors:
        errors["email"] = N_("An account with this e-mail already exists.")
    if account is None:
        return render(request, "signup.html", {"values": {"email": email}, "errors": errors}, status_code=422)
    send_verification(request, account)
    login_session(request, account)
    flash(request, N_("Welcome! Your account is ready: confirm your e-mail address with the link we sent."), "success")
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    return render(request, "login.html", {"values": {"email": ""}, "next": safe_next(next), "error": None})


@pages.post("/login")
def login_submit(request: Request, form: CsrfForm, db: Db) -> Response:
    email = str(form.get("email") or "")
    next_path = safe_next(str(form.get("next") or "/"))
    try:
        account = login(request, db, email, str(form.get("password") or ""))
    except HTTPException as exc:  # 429: too many failed logins
        context = {"values": {"email": email}, "next": next_path, "error": exc.detail}
        return render(request, "login.html", context, status_code=exc.status_code, headers=exc.headers)
    if account is None:
        context = {"values": {"email": email}, "next": next_path, "error": N_("Incorrect e-mail or password.")}
        return render(request, "login.html", context, status_code=401)
    login_session(request, account)
    return RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/logout")
def logout_page(request: Request) -> Response:
    """A confirmation button: logging out is a POST, so other sites cannot log users out."""
    return render(request, "logout.html")


@pages.post("/logout")
def logout(request: Request, _form: CsrfForm, db: Db) -> Response:
    """Ends this session and revokes every other session and API token of the account (a copied cookie stops working)."""
    account = optional_page_account(request, db)
    if account is not None:
        revoke_sessions(db, account)
    logout_session(request)
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
[% if app.features.teams %]


# --- team workspaces: JSON API ------------------------------------------------------------


class TeamOut(pydantic.BaseModel):
    id: int
    name: str
    role: str


class MemberOut(pydantic.BaseModel):
    account_id: int
    email: str
    role: str


class MemberIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    email: pydantic.EmailStr


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


@teams_api.get("", response_model=list[TeamOut])
def list_teams(account: ApiAccount, db: Db) -> list[TeamOut]:
    """The workspaces you belong to (send one's `id` as the `X-Workspace` header to act in it)."""
    return [_team_out(m) for m in memberships(db, account.id)]


@teams_api.get("/current", response_model=TeamOut)
def current_team(membership: ApiMembership) -> TeamOut:
    """The workspace a request acts in: the `X-Workspace` header (403 if you are not a member), else your personal one."""
    return _team_out(membership)


@teams_api.get("/{team_id}/members", response_model=list[MemberOut])
def list_members(team_id: ItemId, account: ApiAccount, db: Db) -> list[MemberOut]:
    """The members of a workspace you belong to; 404 for any other."""
    _member_of(db, account, team_id)
    return [_member_out(m) for m in _members(db, team_id)]


@teams_api.post("/{team_id}/members", response_model=MemberOut, status_code=status.HTTP_201_CREATED)
def add_member(team_id: ItemId, body: MemberIn, account: ApiAccount, db: Db) -> MemberOut:
    """Add a signed-up account by e-mail (owner only: 403 otherwise). 422 unknown e-mail, 409 already a member."""
    return _member_out(_add_member(db, _member_of(db, account, team_id), str(body.email)))


@teams_api.delete("/{team_id}/members/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(team_id: ItemId, account_id: ItemId, account: ApiAccount, db: Db) -> Response:
    """Remove a member (owner only: 403 otherwise; a member may remove itself to leave). Access ends at once."""
    _remove_member(db, _member_of(db, account, team_id), account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- team workspaces: pages -----------------------------------------------------------------


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
