"""专家审验 (AUD-6): counts, allocated persons only (403 otherwise, pages and API), verdicts with reasons,
optimistic locking, 已审/未审, evidence preview and 达标计算 from passed credits inside the window.

Seed 003 part 03: "审验专家可查看到获取学分的单位、科室、姓名、IC卡号、职称、身份证号。点击“明细审核”进入审验页面"
and "点击通过或不通过，对学分进行审核。也可点击已审、未审对状态进行标记，点击“达标计算”对人员重新进行达标计算。"
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment
from app.models.audit_review import AuditResult, AuditVerdict
from app.services import attachments
from tests.audit_review.helpers import PDF, audit_world


@pytest.fixture
def aw(app, world):
    with app.app_context():
        return audit_world(world)


def _verdicts(app):
    with app.app_context():
        return {v.credit_id: (v.verdict, v.reason, v.version) for v in db.session.scalars(select(AuditVerdict))}


def test_home_counts_and_only_allocated_persons(app, world, aw, login):
    c = login("expert")
    page = c.get(f"/audit-review/?cycle={aw.cycle}").get_data(as_text=True)
    assert "全部学员" in page and "已审验" in page and "待审验" in page
    assert 'id="count-total">2<' in page and 'id="count-reviewed">0<' in page and 'id="count-pending">2<' in page
    listing = c.get(f"/audit-review/persons?cycle={aw.cycle}").get_data(as_text=True)
    assert "张三" in listing and "王五" in listing
    assert "李四" not in listing  # allocated to expert2
    assert "明细审核" in listing
    # A technician or a site manager has no workspace at all.
    assert login("tech_a").get(f"/audit-review/persons?cycle={aw.cycle}").status_code in (302, 403)


def test_expert_cannot_open_a_person_not_allocated_to_them(app, world, aw, login):
    c = login("expert")
    assert c.get(f"/audit-review/person/{world.pa2}?cycle={aw.cycle}").status_code == 403
    r = c.post(f"/audit-review/person/{world.pa2}/verdict?cycle={aw.cycle}",
               data={"decision": "passed", "rowid": [str(aw.pa2_credit)], f"version_{aw.pa2_credit}": "0"})
    assert r.status_code == 403
    assert c.post(f"/audit-review/person/{world.pa2}/compute?cycle={aw.cycle}").status_code == 403
    assert c.post(f"/audit-review/person/{world.pa2}/mark?cycle={aw.cycle}", data={"reviewed": "1"}).status_code == 403
    # the API answers 403 as well, for reading and for judging
    assert c.get(f"/api/v1/audit_review/{aw.cycle}/person/{world.pa2}").status_code == 403
    r = c.post(f"/api/v1/audit_review/{aw.cycle}/person/{world.pa2}/verdict",
               json={"verdict": "passed", "credits": [{"id": aw.pa2_credit, "version": 0}]})
    assert r.status_code == 403
    # the evidence of that person's credit is not served either
    with app.app_context():
        att = attachments.store_bytes(PDF, "pdf", "证书.pdf", "credit", aw.pa2_credit)
        db.session.commit()
        att_id = att.id
    assert c.get(f"/audit-review/file/{att_id}?cycle={aw.cycle}").status_code == 403
    assert _verdicts(app) == {}
    # expert2, to whom 李四 is allocated, opens him and his evidence (inline)
    c2 = login("expert2")
    page = c2.get(f"/audit-review/person/{world.pa2}?cycle={aw.cycle}")
    assert page.status_code == 200 and "李四的活动" in page.get_data(as_text=True)
    f = c2.get(f"/audit-review/file/{att_id}?cycle={aw.cycle}")
    assert f.status_code == 200 and f.mimetype == "application/pdf"
    assert not f.headers["Content-Disposition"].startswith("attachment")
    assert c2.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").status_code == 403


def test_detail_page_columns_window_and_filters(app, world, aw, login):
    c = login("expert")
    page = c.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    for label in ("姓名", "IC卡号", "单位", "科室", "专业", "职称", "学分大类", "项目编号", "活动内容", "授分时间", "学分类别",
                  "学科", "学分", "学时", "备注", "授分单位", "上传时间", "学分来源", "达标计算", "已审", "举办时间"):
        assert label in page, label
    assert "心血管介入新进展" in page and "急诊胸痛中心培训" in page
    assert "窗口外的学分" not in page  # outside the cycle's credit window
    only = c.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}&project_no=2025-02").get_data(as_text=True)
    assert "急诊胸痛中心培训" in only and "心血管介入新进展" not in only
    dated = c.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}&start=2025-01-01&end=2025-05-01").get_data(as_text=True)
    assert "心血管介入新进展" in dated and "冠心病诊疗规范" not in dated
    by_source = c.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}&source=qr").get_data(as_text=True)
    assert "冠心病诊疗规范" in by_source and "心血管介入新进展" not in by_source


def test_fail_needs_reason_then_bulk_pass_compute_and_mark(app, world, aw, login):
    c = login("expert")
    url = f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}"
    r = c.post(url, data={"decision": "failed", "only": str(aw.c3), f"version_{aw.c3}": "0", "reason": "  "},
               follow_redirects=True)
    assert "请填写不通过原因" in r.get_data(as_text=True)
    assert _verdicts(app) == {}
    c.post(url, data={"decision": "failed", "only": str(aw.c3), f"version_{aw.c3}": "0", "reason": "无学分证书"})
    r = c.post(url, data={"decision": "passed", "rowid": [str(aw.c1), str(aw.c2), str(aw.c4)],
                          f"version_{aw.c1}": "0", f"version_{aw.c2}": "0", f"version_{aw.c4}": "0"},
               follow_redirects=True)
    assert "已将3条学分审核为“通过”" in r.get_data(as_text=True)
    v = _verdicts(app)
    assert v[aw.c3] == ("failed", "无学分证书", 1)
    assert {v[aw.c1][0], v[aw.c2][0], v[aw.c4][0]} == {"passed"}
    # a credit outside the window or of another person cannot be judged through this person
    r = c.post(url, data={"decision": "passed", "only": str(aw.outside), f"version_{aw.outside}": "0"},
               follow_redirects=True)
    assert "不在本次审验的学分时间范围内" in r.get_data(as_text=True)
    r = c.post(url, data={"decision": "passed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "0"},
               follow_redirects=True)
    assert "不属于该学员" in r.get_data(as_text=True)

    r = c.post(f"/audit-review/person/{world.pa}/compute?cycle={aw.cycle}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "达标计算完成" in page and "达标（25/25学分）" in page
    assert "未计入：审验不通过（无学分证书）" in page  # the explanation says why 12 credits did not count
    with app.app_context():
        result = db.session.scalar(select(AuditResult))
        assert result.met is True and result.expert_met is True and float(result.total) == 25
    # fail one more: the person no longer meets the requirement
    c.post(url, data={"decision": "failed", "only": str(aw.c4), f"version_{aw.c4}": "1", "reason": "签到记录缺失"})
    assert "请重新点击“达标计算”" in c.get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    page = c.post(f"/audit-review/person/{world.pa}/compute?cycle={aw.cycle}", follow_redirects=True).get_data(as_text=True)
    assert "不达标：还差7学分" in page

    c.post(f"/audit-review/person/{world.pa}/mark?cycle={aw.cycle}", data={"reviewed": "1"})
    home = c.get(f"/audit-review/?cycle={aw.cycle}").get_data(as_text=True)
    assert 'id="count-reviewed">1<' in home and 'id="count-pending">1<' in home
    listing = c.get(f"/audit-review/persons?cycle={aw.cycle}&reviewed=1").get_data(as_text=True)
    assert "张三" in listing and "王五" not in listing
    c.post(f"/audit-review/person/{world.pa}/mark?cycle={aw.cycle}", data={"reviewed": "0"})
    assert 'id="count-reviewed">0<' in c.get(f"/audit-review/?cycle={aw.cycle}").get_data(as_text=True)


def test_concurrent_verdicts_conflict_instead_of_overwriting(app, world, aw, login):
    """Expert and city office both load version 0 of a credit; the second write is refused (409 / a
    Chinese conflict message) and the first verdict stays."""
    expert, city = login("expert"), login("city")
    api = f"/api/v1/audit_review/{aw.cycle}/person/{world.pa}"
    seen_expert = {c["id"]: c["version"] for c in expert.get(api).get_json()["credits"]}
    seen_city = {c["id"]: c["version"] for c in city.get(api).get_json()["credits"]}
    assert seen_expert[aw.c1] == seen_city[aw.c1] == 0

    r = expert.post(api + "/verdict", json={"verdict": "passed", "credits": [{"id": aw.c1, "version": 0}]})
    assert r.status_code == 200
    r = city.post(api + "/verdict", json={"verdict": "failed", "reason": "证书不符",
                                          "credits": [{"id": aw.c1, "version": 0}]})
    assert r.status_code == 409
    message = r.get_json()["message"]
    assert "审核冲突" in message and "已被expert于" in message and "“通过”" in message
    assert _verdicts(app)[aw.c1] == ("passed", None, 1)

    # the same through the page: a stale version in the form is refused, nothing of the batch is written
    url = f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}"
    r = city.post(url, data={"decision": "failed", "reason": "证书不符", "rowid": [str(aw.c1), str(aw.c2)],
                             f"version_{aw.c1}": "0", f"version_{aw.c2}": "0"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "审核冲突" in text and "心血管介入新进展" in text and "本次审核未保存" in text
    v = _verdicts(app)
    assert v[aw.c1] == ("passed", None, 1) and aw.c2 not in v
    # with the version it saw after refreshing, the city may change it
    r = city.post(url, data={"decision": "failed", "reason": "证书不符", "only": str(aw.c1), f"version_{aw.c1}": "1"})
    assert _verdicts(app)[aw.c1] == ("failed", "证书不符", 2)
    # the expert's page still holds version 1: their next click conflicts instead of overwriting
    r = expert.post(api + "/verdict", json={"verdict": "passed", "credits": [{"id": aw.c1, "version": 1}]})
    assert r.status_code == 409
    assert _verdicts(app)[aw.c1] == ("failed", "证书不符", 2)


def test_compare_and_swap_in_the_service(app, world, aw):
    """Two verdicts racing past the page check: only one compare-and-swap wins."""
    from app.models.audit import AuditCycle
    from app.services import audit_review as R

    with app.app_context():
        cycle = db.session.get(AuditCycle, aw.cycle)
        a = R.Auditor(aw.expert_user, "expert")
        R.set_verdicts(db.session, a, cycle, world.pa, {aw.c1: 0}, "passed")
        db.session.commit()
        # simulate a stale in-memory check: the row is updated behind the service's back
        db.session.execute(AuditVerdict.__table__.update().values(version=5))
        db.session.commit()
        with pytest.raises(R.ConflictError):
            R.set_verdicts(db.session, a, cycle, world.pa, {aw.c1: 1, aw.c2: 0}, "failed", "原因")
        assert db.session.scalar(select(func.count()).select_from(AuditVerdict)) == 1  # c2 not written either
        db.session.remove()


def test_attachment_of_other_owner_type_not_served(app, world, aw, login):
    with app.app_context():
        att = attachments.store_bytes(PDF, "pdf", "x.pdf", "practice_plan", aw.c1)
        db.session.commit()
        att_id = att.id
    assert login("expert").get(f"/audit-review/file/{att_id}?cycle={aw.cycle}").status_code == 404
    with app.app_context():
        assert db.session.get(Attachment, att_id) is not None


def test_closed_cycle_refuses_verdicts(app, world, aw, login):
    from app.models.audit import AuditCycle

    with app.app_context():
        db.session.get(AuditCycle, aw.cycle).status = "closed"
        db.session.commit()
    r = login("expert").post(f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}",
                             data={"decision": "passed", "only": str(aw.c1), f"version_{aw.c1}": "0"},
                             follow_redirects=True)
    assert "该审验已关闭" in r.get_data(as_text=True)
    assert _verdicts(app) == {}


def test_evidence_preview_is_listed(app, world, aw, login):
    with app.app_context():
        attachments.store_bytes(PDF, "pdf", "学分证书.pdf", "credit", aw.c1)
        db.session.commit()
    page = login("expert").get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    assert "学分证书.pdf" in page and "cme-preview-pdf" in page



def test_menu_pages_answer_without_any_cycle(app, world, login):
    """Before the city sets up an audit the expert's menu items still land on a page."""
    c = login("expert")
    r = c.get("/audit-review/persons", follow_redirects=True)
    assert r.status_code == 200 and "暂无您参与的审验" in r.get_data(as_text=True)
    assert c.get("/audit-results/").status_code == 200
    assert login("inst_a").get("/audit-appeals/").status_code == 200


