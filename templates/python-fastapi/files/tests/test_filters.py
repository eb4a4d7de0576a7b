"""Field filters of the list API: `?<field>=v`, `?<field>__gte=v`, `?<field>__lte=v`.

One field of each kind (the first entity that has one) is enough to prove the generic code,
so the cost of this module does not grow with the number of entities.
"""

from typing import Any

from app.models import ENTITIES
from app.fields import EntityMeta, FieldSpec
from tests.helpers import create, new_user, unique_capacity

RANGE_KINDS = {"int", "decimal", "date", "datetime"}


def _one_field_per_kind() -> list[tuple[EntityMeta, FieldSpec]]:
    picked: dict[str, tuple[EntityMeta, FieldSpec]] = {}
    for meta in ENTITIES:
        for f in meta.fields:
            picked.setdefault(f.kind, (meta, f))
    return list(picked.values())


def _raw(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["items"]]


def test_exact_and_range_filters_select_the_rows() -> None:
    user = new_user("filters")
    for meta, f in _one_field_per_kind():
        api = f"/api/{meta.route}"
        rows = [create(user, meta) for _ in range(min(2, unique_capacity(meta)))]
        first = rows[0]
        if first[f.name] is None:
            first = user.api.get(f"{api}/{first['id']}").json()
        value = first[f.name]
        if value is None:  # an optional ref left empty: `?field=` finds the rows without one
            assert first["id"] in _ids(user.api.get(api, params={f.name: "", "per_page": 100})), f.name
            continue
        found = _ids(user.api.get(api, params={f.name: _raw(value), "per_page": 100}))
        assert first["id"] in found, (meta.name, f.name)
        for other in rows[1:]:
            if other[f.name] != value:
                assert other["id"] not in found, (meta.name, f.name)
        if f.kind in RANGE_KINDS:
            for op in ("gte", "lte"):
                ranged = _ids(user.api.get(api, params={f"{f.name}__{op}": _raw(value), "per_page": 100}))
                assert first["id"] in ranged, (meta.name, f.name, op)
            if len(rows) > 1 and rows[1][f.name] is not None and rows[1][f.name] != value:
                low, high = sorted(rows, key=lambda r: float(r[f.name]) if f.kind in ("int", "decimal") else r[f.name])
                above = _ids(user.api.get(api, params={f"{f.name}__gte": _raw(high[f.name]), "per_page": 100}))
                assert high["id"] in above and low["id"] not in above, (meta.name, f.name)
                below = _ids(user.api.get(api, params={f"{f.name}__lte": _raw(low[f.name]), "per_page": 100}))
                assert low["id"] in below and high["id"] not in below, (meta.name, f.name)


def test_unknown_filters_and_bad_values_are_422_naming_them(user_a: Any) -> None:
    meta = ENTITIES[0]
    api = f"/api/{meta.route}"
    response = user_a.api.get(api, params={"no_such_field": "1"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "no_such_field"]
    for m, f in _one_field_per_kind():
        url = f"/api/{m.route}"
        if f.kind not in RANGE_KINDS:
            response = user_a.api.get(url, params={f"{f.name}__gte": "1"})
            assert response.status_code == 422, (f.name, response.text)
            assert response.json()["detail"][0]["loc"] == ["query", f"{f.name}__gte"]
        bad = {"int": "abc", "decimal": "1.2.3", "date": "2024-13-45", "datetime": "soon", "bool": "maybe",
               "ref": "x"}.get(f.kind)
        if f.kind == "enum" and f.choices:
            bad = "__not_a_choice__"
        if bad is None:
            continue
        for key in ([f.name, f"{f.name}__gte", f"{f.name}__lte"] if f.kind in RANGE_KINDS else [f.name]):
            response = user_a.api.get(url, params={key: bad})
            assert response.status_code == 422, (key, response.text)
            assert ["query", key] in [err["loc"] for err in response.json()["detail"]], key
