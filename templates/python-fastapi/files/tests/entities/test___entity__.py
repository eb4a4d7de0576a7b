[%- set refs = entity.fields | selectattr("kind", "equalto", "ref") | list %]
[% set uniques = entity.fields | selectattr("unique") | list %]
"""[[ entity.name ]]: JSON API (/api/[[ entity.route ]]), pages (/[[ entity.route ]]) and tenant isolation."""

[% if entity.fields | selectattr("unique") | selectattr("kind", "in", ["enum", "bool"]) | list %]
from collections.abc import Iterator

import pytest
[% endif %]
from fastapi.testclient import TestClient
from markupsafe import escape

[% if refs %]
from app.models import BY_NAME
[% endif %]
from app.models import [[ entity.ident ]] as model
from tests.helpers import INVALID, User, as_form, create, new_user, payload, [% if refs %]select_options, [% endif %]unique_capacity

META = model.META
API = "/api/[[ entity.route ]]"
PAGES = "/[[ entity.route ]]"


def _esc(text: str) -> str:
    """Text as the (auto-escaping) templates print it."""
    return str(escape(text))


[% if entity.fields | selectattr("unique") | selectattr("kind", "in", ["enum", "bool"]) | list %]
@pytest.fixture(autouse=True)
def _fresh_rows(user_a: User, user_b: User) -> Iterator[None]:
    """A unique enum/bool field allows only a few rows per account: start every test empty."""
    for user in (user_a, user_b):
        for row in user.api.get(API, params={"per_page": 100}).json()["items"]:
            user.api.delete(f"{API}/{row['id']}")
    yield


[% endif %]
def _same(expected: dict, actual: dict) -> None:
    """The API returns what was sent (modulo formatting of decimals and datetimes)."""
    for f in META.fields:
        sent, got = expected[f.name], actual[f.name]
        if f.kind == "decimal" and sent is not None:
            assert float(got) == float(sent), f.name
        elif f.kind == "datetime" and sent is not None:
            assert got.startswith(str(sent)[:16]), f.name
        elif f.kind == "email" and sent is not None:
            assert got.lower() == str(sent).lower(), f.name
        else:
            assert got == sent, f.name


# --- authentication ---------------------------------------------------------------------


def test_api_requires_a_token(anon: TestClient) -> None:
    item = f"{API}/1"
    for method, path in [("GET", API), ("POST", API), ("GET", item), ("PUT", item), ("PATCH", item), ("DELETE", item)]:
        response = anon.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


