"""What production needs beyond development; `setup(app, settings)` is called once from app.main.

- **https or nothing.** In production the session cookie is `Secure`: browsers send it back only
  over https, so an app served over plain http would answer every form POST with 403 (no session,
  so no CSRF token). The app therefore refuses to start in production unless it sits behind a
  proxy that terminates TLS and is trusted for `X-Forwarded-Proto` (`FORWARDED_ALLOW_IPS`, read
  by uvicorn itself: only requests from those addresses may claim https), or serves TLS itself
  (`UVICORN_SSL_CERTFILE`).
- **HSTS** on responses the app knows went out over https (directly or through a trusted proxy).
- **The container's memory limit as a metric**, `process_memory_limit_bytes` (its cgroup's limit,
  else the machine's memory), so the memory alert is a share of the real limit rather than a
  number written into the rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import ConfigError, Settings

HSTS = "max-age=31536000"

HTTPS_REQUIRED = (
    "APP_ENV=production needs https: the session cookie is Secure, so over plain http browsers "
    "never send it back and every form POST fails with 403. Serve the app behind a proxy that "
    "terminates TLS (deploy/compose.yaml runs Caddy) and set FORWARDED_ALLOW_IPS to that proxy's "
    "address (e.g. FORWARDED_ALLOW_IPS=127.0.0.1 for a proxy on this host; a comma-separated list "
    "or a network such as 172.30.0.0/24 also works) so that uvicorn trusts its X-Forwarded-Proto "
    "header; or let uvicorn serve TLS itself (UVICORN_SSL_CERTFILE and UVICORN_SSL_KEYFILE)."
)


def check_https(settings: Settings, environ: Mapping[str, str]) -> None:
    """Raise ConfigError when production would serve its forms over plain http."""
    if not settings.is_production:
        return
    trusted = environ.get("FORWARDED_ALLOW_IPS", "") or environ.get("UVICORN_FORWARDED_ALLOW_IPS", "")
    if trusted.strip() or environ.get("UVICORN_SSL_CERTFILE", "").strip():
        return
    raise ConfigError(HTTPS_REQUIRED)


class HstsMiddleware:
    """Strict-Transport-Security on responses to https requests (the scheme uvicorn settled on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_hsts)


# --- the memory limit --------------------------------------------------------------------------


def _read_limit(path: Path) -> int | None:
    """A cgroup limit file's value in bytes; None for "max", absurdly large values or no file."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None  # "max": no limit at this level
    value = int(text)
    return value if 0 < value < 1 << 60 else None  # cgroup v1 writes ~2**63 for "no limit"


def memory_limit_bytes(cgroup_root: Path = Path("/sys/fs/cgroup"), proc_self: Path = Path("/proc/self")) -> int:
    """The memory this process may use: the smallest limit of its cgroup and the cgroup's
    ancestors (v2, or v1's memory controller), else the machine's physical memory."""
    limits: list[int] = []
    try:
        lines = (proc_self / "cgroup").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # cgroup v2: walk from our cgroup up to the root
            current = cgroup_root / path.lstrip("/")
            while True:
                found = _read_limit(current / "memory.max")
                if found:
                    limits.append(found)
                if current == cgroup_root or cgroup_root not in current.parents:
                    break
                current = current.parent
        elif "memory" in controllers.split(","):  # cgroup v1
            for base in (cgroup_root / "memory" / path.lstrip("/"), cgroup_root / "memory"):
                found = _read_limit(base / "memory.limit_in_bytes")
                if found:
                    limits.append(found)
    if limits:
        return min(limits)
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


class LimitsCollector:
    """`process_memory_limit_bytes`, read at every scrape (a limit can change while running)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        limit = memory_limit_bytes()
        if limit > 0:
            yield GaugeMetricFamily(
                "process_memory_limit_bytes",
                "Memory this process may use: its cgroup's limit, else the machine's memory.",
                value=float(limit),
            )


_collector: LimitsCollector | None = None


def setup(app: FastAPI, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Refuse an http-only production start, add HSTS and export the memory limit."""
    global _collector
    check_https(settings, os.environ if environ is None else environ)
    if settings.is_production:
        app.add_middleware(HstsMiddleware)
    if _collector is None:
        _collector = LimitsCollector()
        REGISTRY.register(_collector)
