"""FastAPI dependencies of the routes: the database session, the current account (API: bearer
token; pages: session cookie)[% if app.features.teams %], the workspace a request acts in[% endif %] and the CSRF-checked form.

Use them as parameter types: `db: Db`, `account: ApiAccount` or `account: PageAccount`[% if app.features.teams %],
`member: ApiMembership` or `member: PageMembership` (entity rows are scoped to `member.team_id`)[% endif %],
and `form: CsrfForm` on page POSTs.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, [% if app.features.teams %]Header, [% endif %]HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import orm
from starlette.datastructures import FormData

[% if app.features.teams %]
from app.core import tenancy
[% endif %]
from app.core.db import get_db
from app.core.security import TokenError, csrf_matches, session_account, token_account
from app.models import Account[% if app.features.teams %], Membership[% endif %]

from app.msg import N_

Db = Annotated[orm.Session, Depends(get_db)]

# --- the API: bearer tokens ---------------------------------------------------------------

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def _unauthorized(detail: str = "Not authenticated") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def api_account(token: Annotated[str | None, Depends(oauth2_scheme)], db: Db) -> Account:
    """The account of a valid bearer token, else 401."""
    if not token:
        raise _unauthorized()
    try:
        return token_account(db, token)
    except TokenError as exc:
        raise _unauthorized(str(exc)) from None


ApiAccount = Annotated[Account, Depends(api_account)]

# --- pages: the session cookie ------------------------------------------------------------


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login (see app.main)."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def login_redirect_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def page_account(request: Request, db: Db) -> Account:
    """The logged-in account, else a redirect to /login."""
    account = session_account(request, db)
    if account is None:
        # After login, come back to the page that was asked for (a form post cannot be replayed).
        next_path = "/"
        if request.method == "GET":
            next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(next_path)
    return account


def optional_page_account(request: Request, db: Db) -> Account | None:
    return session_account(request, db)


PageAccount = Annotated[Account, Depends(page_account)]


async def csrf_form(request: Request) -> FormData:
    """The submitted form of a page POST, after checking its CSRF token (else 403)."""
    form = await request.form()
    if not csrf_matches(request, form.get("csrf_token")):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=N_("CSRF token missing or invalid"))
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
[% if app.features.teams %]

# --- the workspace a request acts in (app.core.tenancy) ------------------------------------


def api_membership(
    account: ApiAccount,
    db: Db,
    x_workspace: Annotated[
        int | None,
        Header(alias=tenancy.WORKSPACE_HEADER, description="Id of the workspace (team) to act in; default: your personal workspace"),
    ] = None,
) -> Membership:
    """The caller's membership of the `X-Workspace` workspace (403 when not a member), else of the personal one."""
    return tenancy.requested_membership(db, account, x_workspace)


def page_membership(request: Request, account: PageAccount, db: Db) -> Membership:
    """The membership of the session's workspace (default: the personal one)."""
    return tenancy.session_membership(request, db, account)


ApiMembership = Annotated[Membership, Depends(api_membership)]
PageMembership = Annotated[Membership, Depends(page_membership)]
[% endif %]
