"""`flask demo seed` gives the other two parties something real to look at."""

from __future__ import annotations

import re

from server.services.demo import DEMO_PASSWORD
from tests.api.test_hazard_pages import csrf


def test_the_demo_prints_an_enterprise_login_a_code_and_a_supervisor_with_alerts(
    runner, app, client
) -> None:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    signed = re.search(r"USCC (\w{18}), password (\S+)", result.output)
    pending = re.search(r"USCC (\w{18}), activation code (\S+)", result.output)
    supervisor = re.search(r"supervisor pages /supervise/: (\S+) / (\S+)", result.output)
    assert signed and pending and supervisor, result.output

    enterprise = app.test_client()
    done = enterprise.post(
        "/enterprise/login",
        data={
            "csrf_token": csrf(enterprise, "/enterprise/login"),
            "uscc": signed.group(1),
            "password": signed.group(2),
        },
    )
    assert done.status_code == 302
    home = enterprise.get("/enterprise/").get_data(as_text=True)
    # Visited by the district and by the neighbouring bureau.
    assert "天津市南开区应急管理局" in home and "天津市河西区应急管理局" in home

    newcomer = app.test_client()
    activated = newcomer.post(
        "/enterprise/activate",
        data={
            "csrf_token": csrf(newcomer, "/enterprise/activate"),
            "uscc": pending.group(1),
            "code": pending.group(2),
            "password": "a-new-password",
            "password2": "a-new-password",
        },
    )
    assert activated.status_code == 302

    office = app.test_client()
    office.post(
        "/supervise/login",
        data={
            "csrf_token": csrf(office, "/supervise/login"),
            "username": supervisor.group(1),
            "password": supervisor.group(2),
        },
    )
    alerts = office.get("/supervise/").get_data(as_text=True)
    kinds = set(re.findall(r'data-alert="(\w+)"', alerts))
    assert {"multi_department", "no_scan", "late_scan", "low_rating", "overdue_complaint"} <= kinds
    complaints = office.get("/supervise/complaints").get_data(as_text=True)
    assert (
        complaints.count("data-complaint=") == 3 and "逾期" in complaints and "已办结" in complaints
    )

    # The district sees its average, over enough ratings, and never who gave them.
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "manager", "password": DEMO_PASSWORD, "device_id": "laptop"},
    )
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    summary = client.get("/api/v1/visit-ratings", headers=headers).get_json()
    assert summary["shown"] is True and summary["count"] >= 5

    again = runner.invoke(args=["demo", "seed"])
    assert "the enterprises' and the supervisor's side exist already" in again.output


def test_a_supervisor_account_is_made_from_the_command_line(runner, app) -> None:
    made = runner.invoke(
        args=[
            "supervisors",
            "create",
            "jiandu",
            "--password",
            "jiandu-mima-2024",
            "--name",
            "孙立新",
        ]
    )
    assert made.exit_code == 0, made.output
    again = runner.invoke(args=["supervisors", "create", "jiandu", "--password", "x" * 8])
    assert again.exit_code != 0 and "duplicate_username" in again.output
    browser = app.test_client()
    signed_in = browser.post(
        "/supervise/login",
        data={
            "csrf_token": csrf(browser, "/supervise/login"),
            "username": "jiandu",
            "password": "jiandu-mima-2024",
        },
    )
    assert signed_in.status_code == 302
