"""The account's life after sign-up: e-mail verification, password reset and change, e-mail
change, logout everywhere, account deletion: JSON API under /api/auth, pages at /verify,
/password-reset and /account; the request and response shapes are in app.schemas.accounts.

Links in mails carry a `token` query parameter: the same token the JSON endpoints take. Tokens
are signed (SECRET_KEY), expire, and are single-use: a verification token names the address it
verifies (used once it is verified), a reset token is bound to the current password hash (used
once the password changes).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pydantic
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import orm

from app import login_limits, mail
from app.api.deps import ApiAccount, CsrfForm, Db, PageAccount
from app.core.config import settings
from app.core.security import authenticate, hash_password, login_session, logout_session, revoke_sessions, verify_password
[% if app.features.teams %]
from app.models import OWNER, Account, Membership, Team
[% else %]
from app.models import Account
[% endif %]
from app.i18n import _
from app.msg import N_
from app.schemas.accounts import (
    EmailChangeIn,
    EmailIn,
    Message,
    PasswordChangeIn,
    PasswordIn,
    ResetConfirmIn,
    TokenIn,
)
from app.templating import flash, render

VERIFY_MAX_AGE = 3 * 24 * 3600  # a verification link works for three days
RESET_MAX_AGE = 3600  # a password-reset link for one hour

api = APIRouter(prefix="/api/auth", tags=["auth"])
pages = APIRouter(include_in_schema=False)

_verify_tokens = URLSafeTimedSerializer(settings.secret_key, salt="verify-email")
_reset_tokens = URLSafeTimedSerializer(settings.secret_key, salt="password-reset")


# --- tokens and mails ------------------------------------------------------------------


def _password_tag(account: Account) -> str:
    """Changes whenever the password does: binds a reset token to one use."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def _link(request: Request, path: str, token: str) -> str:
    base = settings.public_url or str(request.base_url).rstrip("/")
    return f"{base}{path}?token={token}"


def send_verification(request: Request, account: Account) -> None:
    token = _verify_tokens.dumps({"aid": account.id, "email": account.email})
    link = _link(request, "/verify", token)
    mail.send(account.email, "Confirm your e-mail address",
              f"Open this link to confirm your e-mail address:\n\n{link}\n\nThe link works for three days.\n")


def _send_reset(request: Request, account: Account) -> None:
    token = _reset_tokens.dumps({"aid": account.id, "pw": _password_tag(account)})
    link = _link(request, "/password-reset/confirm", token)
    mail.send(account.email, "Reset your password",
              f"Open this link to choose a new password:\n\n{link}\n\n"
              "The link works for one hour, once. If you did not ask for it, ignore this mail.\n")


def _bad_token(detail: str = N_("This link is invalid or was already used.")) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)


def _load(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> dict[str, Any]:
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise _bad_token(N_("This link has expired: ask for a new one.")) from None
    except BadSignature:
        raise _bad_token() from None
    if not isinstance(data, dict) or not isinstance(data.get("aid"), int):
        raise _bad_token()
    return data


def _verify(db: orm.Session, token: str) -> Account:
    data = _load(_verify_tokens, token, VERIFY_MAX_AGE)
    account = db.get(Account, data["aid"])
    if account is None or account.email != data.get("email") or account.email_verified:
        raise _bad_token()
    account.email_verified = True
    db.commit()
    return account


def _reset(db: orm.Session, token: str, password: str) -> Account:
    data = _load(_reset_tokens, token, RESET_MAX_AGE)
    account = db.get(Account, data["aid"])
    if account is None or data.get("pw") != _password_tag(account):
        raise _bad_token()
    account.password_hash = hash_password(password)
    account.email_verified = True  # the mail reached its owner
    revoke_sessions(db, account)
    return account


def _ask_reset(request: Request, db: orm.Session, email: str) -> None:
    account = db.scalar(sa.select(Account).where(Account.email == email.strip().lower()))
    if account is not None:
        _send_reset(request, account)


def _check_password(account: Account, password: str) -> None:
    if not verify_password(account.password_hash, password):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=N_("The password is not right."))


def _change_password(db: orm.Session, account: Account, current: str, new: str) -> None:
    _check_password(account, current)
    account.password_hash = hash_password(new)
    revoke_sessions(db, account)


