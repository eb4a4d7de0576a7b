"""Failed-login limiting across processes: two uvicorn servers of one app on one database
(as two workers or replicas would be) share the count, so the limit does not multiply."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any
from pathlib import Path

from conftest import Venv, serve_app

PASSWORD = "correct horse battery staple"
LIMIT = 10  # the generated app's default LOGIN_MAX_FAILURES


def _post(url: str, data: dict[str, str], *, form: bool) -> tuple[int, Any]:
    if form:
        body, kind = urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
    else:
        import json

        body, kind = json.dumps(data).encode(), "application/json"
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (127.0.0.1 only)
            return response.status, response.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


def test_two_servers_on_one_database_share_the_login_limit(generated_app: Callable[[str], Path],
                                                            app_venv: Venv, tmp_path: Path) -> None:
    app = generated_app("sample")
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    with serve_app(app, app_venv, tmp_path / "one", database_url=database) as one, \
            serve_app(app, app_venv, tmp_path / "two", database_url=database) as two:
        email = "shared.limit@example.com"
        assert _post(f"{one}/api/auth/signup", {"email": email, "password": PASSWORD}, form=False)[0] == 201
        for attempt in range(LIMIT):  # half the failures on each server
            server = one if attempt % 2 else two
            status, _ = _post(f"{server}/api/auth/token", {"username": email, "password": "wrong guess"}, form=True)
            assert status == 401, (attempt, status)
        for server in (one, two):  # each has seen only half, yet both refuse the right password
            status, headers = _post(f"{server}/api/auth/token", {"username": email, "password": PASSWORD}, form=True)
            assert status == 429, (server, status)
            assert int(headers["Retry-After"]) > 0