def test_credit_detail_shows_running_credit_and_hour_totals(app, world, aw, login):
    """Seed 003 学分明细审核: "学分大类 项目编号 活动内容 授分时间 学分类别 学科 学分 学分合计 学时 学时合计 备注 授分单位
    上传时间 学分来源 操作" — 学分合计 / 学时合计 run down the list in 授分时间 order."""
    import re

    page = login("expert").get(f"/audit-review/person/{world.pa}?cycle={aw.cycle}").get_data(as_text=True)
    assert "学分合计" in page and "学时合计" in page
    body = page.split('id="audit-credits"', 1)[1]
    order = [int(x) for x in re.findall(r'<tr data-credit="(\d+)"', body)]
    assert order == [aw.c2, aw.c1, aw.c3, aw.c4]  # 2024-12-01, 2025-03-01, 06-01, 09-01
    assert re.findall(r'class="credits-total">([^<]*)<', body) == ["8", "18", "30", "37"]
    assert re.findall(r'class="hours-total">([^<]*)<', body) == ["0", "30", "30", "30"]


def test_audit_judges_the_credits_the_rule_sets_counting_policy_counts(app, world, aw):
    """Seed 002 三 3: "刷卡记录需在项目结束一周内上传 ICME 系统，经市级审核通过后授予学分" — under a rule set that
    counts swipe / QR grants and hand entries only after the city's review, 张三's unit-approved swipe (c1,
    10), QR (c2, 8) and hand entry (3) are neither audited nor counted by 达标计算; a city-passed swipe (6)
    and a city-passed 补录 (4) are. Beijing's policy (no counting section) audits and counts them all."""
    import datetime

    from app.models import ManualCredit, Parameter
    from app.models.audit import AuditCycle
    from app.services import audit_review as R
    from app.services.rule_sets import copy_rule_set
    from tests.credit_helpers import credit
    from tests.rule_helpers import rule_set

    D = datetime.date
    with app.app_context():
        swipe = credit(world.pa, 6, D(2025, 4, 1), content="市级审核通过的刷卡", source="card",
                       status="city_approved").id
        manual = credit(world.pa, 3, D(2025, 4, 2), content="手工录入的讲座", source="manual").id
        late = credit(world.pa, 4, D(2025, 4, 3), content="市级审核通过的补录", source="unit",
                      status="city_approved").id
        db.session.add_all([ManualCredit(credit_id=manual, year=2025, late=False, entered_by="person"),
                            ManualCredit(credit_id=late, year=2025, late=True, entered_by="unit")])
        db.session.commit()
        expert = R.Auditor(aw.expert_user, "expert")
        everything = {aw.c1, aw.c2, aw.c3, aw.c4, swipe, manual, late}

        # Beijing 2025 judges the 2025 cycle: every unit- or city-approved credit of the window
        cycle = db.session.get(AuditCycle, aw.cycle)
        assert {c.id for c, _ in R.person_credits(db.session, cycle, world.pa)} == everything
        R.set_verdicts(db.session, expert, cycle, world.pa, dict.fromkeys(everything, 0), "passed")
        assert float(R.compute(db.session, expert, cycle, world.pa).total) == 10 + 8 + 12 + 7 + 6 + 3 + 4
        db.session.commit()

        # Xuzhou's policy judges it instead (its 2024 rule set copied to 2025, 所在地区 徐州市)
        copy_rule_set(db.session, rule_set("XZ2024"), 2025).status = "published"
        db.session.scalar(select(Parameter).where(Parameter.key == "region")).value = "徐州市"
        db.session.commit()
        cycle = db.session.get(AuditCycle, aw.cycle)
        assert {c.id for c, _ in R.person_credits(db.session, cycle, world.pa)} == {aw.c3, aw.c4, swipe, late}
        with pytest.raises(R.ReviewError, match="按本年度学分计入规则尚不计入"):
            R.set_verdicts(db.session, expert, cycle, world.pa, {aw.c1: 1}, "failed", "原因")
        result = R.compute(db.session, expert, cycle, world.pa)
        assert float(result.total) == 12 + 7 + 6 + 4 and result.met is True
        lines = result.explanation["credits"]
        assert {ln["id"] for ln in lines} == {aw.c3, aw.c4, swipe, late}
        assert {ln["note"] for ln in lines} == {"计入"} and result.explanation["rule_set"] == "徐州市2025年授分标准"
        db.session.remove()
