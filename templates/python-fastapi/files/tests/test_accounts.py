[% if app.features.teams %]
"""Sign-up, tokens, login and logout; team workspaces (members, switching, isolation)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.models import ENTITIES
from app.i18n import _
from tests.helpers import PASSWORD, User, create, csrf_of, new_user, payload
[% else %]
"""Sign-up, tokens, login and logout."""

from fastapi.testclient import TestClient

from app.i18n import _
from tests.helpers import PASSWORD, User, csrf_of, new_user
[% endif %]


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
    from app.core.db import SessionLocal
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
    assert _("Incorrect e-mail or password.") in response.text
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
[% if app.features.teams %]


# --- team workspaces -----------------------------------------------------------------------

# An entity whose rows the tests create: one without `ref` fields if there is one (its rows
# need no other rows of the same workspace).
META = next((e for e in ENTITIES if not any(f.kind == "ref" for f in e.fields)), ENTITIES[0])
API = f"/api/{META.route}"
PAGES = f"/{META.route}"


def _ws(team_id: int) -> dict[str, str]:
    """The header that makes an API request act in a workspace."""
    return {"X-Workspace": str(team_id)}


def _team_id(user: User) -> int:
    """The id of the user's personal workspace."""
    response = user.api.get("/api/teams/current")
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def _change(row: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body that changes the row (a text field if there is one)."""
    text = next((f for f in META.fields if f.kind == "text" and not f.unique), None)
    return {text.name: f"Changed {row['id']}"} if text else {}


def _switch(user: User, team_id: int) -> None:
    response = user.post_form("/teams/switch", {"team_id": str(team_id)})
    assert response.status_code == 303, response.text


@pytest.fixture
def team() -> tuple[User, User, int]:
    """(owner, member, team id): the owner's personal workspace, with a second account added to it."""
    owner, member = new_user("owner"), new_user("member")
    team_id = _team_id(owner)
    response = owner.api.post(f"/api/teams/{team_id}/members", json={"email": member.email})
    assert response.status_code == 201, response.text
    assert response.json() == {"account_id": response.json()["account_id"], "email": member.email, "role": "member"}
    return owner, member, team_id


def test_signup_creates_a_personal_workspace() -> None:
    user = new_user("solo")
    teams = user.api.get("/api/teams").json()
    assert len(teams) == 1
    assert teams[0]["role"] == "owner"
    assert teams[0]["id"] == _team_id(user)
    members = user.api.get(f"/api/teams/{teams[0]['id']}/members").json()
    assert [(m["email"], m["role"]) for m in members] == [(user.email, "owner")]
    page = user.browser.get("/teams")
    assert page.status_code == 200
    assert 'href="/teams"' in user.browser.get("/").text  # the nav links to the team page
    assert 'action="/teams/members"' in page.text  # the owner can add members


def test_member_sees_and_changes_the_workspace_rows_through_the_api(team: tuple[User, User, int]) -> None:
    owner, member, team_id = team
    row = create(owner, META)
    url = f"{API}/{row['id']}"
    # Without the header, the member acts in its own personal workspace: the row is not there.
    assert member.api.get(url).status_code == 404
    assert member.api.get(url, headers=_ws(team_id)).json() == row
    listed = member.api.get(API, params={"per_page": 100}, headers=_ws(team_id)).json()
    assert row["id"] in [r["id"] for r in listed["items"]]
    assert member.api.get("/api/teams/current", headers=_ws(team_id)).json()["id"] == team_id
    assert team_id in [t["id"] for t in member.api.get("/api/teams").json()]

    patched = member.api.patch(url, json=_change(row), headers=_ws(team_id))
    assert patched.status_code == 200, patched.text
    assert owner.api.get(url).json() == patched.json()
    # What a member creates in the workspace belongs to the workspace: the owner sees it.
    theirs = member.api.post(API, json=payload(member, META), headers=_ws(team_id))
    assert theirs.status_code == 201, theirs.text
    assert owner.api.get(f"{API}/{theirs.json()['id']}").status_code == 200
    assert member.api.get(f"{API}/{theirs.json()['id']}").status_code == 404  # not in the personal one
    assert member.api.delete(url, headers=_ws(team_id)).status_code == 204
    assert owner.api.get(url).status_code == 404


def test_member_sees_the_workspace_rows_on_pages_after_switching(team: tuple[User, User, int]) -> None:
    owner, member, team_id = team
    row = create(owner, META)
    edit = f"{PAGES}/{row['id']}/edit"
    assert member.browser.get(edit).status_code == 404  # still in the personal workspace
    assert f'<option value="{team_id}"' in member.browser.get("/teams").text
    _switch(member, team_id)
    assert f"Workspace of {owner.email}" in member.browser.get("/").text
    assert f'href="{edit}"' in member.browser.get(PAGES, params={"sort": "-id"}).text
    assert member.browser.get(edit).status_code == 200
    assert member.post_form(f"{PAGES}/{row['id']}/delete", {}).status_code == 303
    assert owner.api.get(f"{API}/{row['id']}").status_code == 404
    _switch(member, _team_id(member))  # and back
    assert f"Workspace of {member.email}" in member.browser.get("/").text


def test_non_members_cannot_read_change_or_delete_workspace_rows(team: tuple[User, User, int]) -> None:
    owner, _member, team_id = team
    stranger = new_user("stranger")
    row = create(owner, META)
    url = f"{API}/{row['id']}"
    # API, naming the workspace: 403 for every request.
    for method, path, body in [("GET", API, None), ("POST", API, payload(stranger, META)), ("GET", url, None),
                               ("PUT", url, payload(stranger, META)), ("PATCH", url, {}), ("DELETE", url, None)]:
        response = stranger.api.request(method, path, json=body, headers=_ws(team_id))
        assert response.status_code == 403, (method, path, response.text)
    # API, in its own workspace: the row does not exist.
    assert stranger.api.get(url).status_code == 404
    assert stranger.api.patch(url, json={}).status_code == 404
    assert stranger.api.delete(url).status_code == 404
    assert stranger.api.get(f"/api/teams/{team_id}/members").status_code == 404
    assert stranger.api.post(f"/api/teams/{team_id}/members", json={"email": stranger.email}).status_code == 404
    # Pages: cannot switch to the workspace, nor reach the row.
    assert stranger.post_form("/teams/switch", {"team_id": str(team_id)}).status_code == 404
    assert stranger.browser.get(f"{PAGES}/{row['id']}/edit").status_code == 404
    assert stranger.post_form(f"{PAGES}/{row['id']}/edit", {}).status_code == 404
    assert stranger.post_form(f"{PAGES}/{row['id']}/delete", {}).status_code == 404
    assert f"Workspace of {owner.email}" not in stranger.browser.get("/teams").text
    assert owner.api.get(url).json() == row  # untouched


def test_removed_member_loses_access_at_once(team: tuple[User, User, int]) -> None:
    owner, member, team_id = team
    row = create(owner, META)
    url, edit = f"{API}/{row['id']}", f"{PAGES}/{row['id']}/edit"
    _switch(member, team_id)
    assert member.browser.get(edit).status_code == 200
    assert member.api.get(url, headers=_ws(team_id)).status_code == 200
    member_id = next(m["account_id"] for m in owner.api.get(f"/api/teams/{team_id}/members").json()
                     if m["email"] == member.email)

    assert owner.post_form(f"/teams/members/{member_id}/remove", {}).status_code == 303
    assert member.email not in owner.browser.get("/teams").text
    assert member.api.get(url, headers=_ws(team_id)).status_code == 403
    assert member.api.patch(url, json={}, headers=_ws(team_id)).status_code == 403
    assert member.api.delete(url, headers=_ws(team_id)).status_code == 403
    assert team_id not in [t["id"] for t in member.api.get("/api/teams").json()]
    # The session still names the workspace: the pages fall back to the personal one.
    assert member.browser.get(edit).status_code == 404
    assert f'href="{edit}"' not in member.browser.get(PAGES, params={"sort": "-id"}).text
    assert member.post_form(f"{PAGES}/{row['id']}/delete", {}).status_code == 404
    assert owner.api.get(url).json() == row


def test_only_the_owner_adds_and_removes_members(team: tuple[User, User, int]) -> None:
    owner, member, team_id = team
    other = new_user("other")
    members = f"/api/teams/{team_id}/members"
    assert member.api.post(members, json={"email": other.email}).status_code == 403
    assert owner.api.post(members, json={"email": other.email}).status_code == 201
    ids = {m["email"]: m["account_id"] for m in owner.api.get(members).json()}
    assert member.api.delete(f"{members}/{ids[other.email]}").status_code == 403
    assert member.api.delete(f"{members}/{ids[owner.email]}").status_code == 403
    assert owner.api.delete(f"{members}/{ids[owner.email]}").status_code == 409  # the owner stays

    _switch(member, team_id)
    page = member.browser.get("/teams").text
    assert 'action="/teams/members"' not in page  # no add form for members
    assert f'action="/teams/members/{ids[other.email]}/remove"' not in page
    assert member.post_form("/teams/members", {"email": new_user("late").email}).status_code == 403
    assert member.post_form(f"/teams/members/{ids[other.email]}/remove", {}).status_code == 403
    assert {m["email"] for m in owner.api.get(members).json()} == {owner.email, member.email, other.email}

    # A member may leave.
    assert member.api.delete(f"{members}/{ids[member.email]}").status_code == 204
    assert member.api.get(API, headers=_ws(team_id)).status_code == 403


def test_owner_adds_members_on_the_team_page() -> None:
    owner, friend = new_user("page-owner"), new_user("friend")
    response = owner.post_form("/teams/members", {"email": friend.email.upper()})
    assert response.status_code == 303, response.text
    assert friend.email in owner.browser.get("/teams").text
    again = owner.post_form("/teams/members", {"email": friend.email})
    assert again.status_code == 409
    assert 'id="e-email"' in again.text
    for bad in ("nobody@example.com", "not-an-email"):
        response = owner.post_form("/teams/members", {"email": bad})
        assert response.status_code == 422, bad
        assert 'id="e-email"' in response.text


def test_adding_members_through_the_api_validates(team: tuple[User, User, int]) -> None:
    owner, member, team_id = team
    members = f"/api/teams/{team_id}/members"
    unknown = owner.api.post(members, json={"email": "nobody-here@example.com"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "email"]
    assert owner.api.post(members, json={"email": member.email}).status_code == 409
    assert owner.api.post(members, json={"email": "not-an-email"}).status_code == 422
    assert owner.api.post(members, json={}).status_code == 422


def test_team_forms_require_a_csrf_token(team: tuple[User, User, int]) -> None:
    owner, member, team_id = team
    other = new_user("csrf")
    member_id = next(m["account_id"] for m in owner.api.get(f"/api/teams/{team_id}/members").json()
                     if m["email"] == member.email)
    for data in ({}, {"csrf_token": "forged"}):
        assert owner.browser.post("/teams/members", data={"email": other.email, **data}).status_code == 403
        assert owner.browser.post(f"/teams/members/{member_id}/remove", data=data).status_code == 403
        assert member.browser.post("/teams/switch", data={"team_id": str(team_id), **data}).status_code == 403
    assert {m["email"] for m in owner.api.get(f"/api/teams/{team_id}/members").json()} == {owner.email, member.email}
    assert f"Workspace of {member.email}" in member.browser.get("/").text  # not switched


def test_team_pages_and_api_require_login(anon: TestClient) -> None:
    for method, path in [("GET", "/teams"), ("POST", "/teams/members"), ("POST", "/teams/switch"),
                         ("POST", "/teams/members/1/remove")]:
        response = anon.request(method, path)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/login"), (method, path)
    for method, path in [("GET", "/api/teams"), ("GET", "/api/teams/current"), ("GET", "/api/teams/1/members"),
                         ("POST", "/api/teams/1/members"), ("DELETE", "/api/teams/1/members/1")]:
        assert anon.request(method, path).status_code == 401, (method, path)


def test_workspace_header_must_name_a_workspace_of_mine(user_a: User) -> None:
    assert user_a.api.get(API, headers={"X-Workspace": "not-a-number"}).status_code == 422
    assert user_a.api.get(API, headers=_ws(2**40)).status_code == 403
    assert user_a.api.get(API, headers=_ws(_team_id(user_a))).status_code == 200
[% endif %]
