"""Passwords (argon2), API bearer tokens, page sessions and CSRF protection."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import orm
from starlette.datastructures import FormData

from app.config import settings
from app.db import get_db
from app.models import Account

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
    return _tokens.dumps({"aid": account.id})


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
    account = db.get(Account, payload.get("aid")) if isinstance(payload, dict) else None
    if account is None:
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
    request.session["csrf"] = secrets.token_urlsafe(32)


def logout_session(request: Request) -> None:
    request.session.clear()


def page_account(request: Request, db: Annotated[orm.Session, Depends(get_db)]) -> Account:
    """FastAPI dependency for pages: the logged-in account, else a redirect to /login."""
    account_id = request.session.get("account_id")
    account = db.get(Account, account_id) if isinstance(account_id, int) else None
    if account is None:
        # After login, come back to the page that was asked for (a form post cannot be replayed).
        next_path = "/"
        if request.method == "GET":
            next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(next_path)
    return account


def optional_page_account(request: Request, db: Annotated[orm.Session, Depends(get_db)]) -> Account | None:
    account_id = request.session.get("account_id")
    return db.get(Account, account_id) if isinstance(account_id, int) else None


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
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="CSRF token missing or invalid")
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
