"""Dashboard, health check and metrics."""

from __future__ import annotations

import html
import logging
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import orm

from app import crud, meta[% if views %], views[% endif %]

from app.db import get_db
from app.entities import ENTITIES
from app.metrics import metrics_endpoint
[% if app.features.teams %]
from app.security import PageMembership
[% else %]
from app.security import PageAccount
[% endif %]
from app.templating import render

log = logging.getLogger(__name__)
router = APIRouter()
Db = Annotated[orm.Session, Depends(get_db)]


@router.get("/", include_in_schema=False)
[% if app.features.teams %]
def dashboard(request: Request, member: PageMembership, db: Db) -> Response:
    counts = [(meta, crud.count(db, meta.model, member.team_id)) for meta in ENTITIES]
[% if views %]
    context = {"counts": counts, "view_cards": views.cards(db, member.team_id), "account": member.account, "membership": member}
    return render(request, "dashboard.html", context)
[% else %]
    return render(request, "dashboard.html", {"counts": counts, "account": member.account, "membership": member})
[% endif %]
[% else %]
def dashboard(request: Request, account: PageAccount, db: Db) -> Response:
    counts = [(meta, crud.count(db, meta.model, account.id)) for meta in ENTITIES]
[% if views %]
    return render(request, "dashboard.html", {"counts": counts, "view_cards": views.cards(db, account.id), "account": account})
[% else %]
    return render(request, "dashboard.html", {"counts": counts, "account": account})
[% endif %]
[% endif %]


@router.get("/healthz", tags=["ops"], responses={503: {"description": "The database is unreachable"}})
def healthz(db: Db) -> JSONResponse:
    """Liveness and readiness: runs a real query against the database."""
    try:
        db.execute(sa.text("SELECT 1")).scalar_one()
    except Exception:  # any database failure means "not ready"
        log.exception("health check failed")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


router.add_api_route("/metrics", metrics_endpoint, methods=["GET"], tags=["ops"], summary="Prometheus metrics")


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI. Served here (not by FastAPI) so that the app name is HTML-escaped in the page title."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{html.escape(meta.APP_NAME)} – API docs",
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect", include_in_schema=False)
def docs_oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()
