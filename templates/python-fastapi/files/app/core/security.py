"""Authentication: passwords (argon2), API bearer tokens, page sessions and CSRF tokens.

The FastAPI dependencies built on these (the current account, the CSRF-checked form) are in
`app.api.deps`[% if app.features.teams %]; which workspace a request acts in is `app.core.tenancy`[% endif %].
"""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import orm

from app.core.config import settings
from app.models import Account

# --- passwords -------------------------------------------------------------------------

def password_hasher(app_env: str) -> PasswordHasher:
    """argon2id with argon2-cffi's current recommended parameters; the test suite (APP_ENV=test)
    uses the cheapest profile so that it stays fast (tests/test_production.py checks the rest)."""
    return PasswordHasher.from_parameters(profiles.CHEAPEST) if app_env == "test" else PasswordHasher()


_hasher = password_hasher(settings.app_env)
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


class TokenError(Exception):
    """A bearer token that is malformed, expired or revoked; the message says which."""


def create_token(account: Account) -> str:
    """A signed bearer token carrying the account's `auth_version` (raising it revokes the token)."""
    return _tokens.dumps({"aid": account.id, "v": account.auth_version})


def token_account(db: orm.Session, token: str) -> Account:
    """The account of a valid bearer token; TokenError otherwise."""
    try:
        payload = _tokens.loads(token, max_age=settings.token_max_age)
    except SignatureExpired:
        raise TokenError("Token expired") from None
    except BadSignature:
        raise TokenError("Invalid token") from None
    aid = payload.get("aid") if isinstance(payload, dict) else None
    account = db.get(Account, aid) if isinstance(aid, int) else None
    if account is None or payload.get("v", 0) != account.auth_version:
        raise TokenError("Invalid token")
    return account


def revoke_sessions(db: orm.Session, account: Account) -> None:
    """Logout, password change, deletion: every session cookie and API token issued so far stops working."""
    account.auth_version += 1
    db.commit()


# --- page sessions ---------------------------------------------------------------------


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


def session_account(request: Request, db: orm.Session) -> Account | None:
    """The session's account, unless its sessions were revoked since this one began."""
    account_id = request.session.get("account_id")
    account = db.get(Account, account_id) if isinstance(account_id, int) else None
    if account is not None and request.session.get("auth_version", 0) != account.auth_version:
        request.session.clear()
        return None
    return account


def logout_session(request: Request) -> None:
    request.session.clear()


# --- CSRF ------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); every form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_matches(request: Request, sent: object) -> bool:
    """Whether a posted `csrf_token` is the session's (compared in constant time)."""
    expected = request.session.get("csrf")
    return isinstance(sent, str) and isinstance(expected, str) and hmac.compare_digest(sent, expected)
