"""Failed-login limiting, per account and per client address (LOGIN_MAX_FAILURES in LOGIN_WINDOW).

Past the limit, login answers 429 with `Retry-After` even for the right password, until the
oldest failure leaves the window. Counts live in this process's memory: with several workers
or replicas each one counts on its own (the limit is then per process), and a restart clears them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from prometheus_client import Counter

from app.core.config import settings

FAILURES = Counter("login_failures_total", "Failed logins (wrong e-mail or password).")
THROTTLED = Counter("login_throttled_total", "Logins refused with 429 because of too many recent failures.")

_lock = threading.Lock()
_failures: dict[str, deque[float]] = {}


def _keys(email: str, client: str | None) -> list[str]:
    return ["account:" + email.strip().lower(), "client:" + (client or "unknown")]


def _recent(key: str, now: float) -> deque[float]:
    times = _failures.get(key)
    if times is None:
        return deque()
    while times and times[0] <= now - settings.login_window:
        times.popleft()
    if not times:
        del _failures[key]
    return times


def retry_after(email: str, client: str | None) -> int:
    """Seconds until a login may be tried again (0: now). Counted in /metrics when refused."""
    now = time.monotonic()
    wait = 0.0
    with _lock:
        for key in _keys(email, client):
            times = _recent(key, now)
            if len(times) >= settings.login_max_failures:
                wait = max(wait, times[-settings.login_max_failures] + settings.login_window - now)
    if wait > 0:
        THROTTLED.inc()
    return math.ceil(wait) if wait > 0 else 0


def failed(email: str, client: str | None) -> None:
    FAILURES.inc()
    now = time.monotonic()
    with _lock:
        for key in _keys(email, client):
            times = _failures.setdefault(key, deque())
            times.append(now)
            while len(times) > settings.login_max_failures:
                times.popleft()


def succeeded(email: str) -> None:
    """A right password clears the account's failures (the client address keeps its count)."""
    with _lock:
        _failures.pop(_keys(email, None)[0], None)
