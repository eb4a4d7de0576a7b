"""Failed-login limiting, per account and per client address (LOGIN_MAX_FAILURES in LOGIN_WINDOW).

Past the limit, login answers 429 with `Retry-After` even for the right password, until the
oldest failure that counts leaves the window. Failures are rows of `login_failures` in the
app's own database, so the limit holds across workers and replicas (and a restart), instead
of multiplying with them. Each check runs in its own short transaction: a failure counts even
when the request's work is rolled back.
"""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from prometheus_client import Counter

from app.core.config import settings
from app.core.db import SessionLocal, utcnow
from app.models import LoginFailure

FAILURES = Counter("login_failures_total", "Failed logins (wrong e-mail or password).")
THROTTLED = Counter("login_throttled_total", "Logins refused with 429 because of too many recent failures.")


def _account_key(email: str) -> str:
    return "account:" + email.strip().lower()[:320]


def _keys(email: str, client: str | None) -> list[str]:
    return [_account_key(email), "client:" + (client or "unknown")[:200]]


def retry_after(email: str, client: str | None) -> int:
    """Seconds until a login may be tried again (0: now). Counted in /metrics when refused."""
    now = utcnow()
    window = dt.timedelta(seconds=settings.login_window)
    wait = 0.0
    with SessionLocal() as db:
        for key in _keys(email, client):
            # The LOGIN_MAX_FAILURES-th newest failure in the window: once it leaves, a try is free.
            limiting = db.scalar(
                sa.select(LoginFailure.at)
                .where(LoginFailure.key == key, LoginFailure.at > now - window)
                .order_by(LoginFailure.at.desc(), LoginFailure.id.desc())
                .offset(settings.login_max_failures - 1)
                .limit(1)
            )
            if limiting is not None:
                wait = max(wait, (limiting + window - now).total_seconds())
    if wait > 0:
        THROTTLED.inc()
    return math.ceil(wait) if wait > 0 else 0


def failed(email: str, client: str | None) -> None:
    FAILURES.inc()
    now = utcnow()
    keys = _keys(email, client)
    with SessionLocal.begin() as db:
        db.add_all([LoginFailure(key=key, at=now) for key in keys])
        # What no longer counts: failures outside the window (the table stays small).
        db.execute(sa.delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= now - dt.timedelta(seconds=settings.login_window)))


def succeeded(email: str) -> None:
    """A right password clears the account's failures (the client address keeps its count)."""
    with SessionLocal.begin() as db:
        db.execute(sa.delete(LoginFailure).where(LoginFailure.key == _account_key(email)))
