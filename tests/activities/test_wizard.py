"""The three-step credit wizard (issue 4 point 2, ICME-3) through the views, on both backends.

Seed 003 授分标准修改: "7 进修学习不满3个月 每6小时1分（上限25分）", "8 在职学历(学位)教育满3个月 25分",
"20 单次继续医学教育实践活动 0.2学分 … 单次不少于1小时授课", "14 住院医师规范化培训 25分";
seed 003 第三步: "*附件大小为5M，格式支持PDF、PNG、JPG".
"""
from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Credit, ReviewLog
from app.models.activities import ActivityGrant, GrantDraft, GrantDraftPerson
from tests.activities.helpers import PDF, PNG, add_plan, standard_id

DAY = "2025-05-10"


def _new(client, slug: str) -> int:
    r = client.post(f"/activities/{slug}/new")
    assert r.status_code == 302, r.status_code
    return int(re.search(r"/wizard/(\d+)/1", r.headers["Location"]).group(1))


def _step1(client, draft: int, seq: int) -> None:
    r = client.post(f"/activities/wizard/{draft}/1", data={"standard_id": standard_id(seq), "action": "next"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/wizard/{draft}/2"), r.data.decode()[:300]


def _add(client, draft: int, *person_ids: int):
    return client.post(f"/activities/wizard/{draft}/2", data={"action": "add", "person_id": list(person_ids)})


def _details(**kw) -> dict:
    data = {"amount": "", "hours": "20", "activity_form": "不足三个月学习时间", "subject": "内科学",
            "activity_date": DAY, "content": "心内科进修", "action": "submit"}
    data.update(kw)
    return data


def _step3(client, draft: int, data: dict, files: list[tuple[bytes, str]] | None = None):
    payload = dict(data)
    if files is not None:
        payload["evidence"] = [(io.BytesIO(b), n) for b, n in files]
    return client.post(f"/activities/wizard/{draft}/3", data=payload, content_type="multipart/form-data")


def _credits(person_ids=None):
    query = select(Credit).order_by(Credit.person_id)
    if person_ids:
        query = query.where(Credit.person_id.in_(person_ids))
    return list(db.session.scalars(query))


def _flashes(client) -> str:
    with client.session_transaction() as s:
        return " ".join(m for _c, m in s.get("_flashes", []))


# ------------------------------------------------------------------------------ a whole walk
def test_study_hours_to_credits_with_cap_one_credit_per_person(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)  # 进修学习不满3个月: 每6小时1分（上限25分）
        r = _add(client, draft, world.pa, world.pa2)
        assert r.status_code == 302
        # 200 hours → 33 full units → capped at 25; the client's own number is never read.
        r = _step3(client, draft, _details(amount="200", hours="200", credits="99"), [(PDF, "进修结业证.pdf")])
        assert r.status_code == 302 and r.headers["Location"].endswith("/activities/study/"), r.data.decode()[:500]
        rows = _credits()
        assert [(c.person_id, c.credits) for c in rows] == [(world.pa, Decimal("25.00")), (world.pa2, Decimal("25.00"))]
        assert {(c.status, c.source, c.activity_type, c.category, c.subject, c.granted_on, c.grantor_name)
                for c in rows} == {("unit_approved", "unit", "进修学习", "进修学习", "内科学",
                                    datetime.date(2025, 5, 10), "甲医院")}
        assert rows[0].hours == Decimal("200.00") and rows[0].amount == Decimal("200.00")
        # Evidence: the draft's file is attached to every created credit.
        atts = db.session.scalars(select(Attachment).where(Attachment.owner_type == "credit")).all()
        assert sorted(a.owner_id for a in atts) == sorted(c.id for c in rows) and {a.name for a in atts} == {"进修结业证.pdf"}
        # The review log has the creation entry (单位录入 → unit_approved) of each credit.
        logs = db.session.scalars(select(ReviewLog).where(ReviewLog.owner_type == "credit")).all()
        assert sorted(entry.owner_id for entry in logs) == sorted(c.id for c in rows)
        assert {entry.to_status for entry in logs} == {"unit_approved"}
        notes = db.session.scalars(select(ActivityGrant.note)).all()
        assert all("超过上限按25分计" in n for n in notes)
        # The type page lists them.
        page = client.get("/activities/study/").data.decode()
        assert "张三" in page and "李四" in page and "心内科进修" in page


def test_credit_cannot_be_submitted_twice(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "degree")
        _step1(client, draft, 8)  # 在职学历(学位)教育满3个月 25分
        _add(client, draft, world.pa)
        data = _details(amount="4", hours="300", activity_form="满三个月学习时间", content="在职研究生")
        first = _step3(client, draft, data, [(PDF, "成绩单.pdf")])
        assert first.status_code == 302
        # A second click / browser back + resubmit of the same draft: refused, nothing more written.
        second = _step3(client, draft, data, [(PDF, "成绩单.pdf")])
        assert second.status_code == 302 and second.headers["Location"].endswith("/activities/degree/")
        assert "不能重复提交" in _flashes(client)
        assert [(c.person_id, c.credits) for c in _credits()] == [(world.pa, Decimal("25.00"))]
        assert db.session.get(GrantDraft, draft).status == "submitted"
        # The service refuses it too (the guarded UPDATE finds no open draft).
        from sqlalchemy.orm.attributes import set_committed_value

        from app.services import activities as svc
        from app.services.scope import Scope

        stale = db.session.get(GrantDraft, draft)
        # As a concurrent request read it before the first commit (a new content: not a duplicate).
        set_committed_value(stale, "status", "open")
        set_committed_value(stale, "content", "另一次提交")
        with pytest.raises(svc.GrantError, match="不能重复提交"):
            svc.submit(db.session, stale, svc.Context(user_id=1, scope=Scope("all")))
        db.session.rollback()
        assert db.session.scalar(select(func.count(Credit.id))) == 1


def test_months_below_three_refused_by_the_full_year_standard(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "degree")
        _step1(client, draft, 8)
        _add(client, draft, world.pa)
        r = _step3(client, draft, _details(amount="2", activity_form="满三个月学习时间"), [(PDF, "成绩单.pdf")])
        assert r.status_code == 422
        assert "张三（A0000001）：实际月数须满3个月" in r.data.decode()
        assert _credits() == []


# ------------------------------------------------------------------------------ scope
def test_secretary_cannot_grant_outside_department(app, world, login):
    client = login("sec_a")  # 甲医院 心内科: only 张三
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)
        for guessed in (world.pa2, world.pb):  # 李四 (骨科), 王五 (乙医院)
            r = _add(client, draft, world.pa, guessed)
            assert r.status_code == 302 and "不在您的管辖范围内" in _flashes(client)
        assert db.session.scalars(select(GrantDraftPerson.person_id)).all() == []
        # The search never shows them either.
        page = client.get(f"/activities/wizard/{draft}/2?search=1&name=").data.decode()
        assert "张三" in page and "李四" not in page and "王五" not in page
        # A person slipped into the list behind the view's back is refused at submission, by name.
        db.session.add_all([GrantDraftPerson(draft_id=draft, person_id=world.pa),
                            GrantDraftPerson(draft_id=draft, person_id=world.pa2)])
        db.session.commit()
        r = _step3(client, draft, _details(amount="12"), [(PDF, "a.pdf")])
        assert r.status_code == 422 and "李四（A0000002）已停用或不在您的管辖范围内" in r.data.decode()
        assert _credits() == []


def test_nothing_written_when_any_person_fails(app, world, login):
    client = login("inst_a")
    with app.app_context():
        first = _new(client, "study")
        _step1(client, first, 7)
        _add(client, first, world.pa)
        assert _step3(client, first, _details(amount="12"), [(PDF, "a.pdf")]).status_code == 302
        # Same standard, date and content again for 张三 and 李四: 张三 fails, so 李四 gets nothing either.
        second = _new(client, "study")
        _step1(client, second, 7)
        _add(client, second, world.pa, world.pa2)
        r = _step3(client, second, _details(amount="12"), [(PDF, "b.pdf")])
        body = r.data.decode()
        assert r.status_code == 422 and "张三（A0000001）已有相同的学分记录" in body and "李四" not in body.split("未提交")[1][:200]
        assert [c.person_id for c in _credits()] == [world.pa]
        assert db.session.get(GrantDraft, second).status == "open"
        # Issue 15.3: the evidence given with the refused submission stays in the draft (was dropped).
        assert db.session.scalar(select(func.count(Attachment.id)).where(Attachment.owner_type == "grant_draft",
                                                                        Attachment.owner_id == second)) == 1


def test_guessed_drafts_and_files_of_another_user_answer_404(app, world, login):
    owner, other = login("inst_a"), login("district1")
    with app.app_context():
        draft = _new(owner, "study")
        _step1(owner, draft, 7)
        _add(owner, draft, world.pa)
        assert _step3(owner, draft, _details(action="save"), [(PDF, "a.pdf")]).status_code == 302
        att = db.session.scalar(select(Attachment.id).where(Attachment.owner_type == "grant_draft"))
        assert owner.get(f"/activities/wizard/{draft}/evidence/{att}").status_code == 200
        for url in (f"/activities/wizard/{draft}/1", f"/activities/wizard/{draft}/2", f"/activities/wizard/{draft}/3",
                    f"/activities/wizard/{draft}/evidence/{att}"):
            assert other.get(url).status_code == 404, url
        assert other.post(f"/activities/wizard/{draft}/3", data=_details()).status_code == 404
        assert other.post(f"/activities/wizard/{draft}/delete").status_code == 404
        assert login("tech_a").get("/activities/study/").status_code in (302, 403)


# ------------------------------------------------------------------------------ evidence
@pytest.mark.parametrize("content, name, message", [
    (b"PK\x03\x04 this is a word document really" + b"\0" * 64, "证明.pdf", "类型不正确"),
    (b"plain text named like a pdf", "证明.pdf", "类型不正确"),
    (b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024), "大文件.pdf", "过大"),
])
def test_bad_evidence_is_refused_and_nothing_stored(app, world, login, content, name, message):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)
        _add(client, draft, world.pa)
        for action in ("save", "submit"):
            r = _step3(client, draft, _details(amount="12", action=action), [(PNG, "ok.png"), (content, name)])
            assert r.status_code == 422 and message in r.data.decode() and name in r.data.decode()
        assert db.session.scalar(select(func.count(Attachment.id))) == 0
        assert _credits() == []


