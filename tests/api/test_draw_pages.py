"""The lead's draw pages without a browser: plans by form, runs, redraws, recusals."""

from __future__ import annotations

import re

import pytest

from tests.api.test_hazard_pages import csrf, sign_in
from tests.draw_support import make_field


@pytest.fixture
def field(world, client):
    world.agency()
    f = make_field(world, client, good=4, poor=2, key=1)
    world.user("duizhang", role="lead", full_name="孙队长")
    return f


def plan_form(token: str, **overrides) -> dict:
    form = {
        "csrf_token": token,
        "name": "2024年一般企业双随机抽查",
        "notes": "内部备注",
        "active": "on",
        "respect_yearly_caps": "on",
        "strata_by": "risk",
        "rate:risk:good": "50",
        "rate:risk:poor": "100",
        "default_rate": "0",
        "inspector_pool": "all",
        "team_size": "2",
        "outside_per_team": "0",
        "period": "quarter",
        "due_days": "20",
        "due_day_kind": "working",
    }
    form.update(overrides)
    return form


def create_plan(browser, **overrides) -> str:
    token = csrf(browser, "/manage/draw-plans/new")
    done = browser.post("/manage/draw-plans/new", data=plan_form(token, **overrides))
    assert done.status_code == 302, done.get_data(as_text=True)
    return done.headers["Location"].rsplit("/", 1)[1]


def test_a_lead_creates_a_plan_by_form_with_rates_in_percent(field, app) -> None:
    browser, _ = sign_in(app, "duizhang")
    assert 'href="/manage/draws"' in browser.get("/manage/").get_data(as_text=True)
    plan_id = create_plan(browser, **{"rate:risk:good": "12.5"})
    stored = field.get(f"/api/v1/draw-plans/{plan_id}")
    assert stored["rates"] == {"risk:good": "0.125", "risk:poor": "1"}
    assert stored["inspector_ids"] is None and stored["team_size"] == 2
    page = browser.get(f"/manage/draw-plans/{plan_id}").get_data(as_text=True)
    assert "风险等级好 12.5%" in page and "风险等级差 100%" in page
    listing = browser.get("/manage/draws").get_data(as_text=True)
    assert f'href="/manage/draw-plans/{plan_id}"' in listing


