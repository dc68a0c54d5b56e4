"""REST API of issue 3: the rules engine as JSON (the wizard's live "故授予 X 学分"), a person's explained
compliance, and scoped credit records — from a logged-in browser session (CSRF token) and with a JWT."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests import helpers
from tests.credit_helpers import B_ONLY, seed_credits

COMPUTE = "/api/v1/credit_rules/compute"


@pytest.fixture
def credits(app, world):
    with app.app_context():
        return seed_credits(world)


def standard_id(app, code: str, seq: int) -> int:
    from app.extensions import db
    from app.models import CreditStandard, RuleSet

    with app.app_context():
        return db.session.scalar(select(CreditStandard.id).join(RuleSet).where(
            RuleSet.code == code, CreditStandard.seq == seq))


def jwt_headers(client, username: str) -> dict:
    r = client.post("/api/v1/security/login", json={"username": username, "password": helpers.PASSWORD,
                                                    "provider": "db"})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


# ------------------------------------------------------------------------------ compute
def test_compute_seven_hours_at_standard_15(app, world, login):
    # BJ2025 15. 参加国家级继续医学教育项目 每3小时1分（上限10分）: 7 h → 2
    r = login("inst_a").post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 15), "amount": 7})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["credits"] == 2 and body["grantable"] is True and body["capped_by"] is None
    assert body["explanation"] == "7小时，每3小时1分，计2个完整单位，得2分"
    assert body["standard"]["name"] == "参加国家级继续医学教育项目" and body["hours"] == 7


def test_compute_cap_and_lecturer_above_project(app, world, login):
    c = login("inst_a")
    # 15: 40 h → 13 units, capped at 10
    body = c.post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 15), "amount": 40}).get_json()
    assert body["credits"] == 10 and body["capped_by"] == "上限10分"
    # 1. 国家级继续医学教育项目主讲人授分 每1小时2分 (主讲人分数不能超过项目分数): 4 h → 8, project 5 → 5
    body = c.post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 1), "amount": 4,
                                 "project_credits": 5}).get_json()
    assert body["credits"] == 5 and body["capped_by"] == "主讲人分数不能超过项目分数"
    assert "主讲人分数不能超过项目分数，按5分计" in body["explanation"]
    # 2 h 59 min at 每3小时1分: not grantable, still 200 with the reason
    body = c.post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 15), "amount": "2.98"}).get_json()
    assert body["credits"] == 0 and body["grantable"] is False and "不足一个完整单位" in body["explanation"]


@pytest.mark.parametrize("payload, message", [
    ({"amount": "abc"}, "实际学时必须是数字"),
    ({}, "请填写实际学时"),
    ({"amount": -3}, "实际学时必须大于0"),
    ({"amount": 5000}, "实际学时不能超过2000小时"),
])
def test_compute_bad_input_is_422_in_chinese(app, world, login, payload, message):
    r = login("inst_a").post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 15), **payload})
    assert r.status_code == 422 and r.get_json()["message"] == message


def test_compute_session_and_lecturer_need_their_inputs(app, world, login):
    c = login("inst_a")
    r = c.post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 20), "hours": "0.99"})
    assert r.status_code == 422 and r.get_json()["message"] == "单次不少于1小时，本次0.99小时不能授分"
    r = c.post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 1), "amount": 4})
    assert r.status_code == 422 and "请填写项目学分" in r.get_json()["message"]


def test_compute_refuses_unknown_standard_and_bad_body(app, world, login):
    c = login("inst_a")
    r = c.post(COMPUTE, json={"standard_id": 999999, "amount": 7})
    assert r.status_code == 404 and r.get_json()["message"] == "授分标准不存在"
    r = c.post(COMPUTE, json={"amount": 7})
    assert r.status_code == 422 and r.get_json()["message"] == "授分标准填写有误"
    r = c.post(COMPUTE, json=[1, 2])
    assert r.status_code == 400 and r.get_json()["message"] == "请求内容必须是JSON对象"


def test_eligibility_comes_from_the_persons_institution(app, world, login):
    # Xuzhou 10. 自学/成人学历教育: "只适用于一级医疗机构或社区卫生服务机构"
    sid = standard_id(app, "XZ2024", 10)
    district = login("district1")
    r = district.post(COMPUTE, json={"standard_id": sid, "amount": 2, "person_id": world.pc})  # 一级 community
    assert r.status_code == 200 and r.get_json()["credits"] == 4
    r = district.post(COMPUTE, json={"standard_id": sid, "amount": 2, "person_id": world.pa})  # 三级 hospital
    assert r.status_code == 422 and r.get_json()["message"].startswith("该标准只适用于一级医疗机构")
    # a person outside the caller's scope is not found
    r = district.post(COMPUTE, json={"standard_id": sid, "amount": 2, "person_id": world.pb})
    assert r.status_code == 404 and "不在您的管辖范围内" in r.get_json()["message"]
    # without person_id: the caller's own institution (甲医院, 三级) / own person
    r = login("inst_a").post(COMPUTE, json={"standard_id": sid, "amount": 2})
    assert r.status_code == 422
    r = login("tech_a").post(COMPUTE, json={"standard_id": sid, "amount": 2})
    assert r.status_code == 422


def test_compute_needs_login_and_permission(app, world, login, client):
    sid = standard_id(app, "BJ2025", 15)
    assert client.post(COMPUTE, json={"standard_id": sid, "amount": 7}).status_code == 401
    assert login("expert").post(COMPUTE, json={"standard_id": sid, "amount": 7}).status_code == 403


def test_compute_with_jwt(app, world, client):
    headers = jwt_headers(client, "inst_a")
    r = client.post(COMPUTE, json={"standard_id": standard_id(app, "BJ2025", 15), "amount": 7}, headers=headers)
    assert r.status_code == 200 and r.get_json()["credits"] == 2
    r = client.post(COMPUTE, json={"standard_id": standard_id(app, "XZ2024", 10), "amount": 1,
                                   "person_id": world.pb}, headers=headers)
    assert r.status_code == 404


def test_browser_session_needs_the_csrf_token_jwt_does_not(app, world, credits, login):
    inst, city = login("inst_a"), login("city")  # logged in before CSRF is switched on
    jwt = jwt_headers(app.test_client(), "inst_a")
    payload = {"standard_id": standard_id(app, "BJ2025", 15), "amount": 7}
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = inst.post(COMPUTE, json=payload)
        assert r.status_code == 400 and "CSRF" in r.get_json()["message"]
        page = inst.get("/compliance/list/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = inst.post(COMPUTE, json=payload, headers={"X-CSRFToken": token})
        assert r.status_code == 200 and r.get_json()["credits"] == 2
        # the city admin's corrections through the credit API are protected the same way
        r = city.put(f"/api/v1/credit/{credits.pc}", json={"remark": "改"})
        assert r.status_code == 400
        r = city.delete(f"/api/v1/credit/{credits.pc}")
        assert r.status_code == 400
        # a JWT client sends no cookie and no token
        r = app.test_client().post(COMPUTE, json=payload, headers=jwt)
        assert r.status_code == 200 and r.get_json()["credits"] == 2
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    from app.extensions import db
    from app.models import Credit

    with app.app_context():
        assert db.session.get(Credit, credits.pc).remark is None


# ------------------------------------------------------------------------------ compliance
def test_compliance_of_a_person(app, world, credits, login):
    c = login("inst_a")
    body = c.get(f"/api/v1/compliance/{world.pa}?year=2025").get_json()
    assert body["met"] is False and body["total"] == 20 and body["required"] == 25
    assert body["window"] == ["2024-11-01", "2025-10-31"]
    assert body["missing"] == ["还差5学分（要求25学分，已获20学分）"]
    assert body["summary"] == "不达标：还差5学分（要求25学分，已获20学分）"
    assert body["by_category"] == {"国家级继续医学教育项目": 10, "有计划的自学": 10}
    assert body["person"] == {"id": world.pa, "name": "张三", "card_no": "A0000001"}
    assert body["rule_set"]["name"] == "北京市2025年授分标准"
    notes = {line["content"]: (line["counted"], line["note"]) for line in body["credits"]}
    assert notes["自学二"] == (2, "封顶：有计划的自学每年最多10学分，本条计入2分")
    assert notes["被驳回的活动"] == (0, "未计入：状态为“审核不通过”")
    # default year, bad year, year without rule set
    assert c.get(f"/api/v1/compliance/{world.pa}").get_json()["year"] == 2025
    assert c.get(f"/api/v1/compliance/{world.pa}?year=abc").status_code == 400
    r = c.get(f"/api/v1/compliance/{world.pa}?year=2031")
    assert r.status_code == 422 and r.get_json()["message"] == "北京市没有适用于2031年度的已发布规则集"


@pytest.mark.parametrize("username, person, status", [
    ("inst_a", "pb", 404), ("inst_a", "pc", 404), ("sec_a", "pa2", 404), ("tech_a", "pa2", 404),
    ("tech_a", "pa", 200), ("district2", "pb", 200), ("expert", "pa", 403),
])
def test_compliance_api_is_scoped(app, world, credits, login, username, person, status):
    r = login(username).get(f"/api/v1/compliance/{getattr(world, person)}?year=2025")
    assert r.status_code == status
    if status != 200:
        assert "credits" not in (r.get_json() or {})


def test_compliance_api_with_jwt(app, world, credits, client):
    headers = jwt_headers(client, "inst_b")
    assert client.get(f"/api/v1/compliance/{world.pb}?year=2025", headers=headers).get_json()["met"] is True
    assert client.get(f"/api/v1/compliance/{world.pa}?year=2025", headers=headers).status_code == 404


# ------------------------------------------------------------------------------ credits
def test_credit_api_is_scoped_and_read_only_for_institutions(app, world, credits, login):
    c = login("inst_a")
    body = c.get("/api/v1/credit/?q=(page_size:100)").get_json()
    contents = {row["content"] for row in body["result"]}
    assert contents == {"心血管介入新进展", "自学一", "自学二", "被驳回的活动", "补传的旧学分", "李四的活动"}
    row = next(r for r in body["result"] if r["content"] == "心血管介入新进展")
    assert row["person"] == {"id": world.pa, "name": "张三", "card_no": "A0000001"} and row["source"] == "card"
    assert body["label_columns"]["person.card_no"] == "IC卡号" and body["list_title"] == "学分记录"
    assert c.get(f"/api/v1/credit/{credits.pb}").status_code == 404
    assert c.get(f"/api/v1/credit/{credits.national}").get_json()["result"]["project_no"] == "2025-01-01(01)"
    assert c.put(f"/api/v1/credit/{credits.national}", json={"remark": "改"}).status_code == 403
    assert c.delete(f"/api/v1/credit/{credits.national}").status_code == 403
    assert c.post("/api/v1/credit/", json={"content": "新"}).status_code in (404, 405)
    assert {r["content"] for r in login("tech_a").get("/api/v1/credit/").get_json()["result"]} == {
        "心血管介入新进展", "自学一", "自学二", "被驳回的活动", "补传的旧学分"}
    # filters never widen the scope
    body = c.get("/api/v1/credit/?q=(filters:!((col:content,opr:ct,value:乙医院)))").get_json()
    assert body["count"] == 0 and B_ONLY not in str(body)


def test_city_corrects_a_credit_through_the_api(app, world, credits, login):
    from app.extensions import db
    from app.models import ComplianceResult, Credit

    city = login("city")
    r = city.put(f"/api/v1/credit/{credits.pa2}", json={"credits": 20})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert float(db.session.get(Credit, credits.pa2).credits) == 20
        result = db.session.scalar(select(ComplianceResult).where(ComplianceResult.person_id == world.pa2))
        assert (float(result.total), result.met) == (20, False)  # the hook recomputed 李四
    assert city.delete(f"/api/v1/credit/{credits.pa2}").status_code == 200


# ------------------------------------------------------------------------------ OpenAPI
def test_openapi_documents_the_endpoints(app, world, login):
    spec = login("city").get("/api/v1/_openapi").get_json()
    paths = spec["paths"]
    assert "post" in paths["/api/v1/credit_rules/compute"]
    assert "get" in paths["/api/v1/compliance/{person_id}"]
    assert "get" in paths["/api/v1/credit/"] and "post" not in paths["/api/v1/credit/"]
    assert {"get", "put", "delete"} <= set(paths["/api/v1/credit/{pk}"])
    request_schema = spec["components"]["schemas"]["ComputeRequestSchema"]
    assert {"standard_id", "amount", "hours", "sessions", "row", "col", "project_credits", "credits",
            "allowed_value", "person_id"} <= set(request_schema["properties"])
    assert request_schema["required"] == ["standard_id"]
    responses = paths["/api/v1/credit_rules/compute"]["post"]["responses"]
    assert {"200", "400", "401", "404", "422"} <= set(responses)
    assert "credits" in spec["components"]["schemas"]["ComputeResponseSchema"]["properties"]