def test_several_files_and_png_accepted_submit_needs_evidence(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)
        _add(client, draft, world.pa)
        r = _step3(client, draft, _details(amount="12"))
        assert r.status_code == 422 and "请上传留档/认证材料" in r.data.decode()
        assert _step3(client, draft, _details(amount="12", action="save"),
                      [(PDF, "a.pdf"), (PNG, "b.png")]).status_code == 302
        assert _step3(client, draft, _details(amount="12")).status_code == 302
        assert db.session.scalars(select(Attachment.kind).where(Attachment.owner_type == "credit")
                                  .order_by(Attachment.id)).all() == ["pdf", "png"]


# ------------------------------------------------------------------------------ back and forth
def test_grant_list_and_details_survive_going_back(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)
        _add(client, draft, world.pa, world.pa2)
        r = _step3(client, draft, _details(amount="30", content="保留的内容", action="prev"))
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/wizard/{draft}/2")
        page = client.get(f"/activities/wizard/{draft}/2").data.decode()
        grant = page.split('id="grant-list"')[1]
        assert "张三" in grant and "李四" in grant
        client.post(f"/activities/wizard/{draft}/2", data={"action": "remove", "grant_person_id": [world.pa2]})
        client.post(f"/activities/wizard/{draft}/2", data={"action": "prev"})
        _step1(client, draft, 7)
        page = client.get(f"/activities/wizard/{draft}/3").data.decode()
        assert "保留的内容" in page and 'value="30"' in page and "按每6小时授予1学分计算，上限25学分" in page
        assert "*提供进修结业证" in page
        assert db.session.scalars(select(GrantDraftPerson.person_id)).all() == [world.pa]


