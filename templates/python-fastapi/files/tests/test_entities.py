"""Every entity: JSON API (/api/<route>), pages (/<route>), tenant isolation[% if app.features.csv_export %], CSV export[% endif %].

One set of tests, run for each entity of the spec: the entity is the test's parameter
(`test_api_create_read_update_delete[invoice]`), a field too where a test is about one
(`test_api_unique_conflict_is_409[invoice.number]`). The accounts `user_a` and `user_b` are
fresh for each entity, and one entity's tests run in one process (pytest-xdist's group).
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from app.fields import EntityMeta, FieldSpec
from app.models import BY_NAME, ENTITIES
from tests.helpers import INVALID, User, as_form, create, new_user, payload, select_options, unique_capacity


def _case(meta: EntityMeta, *fields: FieldSpec) -> Any:
    return pytest.param(
        meta.name,
        *(f.name for f in fields),
        id=".".join([meta.name, *(f.name for f in fields)]),
        marks=pytest.mark.xdist_group(meta.name),
    )


def for_entities(keep: Callable[..., bool], none: str) -> Callable[..., Any]:
    """Run a test only for the entities `keep` selects; `none` is the skip reason when no entity is."""

    def mark(test: Any) -> Any:
        test.entities, test.none = keep, none
        return test

    return mark


def for_fields(keep: Callable[..., bool], none: str) -> Callable[..., Any]:
    """Run a test once for each field `keep` selects, of every entity (the `field` argument);
    `none` is the skip reason when no field is."""

    def mark(test: Any) -> Any:
        test.fields, test.none = keep, none
        return test

    return mark


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "meta" not in metafunc.fixturenames:
        return
    test = metafunc.function
    fields = getattr(test, "fields", None)
    if fields is None:
        keep = getattr(test, "entities", lambda meta: True)
        names: Any = "meta"
        cases = [_case(m) for m in ENTITIES if keep(m)]
    else:
        names = ["meta", "field"]
        cases = [_case(m, f) for m in ENTITIES for f in m.fields if fields(f)]
    if not cases:  # skipped, with the reason (and no "empty parameter set")
        cases = [pytest.param(*([None] * (1 if fields is None else 2)), marks=pytest.mark.skip(reason=test.none))]
    metafunc.parametrize(names, cases, indirect=["meta"], scope="module")


@pytest.fixture(scope="module")
def meta(request: pytest.FixtureRequest) -> EntityMeta:
    return BY_NAME[request.param]


@pytest.fixture(scope="module")
def user_a(meta: EntityMeta, started_app: TestClient) -> User:
    """An account with data, fresh for each entity."""
    return new_user("alice")


@pytest.fixture(scope="module")
def user_b(meta: EntityMeta, started_app: TestClient) -> User:
    """Another account, fresh for each entity: must never see or change user_a's data."""
    return new_user("bob")


@pytest.fixture(autouse=True)
def _fresh_rows(request: pytest.FixtureRequest, meta: EntityMeta) -> Iterator[None]:
    """A unique enum/bool field allows only a few rows per account: such an entity's tests
    start with no rows."""
    if any(f.unique and f.kind in ("enum", "bool") for f in meta.fields):
        api = f"/api/{meta.route}"
        for user in (request.getfixturevalue("user_a"), request.getfixturevalue("user_b")):
            for row in user.api.get(api, params={"per_page": 100}).json()["items"]:
                user.api.delete(f"{api}/{row['id']}")
    yield


def urls(meta: EntityMeta) -> tuple[str, str]:
    """The entity's API and pages."""
    return f"/api/{meta.route}", f"/{meta.route}"


def _esc(text: str) -> str:
    """Text as the (auto-escaping) templates print it."""
    return str(escape(text))


def _same(meta: EntityMeta, expected: dict, actual: dict) -> None:
    """The API returns what was sent (modulo formatting of decimals and datetimes)."""
    for f in meta.fields:
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


def test_api_requires_a_token(meta: EntityMeta, anon: TestClient) -> None:
    api, _ = urls(meta)
    item = f"{api}/1"
    for method, path in [("GET", api), ("POST", api), ("GET", item), ("PUT", item), ("PATCH", item), ("DELETE", item)]:
        response = anon.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


