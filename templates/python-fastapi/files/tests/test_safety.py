"""Texts from the issue are data: pages print them escaped, never evaluate them."""

import html
import re

from fastapi.testclient import TestClient
from markupsafe import escape

from app import meta
from app.models import ENTITIES
from tests.helpers import User


def _esc(text: str) -> str:
    """Text as the (auto-escaping) templates print it."""
    return str(escape(text))


def test_app_name_is_escaped_on_pages(anon: TestClient) -> None:
    page = anon.get("/login").text
    assert _esc(meta.APP_NAME) in page
    if meta.APP_SUMMARY:
        assert _esc(meta.APP_SUMMARY) in page


def test_app_name_is_escaped_in_the_api_docs(anon: TestClient) -> None:
    page = anon.get("/docs")
    assert page.status_code == 200
    assert f"<title>{html.escape(meta.APP_NAME)} – API docs</title>" in page.text


def test_labels_are_escaped_on_pages(user_a: User) -> None:
    for entity in ENTITIES:
        listing = user_a.browser.get(f"/{entity.route}").text
        assert _esc(entity.plural_label) in listing
        form = user_a.browser.get(f"/{entity.route}/new").text
        for f in entity.fields:
            assert _esc(f.label) in form
            for choice in f.choices:
                assert _esc(choice) in form


def test_stored_values_are_escaped(user_a: User) -> None:
    entity = next((e for e in ENTITIES if any(f.kind == "text" for f in e.fields)), None)
    if entity is None:
        return
    from tests.helpers import payload

    from app import rules

    # A text field the spec's length rules leave room in, else the hostile text cut to fit.
    def limit(f):
        bounds = [r for r in entity.rules if isinstance(r, rules.Length) and r.field == f.name]
        return (max((r.min for r in bounds), default=0), min((r.max for r in bounds), default=10**6))

    texts = sorted((f for f in entity.fields if f.kind == "text"), key=lambda f: -limit(f)[1])
    field = texts[0]
    low, high = limit(field)
    hostile = "<script>alert(1)</script> {{ 7*7 }}"
    if len(hostile) > high:
        hostile = "<b>" + "x" * max(0, high - 7) + "</b>" if high >= 7 else "<b>"[:high]
    hostile = hostile.ljust(low, "x")
    response = user_a.api.post(f"/api/{entity.route}", json=payload(user_a, entity, **{field.name: hostile}))
    assert response.status_code == 201, response.text
    page = user_a.browser.get(f"/{entity.route}", params={"sort": "-id"}).text
    if "<" in hostile and ">" in hostile:
        assert hostile not in page
    assert _esc(hostile) in page


def test_session_cookie_is_http_only_and_same_site(anon: TestClient) -> None:
    response = anon.get("/login")
    cookie = response.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


def test_security_headers(anon: TestClient) -> None:
    page = anon.get("/login")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_api_docs_are_served_by_the_app_under_a_strict_csp(anon: TestClient) -> None:
    """Swagger UI and ReDoc load only the app's own assets: they work offline, and the CSP allows no other origin."""
    for path in ("/docs", "/redoc"):
        page = anon.get(path)
        assert page.status_code == 200
        assert "https://" not in page.text and "http://" not in page.text, path
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-eval" not in csp and "https:" not in csp, csp
        for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
            response = anon.get(asset)
            assert response.status_code == 200 and len(response.content) > 1000, asset
    assert "'sha256-" in anon.get("/docs").headers["content-security-policy"]  # its inline script, by hash
    assert anon.get("/docs/assets/../main.py").status_code == 404
