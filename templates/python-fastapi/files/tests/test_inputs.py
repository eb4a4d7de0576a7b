"""Inputs at the edges: nothing the OpenAPI description allows answers 5xx, and values keep
their meaning (datetimes with offsets, e-mail addresses in any case).

Generic code, so one entity (the first, or the first with a field of the kind) proves it and
the cost of this module does not grow with the number of entities.
"""

import datetime as dt

import pytest

from app.models import ENTITIES
from app.fields import ID_MAX, INT_MAX
from app.i18n import _
from tests.helpers import User, create, new_client, new_user, payload

META = ENTITIES[0]
API = f"/api/{META.route}"
PAGES = f"/{META.route}"
HTML = {"Accept": "text/html"}


def _first_with(kind: str, unique: bool = False):  # type: ignore[no-untyped-def]
    for meta in ENTITIES:
        for f in meta.fields:
            if f.kind == kind and (f.unique or not unique):
                return meta, f
    return None, None


def test_ids_and_pages_beyond_the_database_range_are_422(user_a: User) -> None:
    for big in (ID_MAX + 1, INT_MAX + 1, 10**20):
        assert user_a.api.get(f"{API}/{big}").status_code == 422
        assert user_a.api.patch(f"{API}/{big}", json={}).status_code == 422
        assert user_a.api.delete(f"{API}/{big}").status_code == 422
    for big in (INT_MAX + 1, 10**20):
        assert user_a.api.get(API, params={"page": big}).status_code == 422
    assert user_a.api.get(f"{API}/{ID_MAX}").status_code == 404
    assert user_a.api.get(API, params={"q": "a\x00b"}).status_code == 422


def test_a_page_past_the_end_is_empty_and_says_so(user_a: User) -> None:
    create(user_a, META)
    body = user_a.api.get(API, params={"page": 999}).json()
    assert body["items"] == [] and body["total"] >= 1 and body["page"] == 999 and body["pages"] < 999
    html = user_a.browser.get(PAGES, params={"page": 999}).text
    assert "data-past-end" in html and _("Create the first one") not in html


def test_browsers_get_a_page_not_json_for_bad_query_strings(user_a: User) -> None:
    response = user_a.browser.get(PAGES, params={"page": "abc"}, headers=HTML)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "page" in response.text and '"detail"' not in response.text
    assert user_a.api.get(API, params={"page": "abc"}).status_code == 422  # the API keeps JSON


def test_datetimes_keep_their_offset_and_answer_in_utc() -> None:
    meta, f = _first_with("datetime")
    if meta is None:
        pytest.skip("no datetime field in this app")
    user = new_user("tz")
    body = payload(user, meta)
    # The sample's own instant (a datetime without offset is UTC), written in UTC+09:00.
    instant = dt.datetime.fromisoformat(body[f.name]).replace(tzinfo=dt.UTC)
    body[f.name] = instant.astimezone(dt.timezone(dt.timedelta(hours=9))).isoformat()
    assert body[f.name].endswith("+09:00")
    response = user.api.post(f"/api/{meta.route}", json=body)
    assert response.status_code == 201, response.text
    stored = dt.datetime.fromisoformat(response.json()[f.name])
    assert stored.utcoffset() == dt.timedelta(0), response.json()[f.name]
    assert stored == instant
    created = dt.datetime.fromisoformat(response.json()["created_at"])
    assert created.tzinfo is not None
    # Before year 1 once converted to UTC: a 422, not a 500.
    early = user.api.post(f"/api/{meta.route}", json={**body, f.name: "0001-01-01T00:00:00+01:00"})
    assert early.status_code == 422, early.text


def test_unique_email_ignores_case() -> None:
    meta, f = _first_with("email", unique=True)
    if meta is None:
        pytest.skip("no unique e-mail field in this app")
    user = new_user("case")
    create(user, meta, **{f.name: "billing@example.com"})
    again = user.api.post(f"/api/{meta.route}", json=payload(user, meta, **{f.name: "BILLING@example.com"}))
    assert again.status_code == 409, again.text


def test_delete_asks_first_on_a_page_without_javascript(user_a: User) -> None:
    row = create(user_a, META)
    listing = user_a.browser.get(PAGES).text
    assert f'href="{PAGES}/{row["id"]}/delete"' in listing
    confirm = user_a.browser.get(f"{PAGES}/{row['id']}/delete")
    assert confirm.status_code == 200
    assert f'<form method="post" action="{PAGES}/{row["id"]}/delete"' in confirm.text
    assert "<script" not in confirm.text
    assert user_a.api.get(f"{API}/{row['id']}").status_code == 200  # asking deleted nothing
    assert user_a.post_form(f"{PAGES}/{row['id']}/delete", {}).status_code == 303
    assert user_a.api.get(f"{API}/{row['id']}").status_code == 404
    assert new_client().get(f"{PAGES}/{row['id']}/delete").status_code == 303  # login first
