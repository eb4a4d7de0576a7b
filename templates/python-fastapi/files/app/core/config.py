"""Configuration from environment variables, with safe development defaults.

| variable            | default                    | meaning                                             |
|---------------------|----------------------------|-----------------------------------------------------|
| APP_ENV             | development                | development, test or production                     |
| DATABASE_URL        | sqlite:///./app.db         | SQLAlchemy URL; postgresql+psycopg://… for Postgres |
| SECRET_KEY          | (dev-only value)           | signs session cookies and API tokens                |
| SESSION_MAX_AGE     | 1209600 (14 days)          | session cookie lifetime in seconds                  |
| TOKEN_MAX_AGE       | 86400 (1 day)              | bearer token lifetime in seconds                    |
| DB_CREATE_TABLES    | 1 unless production        | create missing tables at startup (else: Alembic)    |
| SMTP_URL            | (none: mail is logged)     | smtp://user:pass@host:587 (STARTTLS if offered) or smtps://…:465; required in production |
| MAIL_FROM           | no-reply@localhost         | sender address of the app's mails                   |
| PUBLIC_URL          | (the request's own URL)    | base of the links in mails, e.g. https://app.example.com |
| LOGIN_MAX_FAILURES  | 10                         | failed logins per account and per client address …  |
| LOGIN_WINDOW        | 900 (15 minutes)           | … in this many seconds, then 429 with Retry-After   |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Only ever used outside production; the app refuses to start with it when APP_ENV=production.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or invalid."""


@dataclass(frozen=True)
class Settings:
    app_env: str
    database_url: str
    secret_key: str
    session_max_age: int
    token_max_age: int
    create_tables: bool
    smtp_url: str = ""
    mail_from: str = "no-reply@localhost"
    public_url: str = ""
    login_max_failures: int = 10
    login_window: int = 15 * 60

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"


def normalize_database_url(url: str) -> str:
    """Accept the common `postgres://` / `postgresql://` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings; raise ConfigError when production runs without a real secret."""
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development").strip().lower() or "development"
    secret_key = env.get("SECRET_KEY", "").strip()
    if app_env == "production":
        if not secret_key or secret_key == DEV_SECRET_KEY or len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                "APP_ENV=production requires SECRET_KEY: a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
    elif not secret_key:
        secret_key = DEV_SECRET_KEY
    smtp_url = env.get("SMTP_URL", "").strip()
    if app_env == "production" and not smtp_url:
        raise ConfigError(
            "APP_ENV=production requires SMTP_URL (e.g. smtp://user:password@smtp.example.com:587): "
            "sign-up verification and password reset send e-mail"
        )
    return Settings(
        app_env=app_env,
        database_url=normalize_database_url(env.get("DATABASE_URL", "").strip() or "sqlite:///./app.db"),
        secret_key=secret_key,
        session_max_age=int(env.get("SESSION_MAX_AGE", str(14 * 24 * 3600))),
        token_max_age=int(env.get("TOKEN_MAX_AGE", str(24 * 3600))),
        create_tables=_flag(env.get("DB_CREATE_TABLES"), default=app_env != "production"),
        smtp_url=smtp_url,
        mail_from=env.get("MAIL_FROM", "").strip() or "no-reply@localhost",
        public_url=env.get("PUBLIC_URL", "").strip().rstrip("/"),
        login_max_failures=int(env.get("LOGIN_MAX_FAILURES", "10")),
        login_window=int(env.get("LOGIN_WINDOW", str(15 * 60))),
    )


settings = load_settings()
