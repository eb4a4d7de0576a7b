"""The account's life in a real headless Chromium, with the mails of a real SMTP server
(aiosmtpd): sign-up → verification mail → verified login → password reset by mail → the
session from before the reset is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from conftest import Venv, serve_app
from test_browser import PASSWORD, _new_page, _path, _sign_up, browser  # noqa: F401 (browser: a fixture)
from test_mail import _Inbox, _link, smtp  # noqa: F401 (smtp: a fixture)

NEW_PASSWORD = "a brand new passphrase"


def _log_in(page, email: str, password: str) -> None:  # noqa: ANN001
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("load")


def test_sign_up_verify_log_in_reset_and_old_session_refused(browser, smtp: tuple[_Inbox, int],  # noqa: ANN001, F811
                                                             generated_app: Callable[[str], Path], app_venv: Venv,
                                                             tmp_path: Path) -> None:
    inbox, port = smtp
    env = {"SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "app@example.com"}
    with serve_app(generated_app("sample"), app_venv, tmp_path / "srv", extra_env=env) as base:
        email = "browser.user@example.com"
        page, problems = _new_page(browser, base)
        _sign_up(page, email)
        assert page.locator("[data-unverified]").count() == 1, "the dashboard should say the address is unconfirmed"

        url, token = _link(inbox.wait_for(email, "Confirm"), base)
        page.goto(f"{url}?token={token}")
        assert _path(page) == "/"
        assert "confirmed" in page.locator(".flash").first.inner_text()
        assert page.locator("[data-unverified]").count() == 0

        # Verified login: log out, log in again with the password.
        page.click("header form.logout button[type=submit]")
        page.wait_for_load_state("load")
        _log_in(page, email, PASSWORD)
        assert _path(page) == "/", page.url
        assert page.locator("[data-unverified]").count() == 0

        # Password reset from another browser (a forgotten password on another device).
        other, other_problems = _new_page(browser, base)
        other.goto("/password-reset")
        other.fill("#email", email)
        other.click("form[action='/password-reset'] button[type=submit]")
        other.wait_for_load_state("load")
        url, token = _link(inbox.wait_for(email, "Reset"), base)
        other.goto(f"{url}?token={token}")
        other.fill("#password", NEW_PASSWORD)
        other.click("form[action='/password-reset/confirm'] button[type=submit]")
        other.wait_for_url(re.compile(r"/login"))
        _log_in(other, email, PASSWORD)
        assert _path(other) == "/login", "the old password still works after the reset"
        _log_in(other, email, NEW_PASSWORD)
        assert _path(other) == "/", other.url

        # The first browser's session was made before the reset: it is refused.
        page.goto("/")
        assert _path(page) == "/login", f"the old session still works after the reset: {page.url}"
        assert problems == [] and other_problems == [], (problems, other_problems)
