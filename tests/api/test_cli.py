"""The flask commands of the contract: agencies, users, import, demo seed."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.models import Enterprise, User
from server.services.demo import DEMO_PASSWORD


def test_agencies_and_users_can_be_created_from_the_command_line(runner, client, app) -> None:
    result = runner.invoke(
        args=["agencies", "create", "hexi", "--name", "天津市河西区应急管理局", "--abbr", "河西"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "zhao",
            "--agency",
            "hexi",
            "--role",
            "inspector",
            "--password",
            "long enough",
            "--cert-no",
            "12010320001",
            "--cert-valid-until",
            "2027-12-31",
        ]
    )
    assert result.exit_code == 0, result.output
    login = client.post(
        "/api/v1/auth/login", json={"username": "zhao", "password": "long enough", "device_id": "p"}
    )
    assert login.status_code == 200
    assert login.get_json()["user"]["cert_valid_until"] == "2027-12-31"


def test_a_duplicate_agency_is_a_clean_error(runner) -> None:
    args = ["agencies", "create", "hexi", "--name", "河西", "--abbr", "河西"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "duplicate_agency" in result.output


def test_enterprises_import_from_the_command_line(runner, world, app, tmp_path) -> None:
    world.agency()
    path = tmp_path / "list.csv"
    path.write_text(
        f"统一社会信用代码,企业名称,行业\n{world.uscc()},天津市泰和机械有限公司,机械\nbad,坏行,机械\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["enterprises", "import", str(path), "--agency", "nankai"])
    # The good row is stored, and the exit status says that not every row was.
    assert result.exit_code == 1, result.output
    assert "created 1" in result.output and "failed 1" in result.output
    assert "row 3" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Enterprise.id))) == 1


def test_an_import_where_every_row_lands_exits_zero(runner, world, tmp_path) -> None:
    world.agency()
    path = tmp_path / "list.csv"
    path.write_text(f"uscc,name,industry\n{world.uscc()},天津市泰和机械有限公司,machinery\n")
    result = runner.invoke(args=["enterprises", "import", str(path), "--agency", "nankai"])
    assert result.exit_code == 0, result.output


def test_demo_seed_builds_a_believable_agency_once(runner, app, client) -> None:
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "inspector01" in first.output and DEMO_PASSWORD in first.output
    with app.app_context():
        enterprises = db.session.scalars(sa.select(Enterprise)).all()
        users = db.session.scalars(sa.select(User)).all()
    assert len(enterprises) >= 200
    assert len({e.industry for e in enterprises}) >= 7
    assert {e.risk_grade for e in enterprises} >= {"good", "poor"}
    assert {e.credit_rating for e in enterprises} >= {"A", "B"}
    assert any(e.is_key for e in enterprises) and not all(e.is_key for e in enterprises)
    inspectors = [u for u in users if u.role == "inspector"]
    assert len(inspectors) == 10 and all(u.cert_no for u in inspectors)
    assert {u.role for u in users} == {"inspector", "lead", "manager", "admin"}
    second = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in second.output
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "manager", "password": DEMO_PASSWORD, "device_id": "laptop"},
    )
    assert login.status_code == 200