def test_add_all_matching_search_and_pagination(app, world, login):
    from tests.helpers import add_person

    client = login("inst_a")
    with app.app_context():
        from app.models import Org

        dept = db.session.get(Org, world.a_dept)
        inst = db.session.get(Org, world.a)
        for i in range(25):
            add_person(inst, dept, f"钱{i:02d}")
        db.session.commit()
        draft = _new(client, "study")
        _step1(client, draft, 7)
        page = client.get(f"/activities/wizard/{draft}/2?search=1&name=钱").data.decode()
        assert page.count('name="person_id"') == 20 and "下一页" in page
        client.post(f"/activities/wizard/{draft}/2", data={"action": "add_all", "name": "钱"})
        assert db.session.scalar(select(func.count()).select_from(GrantDraftPerson)) == 25
        page = client.get(f"/activities/wizard/{draft}/2?search=1&name=钱").data.decode()
        assert page.count('name="person_id"') == 0  # already in the list
        # Issue 15.3: step 2 lists the whole scope before any search, and 全部添加 takes what is listed.
        page = client.get(f"/activities/wizard/{draft}/2").data.decode()
        assert page.count('name="person_id"') == 2 and "张三" in page and "李四" in page
        client.post(f"/activities/wizard/{draft}/2", data={"action": "add_all", "name": "", "card": ""})
        assert "已添加2人" in _flashes(client)
        assert db.session.scalar(select(func.count()).select_from(GrantDraftPerson)) == 27


