"""Practice-activity plans (issue 4 point 4, ICME-6).

Seed 003 计划上传: "机构按页面要求填写计划名称、计划类型、活动形式、备注信息、并上传计划文件。点击“提交”到主管部门审核。"
Seed 003 计划审核: 计划名称 计划类型 机构 审核状态 审核日志 操作 ([不通过] [通过] [查看]); 待审核 / 已通过.
"""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment
from app.models.practice import PracticePlan, PracticePlanLog
from tests.activities.helpers import PDF, add_plan

NINE = ["手术示范", "新技术推广", "科技成果转化", "其他类型实操培训", "各类研讨会", "多学科诊疗活动", "教学病例讨论",
        "学术会议", "其他类型学术交流活动"]


def _upload(client, name="2025年第二季度计划", forms=("手术示范", "教学病例讨论"), file=(PDF, "计划.pdf"), url=None):
    data = {"name": name, "plan_type": "季度计划", "activity_forms": list(forms), "remark": "备注"}
    if file is not None:
        data["plan_file"] = (io.BytesIO(file[0]), file[1])
    return client.post(url or "/practiceplan/add", data=data, content_type="multipart/form-data")


def test_form_offers_the_nine_forms_and_three_types(app, world, login):
    page = login("inst_a").get("/practiceplan/add").data.decode()
    for label in NINE + ["年度计划", "季度计划", "月度计划", "计划名称", "计划文件", "备注"]:
        assert label in page, label


def test_upload_review_fail_resubmit_pass_with_log(app, world, login):
    inst, district = login("inst_a"), login("district1")
    r = _upload(inst)
    assert r.status_code == 302
    with app.app_context():
        plan = db.session.scalar(select(PracticePlan))
        assert (plan.institution_id, plan.status, plan.activity_forms) == (world.a, "pending", "手术示范、教学病例讨论")
        pid = plan.id
    listing = district.get("/practiceplanreview/list/").data.decode()
    assert "2025年第二季度计划" in listing and "待审核" in listing and "甲医院" in listing
    show = district.get(f"/practiceplanreview/show/{pid}").data.decode()
    assert "审核日志" in show and "提交" in show and "<iframe" in show
    f = district.get(f"/practiceplanreview/file/{pid}")
    assert f.status_code == 200 and f.mimetype == "application/pdf" and "inline" in f.headers["Content-Disposition"]
    # 不通过 needs a reason.
    district.post(f"/practiceplanreview/review/{pid}", data={"result": "fail", "reason": ""})
    with app.app_context():
        assert db.session.get(PracticePlan, pid).status == "pending"
    district.post(f"/practiceplanreview/review/{pid}", data={"result": "fail", "reason": "缺少月度安排"})
    with app.app_context():
        assert db.session.get(PracticePlan, pid).status == "rejected"
    assert "缺少月度安排" in inst.get("/practiceplan/list/").data.decode()
    # The institution fixes it (no new file needed) and resubmits; then it passes.
    assert _upload(inst, name="2025年第二季度计划（修订）", file=None, url=f"/practiceplan/edit/{pid}").status_code == 302
    district.post(f"/practiceplanreview/review/{pid}", data={"result": "pass", "reason": ""})
    with app.app_context():
        plan = db.session.get(PracticePlan, pid)
        assert plan.status == "approved" and plan.name == "2025年第二季度计划（修订）"
        assert [entry.action for entry in plan.logs] == ["提交", "不通过", "重新提交", "通过"]
        assert plan.logs[1].reason == "缺少月度安排" and plan.logs[1].operator == "district1"
    # An approved plan can be neither edited nor deleted, nor reviewed again.
    r = inst.post(f"/practiceplan/edit/{pid}", data={"name": "x"})
    assert r.status_code == 302
    inst.post(f"/practiceplan/delete/{pid}")
    district.post(f"/practiceplanreview/review/{pid}", data={"result": "fail", "reason": "再审"})
    with app.app_context():
        plan = db.session.get(PracticePlan, pid)
        assert plan.status == "approved" and plan.name == "2025年第二季度计划（修订）"


def test_bad_input_and_files_are_refused_with_nothing_stored(app, world, login):
    inst = login("inst_a")
    cases = [
        ({"forms": ()}, "请至少选择一种活动形式"),
        ({"forms": ("手术示范", "打麻将")}, "不在可选范围内"),
        ({"name": ""}, "请填写计划名称"),
        ({"file": None}, "请上传计划文件"),
        ({"file": (b"just text", "计划.pdf")}, "类型不正确"),
        ({"file": (b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024), "计划.pdf")}, "过大"),
    ]
    for kwargs, message in cases:
        r = _upload(inst, **kwargs)
        assert r.status_code == 200 and message in r.data.decode(), message
    with app.app_context():
        assert db.session.scalar(select(func.count(PracticePlan.id))) == 0
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_institution_and_district_scope(app, world, login):
    with app.app_context():
        a_plan = add_plan(world.a, status="pending", name="甲的计划")
        b_plan = add_plan(world.b, status="pending", name="乙的计划")
        from app.services import attachments

        for pid in (a_plan, b_plan):
            attachments.store_bytes(PDF, "pdf", "计划.pdf", "practice_plan", pid)
        db.session.commit()
    a, b, d2, sec = login("inst_a"), login("inst_b"), login("district2"), login("sec_a")
    assert "甲的计划" in a.get("/practiceplan/list/").data.decode()
    assert "甲的计划" not in b.get("/practiceplan/list/").data.decode()
    for url in (f"/practiceplan/show/{a_plan}", f"/practiceplan/file/{a_plan}", f"/practiceplan/edit/{a_plan}"):
        assert b.get(url).status_code == 404, url
    assert b.post(f"/practiceplan/edit/{a_plan}", data={"name": "改"}).status_code == 404
    b.post(f"/practiceplan/delete/{a_plan}")
    b.post("/practiceplan/action_post", data={"action": "muldelete", "rowid": [a_plan]})
    # District 2 supervises 乙医院 only.
    listing = d2.get("/practiceplanreview/list/").data.decode()
    assert "乙的计划" in listing and "甲的计划" not in listing
    for url in (f"/practiceplanreview/show/{a_plan}", f"/practiceplanreview/file/{a_plan}"):
        assert d2.get(url).status_code == 404, url
    assert d2.post(f"/practiceplanreview/review/{a_plan}", data={"result": "pass"}).status_code == 404
    # Institutions do not review; secretaries do neither.
    assert a.post(f"/practiceplanreview/review/{a_plan}", data={"result": "pass"}).status_code in (302, 403)
    assert sec.get("/practiceplan/list/").status_code in (302, 403)
    with app.app_context():
        assert db.session.get(PracticePlan, a_plan).status == "pending"
        assert db.session.get(PracticePlan, a_plan).name == "甲的计划"
        assert db.session.scalar(select(func.count(PracticePlanLog.id))) == 0


def test_institution_deletes_its_pending_plan(app, world, login):
    with app.app_context():
        pid = add_plan(world.a, status="rejected", name="作废计划")
    inst = login("inst_a")
    inst.post(f"/practiceplan/delete/{pid}")
    with app.app_context():
        assert db.session.get(PracticePlan, pid) is None
