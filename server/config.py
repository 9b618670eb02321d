"""Settings, read from the environment in one place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from server import jsoncodec

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


class ConfigError(RuntimeError):
    """The environment does not allow the service to start; the message says what to set."""


def instance_path() -> str | None:
    """``INSTANCE_PATH``: where the default SQLite file, attachments and generated key live.

    Unset, Flask's default applies (``instance/`` beside the source, or
    ``<prefix>/var/server-instance`` for an installed package, which a service user can
    rarely write: the Docker image sets it to its ``/data`` volume).
    """
    value = os.environ.get("INSTANCE_PATH")
    return str(Path(value).resolve()) if value else None


def _writable_instance(instance: Path, needed_for: str) -> Path:
    try:
        instance.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"the instance folder {instance} cannot be created ({exc.strerror}), and it is "
            f"needed for {needed_for}: set INSTANCE_PATH to a writable folder"
        ) from None
    return instance


def _kept_secret_key(instance: Path) -> str:
    """A key generated once per instance folder, so tokens and gate codes survive restarts.

    Several gunicorn workers may start at once: the key is written to a private file and
    linked into place, so exactly one key wins and nobody reads a half-written one.
    """
    key_file = instance / "secret_key"
    if not key_file.exists():
        scratch = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            instance.mkdir(parents=True, exist_ok=True)
            fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(scratch, key_file)
            except FileExistsError:
                pass  # another process won the race; use its key
            finally:
                scratch.unlink()
        except OSError as exc:
            raise ConfigError(
                f"SECRET_KEY is not set and no key can be kept in {key_file} "
                f"({exc.strerror}): set SECRET_KEY, or INSTANCE_PATH to a writable folder"
            ) from None
    return key_file.read_text().strip()


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, then apply ``overrides``."""
    env = os.environ
    overrides = overrides or {}
    instance = Path(instance_path)
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or env.get("DATABASE_URL")
    if not database_url:
        folder = _writable_instance(instance, "the SQLite database")
        database_url = f"sqlite:///{folder / 'fieldenforce.db'}"
    secret_key = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if not secret_key:
        if normalize_database_url(database_url).startswith("postgresql"):
            # Hosts sharing one PostgreSQL must sign gate codes, tokens and sessions with one
            # key; a key each host made for itself would refuse the others' codes.
            raise ConfigError(
                "SECRET_KEY is not set: on PostgreSQL every host of the deployment must be "
                "given the same SECRET_KEY (e.g. python -c 'import secrets; "
                "print(secrets.token_hex(32))')"
            )
        # The embedded default (SQLite, one host) keeps a generated key in the instance
        # folder, so tokens and gate codes survive restarts.
        secret_key = _kept_secret_key(instance)
    config: dict[str, Any] = {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "json_serializer": jsoncodec.dumps,
            "json_deserializer": jsoncodec.loads,
        },
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Local folder of attachments (with ATTACHMENT_STORE=local), else scratch space and
        # a read-through copy of what the S3 store serves.
        "ATTACHMENTS_DIR": env.get("ATTACHMENTS_DIR", str(instance / "attachments")),
        # Where attachment bytes live: "local" (ATTACHMENTS_DIR; one host) or "s3"
        # (S3-compatible object storage every host reaches).
        "ATTACHMENT_STORE": env.get("ATTACHMENT_STORE", "local").strip().lower(),
        "S3_BUCKET": env.get("S3_BUCKET") or None,
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": env.get("S3_REGION") or None,
        # The inspectors' field app, built by npm (scripts/serve, scripts/test) and served
        # under /field/.
        "FIELD_APP_DIR": env.get(
            "FIELD_APP_DIR", str(Path(__file__).resolve().parents[1] / "field" / "dist")
        ),
        "SCHEDULER_ENABLED": _bool(env.get("SCHEDULER_ENABLED"), False),
        "TIMEZONE": env.get("TIMEZONE", DEFAULT_TIMEZONE),
        "TOKEN_TTL_HOURS": int(env.get("TOKEN_TTL_HOURS", "168")),
        # Log lines as JSON objects (with the request id), or "text" for reading by eye.
        "LOG_FORMAT": env.get("LOG_FORMAT", "json").strip().lower(),
        # Trusted proxies (load balancers) in front of the app: the client's address is then
        # read from their X-Forwarded-For. 0: clients connect directly.
        "PROXY_HOPS": int(env.get("PROXY_HOPS", "0")),
        # /metrics answers only this bearer token when set; unset, anyone who reaches it.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
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
        "OPENAPI_SWAGGER_UI_URL": "/docs/ui/",  # server/web/apidocs.py, no CDN
        "API_SPEC_OPTIONS": {
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
        },
    }
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config["ATTACHMENT_STORE"] not in ("local", "s3"):
        raise ConfigError("ATTACHMENT_STORE must be local or s3")
    if config["ATTACHMENT_STORE"] == "s3" and not config["S3_BUCKET"]:
        raise ConfigError("ATTACHMENT_STORE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL if not AWS)")
    return config
