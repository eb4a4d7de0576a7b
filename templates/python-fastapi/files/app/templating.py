"""Jinja2 templates (auto-escaped) with the helpers every page uses."""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app import i18n, meta
from app.models import ENTITIES
[% if views %]
from app.views import VIEWS
[% endif %]
from app.core.security import csrf_token

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every value is HTML-escaped unless marked safe
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def flash(request: Request, message: str, category: str = "info") -> None:
    """Queue a one-time message shown on the next page."""
    request.session.setdefault("flash", []).append([category, message])


def _pop_flashes(request: Request) -> list[Any]:
    return request.session.pop("flash", []) if "flash" in request.session else []


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (pagination and sort links)."""
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items() if v is not None})
    return "?" + urlencode(params)


def _number(value: Any) -> str:
    """Decimals without needless trailing zeros (12.5000 -> 12.50, 0.1250 -> 0.125)."""
    if isinstance(value, decimal.Decimal):
        text = format(value.normalize(), "f")
        whole, _, frac = text.partition(".")
        return f"{whole}.{frac.ljust(2, '0')}"
    return str(value)


def _context(request: Request) -> dict[str, Any]:
    return {
        "language": i18n.LANGUAGE,
        "app_name": meta.APP_NAME,
        "app_summary": meta.APP_SUMMARY,
        "nav": ENTITIES,
[% if views %]
        "nav_views": VIEWS,
[% endif %]
        "csv_export": meta.CSV_EXPORT,
        "csrf_token": csrf_token(request),
        "flashes": _pop_flashes(request),
        "logged_in": isinstance(request.session.get("account_id"), int),
[% if app.features.teams %]
        # The current workspace's name, set by the PageMembership dependency (None on other pages).
        "workspace": getattr(request.state, "workspace", None),
[% endif %]
    }


templates.context_processors.append(_context)
templates.env.globals["query"] = _query
templates.env.globals["_"] = i18n._
templates.env.filters["number"] = _number


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)
