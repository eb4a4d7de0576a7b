"""Operations and documentation: the health check, Prometheus metrics, and the API docs (Swagger UI, ReDoc) served offline."""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
from pathlib import Path

import fastapi_offline
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from app import meta
from app.api.deps import Db
from app.metrics import metrics_endpoint

log = logging.getLogger(__name__)
router = APIRouter()


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


# Swagger UI and ReDoc come from the pinned `fastapi-offline` package and are served by the
# app itself: the docs work offline and under a CSP that allows no other origin.
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
ASSETS_URL = "/docs/assets"


def _docs_csp(page: str) -> str:
    """The pages' strict CSP, plus exactly the inline scripts of this docs page (by hash)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", page, re.S)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _docs_page(page: HTMLResponse) -> HTMLResponse:
    text = bytes(page.body).decode()
    return HTMLResponse(text, headers={"Content-Security-Policy": _docs_csp(text)})


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI. Served here (not by FastAPI) so that the app name is HTML-escaped in the page title."""
    return _docs_page(get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{html.escape(meta.APP_NAME)} – API docs",
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
    ))


@router.get("/docs/oauth2-redirect", include_in_schema=False)
def docs_oauth2_redirect() -> HTMLResponse:
    return _docs_page(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc", include_in_schema=False)
def redoc() -> HTMLResponse:
    """ReDoc, from the same local assets (no web fonts from other origins)."""
    return _docs_page(get_redoc_html(
        openapi_url="/openapi.json",
        title=f"{html.escape(meta.APP_NAME)} – API reference",
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    ))


@router.get(ASSETS_URL + "/{name}", include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, detail="Not found")
    return FileResponse(ASSETS_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
