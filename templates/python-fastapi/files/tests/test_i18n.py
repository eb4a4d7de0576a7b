"""The UI's language: every message the app shows is in every catalog (app/locales/*.po), and
pages are in the app's language (derived from the issue's texts, or APP_LANGUAGE)."""

import re
import string
from pathlib import Path

from fastapi.testclient import TestClient

from app import i18n
from app.models import ENTITIES
from app.i18n import _

APP = Path(i18n.__file__).parent
MESSAGE = re.compile(r"""\b(?:_|N_)\(\s*(["'])((?:(?!\1).)+)\1""")
# Texts the API answers without a marker: `detail` literals (translated by app.main's handlers)
# and the app's own validators' ValueError texts (pydantic's `msg`, translated the same way).
ANSWERED = re.compile(r'(?:\bdetail(?::\s*str)?\s*=\s*|\bValueError\(|\b_unauthorized\()"([^"{}\[\]]+)"\s*[),]')


def _used_messages() -> set[str]:
    found: set[str] = set()
    for path in [*APP.rglob("*.py"), *APP.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        found.update(m.group(2) for m in MESSAGE.finditer(text))
        if path.suffix == ".py":
            # `<Entity> not found` is answered as the catalog's "{label} not found".
            found.update(m.group(1) for m in ANSWERED.finditer(text) if not m.group(1).endswith(" not found")
                         or m.group(1).removesuffix(" not found").lower() not in {e.name.replace("_", "").lower() for e in ENTITIES})
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_catalog_translates_every_message() -> None:
    used = _used_messages()
    assert len(used) > 50, "the message scan found too little: is the pattern still right?"
    for language in i18n.available():
        if language == i18n.SOURCE_LANGUAGE:
            continue
        catalog = i18n.load_catalog(language)
        missing = sorted(m for m in used if m not in catalog)
        assert not missing, f"{language}.po lacks: {missing}"
        wrong = sorted(m for m in used if _fields(catalog[m]) != _fields(m))
        assert not wrong, f"{language}.po: placeholders differ for {wrong}"


def test_the_language_follows_the_issue_texts() -> None:
    assert i18n.LANGUAGE in i18n.available()
    assert i18n.detect_language() in i18n.available()
    assert i18n.load_catalog("ko")["Log in"] == "로그인"


def test_pages_are_in_the_apps_language(anon: TestClient) -> None:
    page = anon.get("/login").text
    assert f'<html lang="{i18n.LANGUAGE}">' in page
    assert f"<h1>{_('Log in')}</h1>" in page
    if i18n.LANGUAGE == "ko":
        assert "로그인" in page and "Log in" not in page
    signup = anon.get("/signup").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', signup).group(1)  # type: ignore[union-attr]
    refused = anon.post("/signup", data={"email": "not-an-address", "password": "x", "csrf_token": token})
    assert refused.status_code == 422 and f'<html lang="{i18n.LANGUAGE}">' in refused.text


def test_api_errors_are_in_the_apps_language(anon: TestClient) -> None:
    """pydantic's 422 messages and the API's `detail` texts come through the catalog."""
    refused = anon.post("/api/auth/signup", json={"email": "not-an-address", "password": "x" * 8})
    assert refused.status_code == 422
    message = refused.json()["detail"][0]["msg"]
    assert message == i18n.error_message({"type": "value_error", "msg": "value is not a valid email address: " + message.partition(": ")[2]})
    missing = anon.post("/api/auth/signup", json={})
    assert {err["msg"] for err in missing.json()["detail"]} == {i18n.error_message({"type": "missing", "msg": "Field required"})}
    wrong = anon.post("/api/auth/token", data={"username": "nobody@example.com", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == _("Incorrect e-mail or password.")
    if i18n.LANGUAGE == "ko":
        assert message == "올바른 이메일 주소를 입력하세요."
        assert wrong.json()["detail"] == "이메일 또는 비밀번호가 올바르지 않습니다."
    else:  # English apps keep pydantic's own wording
        assert message.startswith("value is not a valid email address")
        assert {err["msg"] for err in missing.json()["detail"]} == {"Field required"}


def test_entity_422s_are_in_the_apps_language() -> None:
    """Every invalid value of every entity is refused with a message in the app's language."""
    from tests.helpers import INVALID, new_user, payload

    user = new_user("i18n")
    # English keeps pydantic's words, and each entity's own tests check its 422s: one entity will do.
    for meta in ENTITIES if i18n.LANGUAGE != i18n.SOURCE_LANGUAGE else ENTITIES[:1]:
        base = payload(user, meta)
        for f in meta.fields:
            if f.kind == "enum" and not f.choices:
                continue
            response = user.api.post(f"/api/{meta.route}", json={**base, f.name: INVALID[f.kind]})
            assert response.status_code == 422, (meta.name, f.name, response.text)
            for err in response.json()["detail"]:
                if i18n.LANGUAGE == "ko":
                    assert i18n._has_hangul(err["msg"]), (meta.name, f.name, err)
        empty = user.api.post(f"/api/{meta.route}", json={})  # 201 for an entity without a required field
        missing = empty.json()["detail"] if empty.status_code == 422 else []
        assert all(err["msg"] == i18n.error_message({"type": "missing", "msg": "Field required"}) for err in missing
                   if err["type"] == "missing"), missing
        unknown = user.api.get(f"/api/{meta.route}/999999")
        assert unknown.status_code == 404
        if i18n.LANGUAGE == "ko":
            assert unknown.json()["detail"] == _("{label} not found", label=meta.label), unknown.text
        # A list's query string: an unknown filter, a range on text, a value of the wrong type.
        bad = {"no_such_field": "1", f"{meta.fields[0].name}__gte": "x"}
        bad |= {f.name: "not-a-value" for f in meta.fields if f.kind in ("int", "decimal", "date", "datetime", "bool")}
        refused = user.api.get(f"/api/{meta.route}", params=bad)
        assert refused.status_code == 422, refused.text
        errors = {err["loc"][1]: err["msg"] for err in refused.json()["detail"]}
        assert set(errors) == set(bad), errors
        assert errors["no_such_field"] == _("Unknown filter {name}: not a field of this list.", name="no_such_field")
        if i18n.LANGUAGE == "ko":
            assert all(i18n._has_hangul(message.partition(": ")[2] or message) for message in errors.values()), errors
