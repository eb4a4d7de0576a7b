"""Helpers shared by the tests: users with a bearer token and a logged-in browser, and
valid or invalid sample values built from each entity's field metadata."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import decimal
import itertools
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import anyio.to_thread
import httpx
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from app import rules
from app.api.routes.auth import create_account
from app.core.config import settings
from app.core.db import SessionLocal
from app.core.security import create_token, login_session
from app.models import BY_NAME, Account
from app.fields import EntityMeta, FieldSpec
from app.main import app

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def select_options(html: str, name: str) -> set[str]:
    """The option values of the <select name=...> in a page."""
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select box {name!r}"
    return set(re.findall(r'<option value="([^"]*)"', match.group(1)))


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@dataclass
class User:
    """One account: `api` sends its bearer token, `browser` holds its session cookie."""

    email: str
    api: TestClient
    browser: TestClient
    csrf: str = field(default="")

    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        """Submit a page form with this user's CSRF token."""
        return self.browser.post(path, data={**data, "csrf_token": self.csrf})


class _InProcess(httpx.BaseTransport):
    """Sends each request straight to the app's ASGI callable, on this thread's event loop.

    Starlette's TestClient transport hands every request to an event loop in another thread
    and back (about eight hand-overs, each a thread wake-up that a busy machine delays), and
    FastAPI runs each sync dependency and endpoint in a worker thread (see run_sync_inline):
    here the whole request runs in this thread, the way one server worker runs it.
    Exceptions the app does not handle propagate to the test, as with TestClient.
    """

    def __init__(self, client: tuple[str, int]) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "server": (url.host, url.port),
            "client": self._client,
            "root_path": "",
        }
        body = request.read()
        sent: dict[str, Any] = {"body": []}

        async def receive() -> dict[str, Any]:
            nonlocal body
            if body is None:
                return {"type": "http.disconnect"}
            message = {"type": "http.request", "body": body, "more_body": False}
            body = None
            return message

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent["status"], sent["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body" and request.method != "HEAD":
                sent["body"].append(message.get("body", b""))

        _loop().run(app(scope, receive, send))
        return httpx.Response(sent["status"], headers=sent["headers"], content=b"".join(sent["body"]))


_runner: asyncio.Runner | None = None


def _loop() -> asyncio.Runner:
    """The event loop of this thread that runs every request of the session."""
    global _runner
    if _runner is None:
        _runner = asyncio.Runner()
    return _runner


async def _run_inline(func: Any, *args: Any, **_options: Any) -> Any:
    return func(*args)


def run_sync_inline() -> None:
    """Runs the app's sync dependencies and endpoints in the calling thread instead of
    anyio's worker threads (two thread hand-overs per call, several per request). The code
    that runs is the same; only requests of these tests never run concurrently."""
    anyio.to_thread.run_sync = _run_inline  # type: ignore[assignment]


def new_client(address: tuple[str, int] = ("testclient", 50000)) -> TestClient:
    """A client that does not follow redirects (so they can be checked); its requests run in
    this thread (see _InProcess)."""
    client = TestClient(app, follow_redirects=False, client=address)
    client._transport = _InProcess(address)  # httpx.Client's transport
    return client


def new_user(name: str, pages: bool = True, sign_up: bool = False) -> User:
    """A new account: `api` holds its bearer token; `browser` is logged in on the pages, unless
    `pages` is False (a test of the API alone: the browser stays anonymous).

    With `sign_up`, the account signs up and gets its token through the API and logs in on the
    login page, as a person does (and is mailed its verification link). Otherwise the app's own
    functions make the account, its token and its session, without those five requests: the
    tests that only need a signed-in account (most of them) need not repeat what
    tests/test_accounts.py and test_lifecycle.py check of those endpoints and pages."""
    email = f"{name}-{next(_counter)}@example.com"
    api, browser = new_client(), new_client()
    user = User(email=email, api=api, browser=browser)
    if sign_up:
        assert api.post("/api/auth/signup", json={"email": email, "password": PASSWORD}).status_code == 201
        response = api.post("/api/auth/token", data={"username": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        api.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        if pages:
            login_page = browser.get("/login")
            form = {"email": email, "password": PASSWORD, "csrf_token": csrf_of(login_page.text), "next": "/"}
            response = browser.post("/login", data=form)
            assert response.status_code == 303, response.text
            # The session's token after login, from the lightest signed-in page.
            user.csrf = csrf_of(browser.get("/account").text)
        return user
    with SessionLocal() as db:
        account = create_account(db, email, PASSWORD)
        assert account is not None, email
        api.headers["Authorization"] = f"Bearer {create_token(account)}"
        if pages:
            user.csrf = force_login(browser, account)
    return user


def force_login(browser: TestClient, account: Account) -> str:
    """Log `browser` in as the login page does, without its requests (like Django's test client's
    force_login): the app's own login_session() fills a new session, and the cookie is the one
    Starlette's SessionMiddleware sets (base64 JSON signed with SECRET_KEY), taken by the client
    from a Set-Cookie header as any response's. Returns the session's CSRF token."""
    holder = SimpleNamespace(session={})
    login_session(holder, account)  # type: ignore[arg-type]
    signed = TimestampSigner(settings.secret_key).sign(base64.b64encode(json.dumps(holder.session).encode()))
    login = httpx.Request("POST", str(browser.base_url.join("/login")))
    cookie = f"session={signed.decode()}; path=/; httponly; samesite=lax"
    browser.cookies.extract_cookies(httpx.Response(303, headers={"set-cookie": cookie}, request=login))
    return holder.session["csrf"]


# --- sample values ---------------------------------------------------------------------


def sample_value(f: FieldSpec, n: int) -> Any:
    """A valid JSON value for a field (distinct for every n, so `unique` fields do not clash)."""
    kind = f.kind
    if kind == "text":
        return f"Sample {f.name} {n}"
    if kind == "longtext":
        return f"Line one of {n}\nLine two"
    if kind == "int":
        return n
    if kind == "decimal":
        return f"{n}.25"
    if kind == "bool":
        return n % 2 == 1
    if kind == "date":
        return (dt.date(2024, 1, 1) + dt.timedelta(days=n)).isoformat()
    if kind == "datetime":
        return (dt.datetime(2024, 1, 1, 9, 30) + dt.timedelta(days=n, minutes=n)).isoformat()
    if kind == "email":
        return f"person{n}@example.com"
    if kind == "url":
        return f"https://example.com/item/{n}"
    if kind == "enum":
        return f.choices[n % len(f.choices)] if f.choices else f"Choice {n}"
    raise AssertionError(f"no sample for {kind}")


# Invalid JSON values per kind: each must be answered with 422.
INVALID: dict[str, Any] = {
    "text": "x" * 201,
    "longtext": "x" * 20_001,
    "int": "not a number",
    "decimal": "12.3.4",
    "bool": "maybe",
    "date": "2024-13-45",
    "datetime": "yesterday",
    "email": "not-an-email",
    "url": "javascript:alert(1)",
    "enum": "__not_a_choice__",
    "ref": "abc",
}


def _free_value(user: User, meta: EntityMeta, f: FieldSpec) -> Any:
    """For a unique enum/bool field: a value no row of the account uses yet."""
    rows = user.api.get(f"/api/{meta.route}", params={"per_page": 100}).json()["items"]
    used = {row[f.name] for row in rows}
    options: list[Any] = list(f.choices) if f.kind == "enum" else [False, True]
    return next((value for value in options if value not in used), options[0])


def payload(user: User, meta: EntityMeta, depth: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid API body; required `ref` targets are created first, in the same account."""
    n = next(_counter)
    body: dict[str, Any] = {}
    for f in meta.fields:
        if f.name in overrides:
            continue
        if f.unique and f.kind in ("enum", "bool") and (f.choices or f.kind == "bool"):
            body[f.name] = _free_value(user, meta, f)
        elif f.kind == "ref":
            if f.required:
                assert depth < 10, f"required refs of {meta.name} form a cycle"
                body[f.name] = create(user, BY_NAME[f.target or ""], depth + 1)["id"]
            else:
                body[f.name] = None
        else:
            body[f.name] = sample_value(f, n)
    body.update(overrides)
    return satisfy_rules(meta, body, n, set(overrides))


# --- values that keep the rules ---------------------------------------------------


def typed(f: FieldSpec, value: Any) -> Any:
    """A JSON value as the app holds it (Decimal, date, datetime), for the rules engine."""
    if value is None or value == "":
        return None
    if f.kind == "decimal":
        return decimal.Decimal(str(value))
    if f.kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if f.kind == "datetime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    return value


def as_json(f: FieldSpec, value: Any) -> Any:
    """A typed value back as the API takes it."""
    if value is None:
        return None
    if f.kind == "decimal":
        return str(value)
    if f.kind == "int":
        return int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _step(f: FieldSpec) -> Any:
    return {"date": dt.timedelta(days=1), "datetime": dt.timedelta(hours=1), "decimal": decimal.Decimal(1)}.get(f.kind, 1)


def _operand(value: Any, data: dict[str, Any]) -> Any:
    if isinstance(value, rules.FieldRef):
        return data.get(value.name)
    if isinstance(value, rules.Today):
        return rules.today()
    if isinstance(value, rules.Now):
        return rules.now()
    return value


def _near(f: FieldSpec, op: str, target: Any, n: int) -> Any:
    """A value of field f that makes `value op target` true (spread by n where the op allows)."""
    if f.kind in ("text", "longtext", "email", "url"):
        return target if op in ("=", ">=", "<=") else (f"{target}{n}" if op in (">", "!=") else "")
    if f.kind == "enum":
        if op in ("=", ">=", "<="):
            return target
        others = [c for c in f.choices if c != target and ((c > target) if op == ">" else (c < target) if op == "<" else True)]
        return others[0] if others else target
    if f.kind == "bool":
        return target if op in ("=", ">=", "<=") else not target
    if isinstance(target, dt.date) and not isinstance(target, dt.datetime) and f.kind == "datetime":
        target = dt.datetime.combine(target, dt.time(9, 0))
    step = _step(f)
    spread = step * (n % 50)
    if f.kind == "int":
        target = int(target)
    if op == "=":
        return target
    if op in (">", "!="):
        return target + step + spread
    if op == ">=":
        return target + spread
    if op == "<":
        return target - step - spread
    return target - spread  # <=


def _bounded(f: FieldSpec, field_rules: list[Any], value: Any, n: int) -> Any:
    """A value of a number or date field inside every fixed bound the rules give it."""
    step = _step(f)
    low = high = None
    for rule in field_rules:
        pairs = [(rule.op, rule.value)] if isinstance(rule, rules.Compare) else [(">=", rule.min), ("<=", rule.max)]
        for op, operand in pairs:
            if isinstance(operand, rules.FieldRef) or op not in (">", ">=", "<", "<="):
                continue
            bound = _near(f, op, _operand(operand, {}), 0)  # the closest value that keeps it
            if op in (">", ">="):
                low = bound if low is None else max(low, bound)
            else:
                high = bound if high is None else min(high, bound)
    if low is not None and high is not None:
        span = int((high - low) / step) if high >= low else 0
        value = low + step * (n % (span + 1))
    elif low is not None:
        value = low + step * (n % 50)
    elif high is not None:
        value = high - step * (n % 50)
    return int(value) if f.kind == "int" else value


def satisfy_rules(meta: EntityMeta, body: dict[str, Any], n: int, keep: set[str]) -> dict[str, Any]:
    """Adjust a sample body so that it keeps every rule of the entity (fields in `keep` stay).

    The rules engine of the app is the judge: the result is asserted to pass it.
    """
    if not meta.rules:
        return body
    fields = {f.name: f for f in meta.fields}
    data = {name: typed(f, body.get(name)) for name, f in fields.items()}
    for name, f in fields.items():
        bounds = [r for r in meta.rules if isinstance(r, (rules.Compare, rules.Between)) and r.field == name]
        if bounds and name not in keep and data.get(name) is not None and f.kind in ("int", "decimal", "date", "datetime"):
            data[name] = _bounded(f, bounds, data[name], n)
    for _ in range(3):
        for rule in meta.rules:
            if isinstance(rule, rules.Compare) and rule.field not in keep:
                target = _operand(rule.value, data)
                if target is not None and data.get(rule.field) is not None:
                    if rules.check_values(meta, [rule], data):
                        data[rule.field] = _near(fields[rule.field], rule.op, target, n)
            elif isinstance(rule, rules.Compare) and isinstance(rule.value, rules.FieldRef) and rule.value.name not in keep:
                if data.get(rule.field) is not None and rules.check_values(meta, [rule], data):
                    flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "!=": "!="}[rule.op]
                    data[rule.value.name] = _near(fields[rule.value.name], flipped, data[rule.field], n)
            elif isinstance(rule, rules.Between) and rule.field not in keep and data.get(rule.field) is not None:
                low, high = _operand(rule.min, data), _operand(rule.max, data)
                if low is not None and high is not None and rules.check_values(meta, [rule], data):
                    f = fields[rule.field]
                    if f.kind in ("int", "decimal"):
                        width = int(high - low)
                        value = low + (n % (width + 1) if width >= 0 else 0)
                        data[rule.field] = int(value) if f.kind == "int" else decimal.Decimal(value)
                    else:
                        data[rule.field] = low
            elif isinstance(rule, rules.Length) and rule.field not in keep and data.get(rule.field) is not None:
                text = str(n) + "-" + str(data[rule.field])
                data[rule.field] = (text + "x" * rule.min)[: max(rule.min, min(len(text), rule.max))]
            elif isinstance(rule, rules.NoOverlap) and rule.end not in keep and data.get(rule.start) is not None:
                # One interval per sample: [start, start + a step); samples start on different days.
                data[rule.end] = data[rule.start] + _step(fields[rule.start])
    broken = rules.check_values(meta, meta.rules, data)
    assert not broken, f"cannot make a sample {meta.name} that keeps the rules: {broken}"
    return {name: as_json(fields[name], value) if name in fields else value for name, value in data.items()}


def create(user: User, meta: EntityMeta, depth: int = 0, **overrides: Any) -> dict[str, Any]:
    """Create a row through the API and return its JSON."""
    response = user.api.post(f"/api/{meta.route}", json=payload(user, meta, depth, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def as_form(meta: EntityMeta, body: dict[str, Any]) -> dict[str, str]:
    """An API body as an HTML form would submit it (unchecked boxes are absent)."""
    form: dict[str, str] = {}
    for f in meta.fields:
        value = body.get(f.name)
        if f.kind == "bool":
            if value:
                form[f.name] = "on"
        elif value is None:
            form[f.name] = ""
        elif f.kind == "datetime":
            form[f.name] = str(value)[:16]
        else:
            form[f.name] = str(value)
    return form


def unique_capacity(meta: EntityMeta) -> int:
    """How many rows one account can hold before a unique enum/bool field must repeat."""
    caps = [len(f.choices) for f in meta.fields if f.unique and f.kind == "enum" and f.choices]
    caps += [2 for f in meta.fields if f.unique and f.kind == "bool"]
    return min(caps, default=1_000_000)
