"""Settings, read from the environment in one place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULT_TIMEZONE = "Asia/Shanghai"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, then apply ``overrides``."""
    env = os.environ
    instance = Path(instance_path)
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'fieldenforce.db'}"
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        # A stable key per instance folder, so tokens and gate codes survive restarts
        # of a development server; production sets SECRET_KEY explicitly.
        key_file = instance / "secret_key"
        if key_file.exists():
            secret_key = key_file.read_text().strip()
        else:
            instance.mkdir(parents=True, exist_ok=True)
            secret_key = secrets.token_hex(32)
            key_file.write_text(secret_key)
            key_file.chmod(0o600)
    config: dict[str, Any] = {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "ATTACHMENTS_DIR": env.get("ATTACHMENTS_DIR", str(instance / "attachments")),
        "SCHEDULER_ENABLED": _bool(env.get("SCHEDULER_ENABLED"), False),
        "TIMEZONE": env.get("TIMEZONE", DEFAULT_TIMEZONE),
        "TOKEN_TTL_HOURS": int(env.get("TOKEN_TTL_HOURS", "168")),
        # JSON bodies are small; uploads of evidence go through the attachments API,
        # which streams and has its own cap.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_BODY_BYTES", str(8 * 1024 * 1024))),
        # A CJK TrueType font to embed in PDFs; found among system fonts when unset.
        "PDF_FONT_PATH": env.get("PDF_FONT_PATH") or None,
        "MAX_IMPORT_ROWS": int(env.get("MAX_IMPORT_ROWS", "20000")),
        # Evidence uploads have their own cap (photos, audio, video); ODK caps at 100 MB.
        "ATTACHMENT_MAX_BYTES": int(env.get("ATTACHMENT_MAX_BYTES", str(100 * 1024 * 1024))),
        # The daily hazard job POSTs new escalations (JSON) here; unset: no webhook.
        "HAZARD_WEBHOOK_URL": env.get("HAZARD_WEBHOOK_URL") or None,
        "HAZARD_WEBHOOK_TIMEOUT": float(env.get("HAZARD_WEBHOOK_TIMEOUT", "10")),
        # Manager pages: the session cookie carries a revocable token; never readable by
        # scripts, not sent on cross-site requests, HTTPS-only where TLS is terminated.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), False),
        "WEB_SESSION_HOURS": int(env.get("WEB_SESSION_HOURS", "12")),
        "API_TITLE": "Field enforcement service",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        "API_SPEC_OPTIONS": {
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
        },
    }
    if overrides:
        config.update(overrides)
        if "SQLALCHEMY_DATABASE_URI" in overrides:
            config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
                overrides["SQLALCHEMY_DATABASE_URI"]
            )
    return config