def test_api_rejects_a_forged_token(meta: EntityMeta, anon: TestClient) -> None:
    api, _ = urls(meta)
    response = anon.get(api, headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401


def test_pages_redirect_to_login(meta: EntityMeta, anon: TestClient) -> None:
    _, pages = urls(meta)
    attempts = [
        ("GET", pages),
        ("GET", f"{pages}/new"),
        ("GET", f"{pages}/1/edit"),
        ("POST", f"{pages}/new"),
        ("POST", f"{pages}/1/edit"),
        ("POST", f"{pages}/1/delete"),
    ]
    for method, path in attempts:
        response = anon.request(method, path)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/login"), (method, path)


# --- JSON API -----------------------------------------------------------------------------


def test_api_create_read_update_delete(meta: EntityMeta, user_a: User) -> None:
    api, _ = urls(meta)
    body = payload(user_a, meta)
    created = user_a.api.post(api, json=body)
    assert created.status_code == 201, created.text
    item = created.json()
    _same(meta, body, item)
    url = f"{api}/{item['id']}"

    assert user_a.api.get(url).json() == item
    listed = user_a.api.get(api, params={"per_page": 100}).json()
    assert item["id"] in [row["id"] for row in listed["items"]]

    replacement = payload(user_a, meta)
    replaced = user_a.api.put(url, json=replacement)
    assert replaced.status_code == 200, replaced.text
    _same(meta, replacement, replaced.json())

    field = meta.fields[0]
    patched = user_a.api.patch(url, json={field.name: body[field.name]})
    assert patched.status_code == 200, patched.text
    assert patched.json()[field.name] == item[field.name]

    assert user_a.api.delete(url).status_code == 204
    assert user_a.api.get(url).status_code == 404
    assert user_a.api.delete(url).status_code == 404


def test_api_unknown_id_is_404(meta: EntityMeta, user_a: User) -> None:
    api, _ = urls(meta)
    assert user_a.api.get(f"{api}/999999").status_code == 404
    assert user_a.api.put(f"{api}/999999", json=payload(user_a, meta)).status_code == 404
    assert user_a.api.patch(f"{api}/999999", json={}).status_code == 404
    assert user_a.api.delete(f"{api}/999999").status_code == 404


def _has_required(meta: EntityMeta) -> bool:
    return any(f.required for f in meta.fields)


@for_entities(_has_required, "no required field in this app")
def test_api_missing_required_fields_are_422(meta: EntityMeta, user_a: User) -> None:
    api, _ = urls(meta)
    response = user_a.api.post(api, json={})
    assert response.status_code == 422
    missing = {tuple(err["loc"]) for err in response.json()["detail"]}
    defaulted = {getattr(rule, "field", None) for rule in meta.rules if type(rule).__name__ == "Default"}
    for f in meta.fields:
        if f.required and f.name not in defaulted:
            assert ("body", f.name) in missing, f.name


@for_entities(_has_required, "no required field in this app")
def test_api_patch_cannot_null_a_required_field(meta: EntityMeta, user_a: User) -> None:
    api, _ = urls(meta)
    item = create(user_a, meta)
    required = next(f for f in meta.fields if f.required)
    response = user_a.api.patch(f"{api}/{item['id']}", json={required.name: None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", required.name]


def test_api_invalid_values_are_422(meta: EntityMeta, user_a: User) -> None:
    api, _ = urls(meta)
    # One request with every field invalid: the schema validates each field on its own and
    # reports every failing one, so each field must still be named in the answer.
    checked = [f for f in meta.fields if not (f.kind == "enum" and not f.choices)]  # no choices: free text
    response = user_a.api.post(api, json={**payload(user_a, meta), **{f.name: INVALID[f.kind] for f in checked}})
    assert response.status_code == 422, response.text
    named = [err["loc"] for err in response.json()["detail"]]
    for f in checked:
        assert ["body", f.name] in named, f.name


def test_api_unknown_fields_are_422(meta: EntityMeta, user_a: User) -> None:
    api, _ = urls(meta)
    response = user_a.api.post(api, json={**payload(user_a, meta), "no_such_field": 1})
    assert response.status_code == 422


@for_fields(lambda f: f.unique, "no unique field in this app")
def test_api_unique_conflict_is_409(meta: EntityMeta, field: str, user_a: User, user_b: User) -> None:
    api, _ = urls(meta)
    first = create(user_a, meta)
    again = payload(user_a, meta, **{field: first[field]})
    response = user_a.api.post(api, json=again)
    assert response.status_code == 409, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]
    other = create(user_a, meta)
    response = user_a.api.patch(f"{api}/{other['id']}", json={field: first[field]})
    assert response.status_code == 409
    # Unique within one account only: another account may use the same value.
    response = user_b.api.post(api, json=payload(user_b, meta, **{field: first[field]}))
    assert response.status_code == 201, response.text


def test_api_list_paginates_sorts_and_searches(meta: EntityMeta) -> None:
    api, _ = urls(meta)
    user = new_user("lister", pages=False)
    count = min(3, unique_capacity(meta))
    ids = [create(user, meta)["id"] for _ in range(count)]

    first = user.api.get(api, params={"per_page": 2, "sort": "id"}).json()
    assert first["total"] == count
    assert first["pages"] == (count + 1) // 2
    assert [row["id"] for row in first["items"]] == ids[:2]
    assert [row["id"] for row in user.api.get(api, params={"sort": "-id"}).json()["items"]] == ids[::-1]
    if count > 2:
        second = user.api.get(api, params={"per_page": 2, "page": 2, "sort": "id"}).json()
        assert [row["id"] for row in second["items"]] == ids[2:]
    # Every field orders the list: all of them, descending, as the keys of one request.
    response = user.api.get(api, params={"sort": [f"-{f.name}" for f in meta.fields]})
    assert response.status_code == 200, response.text
    assert user.api.get(api, params={"sort": "no_such_field"}).status_code == 422
    assert user.api.get(api, params={"per_page": 1000}).status_code == 422

    if meta.search_fields:
        last = user.api.get(f"{api}/{ids[-1]}").json()
        needle = str(last[meta.search_fields[0]])
        found = user.api.get(api, params={"q": needle}).json()
        assert ids[-1] in [row["id"] for row in found["items"]]
        assert user.api.get(api, params={"q": "zz-no-such-text-zz"}).json()["total"] == 0


def _is_ref(f: FieldSpec) -> bool:
    return f.kind == "ref"


@for_fields(_is_ref, "no reference field in this app")
def test_ref_must_belong_to_the_same_account(meta: EntityMeta, field: str, user_a: User, user_b: User) -> None:
    api, pages = urls(meta)
    target = BY_NAME[meta.field(field).target or ""]
    mine = create(user_a, target)
    theirs = create(user_b, target)
    ok = user_a.api.post(api, json=payload(user_a, meta, **{field: mine["id"]}))
    assert ok.status_code == 201, ok.text
    assert ok.json()[field] == mine["id"]
    for bad in (theirs["id"], 999999):
        response = user_a.api.post(api, json=payload(user_a, meta, **{field: bad}))
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
        response = user_a.api.patch(f"{api}/{ok.json()['id']}", json={field: bad})
        assert response.status_code == 422
    # Pages: the select box offers only the account's own rows, and a forged value is refused.
    options = select_options(user_a.browser.get(f"{pages}/new").text, field)
    assert str(mine["id"]) in options
    assert str(theirs["id"]) not in options
    form = as_form(meta, payload(user_a, meta, **{field: theirs["id"]}))
    response = user_a.post_form(f"{pages}/new", form)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text


@for_fields(_is_ref, "no reference field in this app")
def test_deleting_the_target_of_a_ref(meta: EntityMeta, field: str, user_a: User) -> None:
    api, _ = urls(meta)
    target = BY_NAME[meta.field(field).target or ""]
    referenced = create(user_a, target)
    row = create(user_a, meta, **{field: referenced["id"]})
    response = user_a.api.delete(f"/api/{target.route}/{referenced['id']}")
    if meta.field(field).required:
        # A required reference keeps its target: 409, and both rows stay.
        assert response.status_code == 409, response.text
        assert user_a.api.get(f"/api/{target.route}/{referenced['id']}").status_code == 200
    else:
        # An optional reference is cleared.
        assert response.status_code == 204, response.text
        assert user_a.api.get(f"{api}/{row['id']}").json()[field] is None


# --- tenant isolation ----------------------------------------------------------------------


def test_other_accounts_cannot_use_the_api_on_my_rows(meta: EntityMeta, user_a: User, user_b: User) -> None:
    api, _ = urls(meta)
    item = create(user_a, meta)
    url = f"{api}/{item['id']}"
    assert user_b.api.get(url).status_code == 404
    assert item["id"] not in [row["id"] for row in user_b.api.get(api, params={"per_page": 100}).json()["items"]]
    assert user_b.api.put(url, json=payload(user_b, meta)).status_code == 404
    assert user_b.api.patch(url, json={}).status_code == 404
    assert user_b.api.delete(url).status_code == 404
    assert user_a.api.get(url).json() == item  # untouched


def test_other_accounts_cannot_use_the_pages_on_my_rows(meta: EntityMeta, user_a: User, user_b: User) -> None:
    api, pages = urls(meta)
    item = create(user_a, meta)
    edit, delete = f"{pages}/{item['id']}/edit", f"{pages}/{item['id']}/delete"
    assert user_b.browser.get(edit).status_code == 404
    assert f'href="{edit}"' not in user_b.browser.get(pages, params={"sort": "-id"}).text
    assert user_b.post_form(edit, as_form(meta, payload(user_b, meta))).status_code == 404
    assert user_b.post_form(delete, {}).status_code == 404
    assert user_a.api.get(f"{api}/{item['id']}").json() == item  # untouched


# --- pages -------------------------------------------------------------------------------


def test_pages_create_list_edit_delete(meta: EntityMeta, user_a: User) -> None:
    api, pages = urls(meta)
    list_page = user_a.browser.get(pages)
    assert list_page.status_code == 200
    assert _esc(meta.plural_label) in list_page.text
    new_page = user_a.browser.get(f"{pages}/new")
    assert new_page.status_code == 200
    for f in meta.fields:
        assert f'name="{f.name}"' in new_page.text
        assert _esc(f.label) in new_page.text

    body = payload(user_a, meta)
    created = user_a.post_form(f"{pages}/new", as_form(meta, body))
    assert created.status_code == 303, created.text
    assert created.headers["location"] == pages
    item = user_a.api.get(api, params={"sort": "-id", "per_page": 1}).json()["items"][0]
    _same(meta, body, item)
    listed = user_a.browser.get(pages, params={"sort": "-id"}).text
    assert f'href="{pages}/{item["id"]}/edit"' in listed

    edit_page = user_a.browser.get(f"{pages}/{item['id']}/edit")
    assert edit_page.status_code == 200
    changed = payload(user_a, meta)
    saved = user_a.post_form(f"{pages}/{item['id']}/edit", as_form(meta, changed))
    assert saved.status_code == 303, saved.text
    _same(meta, changed, user_a.api.get(f"{api}/{item['id']}").json())

    deleted = user_a.post_form(f"{pages}/{item['id']}/delete", {})
    assert deleted.status_code == 303
    assert user_a.api.get(f"{api}/{item['id']}").status_code == 404
    assert user_a.browser.get(f"{pages}/{item['id']}/edit").status_code == 404


def test_pages_show_errors_next_to_fields(meta: EntityMeta, user_a: User) -> None:
    _, pages = urls(meta)
    # One post with every field wrong (required ones blank, the others invalid): the page
    # validates every field and shows each one's error next to it.
    checked = [f for f in meta.fields
               if not (f.kind == "bool" or (f.kind == "enum" and not f.choices and not f.required))]
    bad = {f.name: "" if f.required else str(INVALID[f.kind]) for f in checked}
    response = user_a.post_form(f"{pages}/new", {**as_form(meta, payload(user_a, meta)), **bad})
    assert response.status_code == 422, response.status_code
    for f in checked:
        assert f'id="e-{f.name}"' in response.text, f.name


def test_pages_search_sort_and_empty_state(meta: EntityMeta) -> None:
    _, pages = urls(meta)
    user = new_user("browser")
    empty = user.browser.get(pages)
    assert empty.status_code == 200
    assert 'class="empty"' in empty.text
    item = create(user, meta)
    # Every field orders the page: all of them as the keys of one request.
    assert user.browser.get(pages, params={"sort": [f.name for f in meta.fields]}).status_code == 200
    assert user.browser.get(pages, params={"sort": "bogus", "page": "99"}).status_code == 200
    if meta.search_fields:
        needle = str(item[meta.search_fields[0]])
        found = user.browser.get(pages, params={"q": needle}).text
        assert f'href="{pages}/{item["id"]}/edit"' in found
        missing = user.browser.get(pages, params={"q": "zz-no-such-text-zz"}).text
        assert f'href="{pages}/{item["id"]}/edit"' not in missing


def test_pages_reject_posts_without_csrf_token(meta: EntityMeta, user_a: User) -> None:
    api, pages = urls(meta)
    item = create(user_a, meta)
    form = as_form(meta, payload(user_a, meta))
    assert user_a.browser.post(f"{pages}/new", data=form).status_code == 403
    assert user_a.browser.post(f"{pages}/new", data={**form, "csrf_token": "forged"}).status_code == 403
    assert user_a.browser.post(f"{pages}/{item['id']}/edit", data=form).status_code == 403
    assert user_a.browser.post(f"{pages}/{item['id']}/delete").status_code == 403
    assert user_a.api.get(f"{api}/{item['id']}").json() == item
[% if app.features.csv_export %]


# --- CSV export --------------------------------------------------------------------------


def test_csv_export_has_only_my_rows(meta: EntityMeta, user_a: User, user_b: User) -> None:
    api, pages = urls(meta)
    mine = create(user_a, meta)
    theirs = create(user_b, meta)
    for client in (user_a.api, user_a.browser):
        path = f"{api}.csv" if client is user_a.api else f"{pages}/export.csv"
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert lines[0].split(",")[:2] == ["id", meta.fields[0].name]
        ids = {line.split(",")[0] for line in lines[1:]}
        assert str(mine["id"]) in ids
        assert str(theirs["id"]) not in ids


def test_csv_export_requires_login(meta: EntityMeta, anon: TestClient) -> None:
    api, pages = urls(meta)
    assert anon.get(f"{api}.csv").status_code == 401
    assert anon.get(f"{pages}/export.csv").status_code == 303
[% endif %]
