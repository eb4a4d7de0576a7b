"""Production settings (app/production.py): https or a clear refusal, HSTS only when a trusted
proxy says https, and the memory limit the memory alert divides by."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.core.config import ConfigError, load_settings
from app.production import HSTS, HstsMiddleware, check_https, memory_limit_bytes

# Production also needs a mail server (tests/test_config.py covers its absence).
PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 48, "SMTP_URL": "smtp://mail.example.com:587"}


def test_production_over_plain_http_refuses_to_start_and_says_what_to_do() -> None:
    with pytest.raises(ConfigError) as err:
        check_https(load_settings(PRODUCTION), PRODUCTION)
    message = str(err.value)
    assert "FORWARDED_ALLOW_IPS" in message and "TLS" in message and "403" in message


@pytest.mark.parametrize(
    "extra",
    [{"FORWARDED_ALLOW_IPS": "172.30.0.2"}, {"UVICORN_FORWARDED_ALLOW_IPS": "127.0.0.1"},
     {"UVICORN_SSL_CERTFILE": "/tls/cert.pem"}],
)
def test_production_behind_a_trusted_proxy_or_with_tls_starts(extra: dict[str, str]) -> None:
    env = {**PRODUCTION, **extra}
    check_https(load_settings(env), env)


def test_only_the_test_suite_hashes_passwords_cheaply() -> None:
    from argon2 import profiles

    from app.core.security import password_hasher

    full = profiles.RFC_9106_LOW_MEMORY  # argon2-cffi's default, what PasswordHasher() uses
    for app_env in ("production", "development"):
        hasher = password_hasher(app_env)
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (full.time_cost, full.memory_cost, full.parallelism)
    assert password_hasher("test").memory_cost < full.memory_cost


def test_development_needs_no_proxy() -> None:
    check_https(load_settings({}), {})


def _served(trusted: str) -> TestClient:
    inner = FastAPI()

    @inner.get("/")
    def index() -> dict[str, str]:
        return {"ok": "yes"}

    inner.add_middleware(HstsMiddleware)
    # uvicorn's own middleware, as `uvicorn` applies it with FORWARDED_ALLOW_IPS=<trusted>
    return TestClient(ProxyHeadersMiddleware(inner, trusted_hosts=trusted))


def test_x_forwarded_proto_counts_only_from_a_trusted_proxy() -> None:
    # TestClient's peer address is "testclient"
    trusted = _served("testclient").get("/", headers={"X-Forwarded-Proto": "https"})
    assert trusted.headers.get("strict-transport-security") == HSTS
    spoofed = _served("10.9.8.7").get("/", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    assert "strict-transport-security" not in _served("testclient").get("/").headers


def _cgroup(tmp_path: Path, own: str, limits: dict[str, str]) -> tuple[Path, Path]:
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text(own)
    for rel, value in limits.items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        (root / rel / ("memory.limit_in_bytes" if rel.startswith("memory") else "memory.max")).write_text(value)
    return root, proc


def test_memory_limit_of_a_cgroup_v2_container(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "0::/\n", {".": "536870912\n"})
    assert memory_limit_bytes(root, proc) == 512 * 1024 * 1024


def test_memory_limit_is_the_smallest_along_the_cgroup_path(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "0::/system.slice/app.scope\n",
                         {"system.slice": "268435456", "system.slice/app.scope": "max"})
    assert memory_limit_bytes(root, proc) == 256 * 1024 * 1024


def test_memory_limit_of_a_cgroup_v1_container(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "5:memory:/\n", {"memory": "1073741824"})
    assert memory_limit_bytes(root, proc) == 1024 ** 3


def test_no_limit_means_the_machine_s_memory(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "0::/\n", {".": "max"})
    assert memory_limit_bytes(root, proc) > 64 * 1024 * 1024


def test_metrics_export_the_memory_limit(anon: TestClient) -> None:
    body = anon.get("/metrics").text
    assert "\nprocess_memory_limit_bytes " in body
