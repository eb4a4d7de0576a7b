[% if views %]
"""The issue's views: exactly the matching rows (rows in, rows out), sorted, summed, isolated
per [[ "workspace" if app.features.teams else "account" ]], on the API (/api/views/<slug>), the page (/views/<slug>) and the dashboard.

Rows are made to meet every condition ("in") or to miss one ("out"); which rows the view must
list is then decided here, in Python, from the stored values, and compared with the app's answer.
"""

import decimal
from typing import Any

import pytest

from app import rules
from app.views import VIEWS, View
from tests.helpers import User, _near, _operand, as_json, create, new_user, payload, typed

MEET = {"gt": ">", "ge": ">", "lt": "<", "le": "<", "eq": "=", "ne": "!="}
MISS = {"gt": "<", "ge": "<", "lt": ">", "le": ">", "eq": "!=", "ne": "="}
COMPARE = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=", "ne": "!="}


def _typed_row(view: View, row: dict[str, Any]) -> dict[str, Any]:
    return {f.name: typed(f, row.get(f.name)) for f in view.entity.fields}


def _value_for(view: View, c: Any, data: dict[str, Any], n: int, meet: bool) -> Any:
    f = view.entity.field(c.field)
    if c.op == "is_empty":
        return None if meet else data.get(c.field)
    if c.op == "is_not_empty":
        return data.get(c.field) if meet else None
    if c.op == "in":
        values = [typed(f, v) for v in c.values]
        if meet:
            return values[n % len(values)]
        others = [choice for choice in f.choices if choice not in c.values]
        return others[0] if others else None
    target = _operand(c.value, data)
    if target is None:
        return data.get(c.field)
    return _near(f, (MEET if meet else MISS)[c.op], target, n)


def _meets(view: View, c: Any, data: dict[str, Any]) -> bool:
    """The condition, as the view's SQL evaluates it."""
    value = data.get(c.field)
    if c.op == "is_empty":
        return value is None
    if c.op == "is_not_empty":
        return value is not None
    if c.op == "in":
        return value is not None and value in [typed(view.entity.field(c.field), v) for v in c.values]
    target = _operand(c.value, data)
    if target is None:
        return False
    if value is None:
        return c.op == "ne"
    left, right = rules._comparable(value, target)
    return rules.OPS[COMPARE[c.op]](left, right)


def _make(user: User, view: View, n: int, miss: Any = None, edge: Any = None) -> dict[str, Any] | None:
    """A row meeting every condition but `miss` (None: all), with `edge`'s field exactly on its
    value (or empty, for `ne`); None when the entity's rules forbid such a row."""
    meta = view.entity
    data = _typed_row(view, payload(user, meta))
    for c in view.conditions:
        data[c.field] = _value_for(view, c, data, n, meet=c is not miss)
    if edge is not None:
        data[edge.field] = None if edge.op == "ne" else _operand(edge.value, data)
    overrides = {c.field: as_json(meta.field(c.field), data[c.field]) for c in view.conditions}
    try:
        return create(user, meta, **overrides)
    except AssertionError:
        return None  # the entity's rules do not allow such a row


def _rows(user: User, view: View) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    made = [_make(user, view, n) for n in (1, 0, 2)]
    made += [_make(user, view, 0, miss=c) for c in view.conditions]
    # On the boundary: a value equal to a literal or `today` (`now` moves, so not that one),
    # and an empty value for `!=`, which the view counts as different.
    made += [_make(user, view, 0, edge=c) for c in view.conditions
             if c.op in ("gt", "ge", "lt", "le", "eq") and not isinstance(c.value, (rules.FieldRef, rules.Now))
             or c.op == "ne" and not view.entity.field(c.field).required]
    rows = [row for row in made if row is not None]
    inside = [row for row in rows if all(_meets(view, c, _typed_row(view, row)) for c in view.conditions)]
    return rows, inside


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.slug)
def test_view_lists_exactly_the_matching_rows_sorted_and_summed(view: View, user_b: User) -> None:
    user = new_user("viewer")
    rows, inside = _rows(user, view)
    assert inside, "no row could be made to meet the view's conditions"
    if view.conditions:
        assert len(inside) < len(rows), "no row could be made to miss a condition"
    response = user.api.get(f"/api/views/{view.slug}", params={"per_page": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {row["id"] for row in body["items"]} == {row["id"] for row in inside}
    assert body["total"] == len(inside)
    if view.sort:
        key = view.sort.lstrip("-")
        values = [typed(view.entity.field(key), row[key]) for row in body["items"]]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=view.sort.startswith("-")), values
    if view.sums:
        for name in view.sums:
            expected = sum((typed(view.entity.field(name), row[name]) or 0 for row in inside), decimal.Decimal(0))
            assert decimal.Decimal(str(body["sums"][name])) == expected, (name, body["sums"])
    else:
        assert "sums" not in body

    # The page: the same rows, in the navigation and with the totals.
    page = user.browser.get(f"/views/{view.slug}")
    assert page.status_code == 200
    for row in rows:
        link = f'href="/{view.entity.route}/{row["id"]}/edit"'
        assert (link in page.text) == (row in inside), row
    assert f'href="/views/{view.slug}"' in page.text
    if view.sums:
        assert 'class="sums"' in page.text

    # The dashboard card counts the rows.
    dashboard = user.browser.get("/").text
    card = dashboard.split(f'data-view="{view.slug}"', 1)[1]
    assert f'<span class="card-count">{len(inside)}</span>' in card.split("</a>", 1)[0]

    # Isolation: another [[ "workspace" if app.features.teams else "account" ]] sees none of these rows, and its own rows stay out of this view.
    theirs = user_b.api.get(f"/api/views/{view.slug}", params={"per_page": 100}).json()
    assert not {row["id"] for row in rows} & {row["id"] for row in theirs["items"]}
    # The first sample the entity's rules allow (a spread of 3 may leave a `between`).
    other = next((row for n in (3, 0, 1, 2) if (row := _make(user_b, view, n)) is not None), None)
    assert other is not None
    mine = user.api.get(f"/api/views/{view.slug}", params={"per_page": 100}).json()
    assert other["id"] not in {row["id"] for row in mine["items"]}


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.slug)
def test_view_api_takes_sort_search_and_filters_and_requires_login(view: View, user_a: User, anon: Any) -> None:
    assert anon.get(f"/api/views/{view.slug}").status_code == 401
    assert anon.get(f"/views/{view.slug}").status_code == 303
    assert user_a.api.get(f"/api/views/{view.slug}", params={"sort": "-id"}).status_code == 200
    assert user_a.api.get(f"/api/views/{view.slug}", params={"sort": "no_such_field"}).status_code == 422
    response = user_a.api.get(f"/api/views/{view.slug}", params={"no_such_field": "1"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "no_such_field"]
    assert user_a.api.get(f"/api/views/{view.slug}", params={"q": "zz-no-such-text-zz"}).status_code == 200
[% endif %]