def test_a_plan_that_could_never_be_drawn_comes_back_with_what_to_fix(field, app) -> None:
    browser, _ = sign_in(app, "duizhang")
    token = csrf(browser, "/manage/draw-plans/new")
    refused = browser.post(
        "/manage/draw-plans/new", data=plan_form(token, team_size="40", **{"rate:risk:good": "x"})
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="form-errors"' in html and "rates" in html
    assert 'value="2024年一般企业双随机抽查"' in html  # what was typed is kept
    again = browser.post("/manage/draw-plans/new", data=plan_form(token, team_size="40"))
    assert again.status_code == 422
    assert "抽查计划不能依法执行" in again.get_data(as_text=True)
    assert "team_size" in again.get_data(as_text=True)
    assert field.get("/api/v1/draw-plans") == []


def test_a_lead_edits_the_pool_filter_and_lists_the_inspectors(field, app) -> None:
    browser, _ = sign_in(app, "duizhang")
    plan_id = create_plan(browser)
    form_page = browser.get(f"/manage/draw-plans/{plan_id}/edit").get_data(as_text=True)
    assert 'name="rate:risk:good" inputmode="decimal" value="50"' in form_page
    wang, li, zhao = field.ids("wang", "li", "zhao")
    token = csrf(browser, f"/manage/draw-plans/{plan_id}/edit")
    form = plan_form(
        token,
        industries="machinery",
        inspector_pool="listed",
        strata_by=["risk", "credit"],
        exclude_inspected_within_days="30",
        outside_inspectors="刘洋，市场监管局，SC001，2099-12-31\n",
    )
    form["inspector_ids"] = [wang, li, zhao]
    done = browser.post(f"/manage/draw-plans/{plan_id}/edit", data=form)
    assert done.status_code == 302
    stored = field.get(f"/api/v1/draw-plans/{plan_id}")
    assert stored["industries"] == ["machinery"]
    assert sorted(stored["inspector_ids"]) == sorted([wang, li, zhao])
    assert stored["strata_by"] == ["risk", "credit"]
    assert stored["exclude_inspected_within_days"] == 30
    assert [o["name"] for o in stored["outside_inspectors"]] == ["刘洋"]
    # Rates were keyed by risk alone: a plan stratified by both has new keys to fill in.
    assert stored["rates"] == {}
    edit = browser.get(f"/manage/draw-plans/{plan_id}/edit").get_data(as_text=True)
    assert 'data-stratum="risk:good/credit:A"' in edit


def test_a_lead_draws_sees_the_teams_and_redraws_with_a_public_reason(field, app, client) -> None:
    browser, _ = sign_in(app, "duizhang")
    plan_id = create_plan(browser)
    token = csrf(browser, f"/manage/draw-plans/{plan_id}")
    ran = browser.post(f"/manage/draw-plans/{plan_id}/run", data={"csrf_token": token})
    assert ran.status_code == 302
    first_id = ran.headers["Location"].rsplit("/", 1)[1]
    first = field.get(f"/api/v1/draws/{first_id}")
    page = browser.get(f"/manage/draws/{first_id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-enterprise="([^"]+)"', page)
    assert sorted(rows) == sorted(a["enterprise_id"] for a in first["assignments"])
    assert len(rows) == first["drawn_count"] > 0
    for assignment in first["assignments"]:
        for person in assignment["inspectors"]:
            assert person["name"] in page
    assert f"共 {first['drawn_count']} 项：已完成 0，待检查 {first['drawn_count']}" in page

    twice = browser.post(f"/manage/draw-plans/{plan_id}/run", data={"csrf_token": token})
    assert twice.status_code == 409
    assert "本周期已抽取" in twice.get_data(as_text=True)

    reason = "原抽中企业已停产关闭，经局务会研究重新抽取"
    redrawn = browser.post(
        f"/manage/draw-plans/{plan_id}/run", data={"csrf_token": token, "redraw_reason": reason}
    )
    assert redrawn.status_code == 302
    second_id = redrawn.headers["Location"].rsplit("/", 1)[1]
    assert second_id != first_id
    assert reason in browser.get(f"/manage/draws/{second_id}").get_data(as_text=True)
    old = browser.get(f"/manage/draws/{first_id}").get_data(as_text=True)
    assert 'id="superseded"' in old and "已取消" in old
    public = client.get(f"/public/draws/{second_id}").get_data(as_text=True)
    assert reason in public


def test_a_recusal_registered_on_the_page_keeps_the_inspector_away(field, app, world) -> None:
    browser, _ = sign_in(app, "duizhang")
    target = field.enterprises["poor0"]
    wang = field.ids("wang")[0]
    token = csrf(browser, "/manage/recusals")
    done = browser.post(
        "/manage/recusals",
        data={
            "csrf_token": token,
            "inspector_id": wang,
            "uscc": target["uscc"].lower(),
            "source": "conflict",
            "reason": "其配偶在该企业任职",
        },
    )
    assert done.status_code == 302
    listing = browser.get("/manage/recusals").get_data(as_text=True)
    assert target["name"] in listing and "执法员wang" in listing and "利害关系" in listing
    unknown = browser.post(
        "/manage/recusals",
        data={
            "csrf_token": token,
            "inspector_id": wang,
            "uscc": "91110000000000000X",
            "source": "conflict",
            "reason": "x",
        },
    )
    assert unknown.status_code == 422 and 'id="form-errors"' in unknown.get_data(as_text=True)

    plan_id = create_plan(browser, **{"rate:risk:good": "0", "rate:risk:poor": "100"})
    ran = browser.post(f"/manage/draw-plans/{plan_id}/run", data={"csrf_token": token})
    draw = field.get(f"/api/v1/draws/{ran.headers['Location'].rsplit('/', 1)[1]}")
    team = next(a for a in draw["assignments"] if a["enterprise_id"] == target["id"])
    assert wang not in [p["id"] for p in team["inspectors"]]

    (recusal,) = field.get("/api/v1/recusals")
    gone = browser.post(f"/manage/recusals/{recusal['id']}/delete", data={"csrf_token": token})
    assert gone.status_code == 302 and field.get("/api/v1/recusals") == []


def test_draw_pages_refuse_forms_without_csrf_and_other_agencies_plans(field, app, world) -> None:
    browser, _ = sign_in(app, "duizhang")
    plan_id = create_plan(browser)
    assert browser.post(f"/manage/draw-plans/{plan_id}/run", data={}).status_code == 400
    assert field.get(f"/api/v1/draws?plan_id={plan_id}") == []
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.user("hexi-lead", agency="hexi", role="lead")
    stranger, _ = sign_in(app, "hexi-lead")
    assert stranger.get(f"/manage/draw-plans/{plan_id}").status_code == 404
    token = csrf(stranger, "/manage/draws")
    refused = stranger.post(f"/manage/draw-plans/{plan_id}/run", data={"csrf_token": token})
    assert refused.status_code == 404
    assert field.get(f"/api/v1/draws?plan_id={plan_id}") == []