def _change_email(request: Request, db: orm.Session, account: Account, password: str, email: str) -> None:
    _check_password(account, password)
    email = email.strip().lower()
    if email != account.email:
        if db.scalar(sa.select(Account.id).where(Account.email == email)) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=N_("An account with this e-mail already exists."))
        account.email = email
        account.email_verified = False
        db.commit()
    send_verification(request, account)


def _delete_account(db: orm.Session, account: Account, password: str) -> None:
    """Deletes the account and its data[% if app.features.teams %]; a workspace it owns that has other members is handed over to the member who joined first[% endif %]."""
    _check_password(account, password)
[% if app.features.teams %]
    for team in db.scalars(sa.select(Team).where(Team.owner_id == account.id)).all():
        heir = db.scalar(
            sa.select(Membership)
            .where(Membership.team_id == team.id, Membership.account_id != account.id)
            .order_by(Membership.id)
            .limit(1)
        )
        if heir is not None:
            team.owner_id = heir.account_id
            heir.role = OWNER
    db.flush()
[% endif %]
    db.delete(account)
    db.commit()


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def throttle(request: Request, email: str) -> None:
    """429 with Retry-After when this account or client failed to log in too often recently."""
    wait = login_limits.retry_after(email, client_address(request))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=N_("Too many failed logins: try again later."),
            headers={"Retry-After": str(wait)},
        )


def login(request: Request, db: orm.Session, email: str, password: str) -> Account | None:
    """`authenticate`, limited: 429 past the limit; failures are counted."""
    throttle(request, email)
    account = authenticate(db, email, password)
    if account is None:
        login_limits.failed(email, client_address(request))
    else:
        login_limits.succeeded(email)
    return account


# --- API -------------------------------------------------------------------------------


@api.post("/verify", response_model=Message)
def verify(body: TokenIn, db: Db) -> Message:
    """Confirm an e-mail address with the token of the verification mail (400 if invalid, expired or used)."""
    _verify(db, body.token)
    return Message(detail=_("E-mail address confirmed."))


