"""The flask commands of the contract: agencies, users, import, demo seed."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.models import Agency, Enterprise, User
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


def test_demo_seed_builds_a_believable_agency_with_history_once(runner, app, client) -> None:
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "inspector01" in first.output and DEMO_PASSWORD in first.output
    with app.app_context():
        # The demo agency's own; a neighbouring bureau registered one of them too.
        nankai = db.session.scalar(sa.select(Agency.id).where(Agency.code == "nankai"))
        enterprises = db.session.scalars(
            sa.select(Enterprise).where(Enterprise.agency_id == nankai)
        ).all()
        users = db.session.scalars(sa.select(User).where(User.agency_id == nankai)).all()
    assert len(enterprises) >= 200
    assert len({e.name for e in enterprises}) == len(enterprises)
    assert len({e.industry for e in enterprises}) >= 7
    assert {e.risk_grade for e in enterprises} >= {"good", "poor"}
    assert {e.credit_rating for e in enterprises} >= {"A", "B"}
    assert any(e.is_key for e in enterprises) and not all(e.is_key for e in enterprises)
    inspectors = [u for u in users if u.role == "inspector"]
    assert len(inspectors) == 10 and all(u.cert_no for u in inspectors)
    assert {u.role for u in users} == {"inspector", "lead", "manager", "admin"}
    second = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in second.output

    # Months of history, made through the services as the devices and the office would.
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "manager", "password": DEMO_PASSWORD, "device_id": "laptop"},
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}

    def get(path: str, **query):
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    by_status = get("/api/v1/hazards/aggregates")["by_status"]
    assert by_status["closed"] > 0 and by_status["ordered"] > 0 and by_status["reported"] > 0
    assert get("/api/v1/hazards", overdue="true")["total"] > 0
    (supervised,) = get("/api/v1/hazards", supervised="true")["items"]
    assert supervised["level"] == "major"
    found = sorted(h["found_at"] for h in get("/api/v1/hazards", per_page=500)["items"])
    assert found[-1][:7] != found[0][:7], "the history spans several months"
    detail = get(f"/api/v1/hazards/{supervised['id']}")
    assert any(d.get("number") for step in detail["history"] for d in step.get("documents", []))
    (draw,) = get("/api/v1/draws")
    assert draw["drawn_count"] > 0
    (case,) = get("/api/v1/cases")["items"]
    assert case["decision"]["number"] and case["decision"]["published_on"]


def test_a_demo_seed_that_fails_midway_leaves_nothing_behind(runner, app, monkeypatch) -> None:
    from server.services import demo

    def broken(self, overdue):
        raise RuntimeError("the case could not be opened")

    monkeypatch.setattr(demo._Bureau, "_case", broken)
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    with app.app_context():
        for table in ("agencies", "users", "enterprises", "hazards", "documents", "draws"):
            assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0, table
    monkeypatch.undo()
    assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Enterprise.id))) >= 200
