"""A real headless Chromium (Debian's, driven by Python playwright) against the served app."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, Venv, require_file, serve_app
from test_linters import dashboard_queries

PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser() -> Iterator[object]:
    require_file(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # A fresh temporary profile per launch (Playwright's default); never `playwright install`.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _new_page(browser, base: str):  # noqa: ANN001, ANN202
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return page, problems


def _path(page) -> str:  # noqa: ANN001
    return urlparse(page.url).path


def _sign_up(page, email: str) -> None:  # noqa: ANN001
    page.goto("/signup")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*://[^/]+/$"))


def _log_out_and_check_refused(page, list_path: str) -> None:  # noqa: ANN001
    page.click("header form.logout button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(list_path)
    assert _path(page) == "/login", f"{list_path} after logout ended at {page.url}"
    assert page.locator("main h1").inner_text().strip() == "Log in"
    assert "next=" in page.url


def test_sign_up_create_list_log_out(browser, generated_app: Callable[[str], Path], app_venv: Venv,
                                     tmp_path: Path) -> None:
    """Sample app: sign up, create an Author through the form, see it listed, log out, be refused."""
    from playwright.sync_api import expect

    with serve_app(generated_app("sample"), app_venv, tmp_path / "srv") as base:
        page, problems = _new_page(browser, base)
        _sign_up(page, "reader@example.com")
        page.locator("nav[aria-label=Sections]").get_by_role("link", name="Authors").click()
        page.wait_for_url(re.compile(r"/authors$"))
        page.get_by_role("link", name="New Author").first.click()
        page.wait_for_url(re.compile(r"/authors/new$"))
        page.get_by_label(re.compile(r"^\s*name\b", re.I)).fill("Ursula K. Le Guin")
        page.click("form.entity-form button[type=submit]")
        page.wait_for_url(re.compile(r"/authors$"))
        expect(page.locator("table tbody")).to_contain_text("Ursula K. Le Guin")

        # Delete asks first, on a page of its own: Cancel keeps the row, Delete removes it.
        page.get_by_role("link", name="New Author").first.click()
        page.get_by_label(re.compile(r"^\s*name\b", re.I)).fill("Temporary Author")
        page.click("form.entity-form button[type=submit]")
        page.wait_for_url(re.compile(r"/authors$"))
        row = page.locator("table tbody tr", has_text="Temporary Author")
        row.get_by_role("link", name="Delete").click()
        page.wait_for_url(re.compile(r"/authors/\d+/delete$"))
        expect(page.locator("h1")).to_contain_text("Delete")
        page.get_by_role("link", name="Cancel").click()
        page.wait_for_url(re.compile(r"/authors$"))
        expect(page.locator("table tbody")).to_contain_text("Temporary Author")
        page.locator("table tbody tr", has_text="Temporary Author").get_by_role("link", name="Delete").click()
        page.wait_for_url(re.compile(r"/authors/\d+/delete$"))
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url(re.compile(r"/authors$"))
        expect(page.locator("table tbody")).not_to_contain_text("Temporary Author")
        expect(page.locator("table tbody")).to_contain_text("Ursula K. Le Guin")

        _log_out_and_check_refused(page, "/authors")
        assert "Ursula K. Le Guin" not in page.content()
        assert not problems, problems

        # The metrics the dashboard charts are the ones the running app exports.
        with urllib.request.urlopen(base + "/metrics", timeout=5) as response:  # noqa: S310
            exported = response.read().decode()
        # Sample lines, and the TYPE lines of labelled families that have no sample yet.
        names = set(re.findall(r"^(?:# TYPE )?([a-zA-Z_:][a-zA-Z0-9_:]*)", exported, flags=re.M))
        queries = dashboard_queries(generated_app("sample") / "monitoring/grafana-dashboard.json")
        for expr in (e for exprs in queries.values() for e in exprs):
            for metric in re.findall(r"\b((?:http|process)_[a-z_]+)\b", expr):
                assert metric in names, f"dashboard metric {metric} is not exported by /metrics"


def test_hostile_text_is_shown_not_run(browser, generated_app: Callable[[str], Path], app_venv: Venv,
                                       tmp_path: Path) -> None:
    """Reserved app: template syntax and markup from the issue and from users stay plain text."""
    from playwright.sync_api import expect

    hostile = "</script><script>window.__pwned=1;alert(1)</script>{{ 7*7 }}"
    with serve_app(generated_app("reserved"), app_venv, tmp_path / "srv") as base:
        page, problems = _new_page(browser, base)
        page.goto("/signup")
        assert "{{ 7*7 }}" in page.title(), page.title()
        summary = page.locator("p.summary").inner_text()
        assert "{{ 7*7 }}" in summary and "{% if true %}jinja{% endif %}" in summary, summary
        assert "[[ app.slug ]]" in summary, summary
        _sign_up(page, "mallory@example.com")
        users = page.locator("nav[aria-label=Sections]").get_by_role("link", name="Users")
        list_path = users.get_attribute("href")
        users.click()
        page.wait_for_url(f"**{list_path}")
        page.get_by_role("link", name="New User").first.click()
        page.wait_for_url(f"**{list_path}/new")
        page.get_by_label(re.compile(r"^\s*class\b", re.I)).fill(hostile)
        page.click("form.entity-form button[type=submit]")
        page.wait_for_url(f"**{list_path}")
        expect(page.locator("table tbody")).to_contain_text(hostile)
        assert page.evaluate("() => window.__pwned") is None
        _log_out_and_check_refused(page, list_path)
        assert not problems, problems


def test_rule_error_inline_and_view_page(browser, generated_app: Callable[[str], Path], app_venv: Venv,
                                         tmp_path: Path) -> None:
    """Invoices app: a negative amount is refused next to its field; the Overdue view, reached
    from the navigation, lists an overdue invoice with its total, and the dashboard shows its card."""
    from playwright.sync_api import expect

    with serve_app(generated_app("invoices"), app_venv, tmp_path / "srv") as base:
        page, problems = _new_page(browser, base)
        _sign_up(page, "accountant@example.com")
        page.goto("/clients/new")
        page.get_by_label(re.compile(r"^\s*Name\b")).fill("Acme")
        page.click("form.entity-form button[type=submit]")
        page.wait_for_url(re.compile(r"/clients$"))

        page.goto("/invoices/new")
        # The rule's default fills the form.
        assert page.locator("#f-status").input_value() == "draft"
        page.fill("#f-number", "INV-7")
        page.select_option("#f-client", label="Acme")
        page.fill("#f-amount", "-5")
        page.fill("#f-issued_on", "2026-01-01")
        page.fill("#f-due_on", "2026-01-31")
        page.click("form.entity-form button[type=submit]")
        error = page.locator("#e-amount")
        expect(error).to_be_visible()
        expect(error).to_contain_text("Amount must be")
        assert page.locator(".field.has-error #f-amount").count() == 1  # next to its own field
        assert page.locator("#f-number").input_value() == "INV-7"  # the rest is kept

        page.fill("#f-amount", "120.50")
        page.select_option("#f-status", "sent")
        page.click("form.entity-form button[type=submit]")
        page.wait_for_url(re.compile(r"/invoices$"))

        page.locator("nav[aria-label=Sections]").get_by_role("link", name="Overdue").click()
        page.wait_for_url(re.compile(r"/views/overdue$"))
        expect(page.locator("main h1")).to_have_text("Overdue")
        expect(page.locator("table tbody")).to_contain_text("INV-7")
        expect(page.locator(".sums")).to_contain_text("120.50")

        page.goto("/")
        card = page.locator("a.card[data-view=overdue]")
        expect(card.locator(".card-count")).to_have_text("1")
        expect(card).to_contain_text("120.50")
        assert not problems, problems


def test_api_docs_render_without_network(browser, generated_app: Callable[[str], Path], app_venv: Venv,  # noqa: ANN001
                                         tmp_path: Path) -> None:
    """Swagger UI and ReDoc render from the app's own assets: every other origin is cut off, and
    the page's CSP reports no violation."""
    with serve_app(generated_app("sample"), app_venv, tmp_path) as base:
        page, problems = _new_page(browser, base)
        elsewhere: list[str] = []

        def only_the_app(route) -> None:  # noqa: ANN001
            if route.request.url.startswith(base + "/"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort("internetdisconnected")

        page.context.route("**/*", only_the_app)
        page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.goto("/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert page.locator(".opblock").count() > 5, "Swagger UI shows no operations"
        page.goto("/redoc")
        page.wait_for_selector("[data-section-id], .api-content h1")
        assert elsewhere == [], f"docs asked for other origins: {elsewhere}"
        # ReDoc's footer always points at Redocly's logo on their CDN: the CSP blocks it (as it
        # should; nothing is fetched), and the reference renders without it.
        assert [p for p in problems if "cdn.redoc.ly" not in p] == [], problems


def test_a_korean_app_is_korean(browser, generated_app: Callable[[str], Path], app_venv: Venv,  # noqa: ANN001
                                tmp_path: Path) -> None:
    """Hangul labels in the spec: pages, messages and `<html lang>` are Korean, in a real browser."""
    with serve_app(generated_app("korean"), app_venv, tmp_path) as base:
        page, problems = _new_page(browser, base)
        page.goto("/signup")
        assert page.locator("html").get_attribute("lang") == "ko"
        assert page.locator("main h1").inner_text().strip() == "계정 만들기"
        # The API's validation messages too (pydantic's, through the catalog).
        refused = page.request.post("/api/auth/signup", data={"email": "not-an-address", "password": "x" * 12})
        assert refused.status == 422
        assert refused.json()["detail"][0]["msg"] == "올바른 이메일 주소를 입력하세요.", refused.text()
        _sign_up(page, "kim@example.com")
        assert "환영합니다" in page.locator(".flash").first.inner_text()
        page.goto("/rooms/new")
        assert page.locator("main h1").inner_text().strip() == "새 회의실"
        page.click("form.entity-form button[type=submit]")  # nothing filled in: the required name is missing
        assert page.locator("#e-name").inner_text().strip() == "필수 항목입니다."
        page.fill("#f-name", "큰 회의실")
        page.click("form.entity-form button[type=submit]")
        page.wait_for_url(re.compile(r"/rooms$"))
        assert "회의실을(를) 만들었습니다." in page.locator(".flash").first.inner_text()
        assert page.locator("a.danger").first.inner_text().strip() == "삭제"
        page.locator("a.danger").first.click()
        assert page.locator("main h1").inner_text().strip() == "회의실을(를) 삭제할까요?"
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r"/rooms$"))
        assert "삭제했습니다" in page.locator(".flash").first.inner_text()
        assert page.locator("html").get_attribute("lang") == "ko"
        body = page.locator("body").inner_text()
        for english in ("Log out", "Delete", "Search", "created", "No "):
            assert english not in body, f"English {english!r} on a Korean page:\n{body}"
        assert problems == [], problems
