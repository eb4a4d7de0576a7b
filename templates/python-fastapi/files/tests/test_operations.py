"""Health check, metrics, OpenAPI documentation, dashboard and static files."""

import re
import sys

from fastapi.testclient import TestClient

from app import meta
from app.models import ENTITIES
from tests.helpers import User


def test_healthz(anon: TestClient) -> None:
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_a_broken_database(anon: TestClient) -> None:
    from app.core.db import get_db
    from app.main import app

    class BrokenSession:
        def execute(self, *_args: object, **_kwargs: object) -> None:
            raise RuntimeError("database is down")

    app.dependency_overrides[get_db] = lambda: BrokenSession()
    try:
        response = anon.get("/healthz")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 503
    assert response.json()["status"] != "ok"


def _sample(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_by_route_template(anon: TestClient, user_a: User) -> None:
    labels = 'method="GET",route="/healthz",status="200"'
    before = _sample(anon.get("/metrics").text, "http_requests_total", labels)
    anon.get("/healthz")
    text = anon.get("/metrics").text
    assert _sample(text, "http_requests_total", labels) == before + 1
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    assert "http_request_errors_total" in text
    if sys.platform.startswith("linux"):  # the process collector only exists on Linux
        assert "process_cpu_seconds_total" in text
        assert "process_resident_memory_bytes" in text

    anon.get("/api/auth/me")  # 401: counted under its route template, like every response
    for entity in ENTITIES:
        user_a.api.get(f"/api/{entity.route}/424242")
    text = anon.get("/metrics").text  # one scrape for all: a scrape costs more with every route
    assert 'route="/api/auth/me",status="401"' in text
    for entity in ENTITIES:
        assert f'route="/api/{entity.route}/{{item_id}}",status="404"' in text


def test_metrics_do_not_create_a_label_per_unknown_path(anon: TestClient) -> None:
    anon.get("/no/such/path/12345")
    text = anon.get("/metrics").text
    assert "/no/such/path" not in text
    assert 'route="<unmatched>"' in text


def test_openapi_follows_the_api_convention(anon: TestClient) -> None:
    spec = anon.get("/openapi.json").json()
    assert spec["info"]["title"] == meta.APP_NAME
    paths = spec["paths"]
    assert "post" in paths["/api/auth/signup"]
    assert "post" in paths["/api/auth/token"]
    for entity in ENTITIES:
        collection, item = f"/api/{entity.route}", f"/api/{entity.route}/{{item_id}}"
        assert {"get", "post"} <= set(paths[collection]), collection
        assert {"get", "put", "patch", "delete"} <= set(paths[item]), item
        params = {p["name"] for p in paths[collection]["get"]["parameters"]}
        assert {"page", "per_page", "sort", "q"} <= params
        assert "204" in paths[item]["delete"]["responses"]
    assert anon.get("/docs").status_code == 200


def test_dashboard_lists_every_entity(user_a: User) -> None:
    page = user_a.browser.get("/")
    assert page.status_code == 200
    for entity in ENTITIES:
        assert f'href="/{entity.route}"' in page.text


def test_static_stylesheet(anon: TestClient) -> None:
    response = anon.get("/static/app.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]
