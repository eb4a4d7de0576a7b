"""Sign-up, tokens, login and logout."""

from fastapi.testclient import TestClient

from tests.helpers import PASSWORD, User, csrf_of, new_user


def test_signup_api(anon: TestClient) -> None:
    response = anon.post("/api/auth/signup", json={"email": "New.Person@Example.com", "password": PASSWORD})
    assert response.status_code == 201
    assert response.json()["email"] == "new.person@example.com"
    assert "password" not in response.text
    again = anon.post("/api/auth/signup", json={"email": "new.person@example.com", "password": PASSWORD})
    assert again.status_code == 409


def test_signup_api_validates(anon: TestClient) -> None:
    assert anon.post("/api/auth/signup", json={"email": "not-an-email", "password": PASSWORD}).status_code == 422
    assert anon.post("/api/auth/signup", json={"email": "short@example.com", "password": "short"}).status_code == 422
    assert anon.post("/api/auth/signup", json={}).status_code == 422


def test_token_and_me(anon: TestClient, user_a: User) -> None:
    response = anon.post("/api/auth/token", data={"username": user_a.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = anon.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == user_a.email


def test_token_rejects_bad_credentials(anon: TestClient, user_a: User) -> None:
    assert anon.post("/api/auth/token", data={"username": user_a.email, "password": "wrong password"}).status_code == 401
    assert anon.post("/api/auth/token", data={"username": "nobody@example.com", "password": PASSWORD}).status_code == 401
    assert anon.get("/api/auth/me").status_code == 401


def test_passwords_are_hashed_with_argon2(user_a: User) -> None:
    from app.db import SessionLocal
    from app.models import Account

    with SessionLocal() as db:
        account = db.query(Account).filter_by(email=user_a.email).one()
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_signup_page_logs_in(anon: TestClient) -> None:
    page = anon.get("/signup")
    assert page.status_code == 200
    response = anon.post(
        "/signup", data={"email": "page-signup@example.com", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303
    assert anon.get("/").status_code == 200


def test_signup_page_shows_errors(anon: TestClient) -> None:
    token = csrf_of(anon.get("/signup").text)
    response = anon.post("/signup", data={"email": "bad", "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert 'class="error"' in response.text


def test_login_page_rejects_bad_password(anon: TestClient, user_a: User) -> None:
    token = csrf_of(anon.get("/login").text)
    response = anon.post("/login", data={"email": user_a.email, "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Incorrect" in response.text
    assert anon.get("/").status_code == 303


def test_login_requires_csrf_token(anon: TestClient, user_a: User) -> None:
    anon.get("/login")
    response = anon.post("/login", data={"email": user_a.email, "password": PASSWORD})
    assert response.status_code == 403


def test_login_redirects_back_but_never_off_site(anon: TestClient, user_a: User) -> None:
    first = anon.get("/login", params={"next": "//evil.example/"})
    assert 'name="next" value="/"' in first.text
    token = csrf_of(first.text)
    data = {"email": user_a.email, "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/"}
    response = anon.post("/login", data=data)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_protected_page_redirects_to_login_with_next(anon: TestClient) -> None:
    response = anon.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/")


def test_logout_ends_the_session() -> None:
    user = new_user("leaver")
    assert user.browser.get("/").status_code == 200
    assert user.browser.get("/logout").status_code == 200
    assert user.browser.post("/logout").status_code == 403  # CSRF protected
    response = user.post_form("/logout", {})
    assert response.status_code == 303
    assert user.browser.get("/").status_code == 303