# ------------------------------------------------------------------------------ practice activities
def test_practice_credit_needs_an_approved_plan_of_the_persons_institution(app, world, login):
    with app.app_context():
        pending = add_plan(world.a, status="pending", name="待审计划")
        approved = add_plan(world.a)
    client = login("district1")
    with app.app_context():
        draft = _new(client, "practice")
        _step1(client, draft, 20)  # 单次继续医学教育实践活动 0.2学分
        _add(client, draft, world.pa, world.pc)  # 甲医院 and 丙社区卫生服务中心
        data = _details(session_hours="2", sessions="1", activity_form="手术示范", hours="2")
        r = _step3(client, draft, data, [(PDF, "通知.pdf")])
        assert r.status_code == 422 and "须选择已通过审核的教学活动计划" in r.data.decode()
        r = _step3(client, draft, {**data, "practice_plan_id": str(pending)})
        assert r.status_code == 422 and "待审核" in r.data.decode()
        r = _step3(client, draft, {**data, "practice_plan_id": str(approved), "activity_form": "学术会议"})
        assert r.status_code == 422 and "不在教学活动计划" in r.data.decode()
        r = _step3(client, draft, {**data, "practice_plan_id": str(approved)})
        assert r.status_code == 422 and "赵六（C0000001）不属于教学活动计划" in r.data.decode()
        assert _credits() == []
        client.post(f"/activities/wizard/{draft}/2", data={"action": "remove", "grant_person_id": [world.pc]})
        # A refused submission stored nothing, its files neither: they are chosen again.
        r = _step3(client, draft, {**data, "practice_plan_id": str(approved)}, [(PDF, "通知.pdf")])
        assert r.status_code == 302
        assert [(c.person_id, c.credits) for c in _credits()] == [(world.pa, Decimal("0.20"))]
        assert db.session.scalar(select(ActivityGrant.practice_plan_id)) == approved


def test_single_session_under_one_hour_refused(app, world, login):
    with app.app_context():
        plan = add_plan(world.a)
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "practice")
        _step1(client, draft, 11)  # 单次继续医学教育实践活动主讲人授分 0.5, 不超过项目分数
        _add(client, draft, world.pa)
        data = _details(session_hours="0.5", activity_form="教学病例讨论", practice_plan_id=str(plan),
                        project_credits="2", hours="1")
        r = _step3(client, draft, data, [(PDF, "a.pdf")])
        assert r.status_code == 422 and "单次不少于1小时" in r.data.decode()
        assert _step3(client, draft, {**data, "session_hours": "1.5"}, [(PDF, "a.pdf")]).status_code == 302
        assert [c.credits for c in _credits()] == [Decimal("0.50")]


def test_step1_lists_only_the_standards_of_the_type(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "practice")
        page = client.get(f"/activities/wizard/{draft}/1").data.decode()
        table = page.split('id="standards"')[1].split("</table>")[0]
        for name in ("继续医学教育实践活动主讲人授分", "单次继续医学教育实践活动主讲人授分", "继续医学教育实践活动",
                     "单次继续医学教育实践活动"):
            assert name in table
        assert "进修学习" not in table and "有组织的继续医学教育实践活动" in table
        assert table.count('type="radio"') == 4
        # A standard of another type is refused.
        r = client.post(f"/activities/wizard/{draft}/1", data={"standard_id": standard_id(7)})
        assert r.status_code == 422 and 'id="error-standard_id"' in r.data.decode() and "不适用" in r.data.decode()
        other = _new(client, "other")
        page = client.get(f"/activities/wizard/{other}/1").data.decode()
        assert "住院医师规范化培训" in page and page.count('type="radio"') == 1