def test_api_rejects_a_forged_token(anon: TestClient) -> None:
    response = anon.get(API, headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401


def test_pages_redirect_to_login(anon: TestClient) -> None:
    pages = [
        ("GET", PAGES),
        ("GET", f"{PAGES}/new"),
        ("GET", f"{PAGES}/1/edit"),
        ("POST", f"{PAGES}/new"),
        ("POST", f"{PAGES}/1/edit"),
        ("POST", f"{PAGES}/1/delete"),
    ]
    for method, path in pages:
        response = anon.request(method, path)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/login"), (method, path)


# --- JSON API -----------------------------------------------------------------------------


def test_api_create_read_update_delete(user_a: User) -> None:
    body = payload(user_a, META)
    created = user_a.api.post(API, json=body)
    assert created.status_code == 201, created.text
    item = created.json()
    _same(body, item)
    url = f"{API}/{item['id']}"

    assert user_a.api.get(url).json() == item
    listed = user_a.api.get(API, params={"per_page": 100}).json()
    assert item["id"] in [row["id"] for row in listed["items"]]

    replacement = payload(user_a, META)
    replaced = user_a.api.put(url, json=replacement)
    assert replaced.status_code == 200, replaced.text
    _same(replacement, replaced.json())

    field = META.fields[0]
    patched = user_a.api.patch(url, json={field.name: body[field.name]})
    assert patched.status_code == 200, patched.text
    assert patched.json()[field.name] == item[field.name]

    assert user_a.api.delete(url).status_code == 204
    assert user_a.api.get(url).status_code == 404
    assert user_a.api.delete(url).status_code == 404


def test_api_unknown_id_is_404(user_a: User) -> None:
    assert user_a.api.get(f"{API}/999999").status_code == 404
    assert user_a.api.put(f"{API}/999999", json=payload(user_a, META)).status_code == 404
    assert user_a.api.patch(f"{API}/999999", json={}).status_code == 404
    assert user_a.api.delete(f"{API}/999999").status_code == 404


[% if entity.fields | selectattr("required") | list %]
def test_api_missing_required_fields_are_422(user_a: User) -> None:
    response = user_a.api.post(API, json={})
    assert response.status_code == 422
    missing = {tuple(err["loc"]) for err in response.json()["detail"]}
    defaulted = {getattr(rule, "field", None) for rule in META.rules if type(rule).__name__ == "Default"}
    for f in META.fields:
        if f.required and f.name not in defaulted:
            assert ("body", f.name) in missing, f.name


def test_api_patch_cannot_null_a_required_field(user_a: User) -> None:
    item = create(user_a, META)
    required = next(f for f in META.fields if f.required)
    response = user_a.api.patch(f"{API}/{item['id']}", json={required.name: None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", required.name]


[% endif %]
def test_api_invalid_values_are_422(user_a: User) -> None:
    # One request with every field invalid: the schema validates each field on its own and
    # reports every failing one, so each field must still be named in the answer.
    checked = [f for f in META.fields if not (f.kind == "enum" and not f.choices)]  # no choices: free text
    response = user_a.api.post(API, json={**payload(user_a, META), **{f.name: INVALID[f.kind] for f in checked}})
    assert response.status_code == 422, response.text
    named = [err["loc"] for err in response.json()["detail"]]
    for f in checked:
        assert ["body", f.name] in named, f.name


def test_api_unknown_fields_are_422(user_a: User) -> None:
    response = user_a.api.post(API, json={**payload(user_a, META), "no_such_field": 1})
    assert response.status_code == 422


[% for f in uniques %]
def test_api_unique_[[ f.ident ]]_conflict_is_409(user_a: User, user_b: User) -> None:
    first = create(user_a, META)
    again = payload(user_a, META, [[ f.ident ]]=first["[[ f.ident ]]"])
    response = user_a.api.post(API, json=again)
    assert response.status_code == 409, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "[[ f.ident ]]"]
    other = create(user_a, META)
    response = user_a.api.patch(f"{API}/{other['id']}", json={"[[ f.ident ]]": first["[[ f.ident ]]"]})
    assert response.status_code == 409
    # Unique within one account only: another account may use the same value.
    response = user_b.api.post(API, json=payload(user_b, META, [[ f.ident ]]=first["[[ f.ident ]]"]))
    assert response.status_code == 201, response.text


[% endfor %]
def test_api_list_paginates_sorts_and_searches() -> None:
    user = new_user("lister", pages=False)
    count = min(3, unique_capacity(META))
    ids = [create(user, META)["id"] for _ in range(count)]

    first = user.api.get(API, params={"per_page": 2, "sort": "id"}).json()
    assert first["total"] == count
    assert first["pages"] == (count + 1) // 2
    assert [row["id"] for row in first["items"]] == ids[:2]
    assert [row["id"] for row in user.api.get(API, params={"sort": "-id"}).json()["items"]] == ids[::-1]
    if count > 2:
        second = user.api.get(API, params={"per_page": 2, "page": 2, "sort": "id"}).json()
        assert [row["id"] for row in second["items"]] == ids[2:]
    for f in META.fields:
        response = user.api.get(API, params={"sort": f"-{f.name}"})
        assert response.status_code == 200, f.name
    assert user.api.get(API, params={"sort": "no_such_field"}).status_code == 422
    assert user.api.get(API, params={"per_page": 1000}).status_code == 422

    if META.search_fields:
        last = user.api.get(f"{API}/{ids[-1]}").json()
        needle = str(last[META.search_fields[0]])
        found = user.api.get(API, params={"q": needle}).json()
        assert ids[-1] in [row["id"] for row in found["items"]]
        assert user.api.get(API, params={"q": "zz-no-such-text-zz"}).json()["total"] == 0


[% for f in refs %]
def test_ref_[[ f.ident ]]_must_belong_to_the_same_account(user_a: User, user_b: User) -> None:
    target = BY_NAME["[[ f.ref.ident ]]"]
    mine = create(user_a, target)
    theirs = create(user_b, target)
    ok = user_a.api.post(API, json=payload(user_a, META, [[ f.ident ]]=mine["id"]))
    assert ok.status_code == 201, ok.text
    assert ok.json()["[[ f.ident ]]"] == mine["id"]
    for bad in (theirs["id"], 999999):
        response = user_a.api.post(API, json=payload(user_a, META, [[ f.ident ]]=bad))
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "[[ f.ident ]]"]
        response = user_a.api.patch(f"{API}/{ok.json()['id']}", json={"[[ f.ident ]]": bad})
        assert response.status_code == 422
    # Pages: the select box offers only the account's own rows, and a forged value is refused.
    options = select_options(user_a.browser.get(f"{PAGES}/new").text, "[[ f.ident ]]")
    assert str(mine["id"]) in options
    assert str(theirs["id"]) not in options
    form = as_form(META, payload(user_a, META, [[ f.ident ]]=theirs["id"]))
    response = user_a.post_form(f"{PAGES}/new", form)
    assert response.status_code == 422
    assert 'id="e-[[ f.ident ]]"' in response.text


def test_deleting_the_target_of_[[ f.ident ]](user_a: User) -> None:
    target = BY_NAME["[[ f.ref.ident ]]"]
    referenced = create(user_a, target)
    row = create(user_a, META, [[ f.ident ]]=referenced["id"])
    response = user_a.api.delete(f"/api/{target.route}/{referenced['id']}")
    if META.field("[[ f.ident ]]").required:
        # A required reference keeps its target: 409, and both rows stay.
        assert response.status_code == 409, response.text
        assert user_a.api.get(f"/api/{target.route}/{referenced['id']}").status_code == 200
    else:
        # An optional reference is cleared.
        assert response.status_code == 204, response.text
        assert user_a.api.get(f"{API}/{row['id']}").json()["[[ f.ident ]]"] is None


[% endfor %]
# --- tenant isolation ----------------------------------------------------------------------


def test_other_accounts_cannot_use_the_api_on_my_rows(user_a: User, user_b: User) -> None:
    item = create(user_a, META)
    url = f"{API}/{item['id']}"
    assert user_b.api.get(url).status_code == 404
    assert item["id"] not in [row["id"] for row in user_b.api.get(API, params={"per_page": 100}).json()["items"]]
    assert user_b.api.put(url, json=payload(user_b, META)).status_code == 404
    assert user_b.api.patch(url, json={}).status_code == 404
    assert user_b.api.delete(url).status_code == 404
    assert user_a.api.get(url).json() == item  # untouched


def test_other_accounts_cannot_use_the_pages_on_my_rows(user_a: User, user_b: User) -> None:
    item = create(user_a, META)
    edit, delete = f"{PAGES}/{item['id']}/edit", f"{PAGES}/{item['id']}/delete"
    assert user_b.browser.get(edit).status_code == 404
    assert f'href="{edit}"' not in user_b.browser.get(PAGES, params={"sort": "-id"}).text
    assert user_b.post_form(edit, as_form(META, payload(user_b, META))).status_code == 404
    assert user_b.post_form(delete, {}).status_code == 404
    assert user_a.api.get(f"{API}/{item['id']}").json() == item  # untouched


# --- pages -------------------------------------------------------------------------------


def test_pages_create_list_edit_delete(user_a: User) -> None:
    list_page = user_a.browser.get(PAGES)
    assert list_page.status_code == 200
    assert _esc(META.plural_label) in list_page.text
    new_page = user_a.browser.get(f"{PAGES}/new")
    assert new_page.status_code == 200
    for f in META.fields:
        assert f'name="{f.name}"' in new_page.text
        assert _esc(f.label) in new_page.text

    body = payload(user_a, META)
    created = user_a.post_form(f"{PAGES}/new", as_form(META, body))
    assert created.status_code == 303, created.text
    assert created.headers["location"] == PAGES
    item = user_a.api.get(API, params={"sort": "-id", "per_page": 1}).json()["items"][0]
    _same(body, item)
    listed = user_a.browser.get(PAGES, params={"sort": "-id"}).text
    assert f'href="{PAGES}/{item["id"]}/edit"' in listed

    edit_page = user_a.browser.get(f"{PAGES}/{item['id']}/edit")
    assert edit_page.status_code == 200
    changed = payload(user_a, META)
    saved = user_a.post_form(f"{PAGES}/{item['id']}/edit", as_form(META, changed))
    assert saved.status_code == 303, saved.text
    _same(changed, user_a.api.get(f"{API}/{item['id']}").json())

    deleted = user_a.post_form(f"{PAGES}/{item['id']}/delete", {})
    assert deleted.status_code == 303
    assert user_a.api.get(f"{API}/{item['id']}").status_code == 404
    assert user_a.browser.get(f"{PAGES}/{item['id']}/edit").status_code == 404


def test_pages_show_errors_next_to_fields(user_a: User) -> None:
    # One post with every field wrong (required ones blank, the others invalid): the page
    # validates every field and shows each one's error next to it.
    checked = [f for f in META.fields
               if not (f.kind == "bool" or (f.kind == "enum" and not f.choices and not f.required))]
    bad = {f.name: "" if f.required else str(INVALID[f.kind]) for f in checked}
    response = user_a.post_form(f"{PAGES}/new", {**as_form(META, payload(user_a, META)), **bad})
    assert response.status_code == 422, response.status_code
    for f in checked:
        assert f'id="e-{f.name}"' in response.text, f.name


def test_pages_search_sort_and_empty_state() -> None:
    user = new_user("browser")
    empty = user.browser.get(PAGES)
    assert empty.status_code == 200
    assert 'class="empty"' in empty.text
    item = create(user, META)
    for f in META.fields:
        assert user.browser.get(PAGES, params={"sort": f.name}).status_code == 200
    assert user.browser.get(PAGES, params={"sort": "bogus", "page": "99"}).status_code == 200
    if META.search_fields:
        needle = str(item[META.search_fields[0]])
        found = user.browser.get(PAGES, params={"q": needle}).text
        assert f'href="{PAGES}/{item["id"]}/edit"' in found
        missing = user.browser.get(PAGES, params={"q": "zz-no-such-text-zz"}).text
        assert f'href="{PAGES}/{item["id"]}/edit"' not in missing


def test_pages_reject_posts_without_csrf_token(user_a: User) -> None:
    item = create(user_a, META)
    form = as_form(META, payload(user_a, META))
    assert user_a.browser.post(f"{PAGES}/new", data=form).status_code == 403
    assert user_a.browser.post(f"{PAGES}/new", data={**form, "csrf_token": "forged"}).status_code == 403
    assert user_a.browser.post(f"{PAGES}/{item['id']}/edit", data=form).status_code == 403
    assert user_a.browser.post(f"{PAGES}/{item['id']}/delete").status_code == 403
    assert user_a.api.get(f"{API}/{item['id']}").json() == item
[% if app.features.csv_export %]


# --- CSV export --------------------------------------------------------------------------


def test_csv_export_has_only_my_rows(user_a: User, user_b: User) -> None:
    mine = create(user_a, META)
    theirs = create(user_b, META)
    for client in (user_a.api, user_a.browser):
        path = f"{API}.csv" if client is user_a.api else f"{PAGES}/export.csv"
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert lines[0].split(",")[:2] == ["id", META.fields[0].name]
        ids = {line.split(",")[0] for line in lines[1:]}
        assert str(mine["id"]) in ids
        assert str(theirs["id"]) not in ids


def test_csv_export_requires_login(anon: TestClient) -> None:
    assert anon.get(f"{API}.csv").status_code == 401
    assert anon.get(f"{PAGES}/export.csv").status_code == 303
[% endif %]
