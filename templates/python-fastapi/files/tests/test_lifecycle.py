"""The account's life: e-mail verification, password reset and change, e-mail change, logout
everywhere, deletion, and failed-login limiting. Mails are read from app.mail.OUTBOX (no
SMTP_URL in tests); an old session cookie and an old API token are replayed after each revocation.
"""

import re

from fastapi.testclient import TestClient

from app import mail
from app.core.config import settings
from app.i18n import _
from tests.helpers import PASSWORD, User, csrf_of, new_client, new_user

NEW_PASSWORD = "a brand new passphrase"


def _token_of_last_mail_to(email: str) -> str:
    message = next(m for m in reversed(mail.OUTBOX) if m["To"] == email)
    match = re.search(r"[?&]token=([A-Za-z0-9_.\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def _copy_of(browser: TestClient) -> TestClient:
    """Another client holding the same session cookie (as a stolen or captured cookie would)."""
    thief = new_client()
    thief.cookies.update(browser.cookies)
    return thief


def _revoked(user: User, old_api: TestClient, old_cookie: TestClient) -> None:
    assert old_api.get("/api/auth/me").status_code == 401
    response = old_cookie.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def _old_credentials(user: User) -> tuple[TestClient, TestClient]:
    old_api = new_client()
    old_api.headers["Authorization"] = user.api.headers["Authorization"]
    assert old_api.get("/api/auth/me").status_code == 200
    old_cookie = _copy_of(user.browser)
    assert old_cookie.get("/").status_code == 200
    return old_api, old_cookie


def test_signup_mails_a_single_use_verification_link() -> None:
    user = new_user("verify", sign_up=True)
    assert "data-unverified" in user.browser.get("/").text  # usable, but says so
    token = _token_of_last_mail_to(user.email)
    assert user.api.post("/api/auth/verify", json={"token": token}).status_code == 200
    assert "data-unverified" not in user.browser.get("/").text
    assert user.api.post("/api/auth/verify", json={"token": token}).status_code == 400  # used
    assert user.api.post("/api/auth/verify", json={"token": token[:-2] + "xx"}).status_code == 400


def test_password_reset_by_mail_revokes_sessions_and_works_once() -> None:
    user = new_user("reset")
    old_api, old_cookie = _old_credentials(user)
    anon = new_client()
    assert anon.post("/api/auth/password-reset", json={"email": "nobody-here@example.com"}).status_code == 202
    assert anon.post("/api/auth/password-reset", json={"email": user.email}).status_code == 202
    token = _token_of_last_mail_to(user.email)
    assert not any(m["To"] == "nobody-here@example.com" for m in mail.OUTBOX)
    confirm = anon.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert confirm.status_code == 200, confirm.text
    _revoked(user, old_api, old_cookie)
    again = anon.post("/api/auth/password-reset/confirm", json={"token": token, "password": "yet another one!"})
    assert again.status_code == 400  # single use
    assert anon.post("/api/auth/token", data={"username": user.email, "password": PASSWORD}).status_code == 401
    assert anon.post("/api/auth/token", data={"username": user.email, "password": NEW_PASSWORD}).status_code == 200


def test_password_reset_pages() -> None:
    user = new_user("resetpage")
    anon = new_client()
    page = anon.get("/password-reset")
    assert page.status_code == 200
    sent = anon.post("/password-reset", data={"email": user.email, "csrf_token": csrf_of(page.text)})
    assert sent.status_code == 200
    assert _("If an account uses this address, a mail with a link is on its way. The link works for one hour.") in sent.text
    token = _token_of_last_mail_to(user.email)
    form = anon.get("/password-reset/confirm", params={"token": token})
    assert f'value="{token}"' in form.text
    done = anon.post("/password-reset/confirm",
                     data={"token": token, "password": NEW_PASSWORD, "csrf_token": csrf_of(form.text)})
    assert done.status_code == 303 and done.headers["location"] == "/login"


def test_changing_the_password_revokes_other_sessions_and_tokens() -> None:
    user = new_user("change")
    old_api, old_cookie = _old_credentials(user)
    wrong = user.api.post("/api/auth/password", json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403
    assert user.api.post("/api/auth/password",
                         json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}).status_code == 200
    _revoked(user, old_api, old_cookie)


def test_changing_the_password_on_the_page_keeps_this_browser_only() -> None:
    user = new_user("changepage")
    old_api, old_cookie = _old_credentials(user)
    response = user.post_form("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 303, response.text
    assert user.browser.get("/account").status_code == 200
    _revoked(user, old_api, old_cookie)


def test_logout_revokes_the_cookie_and_tokens() -> None:
    user = new_user("logout")
    old_api, old_cookie = _old_credentials(user)
    assert user.post_form("/logout", {}).status_code == 303
    _revoked(user, old_api, old_cookie)
    other = new_user("apilogout")
    old_api, old_cookie = _old_credentials(other)
    assert other.api.post("/api/auth/logout").status_code == 204
    _revoked(other, old_api, old_cookie)


def test_changing_the_email_asks_to_confirm_it_again() -> None:
    user = new_user("email", sign_up=True)
    _token_of_last_mail_to(user.email)
    new_email = "renamed-" + user.email
    assert user.api.post("/api/auth/email", json={"password": "wrong password", "email": new_email}).status_code == 403
    assert user.api.post("/api/auth/email", json={"password": PASSWORD, "email": new_email}).status_code == 200
    assert user.api.get("/api/auth/me").json()["email"] == new_email
    token = _token_of_last_mail_to(new_email)
    assert user.api.post("/api/auth/verify", json={"token": token}).status_code == 200
    other = new_user("taken")
    taken = other.api.post("/api/auth/email", json={"password": PASSWORD, "email": new_email.upper()})
    assert taken.status_code == 409


def test_deleting_the_account_deletes_it_and_revokes_access() -> None:
    user = new_user("delete")
    old_api, old_cookie = _old_credentials(user)
    assert user.api.request("DELETE", "/api/auth/me", json={"password": "wrong password"}).status_code == 403
    assert user.api.request("DELETE", "/api/auth/me", json={"password": PASSWORD}).status_code == 204
    _revoked(user, old_api, old_cookie)
    anon = new_client()
    assert anon.post("/api/auth/token", data={"username": user.email, "password": PASSWORD}).status_code == 401
    # The address is free again.
    assert anon.post("/api/auth/signup", json={"email": user.email, "password": PASSWORD}).status_code == 201


[% if app.features.teams %]
def test_deleting_an_owner_hands_a_shared_workspace_to_the_first_member() -> None:
    owner, member = new_user("leaving"), new_user("heir")
    team_id = owner.api.get("/api/teams/current").json()["id"]
    assert owner.api.post(f"/api/teams/{team_id}/members", json={"email": member.email}).status_code == 201
    assert owner.api.request("DELETE", "/api/auth/me", json={"password": PASSWORD}).status_code == 204
    teams = {t["id"]: t["role"] for t in member.api.get("/api/teams").json()}
    assert teams.get(team_id) == "owner", teams


[% endif %]
def test_failed_logins_are_limited_per_account_and_per_client() -> None:
    user = new_user("limited")
    attacker = new_client(("198.51.100.7", 4000))
    for _attempt in range(settings.login_max_failures):
        assert attacker.post("/api/auth/token", data={"username": user.email, "password": "guess"}).status_code == 401
    refused = attacker.post("/api/auth/token", data={"username": user.email, "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # Per account: the right password from elsewhere waits too.
    elsewhere = new_client(("198.51.100.8", 4000))
    assert elsewhere.post("/api/auth/token", data={"username": user.email, "password": PASSWORD}).status_code == 429
    page = elsewhere.get("/login")
    login = elsewhere.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert login.status_code == 429 and "Retry-After" in login.headers
    # Per client address: other accounts from the same address are refused as well.
    other = new_user("bystander")
    assert attacker.post("/api/auth/token", data={"username": other.email, "password": PASSWORD}).status_code == 429
    metrics = new_client().get("/metrics").text
    assert re.search(r"^login_throttled_total [1-9]", metrics, re.M), metrics[-2000:]
    assert re.search(r"^login_failures_total [1-9]", metrics, re.M)


def test_failed_logins_are_counted_for_every_worker(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Another worker (its own engine and connections, the same database) records failures:
    this one refuses the next login, so the limit does not multiply with the workers."""
    import sqlalchemy as sa
    from sqlalchemy import orm

    from app import login_limits
    from app.core.db import make_engine

    user = new_user("shared")
    other_worker = make_engine(settings.database_url)
    try:
        monkeypatch.setattr(login_limits, "SessionLocal", orm.sessionmaker(bind=other_worker))
        for _attempt in range(settings.login_max_failures - 1):
            login_limits.failed(user.email, "203.0.113.20")
        monkeypatch.undo()
        client = new_client(("203.0.113.21", 4000))
        # The last failure allowed is made here: counts from both workers add up.
        assert client.post("/api/auth/token", data={"username": user.email, "password": "guess"}).status_code == 401
        refused = client.post("/api/auth/token", data={"username": user.email, "password": PASSWORD})
        assert refused.status_code == 429, refused.text
        with other_worker.connect() as connection:
            rows = connection.scalar(sa.text("SELECT count(*) FROM login_failures WHERE key = :k"), {"k": "account:" + user.email})
        assert rows == settings.login_max_failures
    finally:
        other_worker.dispose()