def test_entry_page_and_type_pages_are_scoped(app, world, login):
    from tests.credit_helpers import credit

    with app.app_context():
        credit(world.pa, 25, datetime.date(2025, 3, 1), content="甲的进修", activity_type="进修学习", category="进修学习")
        credit(world.pb, 25, datetime.date(2025, 3, 1), content="乙的进修", activity_type="进修学习", category="进修学习")
        db.session.commit()
    page = login("inst_a").get("/activities/").data.decode()
    for label in ("继续医学教育项目", "进修学习学分录入", "在职学历(学位)教育学分录入", "教学活动计划上传",
                  "有组织的继教实践活动学分录入", "政府指令性医疗卫生任务学分录入", "符合规定的其他方式学分录入"):
        assert label in page, label
    a = login("inst_a").get("/activities/study/").data.decode()
    b = login("inst_b").get("/activities/study/").data.decode()
    assert "甲的进修" in a and "乙的进修" not in a and "乙的进修" in b and "甲的进修" not in b
    assert login("sec_a").get("/activities/study/").status_code == 200
    assert login("inst_a").get("/activities/nonsense/").status_code == 404


# ------------------------------------------------------------------------------ issue 15.3
def test_entry_click_writes_no_draft_and_first_save_does(app, world, login):
    client = login("inst_a")
    with app.app_context():
        page = client.get("/activities/study/new")
        assert page.status_code == 200 and 'id="standards"' in page.data.decode()
        assert db.session.scalar(select(func.count()).select_from(GrantDraft)) == 0
        r = client.post("/activities/study/new", data={"standard_id": standard_id(7), "action": "next"})
        assert r.status_code == 302 and re.search(r"/wizard/\d+/2$", r.headers["Location"])
        assert db.session.scalar(select(func.count()).select_from(GrantDraft)) == 1
        # a refused first save writes nothing and says so at the standards
        r = client.post("/activities/study/new", data={"standard_id": "x", "action": "next"})
        assert r.status_code == 422 and 'id="error-standard_id"' in r.data.decode()
        assert db.session.scalar(select(func.count()).select_from(GrantDraft)) == 1


def test_refused_submit_keeps_files_and_values_and_marks_fields(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)
        _add(client, draft, world.pa)
        r = _step3(client, draft, _details(amount="12", subject="", activity_date="", content="保留"),
                   [(PDF, "a.pdf")])
        body = r.data.decode()
        assert r.status_code == 422 and 'id="error-subject"' in body and 'id="error-activity_date"' in body
        assert 'id="error-evidence"' not in body and "a.pdf" in body
        page = client.get(f"/activities/wizard/{draft}/3").data.decode()  # reopened: as it was typed
        assert "保留" in page and 'value="12"' in page and "a.pdf" in page
        # the evidence sent on selection (activities.js) answers JSON; a bad file is refused the same way
        r = client.post(f"/activities/wizard/{draft}/evidence", data={"evidence": (io.BytesIO(PNG), "b.png")},
                        content_type="multipart/form-data")
        assert r.status_code == 200 and r.json["files"][0]["name"] == "b.png"
        r = client.post(f"/activities/wizard/{draft}/evidence", data={"evidence": (io.BytesIO(b"text"), "c.pdf")},
                        content_type="multipart/form-data")
        assert r.status_code == 422 and "类型不正确" in r.json["message"]
        assert _step3(client, draft, _details(amount="12")).status_code == 302
        credit = _credits()[0]
        assert db.session.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.owner_type == "credit", Attachment.owner_id == credit.id)) == 2


def test_credit_detail_shows_evidence_and_review_log_in_scope_only(app, world, login):
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "study")
        _step1(client, draft, 7)
        _add(client, draft, world.pa)
        assert _step3(client, draft, _details(amount="12"), [(PDF, "结业证.pdf")]).status_code == 302
        credit = _credits()[0]
        att = db.session.scalar(select(Attachment.id).where(Attachment.owner_type == "credit"))
        assert f"/activities/credit/{credit.id}" in client.get("/activities/study/").data.decode()
        page = client.get(f"/activities/credit/{credit.id}").data.decode()
        assert "结业证.pdf" in page and "cme-review-log" in page and "心内科进修" in page
        assert client.get(f"/activities/credit/{credit.id}/file/{att}").status_code == 200
        show = client.get(f"/credits/show/{credit.id}").data.decode()  # FAB's 学分详情 too
        assert 'id="credit-evidence"' in show and "结业证.pdf" in show and "cme-review-log" in show
        other = login("inst_b")
        assert other.get(f"/activities/credit/{credit.id}").status_code == 404
        assert other.get(f"/activities/credit/{credit.id}/file/{att}").status_code == 404


