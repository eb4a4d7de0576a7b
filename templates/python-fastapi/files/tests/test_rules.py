[% if rules %]
"""The issue's rules: a record that keeps a rule is accepted, one that breaks it is refused with
the field(s) named (API: 422 `detail[].loc`; pages: 422 and the message next to the field);
updates are checked like inserts; `no overlap` with touching, overlapping and contained intervals.
"""

import datetime as dt
from typing import Any

import pytest
from markupsafe import escape

from app import rules
from app.models import ENTITIES
from app.fields import EntityMeta
from tests.helpers import User, _near, _operand, _step, as_form, as_json, create, new_user, payload, satisfy_rules, typed

CASES = [(meta, rule) for meta in ENTITIES for rule in meta.rules]
VALUE_RULES = [(m, r) for m, r in CASES if isinstance(r, (rules.Compare, rules.Between, rules.Length))]
DEFAULTS = [(m, r) for m, r in CASES if isinstance(r, rules.Default)]
UNIQUES = [(m, r) for m, r in CASES if isinstance(r, rules.Unique)]
OVERLAPS = [(m, r) for m, r in CASES if isinstance(r, rules.NoOverlap)]
NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "=": "!=", "!=": "="}


def _id(case: Any) -> str:
    meta, rule = case
    return f"{meta.name}-{meta.rules.index(rule) + 1}-{type(rule).__name__}"


def _locs(response: Any) -> set[str]:
    return {err["loc"][-1] for err in response.json()["detail"]}


def _named(rule: Any) -> set[str]:
    if isinstance(rule, rules.Unique):
        return set(rule.fields)
    if isinstance(rule, rules.NoOverlap):
        return {rule.start, rule.end}
    return {rule.field}


def _breaking(meta: EntityMeta, rule: Any, body: dict[str, Any]) -> dict[str, Any]:
    """`body` changed so that it breaks `rule` (only the rule's field changes)."""
    f = meta.field(rule.field)
    data = {g.name: typed(g, body.get(g.name)) for g in meta.fields}
    if isinstance(rule, rules.Compare):
        target = _operand(rule.value, data)
        value = _near(f, NEGATE[rule.op], target, 0)
    elif isinstance(rule, rules.Between):
        value = _operand(rule.min, data) - _step(f)
    else:
        value = "x" * (rule.max + 1) if rule.max < 200 or rule.min <= 1 else "x" * (rule.min - 1)
    if value in (None, "") or not rules.check_values(meta, [rule], {**data, rule.field: value}):
        pytest.skip(f"no value of {f.name} breaks {rule.statement!r} alone")
    return {**body, rule.field: as_json(f, value)}


[% if rules | selectattr("kind", "in", ["compare", "between", "length"]) | list %]
# --- comparisons, between, length ---------------------------------------------------------


@pytest.mark.parametrize("case", VALUE_RULES, ids=_id)
def test_value_rule_through_the_api(case: Any, user_a: User) -> None:
    meta, rule = case
    api = f"/api/{meta.route}"
    good = payload(user_a, meta)
    created = user_a.api.post(api, json=good)
    assert created.status_code == 201, created.text  # keeps the rule: accepted
    bad = _breaking(meta, rule, payload(user_a, meta))
    refused = user_a.api.post(api, json=bad)
    assert refused.status_code == 422, refused.text
    assert rule.field in _locs(refused), refused.text
    # Updates are checked like inserts: PUT and PATCH.
    url = f"{api}/{created.json()['id']}"
    replaced = user_a.api.put(url, json=_breaking(meta, rule, good))
    assert replaced.status_code == 422 and rule.field in _locs(replaced), replaced.text
    patched = user_a.api.patch(url, json={rule.field: _breaking(meta, rule, good)[rule.field]})
    assert patched.status_code == 422 and rule.field in _locs(patched), patched.text
    assert user_a.api.get(url).json()[rule.field] == created.json()[rule.field]  # unchanged


@pytest.mark.parametrize("case", VALUE_RULES, ids=_id)
def test_value_rule_through_the_pages(case: Any, user_a: User) -> None:
    meta, rule = case
    pages = f"/{meta.route}"
    bad = _breaking(meta, rule, payload(user_a, meta))
    refused = user_a.post_form(f"{pages}/new", as_form(meta, bad))
    assert refused.status_code == 422, refused.text
    assert f'id="e-{rule.field}"' in refused.text
    # The message of this rule, or of another rule on the same field that the value breaks too.
    shown = [rules.message(meta, r) for r in meta.rules if getattr(r, "field", None) == rule.field]
    assert any(str(escape(text)) in refused.text for text in shown), shown
    accepted = user_a.post_form(f"{pages}/new", as_form(meta, payload(user_a, meta)))
    assert accepted.status_code == 303, accepted.text
    row = create(user_a, meta)
    edited = user_a.post_form(f"{pages}/{row['id']}/edit", as_form(meta, _breaking(meta, rule, row)))
    assert edited.status_code == 422 and f'id="e-{rule.field}"' in edited.text