@api.post("/verify/resend", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
def resend_verification(request: Request, account: ApiAccount) -> Message:
    """Send the verification mail again."""
    if not account.email_verified:
        send_verification(request, account)
    return Message(detail=_("If the address is not confirmed yet, a mail is on its way."))


@api.post("/password-reset", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
def password_reset(body: EmailIn, request: Request, db: Db) -> Message:
    """Mail a password-reset link. Always 202, whether or not an account uses the address."""
    _ask_reset(request, db, str(body.email))
    return Message(detail=_("If an account uses this address, a mail with a link is on its way."))


@api.post("/password-reset/confirm", response_model=Message)
def password_reset_confirm(body: ResetConfirmIn, db: Db) -> Message:
    """Set a new password with the token of the reset mail; every session and token is revoked."""
    _reset(db, body.token, body.password)
    return Message(detail=_("Password changed: log in with the new one."))


@api.post("/password", response_model=Message)
def change_password(body: PasswordChangeIn, account: ApiAccount, db: Db) -> Message:
    """Change the password (403 if `current_password` is wrong); every session and token is revoked."""
    _change_password(db, account, body.current_password, body.new_password)
    return Message(detail=_("Password changed: log in with the new one."))


@api.post("/email", response_model=Message)
def change_email(body: EmailChangeIn, request: Request, account: ApiAccount, db: Db) -> Message:
    """Change the e-mail address (403 wrong password, 409 taken); the new one must be confirmed."""
    _change_email(request, db, account, body.password, str(body.email))
    return Message(detail=_("E-mail changed: confirm it with the link we sent."))


@api.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def api_logout(account: ApiAccount, db: Db) -> Response:
    """Revoke every API token and session of the account (log out everywhere)."""
    revoke_sessions(db, account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
def delete_me(body: PasswordIn, account: ApiAccount, db: Db) -> Response:
    """Delete the account and its data (403 if the password is wrong)."""
    _delete_account(db, account, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- pages -----------------------------------------------------------------------------


def _errors(exc: pydantic.ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        errors.setdefault(str(err["loc"][0]) if err["loc"] else "__all__", str(err["msg"]).removeprefix("Value error, "))
    return errors


@pages.get("/verify")
def verify_page(request: Request, db: Db, token: str = "") -> Response:
    try:
        _verify(db, token)
    except HTTPException as exc:
        return render(request, "error.html", {"status_code": 400, "message": exc.detail}, status_code=400)
    flash(request, N_("E-mail address confirmed."), "success")
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@pages.post("/verify/resend")
def resend_page(request: Request, account: PageAccount, _form: CsrfForm) -> Response:
    if not account.email_verified:
        send_verification(request, account)
    flash(request, N_("A new confirmation mail is on its way."), "success")
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/password-reset")
def reset_request_page(request: Request) -> Response:
    return render(request, "password_reset.html", {"sent": False, "errors": {}})


@pages.post("/password-reset")
def reset_request_submit(request: Request, form: CsrfForm, db: Db) -> Response:
    try:
        body = EmailIn(email=str(form.get("email") or "").strip())
    except pydantic.ValidationError as exc:
        return render(request, "password_reset.html", {"sent": False, "errors": _errors(exc)}, status_code=422)
    _ask_reset(request, db, str(body.email))
    return render(request, "password_reset.html", {"sent": True, "errors": {}})


@pages.get("/password-reset/confirm")
def reset_confirm_page(request: Request, token: str = "") -> Response:
    return render(request, "password_reset_confirm.html", {"token": token, "errors": {}})


@pages.post("/password-reset/confirm")
def reset_confirm_submit(request: Request, form: CsrfForm, db: Db) -> Response:
    token = str(form.get("token") or "")
    try:
        body = ResetConfirmIn(token=token, password=str(form.get("password") or ""))
        _reset(db, body.token, body.password)
    except pydantic.ValidationError as exc:
        return render(request, "password_reset_confirm.html", {"token": token, "errors": _errors(exc)}, status_code=422)
    except HTTPException as exc:
        return render(request, "password_reset_confirm.html", {"token": token, "errors": {"token": exc.detail}}, status_code=400)
    logout_session(request)
    flash(request, N_("Password changed: log in with the new one."), "success")
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)


def _account_page(request: Request, account: Account, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "account.html", {"account": account, "errors": errors or {}}, status_code=status_code)


@pages.get("/account")
def account_page(request: Request, account: PageAccount) -> Response:
    return _account_page(request, account)


@pages.post("/account/password")
def account_password(request: Request, account: PageAccount, form: CsrfForm, db: Db) -> Response:
    try:
        body = PasswordChangeIn(current_password=str(form.get("current_password") or ""),
                                new_password=str(form.get("new_password") or ""))
        _change_password(db, account, body.current_password, body.new_password)
    except pydantic.ValidationError as exc:
        return _account_page(request, account, _errors(exc), 422)
    except HTTPException as exc:
        return _account_page(request, account, {"current_password": exc.detail}, exc.status_code)
    login_session(request, account)  # this browser stays logged in; every other session ends
    flash(request, N_("Password changed. Other sessions and API tokens were logged out."), "success")
    return RedirectResponse("/account", status_code=status.HTTP_303_SEE_OTHER)


@pages.post("/account/email")
def account_email(request: Request, account: PageAccount, form: CsrfForm, db: Db) -> Response:
    try:
        body = EmailChangeIn(password=str(form.get("password") or ""), email=str(form.get("email") or "").strip())
        _change_email(request, db, account, body.password, str(body.email))
    except pydantic.ValidationError as exc:
        return _account_page(request, account, _errors(exc), 422)
    except HTTPException as exc:
        field = "email" if exc.status_code == status.HTTP_409_CONFLICT else "email_password"
        return _account_page(request, account, {field: exc.detail}, exc.status_code)
    flash(request, N_("E-mail changed: confirm it with the link we sent."), "success")
    return RedirectResponse("/account", status_code=status.HTTP_303_SEE_OTHER)


@pages.post("/account/delete")
def account_delete(request: Request, account: PageAccount, form: CsrfForm, db: Db) -> Response:
    try:
        _delete_account(db, account, str(form.get("password") or ""))
    except HTTPException as exc:
        return _account_page(request, account, {"delete_password": exc.detail}, exc.status_code)
    logout_session(request)
    flash(request, N_("Your account and its data were deleted."), "success")
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