def _practice_activity(institution_id: int, name: str, person_ids: list[int], hours: str = "2") -> int:
    """A 继教实践活动 of ``institution_id`` held on 2025-05-10 with these persons signed in (by QR)."""
    from app.models import Org
    from app.models.projects import PracticeActivity, PracticeCheckIn

    inst = db.session.get(Org, institution_id)
    start = datetime.datetime(2025, 5, 10, 14, 0)
    activity = PracticeActivity(institution_id=inst.id, district_id=inst.district_id, name=name, form="教学病例讨论",
                                starts_at=start, ends_at=start + datetime.timedelta(hours=2), hours=Decimal(hours),
                                qr_token=f"tok-{name}")
    db.session.add(activity)
    db.session.flush()
    db.session.add_all([PracticeCheckIn(activity_id=activity.id, person_id=pid, institution_id=inst.id,
                                        district_id=inst.district_id, source="qr", checked_at=start)
                        for pid in person_ids])
    db.session.commit()
    return activity.id


def test_practice_grant_list_from_an_activitys_sign_ins(app, world, login):
    """Seed 003 有组织的继续医学教育实践活动: "如集中授予学分和手工录入学分者，还须与学员考勤核对" — step 2 takes the
    grant list from a practice activity's sign-ins (one click, in scope only) and step 3 starts from its
    content, date, form and hours."""
    with app.app_context():
        plan = add_plan(world.a)
        ours = _practice_activity(world.a, "心内科教学查房", [world.pa, world.pa2])
        theirs = _practice_activity(world.b, "乙医院病例讨论", [world.pb])
    client = login("inst_a")
    with app.app_context():
        draft = _new(client, "practice")
        _step1(client, draft, 20)  # 单次继续医学教育实践活动 0.2学分
        page = client.get(f"/activities/wizard/{draft}/2").data.decode()
        assert "心内科教学查房（已签到2人）" in page and "乙医院病例讨论" not in page
        # another unit's activity, guessed by id: refused, nothing added
        r = client.post(f"/activities/wizard/{draft}/2", data={"action": "add_signed", "activity_id": theirs})
        assert r.status_code == 302 and "不在您的管辖范围内" in _flashes(client)
        assert db.session.scalar(select(func.count()).select_from(GrantDraftPerson)) == 0
        r = client.post(f"/activities/wizard/{draft}/2", data={"action": "add_signed", "activity_id": ours})
        assert "已将“心内科教学查房”的2名签到人员添加到授予名单" in _flashes(client)
        assert set(db.session.scalars(select(GrantDraftPerson.person_id))) == {world.pa, world.pa2}
        # again: everyone is listed already, nobody twice
        client.post(f"/activities/wizard/{draft}/2", data={"action": "add_signed", "activity_id": ours})
        assert "都已在授予名单中" in _flashes(client)
        assert db.session.scalar(select(func.count()).select_from(GrantDraftPerson)) == 2
        step3 = client.get(f"/activities/wizard/{draft}/3").data.decode()
        assert ">心内科教学查房</textarea>" in step3 and 'value="2025-05-10"' in step3
        assert re.search(r'name="session_hours"[^>]*value="2"', step3)
        data = {"session_hours": "2", "sessions": "1", "hours": "2", "activity_form": "教学病例讨论",
                "subject": "内科学", "activity_date": "2025-05-10", "content": "心内科教学查房",
                "practice_plan_id": str(plan), "action": "submit"}
        assert _step3(client, draft, data, [(PDF, "签到表.pdf")]).status_code == 302
        assert [(c.person_id, c.credits) for c in _credits()] == [(world.pa, Decimal("0.20")), (world.pa2, Decimal("0.20"))]
    # a department secretary's scope holds no practice activities; other activity types offer none
    sec = login("sec_a")
    with app.app_context():
        draft = _new(sec, "practice")
        _step1(sec, draft, 20)
        assert 'id="no-signins"' in sec.get(f"/activities/wizard/{draft}/2").data.decode()
        study = _new(sec, "study")
        _step1(sec, study, 7)
        assert 'id="signin-add"' not in sec.get(f"/activities/wizard/{study}/2").data.decode()
        r = sec.post(f"/activities/wizard/{study}/2", data={"action": "add_signed", "activity_id": ours})
        assert "只有有组织的继续医学教育实践活动" in _flashes(sec)
