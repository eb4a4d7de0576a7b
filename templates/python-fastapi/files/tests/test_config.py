"""Configuration: safe defaults, and no production start without a real SECRET_KEY."""

import pytest

from app.core.config import DEV_SECRET_KEY, ConfigError, load_settings


def test_development_defaults() -> None:
    settings = load_settings({})
    assert settings.app_env == "development"
    assert settings.database_url == "sqlite:///./app.db"
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.create_tables


@pytest.mark.parametrize("secret", ["", DEV_SECRET_KEY, "too-short"])
def test_production_refuses_a_missing_or_weak_secret(secret: str) -> None:
    with pytest.raises(ConfigError):
        load_settings({"APP_ENV": "production", "SECRET_KEY": secret})


def test_production_with_a_real_secret() -> None:
    settings = load_settings({"APP_ENV": "production", "SECRET_KEY": "s" * 48, "DATABASE_URL": "postgres://u:p@db/app",
                              "SMTP_URL": "smtp://mail.example.com:587"})
    assert settings.is_production
    assert settings.database_url == "postgresql+psycopg://u:p@db/app"
    assert not settings.create_tables  # production schema comes from Alembic migrations


def test_production_refuses_to_start_without_smtp() -> None:
    with pytest.raises(ConfigError, match="SMTP_URL"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": "s" * 48})