[% endif %]
[% if rules | selectattr("kind", "equalto", "default") | list %]
# --- defaults -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", DEFAULTS, ids=_id)
def test_default_fills_the_api_body_and_the_form(case: Any, user_a: User) -> None:
    meta, rule = case
    f = meta.field(rule.field)
    body = payload(user_a, meta)
    expected = _operand(rule.value, {g.name: typed(g, body.get(g.name)) for g in meta.fields})
    # The other fields keep the rules with the default value in place; then it is left out.
    body = satisfy_rules(meta, {**body, rule.field: as_json(f, expected)}, 1, {rule.field})
    del body[rule.field]
    created = user_a.api.post(f"/api/{meta.route}", json=body)
    assert created.status_code == 201, created.text
    value = typed(f, created.json()[rule.field])
    if isinstance(rule.value, rules.Now):
        assert abs(value - expected) < dt.timedelta(minutes=5)
    else:
        assert value == typed(f, as_json(f, expected)), (value, expected)
    form = user_a.browser.get(f"/{meta.route}/new").text
    shown = rules.defaults([rule])[rule.field]
    if f.kind == "bool":
        assert ("checked" in form.split(f'name="{f.name}"')[1][:40]) == bool(shown)
    elif f.kind == "enum":
        assert f'<option value="{escape(shown)}" selected>' in form
    else:
        text = shown.strftime("%Y-%m-%dT%H") if isinstance(shown, dt.datetime) else str(shown)
        assert f'value="{escape(text)}' in form


[% endif %]
[% if rules | selectattr("kind", "equalto", "unique") | list %]
# --- unique together ----------------------------------------------------------------------


@pytest.mark.parametrize("case", UNIQUES, ids=_id)
def test_unique_together(case: Any, user_a: User, user_b: User) -> None:
    meta, rule = case
    api, pages = f"/api/{meta.route}", f"/{meta.route}"
    first = create(user_a, meta)
    same = {name: first[name] for name in rule.fields}
    clash = user_a.api.post(api, json=payload(user_a, meta, **same))
    assert clash.status_code == 422, clash.text
    assert _locs(clash) >= set(rule.fields), clash.text
    page = user_a.post_form(f"{pages}/new", as_form(meta, payload(user_a, meta, **same)))
    assert page.status_code == 422 and all(f'id="e-{name}"' in page.text for name in rule.fields)
    other = create(user_a, meta)
    moved = user_a.api.patch(f"{api}/{other['id']}", json=same)
    assert moved.status_code == 422 and _locs(moved) >= set(rule.fields), moved.text
    # The row itself may be saved again unchanged.
    assert user_a.api.patch(f"{api}/{first['id']}", json=same).status_code == 200
    # Per [[ "workspace" if app.features.teams else "account" ]]: another one may use the same values (refs are its own rows).
    theirs = payload(user_b, meta, **{n: v for n, v in same.items() if meta.field(n).kind != "ref"})
    assert user_b.api.post(api, json=theirs).status_code == 201


[% endif %]
[% if rules | selectattr("kind", "equalto", "no_overlap") | list %]
# --- no overlap ---------------------------------------------------------------------------


def _interval(meta: EntityMeta, rule: Any, base: dict[str, Any], start: Any, end: Any) -> dict[str, Any]:
    return {**base, rule.start: as_json(meta.field(rule.start), start), rule.end: as_json(meta.field(rule.end), end)}


@pytest.mark.parametrize("case", OVERLAPS, ids=_id)
def test_no_overlap(case: Any, user_b: User) -> None:
    meta, rule = case
    user = new_user("overlap")
    api, pages = f"/api/{meta.route}", f"/{meta.route}"
    base = payload(user, meta)
    step = _step(meta.field(rule.start))
    s = typed(meta.field(rule.start), base[rule.start]) + 400 * step  # clear of the samples
    first = user.api.post(api, json=_interval(meta, rule, base, s, s + 2 * step))
    assert first.status_code == 201, first.text
    touching = [(s + 2 * step, s + 3 * step), (s - step, s)]
    overlapping = [(s + step, s + 3 * step), (s - step, s + step)]
    contained = [(s, s + 2 * step), (s + step / 2 if step != 1 else s, s + step)]
    containing = [(s - step, s + 3 * step)]
    for start, end in touching:  # back to back: allowed ([start, end) is half-open)
        ok = user.api.post(api, json=_interval(meta, rule, base, start, end))
        assert ok.status_code == 201, (start, end, ok.text)
    for start, end in overlapping + contained + containing:
        refused = user.api.post(api, json=_interval(meta, rule, base, start, end))
        assert refused.status_code == 422, (start, end, refused.text)
        assert _locs(refused) >= {rule.start, rule.end}, refused.text
    # The page shows the message next to both fields.
    page = user.post_form(f"{pages}/new", as_form(meta, _interval(meta, rule, base, s + step, s + 3 * step)))
    assert page.status_code == 422, page.text
    assert f'id="e-{rule.start}"' in page.text and f'id="e-{rule.end}"' in page.text
    assert str(escape(rules.message(meta, rule))) in page.text
    # Updates: a row may keep or shrink its own interval, not move onto another one.
    first_id = first.json()["id"]
    assert user.api.patch(f"{api}/{first_id}", json=_interval(meta, rule, {}, s, s + step)).status_code == 200
    later = user.api.post(api, json=_interval(meta, rule, base, s + 10 * step, s + 11 * step))
    assert later.status_code == 201, later.text
    moved = user.api.patch(f"{api}/{later.json()['id']}", json=_interval(meta, rule, {}, s, s + step))
    assert moved.status_code == 422 and _locs(moved) >= {rule.start, rule.end}, moved.text
    # An end before the start is refused too.
    inverted = user.api.post(api, json=_interval(meta, rule, base, s + 20 * step, s + 19 * step))
    assert inverted.status_code == 422 and rule.end in _locs(inverted), inverted.text
    # Other [[ "workspaces" if app.features.teams else "accounts" ]], and rows with other `per` values, are free.
    theirs = payload(user_b, meta)
    assert user_b.api.post(api, json=_interval(meta, rule, theirs, s, s + 2 * step)).status_code == 201
    for name in rule.per:
        other = payload(user, meta)
        if other.get(name) != base.get(name):
            response = user.api.post(api, json={**_interval(meta, rule, other, s, s + 2 * step)})
            assert response.status_code == 201, (name, response.text)
[% endif %]
[% endif %]
