"""The generated app's e-mail flows against a real SMTP server (aiosmtpd, in this process):
sign-up sends a verification link, password reset sends a single-use link, and the reset
revokes the old API token. Links are read from the received mails, as a user would.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from conftest import Venv, call_json, free_port, serve_app

PASSWORD = "correct horse battery staple"


class _Inbox:
    """An aiosmtpd handler keeping every received message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, to: str, subject_part: str, timeout: float = 15) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in reversed(self.messages):
                    if message["To"] == to and subject_part in message["Subject"]:
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to} about {subject_part!r}; got {[m['Subject'] for m in self.messages]}")


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    controller_module = pytest.importorskip("aiosmtpd.controller")
    inbox = _Inbox()
    port = free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _link(message: EmailMessage, base: str) -> tuple[str, str]:
    body = message.get_content()
    match = re.search(r"(http://\S+?)\?token=(\S+)", body)
    assert match, body
    assert match.group(1).startswith(base), (match.group(1), base)
    return match.group(1), urllib.parse.unquote(match.group(2))


def test_verification_and_password_reset_mails_through_smtp(
    smtp: tuple[_Inbox, int], generated_app: Callable[[str], Path], app_venv: Venv, tmp_path: Path
) -> None:
    inbox, port = smtp
    env = {"SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "app@example.com"}
    with serve_app(generated_app("sample"), app_venv, tmp_path, extra_env=env) as base:
        address = "new.user@example.com"
        assert call_json("POST", f"{base}/api/auth/signup", {"email": address, "password": PASSWORD})[0] == 201
        mail = inbox.wait_for(address, "Confirm")
        assert mail["From"] == "app@example.com"
        url, token = _link(mail, base)
        assert url == f"{base}/verify"
        assert call_json("POST", f"{base}/api/auth/verify", {"token": token}) == (200, {"detail": "E-mail address confirmed."})
        assert call_json("POST", f"{base}/api/auth/verify", {"token": token})[0] == 400  # single use

        status, body = call_json("POST", f"{base}/api/auth/token", {"username": address, "password": PASSWORD}, form=True)
        assert status == 200
        old_token = body["access_token"]
        assert call_json("GET", f"{base}/api/auth/me", token=old_token)[0] == 200

        assert call_json("POST", f"{base}/api/auth/password-reset", {"email": "unknown@example.com"})[0] == 202
        assert call_json("POST", f"{base}/api/auth/password-reset", {"email": address})[0] == 202
        url, token = _link(inbox.wait_for(address, "Reset"), base)
        assert url == f"{base}/password-reset/confirm"
        new_password = "another long passphrase"
        assert call_json("POST", f"{base}/api/auth/password-reset/confirm", {"token": token, "password": new_password})[0] == 200
        assert call_json("POST", f"{base}/api/auth/password-reset/confirm", {"token": token, "password": "x" * 12})[0] == 400
        assert call_json("GET", f"{base}/api/auth/me", token=old_token)[0] == 401  # the old token is revoked
        assert call_json("POST", f"{base}/api/auth/token", {"username": address, "password": new_password}, form=True)[0] == 200
    assert not any(m["To"] == "unknown@example.com" for m in inbox.messages)
