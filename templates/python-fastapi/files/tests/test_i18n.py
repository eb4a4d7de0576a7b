"""The UI's language: every message the app shows is in every catalog (app/locales/*.po), and
pages are in the app's language (derived from the issue's texts, or APP_LANGUAGE)."""

import re
import string
from pathlib import Path

from fastapi.testclient import TestClient

from app import i18n
from app.i18n import _

APP = Path(i18n.__file__).parent
MESSAGE = re.compile(r"""\b(?:_|N_)\(\s*(["'])((?:(?!\1).)+)\1""")


def _used_messages() -> set[str]:
    found: set[str] = set()
    for path in [*APP.rglob("*.py"), *APP.rglob("*.html")]:
        found.update(m.group(2) for m in MESSAGE.finditer(path.read_text(encoding="utf-8")))
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
