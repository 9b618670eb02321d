"""Fixtures shared by every test layer: the app on a migrated database, clients, factories."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import settings

from server import create_app
from server.extensions import db
from server.services import accounts
from server.services.demo import make_uscc
from server.services.passwords import use_cheap_hashing

# The S3-compatible server and the fixture running attachment tests on both stores.
pytest_plugins = ["tests.s3_support"]

PASSWORD = "correct horse battery"

# Property tests say what holds, not how fast: on a shared, busy machine a slow example is not
# a failure (hypothesis' default 200 ms deadline would be a timing assertion).
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

# CI sets STRICT_SKIPS=1: a test skipped for want of a part the scripts install (Chromium, the
# CJK font, playwright) fails instead, so a missing part cannot pass for a green suite. Only
# the tests of one engine's own path may skip, on the other engine's run.
ALLOWED_SKIPS = ("needs PostgreSQL", "needs SQLite")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("STRICT_SKIPS") != "1":
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
    if not any(allowed in reason for allowed in ALLOWED_SKIPS):
        report.outcome = "failed"
        report.longrepr = f"skipped under STRICT_SKIPS=1: {reason}"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    use_cheap_hashing()
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "ATTACHMENTS_DIR": str(instance / "attachments"),
            "SCHEDULER_ENABLED": False,
            "PUBLIC_BASE_URL": "https://enforce.example.cn",
        }
    )
    with application.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(
            directory=str(Path(__file__).resolve().parents[1] / "server" / "migrations"),
            revision="head",
        )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _truncate_all() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
        else:
            # Triggers (the append-only audit trail's) would refuse the clean-up; TRUNCATE,
            # used on PostgreSQL, does not fire them.
            triggers = conn.execute(
                sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _ in triggers:
                conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
            for name in tables:
                conn.execute(sa.text(f'DELETE FROM "{name}"'))
            for _, sql in triggers:
                conn.exec_driver_sql(sql)


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        _truncate_all()
    yield
    with application.app_context():
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class World:
    """Factories for agencies, users and enterprises, with overridable defaults."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.rng = random.Random(1234)

    def agency(
        self, code: str = "nankai", name: str = "天津市南开区应急管理局", abbr: str = "南开"
    ) -> Any:
        with self.app.app_context():
            agency = accounts.create_agency(code, name, abbr)
            db.session.expunge(agency)
            return agency

    def user(
        self,
        username: str | None = None,
        *,
        agency: str = "nankai",
        role: str = "inspector",
        cert_no: str | None = "120104200001",
        **kw: Any,
    ) -> Any:
        username = username or f"{role}-{uuid.uuid4().hex[:8]}"
        with self.app.app_context():
            user = accounts.create_user(
                username=username,
                agency_code=agency,
                role=role,
                password=PASSWORD,
                cert_no=cert_no,
                **kw,
            )
            db.session.expunge(user)
            return user

    def login(self, username: str, device_id: str | None = None) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/login",
            json={
                "username": username,
                "password": PASSWORD,
                "device_id": device_id or f"device-{username}",
                "device_name": "test phone",
            },
        )
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    def headers(self, role: str = "lead", agency: str = "nankai", **kw: Any) -> dict[str, str]:
        """Create a user of ``role`` and log in; returns the Authorization header."""
        user = self.user(role=role, agency=agency, **kw)
        return self.login(user.username)

    def uscc(self) -> str:
        return make_uscc(self.rng)

    def enterprise_payload(self, **overrides: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "uscc": self.uscc(),
            "name": "天津市宏达机械制造有限公司",
            "address": "天津市南开区红旗路100号",
            "industry": "machinery",
            "risk_grade": "good",
            "credit_rating": "A",
            "is_key": False,
        }
        payload.update(overrides)
        return payload

    def enterprise(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/enterprises", json=self.enterprise_payload(**overrides), headers=headers
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return World(app, client)
