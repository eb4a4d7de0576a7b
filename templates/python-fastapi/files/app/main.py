"""The ASGI application: `uvicorn app.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from app import meta
from app.api.deps import LoginRequired, login_redirect_url
from app.api.routes import ROUTERS, account, auth, dashboard, extra, system[% if app.features.teams %], teams[% endif %][% if views %], views[% endif %]

from app.core.config import settings
from app.crud import FieldErrors
from app.core.db import Base, engine
from app.http_headers import SecurityHeadersMiddleware
from app.metrics import MetricsMiddleware
from app.production import setup as setup_production
from app import i18n
from app.i18n import _
from app.msg import N_
from app.templating import render


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    if settings.create_tables:
        # Development convenience; production runs `alembic upgrade head` (see the Dockerfile).
        Base.metadata.create_all(engine)
    yield


app = FastAPI(
    title=meta.APP_NAME,
    description=meta.APP_SUMMARY,
    version="1.0.0",
    lifespan=lifespan,
    docs_url=None,  # served by app.api.routes.system with an escaped title
    redoc_url=None,
)
setup_production(app, settings)  # https check, HSTS, memory-limit metric (app/production.py)

app.add_middleware(
    SessionMiddleware,
    secret_key=settings.secret_key,
    session_cookie="session",
    max_age=settings.session_max_age,
    same_site="lax",
    https_only=settings.is_production,
)
app.add_middleware(SecurityHeadersMiddleware)
app.add_middleware(MetricsMiddleware)  # outermost: sees every request, including redirects and errors

app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

app.include_router(system.router)
app.include_router(dashboard.router)
app.include_router(auth.api)
app.include_router(auth.pages)
app.include_router(account.api)
app.include_router(account.pages)
[% if app.features.teams %]
app.include_router(teams.api)
app.include_router(teams.pages)
[% endif %]
for api_router, page_router in ROUTERS:
    app.include_router(api_router)
    app.include_router(page_router)
[% if views %]
app.include_router(views.api)
app.include_router(views.pages)
[% endif %]
app.include_router(extra.router)


# What a browser is told (in the app's language) instead of the API's detail.
PAGE_ERRORS = {
    404: N_("This page does not exist."),
    405: N_("This action is not possible here."),
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "text/html")


@app.exception_handler(LoginRequired)
async def _login_required(_request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(login_redirect_url(exc.next_path), status_code=status.HTTP_303_SEE_OTHER)


@app.exception_handler(FieldErrors)
async def _field_errors(_request: Request, exc: FieldErrors) -> Response:
    return JSONResponse({"detail": i18n.translate_errors(exc.detail())}, status_code=exc.status_code)


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """JSON for the API; a small HTML page for browsers."""
    if _wants_html(request) and exc.status_code in (403, 404, 405):
        message = PAGE_ERRORS.get(exc.status_code, exc.detail)  # 403s say why (owner only, CSRF)
        return render(request, "error.html", {"status_code": exc.status_code, "message": message}, status_code=exc.status_code)
    return JSONResponse({"detail": i18n.translate_detail(exc.detail)}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))



@app.exception_handler(RequestValidationError)
async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """API: FastAPI's 422 JSON; a browser gets a readable page (e.g. for `?page=abc`), not raw JSON."""
    exc = RequestValidationError(i18n.translate_errors(exc.errors()), body=exc.body)  # the app's language
    if not _wants_html(request):
        return await request_validation_exception_handler(request, exc)
    problems = "; ".join(f"{err['loc'][-1]}: {err['msg']}" for err in exc.errors())
    message = _("This address has a value the page cannot use ({problems}).", problems=problems)
    context = {"status_code": status.HTTP_400_BAD_REQUEST, "message": message, "back": request.url.path}
    return render(request, "error.html", context, status_code=status.HTTP_400_BAD_REQUEST)
