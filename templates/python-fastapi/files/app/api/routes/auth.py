"""Sign-up, login, logout: JSON API under /api/auth (bearer tokens) and pages (session cookie)."""

from __future__ import annotations

from typing import Annotated

import pydantic
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError

from app.api.deps import ApiAccount, CsrfForm, Db, optional_page_account
from app.api.routes.account import login, send_verification
from app.core.security import create_token, hash_password, login_session, logout_session, revoke_sessions, safe_next
[% if app.features.teams %]
from app.core.tenancy import create_personal_workspace
[% endif %]
from app.models import Account
from app.msg import N_
from app.schemas.accounts import AccountOut, SignupIn, TokenOut
from app.templating import flash, render

api = APIRouter(prefix="/api/auth", tags=["auth"])
pages = APIRouter(include_in_schema=False)


def create_account(db: orm.Session, email: str, password: str) -> Account | None:
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
    account = create_account(db, body.email, body.password)
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
    account = None if errors else create_account(db, email, password)
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
