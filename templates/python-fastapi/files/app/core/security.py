[% if app.features.teams %]
"""Passwords (argon2), API bearer tokens, page sessions, CSRF protection and team workspaces."""
[% else %]
"""Passwords (argon2), API bearer tokens, page sessions and CSRF protection."""
[% endif %]

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

[% if app.features.teams %]
import sqlalchemy as sa
[% endif %]
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, [% if app.features.teams %]Header, [% endif %]HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import orm
from starlette.datastructures import FormData

from app.core.config import settings
from app.core.db import get_db
from app.msg import N_
[% if app.features.teams %]
from app.models import OWNER, Account, Membership, Team
[% else %]
from app.models import Account
[% endif %]

# --- passwords -------------------------------------------------------------------------

# argon2id with argon2-cffi's current recommended parameters; the test suite (APP_ENV=test)
# uses the cheapest profile so that it stays fast.
_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST) if settings.app_env == "test" else PasswordHasher()
# Verified against when an e-mail is unknown, so login takes the same time either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(db: orm.Session, email: str, password: str) -> Account | None:
    """The account for these credentials, or None. Rehashes outdated argon2 parameters."""
    account = db.query(Account).filter(Account.email == email.strip().lower()).one_or_none()
    if account is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(account.password_hash, password):
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        db.commit()
    return account


# --- API bearer tokens -----------------------------------------------------------------

_tokens = URLSafeTimedSerializer(settings.secret_key, salt="api-token")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def create_token(account: Account) -> str:
    """A signed bearer token carrying the account's `auth_version` (raising it revokes the token)."""
    return _tokens.dumps({"aid": account.id, "v": account.auth_version})


def revoke_sessions(db: orm.Session, account: Account) -> None:
    """Logout, password change, deletion: every session cookie and API token issued so far stops working."""
    account.auth_version += 1
    db.commit()


def _unauthorized(detail: str = "Not authenticated") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def api_account(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    db: Annotated[orm.Session, Depends(get_db)],
) -> Account:
    """FastAPI dependency for the JSON API: the account of a valid bearer token, else 401."""
    if not token:
        raise _unauthorized()
    try:
        payload = _tokens.loads(token, max_age=settings.token_max_age)
    except SignatureExpired:
        raise _unauthorized("Token expired") from None
    except BadSignature:
        raise _unauthorized("Invalid token") from None
    aid = payload.get("aid") if isinstance(payload, dict) else None
    account = db.get(Account, aid) if isinstance(aid, int) else None
    if account is None or payload.get("v", 0) != account.auth_version:
        raise _unauthorized("Invalid token")
    return account


ApiAccount = Annotated[Account, Depends(api_account)]

# --- page sessions ---------------------------------------------------------------------


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login (see app.main)."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def login_redirect_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str:
    """Only local paths are allowed after login (no open redirects)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def login_session(request: Request, account: Account) -> None:
    request.session.clear()  # new session on login: no fixation
    request.session["account_id"] = account.id
    request.session["auth_version"] = account.auth_version
    request.session["csrf"] = secrets.token_urlsafe(32)


def _session_account(request: Request, db: orm.Session) -> Account | None:
    """The session's account, unless its sessions were revoked since this one began."""
    account_id = request.session.get("account_id")
    account = db.get(Account, account_id) if isinstance(account_id, int) else None
    if account is not None and request.session.get("auth_version", 0) != account.auth_version:
        request.session.clear()
        return None
    return account


def logout_session(request: Request) -> None:
    request.session.clear()


def page_account(request: Request, db: Annotated[orm.Session, Depends(get_db)]) -> Account:
    """FastAPI dependency for pages: the logged-in account, else a redirect to /login."""
    account = _session_account(request, db)
    if account is None:
        # After login, come back to the page that was asked for (a form post cannot be replayed).
        next_path = "/"
        if request.method == "GET":
            next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(next_path)
    return account


def optional_page_account(request: Request, db: Annotated[orm.Session, Depends(get_db)]) -> Account | None:
    return _session_account(request, db)


PageAccount = Annotated[Account, Depends(page_account)]

# --- CSRF ------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); every form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_form(request: Request) -> FormData:
    """FastAPI dependency for page POSTs: the submitted form, after checking its CSRF token."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=N_("CSRF token missing or invalid"))
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
[% if app.features.teams %]

# --- team workspaces -------------------------------------------------------------------
#
# Every entity row belongs to a team (workspace). A request acts in ONE workspace, given by
# the caller's Membership row, which is looked up on every request: a removed member loses
# access at once. Pages use the workspace chosen with POST /teams/switch (kept in the session,
# default: the personal one); the API uses the `X-Workspace` header (a team id, default: the
# personal workspace).

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


def api_membership(
    account: ApiAccount,
    db: Annotated[orm.Session, Depends(get_db)],
    x_workspace: Annotated[
        int | None,
        Header(alias=WORKSPACE_HEADER, description="Id of the workspace (team) to act in; default: your personal workspace"),
    ] = None,
) -> Membership:
    """FastAPI dependency for the JSON API: the caller's membership of the chosen workspace, else 403."""
    if x_workspace is None:
        return personal_membership(db, account)
    membership = membership_of(db, account.id, x_workspace)
    if membership is None:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="You are not a member of this workspace.")
    return membership


def page_membership(request: Request, account: PageAccount, db: Annotated[orm.Session, Depends(get_db)]) -> Membership:
    """FastAPI dependency for pages: the membership of the session's workspace (default: the personal one).

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


ApiMembership = Annotated[Membership, Depends(api_membership)]
PageMembership = Annotated[Membership, Depends(page_membership)]
[% endif %]
