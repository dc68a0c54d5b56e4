"""Audit administration pages (AUD-1..5, AUD-8 lists/allocations): forms, jobs, scope, lock, exports."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models import CmeUser, OperationLog
from app.models.audit import (
    AuditAllocation,
    AuditCycle,
    AuditDraw,
    AuditDrawnPerson,
    AuditExpert,
    AuditFinalPerson,
    AuditSampledInstitution,
    AuditStandard,
)
from tests.audit.audit_helpers import make_cycle, make_standard

CYCLE_FORM = {"name": "2022学分审验", "year": "2022", "window_start": "2021-11-01", "window_end": "2022-10-31",
              "audit_start": "2022-11-01 00:00:00", "audit_end": "2022-12-02 23:59:59",
              "appeal_deadline": "2022-12-02 17:00:00", "status": "open", "quota_secondary": "1",
              "quota_primary": "2", "quota_private": "2", "quota_tertiary_all": "y", "remark": ""}


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_cycle_form_quotas_and_one_open_per_year(app, world, login):
    c = login("city")
    r = c.post("/auditcycle/add", data=CYCLE_FORM, follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        cycle = db.session.scalar(select(AuditCycle))
        # Seed 001 四(二)2(1): 各区分别抽取二级医疗卫生机构 1 家，一级医疗卫生机构 2 家，社会办医疗卫生机构 2 家
        assert cycle.quotas == {"三级": "all", "二级": 1, "一级": 2, "社会办医": 2}
        assert str(cycle.window_start) == "2021-11-01" and str(cycle.window_end) == "2022-10-31"
    r = c.post("/auditcycle/add", data={**CYCLE_FORM, "name": "重复"}, follow_redirects=True)
    assert "2022年度已有开启的审验" in r.get_data(as_text=True)
    with app.app_context():
        assert _count(AuditCycle) == 1
    page = c.get("/auditcycle/list/").get_data(as_text=True)
    assert "2021-11-01 — 2022-10-31" in page and "开启" in page


def test_institution_draw_job_and_person_draw_with_scope(app, world, login):
    with app.app_context():
        cycle_id = make_cycle(2022).id
        db.session.commit()
    c = login("city")
    r = c.post(f"/auditcycle/draw/{cycle_id}", data={"seed": "2022"})
    assert r.status_code == 302 and "job=" in r.location
    with app.app_context():
        sampled = set(db.session.scalars(select(AuditSampledInstitution.institution_id)))
        assert sampled == {world.a, world.a2, world.b}  # small world: everything within the quotas
        draw = db.session.scalar(select(AuditDraw))
        assert (draw.seed, draw.status, draw.drawn_count) == (2022, "done", 3)
    page = c.get(f"/auditcycle/institutions/{cycle_id}").get_data(as_text=True)
    assert "甲医院" in page and "全部参加" in page

    # A district admin keeps its own standard: district set by the server, not the form.
    d1 = login("district1")
    r = d1.post("/auditstandard/add", data={"cycle_id": str(cycle_id), "name": "东城名单", "audit_scope": "综合",
                                            "status": "active", "per_department": "0", "allow_repeat": "y"},
                follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        std = db.session.scalar(select(AuditStandard).where(AuditStandard.name == "东城名单"))
        assert std.district_id == world.d1
    # Naming an institution of another district is refused (not a choice of its scope).
    d1.post("/auditstandard/add", data={"cycle_id": str(cycle_id), "name": "越界", "audit_scope": "综合",
                                        "status": "active", "per_department": "1", "f_units": str(world.b)})
    with app.app_context():
        assert _count(AuditStandard, AuditStandard.name == "越界") == 0
    r = d1.post(f"/auditstandard/draw/{std.id}", data={"seed": "7"})
    assert r.status_code == 302
    with app.app_context():
        drawn = set(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == std.id)))
        assert drawn == {world.pa, world.pa2, world.pc}  # only district 1's sampled units
    page = d1.get(f"/auditlist/standard/{std.id}").get_data(as_text=True)
    assert "3 审验人员 | 2 单位" in page and "张三" in page and "王五" not in page

    # District 2 cannot reach district 1's standard by guessing its id.
    d2 = login("district2")
    assert d2.post(f"/auditstandard/draw/{std.id}").status_code == 404
    assert d2.post(f"/auditstandard/clear/{std.id}").status_code == 404
    assert d2.get(f"/auditlist/standard/{std.id}").status_code == 404
    assert d2.get(f"/auditlist/standard/{std.id}/export").status_code == 404
    assert d2.get(f"/auditstandard/edit/{std.id}").status_code == 404
    with app.app_context():
        row = db.session.scalar(select(AuditDrawnPerson.id).limit(1))
    assert d2.post(f"/auditlist/standard/{std.id}/remove/{row}").status_code == 404
    assert "东城名单" not in d2.get("/auditstandard/list/").get_data(as_text=True)
    # Districts draw no institutions, see no final list or allocation.
    assert d2.post(f"/auditcycle/draw/{cycle_id}").status_code == 403
    assert d2.get(f"/auditlist/final/{cycle_id}").status_code == 404
    assert d2.get(f"/auditallocation/{cycle_id}").status_code == 403
    # Removing a person is logged.
    r = d1.post(f"/auditlist/standard/{std.id}/remove/{row}")
    assert r.status_code == 302
    with app.app_context():
        assert _count(AuditDrawnPerson, AuditDrawnPerson.standard_id == std.id) == 2
        assert _count(OperationLog, OperationLog.action == "删除名单人员") == 1


def test_institution_users_cannot_reach_audit_admin(app, world, login):
    with app.app_context():
        cycle = make_cycle(2022)
        std = make_standard(cycle)
        ids = (cycle.id, std.id)
        db.session.commit()
    for username in ("inst_a", "sec_a", "tech_a", "expert", "site"):
        c = login(username)
        for url in ("/auditcycle/list/", "/auditexpert/list/", "/auditstandard/list/", "/auditdraw/list/",
                    f"/auditlist/standard/{ids[1]}", f"/auditlist/final/{ids[0]}", f"/auditallocation/{ids[0]}",
                    f"/auditallocation/{ids[0]}/export", "/auditexpert/export/"):
            assert c.get(url).status_code == 403, (username, url)
        assert c.post(f"/auditcycle/draw/{ids[0]}").status_code == 403
        assert c.post(f"/auditstandard/draw/{ids[1]}").status_code == 403


def _final_and_expert(app, world, login):
    with app.app_context():
        cycle = make_cycle(2022)
        db.session.commit()
        cycle_id = cycle.id
    c = login("city")
    c.post(f"/auditcycle/draw/{cycle_id}", data={"seed": "1"})
    with app.app_context():
        a = make_standard(db.session.get(AuditCycle, cycle_id), name="甲", per_department=0)
        b = make_standard(db.session.get(AuditCycle, cycle_id), name="乙", per_department=0)
        db.session.commit()
        ids = (a.id, b.id)
    for sid in ids:
        c.post(f"/auditstandard/draw/{sid}", data={"seed": "3"})
    r = c.post(f"/auditlist/final/{cycle_id}/merge", data={"standard": [str(i) for i in ids]}, follow_redirects=True)
    assert "新增5人" in r.get_data(as_text=True)  # both lists hold the same 5 persons: once each
    r = c.post("/auditexpert/add", data={"username": "fff", "name": "FFF", "year": "2022", "contact": "18510992329",
                                         "unit": "测试工作单位", "password": ""})
    page = r.get_data(as_text=True)
    assert "新密码只显示这一次" in page
    with app.app_context():
        expert = db.session.scalar(select(AuditExpert))
        return c, cycle_id, expert.id


def test_merge_allocation_lock_and_exports(app, world, login):
    c, cycle_id, expert_id = _final_and_expert(app, world, login)
    with app.app_context():
        assert _count(AuditFinalPerson) == 5
    page = c.get(f"/auditallocation/{cycle_id}").get_data(as_text=True)
    assert "未分配学员数量: <strong>5</strong>" in page and "未分配专家数量: <strong>1</strong>" in page
    dialog = c.get(f"/auditallocation/{cycle_id}/assign/{expert_id}").get_data(as_text=True)
    assert "甲医院（学员: 2）" in dialog and "心内科（学员: 1）" in dialog
    r = c.post(f"/auditallocation/{cycle_id}/assign/{expert_id}",
               data={"pick": [f"u:{world.a}", f"d:{world.b}:{world.b_dept}"]})
    assert r.status_code == 302
    with app.app_context():
        assert set(db.session.scalars(select(AuditAllocation.person_id))) == {world.pa, world.pa2, world.pb, world.pb2}
    page = c.get(f"/auditallocation/{cycle_id}").get_data(as_text=True)
    assert "已分配学员数量: <strong>4</strong>" in page and "未分配学员数量: <strong>1</strong>" in page
    # An expert with allocations cannot be deleted.
    c.post(f"/auditexpert/delete/{expert_id}")
    with app.app_context():
        assert _count(AuditExpert) == 1
    # Exports: the list (masked ID numbers) and the allocation.
    r = c.get(f"/auditlist/final/{cycle_id}/export")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("级别", "单位", "小计", "科室", "人数") and len(rows) == 6
    assert all("*" in row[8] for row in rows[1:])
    r = c.get(f"/auditallocation/{cycle_id}/export")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert len(rows) == 5 and {row[0] for row in rows[1:]} == {"FFF"}
    # Lock: afterwards allocating, clearing, merging and removing are refused by the server.
    c.post(f"/auditallocation/{cycle_id}/lock")
    r = c.post(f"/auditallocation/{cycle_id}/assign/{expert_id}", data={"pick": [f"u:{world.a2}"]}, follow_redirects=True)
    assert "专家分配已锁定" in r.get_data(as_text=True)
    c.post(f"/auditallocation/{cycle_id}/clear/{expert_id}")
    with app.app_context():
        assert _count(AuditAllocation) == 4
        row = db.session.scalar(select(AuditFinalPerson.id).where(AuditFinalPerson.person_id == world.pc))
    c.post(f"/auditlist/final/{cycle_id}/remove/{row}")
    with app.app_context():
        assert _count(AuditFinalPerson) == 5
        assert db.session.get(AuditCycle, cycle_id).allocation_locked


def test_expert_password_reset_disable_and_export(app, world, login):
    c = login("city")
    r = c.post("/auditexpert/add", data={"username": "wangling", "name": "王", "year": "2024", "password": ""})
    with app.app_context():
        expert = db.session.scalar(select(AuditExpert))
        eid = expert.id
    r = c.post(f"/auditexpert/resetpassword/{eid}")
    page = r.get_data(as_text=True)
    import re
    password = re.search(r'id="new-password"[^>]*>([^<]+)<', page).group(1)
    assert login("wangling", password)
    c.post(f"/auditexpert/status/{eid}/disabled")
    with app.app_context():
        assert db.session.scalar(select(CmeUser.active).where(CmeUser.username == "wangling")) is False
    page = c.get("/auditexpert/list/").get_data(as_text=True)
    assert "注销" in page and "密码初始化" in page
    rows = list(openpyxl.load_workbook(io.BytesIO(c.get("/auditexpert/export/").data)).active.iter_rows(values_only=True))
    assert rows[1][0] == "wangling" and rows[1][5] == "注销"


def test_pages_render_and_rerun_with_same_seed(app, world, login):
    c, cycle_id, expert_id = _final_and_expert(app, world, login)
    with app.app_context():
        std = db.session.scalar(select(AuditStandard).where(AuditStandard.name == "甲"))
        before = sorted(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == std.id)))
        draw = db.session.scalar(select(AuditDraw).where(AuditDraw.standard_id == std.id))
        sid, did = std.id, draw.id
    for url in ("/auditcycle/add", f"/auditcycle/edit/{cycle_id}", f"/auditcycle/show/{cycle_id}",
                "/auditstandard/add", f"/auditstandard/edit/{sid}", f"/auditstandard/show/{sid}", "/auditstandard/list/",
                "/auditdraw/list/", f"/auditdraw/show/{did}", "/auditexpert/add", f"/auditexpert/show/{expert_id}",
                f"/auditallocation/{cycle_id}/result", f"/auditallocation/{cycle_id}/result?expert={expert_id}",
                f"/auditlist/final/{cycle_id}", f"/auditlist/standard/{sid}"):
        r = c.get(url)
        assert r.status_code == 200, url
    assert c.get("/auditlist/").status_code == 302 and c.get("/auditallocation/").status_code == 302
    edit = c.get(f"/auditstandard/edit/{sid}").get_data(as_text=True)
    assert "适用单位级别" in edit and "指定单位" in edit
    r = c.post(f"/auditdraw/rerun/{did}")
    assert r.status_code == 302
    with app.app_context():
        after = sorted(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == sid)))
        rerun = db.session.scalar(select(AuditDraw).where(AuditDraw.rerun_of_id == did))
        assert after == before and rerun.seed == draw.seed and rerun.status == "done"
