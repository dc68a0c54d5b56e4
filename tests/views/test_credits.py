"""学分记录 and 达标结果 lists (issue 3 points 3–5): scoped list / show / export with the seed 003
审验 columns, filters, the city admin's corrections, and the 达标计算 job with its progress bar."""
from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.credit_helpers import B_ONLY, seed_credits

# Seed 003 审验 detail table (学分大类 项目编号 活动内容 授分时间 学分类别 学科 学分 … 学时 … 备注 授分单位 上传时间 学分来源).
SEED_TITLES = ["学分大类", "项目编号", "活动内容", "授分时间", "学分类别", "学科", "学分", "学时", "备注", "授分单位",
               "上传时间", "学分来源"]


def _xlsx(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.fixture
def credits(app, world):
    with app.app_context():
        return seed_credits(world)


def _contents(html: str) -> set[str]:
    return {m for m in ("心血管介入新进展", "自学一", "李四的活动", "赵六的活动", B_ONLY, "孙七的活动") if m in html}


# ------------------------------------------------------------------------------ scope
@pytest.mark.parametrize("username, expected", [
    ("city", {"心血管介入新进展", "自学一", "李四的活动", "赵六的活动", B_ONLY, "孙七的活动"}),
    ("district1", {"心血管介入新进展", "自学一", "李四的活动", "赵六的活动"}),
    ("inst_a", {"心血管介入新进展", "自学一", "李四的活动"}),
    ("sec_a", {"心血管介入新进展", "自学一"}),  # 心内科 only: 李四 is in 骨科
    ("tech_a", {"心血管介入新进展", "自学一"}),
    ("inst_b", {B_ONLY, "孙七的活动"}),
])
def test_each_role_lists_the_credits_of_its_scope(app, world, credits, login, username, expected):
    html = login(username).get("/credits/list/?psize_CreditView=100").get_data(as_text=True)
    assert _contents(html) == expected


def test_guessed_ids_of_the_other_side_answer_404(app, world, credits, login):
    for username in ("inst_a", "sec_a", "tech_a", "district1"):
        c = login(username)
        r = c.get(f"/credits/show/{credits.pb}")
        assert r.status_code == 404, username
        assert B_ONLY not in r.get_data(as_text=True)
    assert login("inst_b").get(f"/credits/show/{credits.pb}").status_code == 200
    # tech_a sees own credits only, not a colleague's
    assert login("tech_a").get(f"/credits/show/{credits.pa2}").status_code == 404
    assert login("tech_a").get(f"/credits/show/{credits.national}").status_code == 200


def test_list_shows_the_seed_columns_with_labels(app, world, credits, login):
    html = login("inst_a").get("/credits/list/").get_data(as_text=True)
    for title in SEED_TITLES + ["学员", "审核状态"]:
        assert f">{title}" in html, title
    # values: person name and card, labelled source and status, trimmed numbers, upload time
    assert "张三（A0000001）" in html and "刷卡" in html and "单位审核通过" in html and "审核不通过" in html
    # times read YYYY-MM-DD HH:MM in every list (issue 15.2)
    assert "2025-03-01" in html and "2025-03-01 14:40" in html and "14:40:58" not in html
    assert "北京市继续医学教育委员会" in html
    assert re.search(r">\s*10\s*<", html) and "10.00" not in html  # 学分 shown as entered, not 10.00
    # the person links to the transcript
    assert re.search(rf'href="/transcript/{world.pa}"', html)
    # read-only: no add button, no edit / delete for the institution
    assert "/credits/add" not in html and "/credits/edit/" not in html and "/credits/delete/" not in html


def _search_widget(html: str) -> tuple[dict, dict, dict]:
    """The labels, form fields and operators FAB's search widget gets (JSON lines of AdminFilters(...))."""
    lines = html.split("new AdminFilters(")[1].splitlines()
    labels, fields, operators = (json.loads(line.strip().rstrip(",")) for line in lines[2:5])
    return labels, fields, operators


def test_search_form_never_lists_persons(app, world, credits, login):
    html = login("city").get("/credits/list/").get_data(as_text=True)
    labels, fields, operators = _search_widget(html)
    assert set(labels) == {"granted_on", "source", "status", "category", "project_no", "content", "activity_type",
                           "subject", "person", "institution_id", "department_id"}
    # 机构 / 科室 by a typed name (issue 15.2), never a <select> of every unit
    assert fields["institution_id"].startswith("<input") and operators["institution_id"] == ["名称包含"]
    # the person filter is a text box (name, IC card, initials), not a <select> of everyone
    assert fields["person"].startswith("<input") and "王五" not in fields["person"]
    assert operators["person"] == ["姓名/卡号/拼音首字母"]
    assert operators["granted_on"] == ["不早于", "不晚于"]
    assert "刷卡" in fields["source"] and "审核不通过" in fields["status"]
    # 学分类别 is a list of the dictionary's and the rule sets' categories, matched exactly
    assert fields["category"].startswith("<select") and operators["category"] == ["等于"]
    for name in ("国家级继续医学教育项目", "有计划的自学", "发表论文"):
        assert f'value="{name}"' in fields["category"], name


def _list(c, query: str) -> set[str]:
    return _contents(c.get("/credits/list/?psize_CreditView=100&" + query).get_data(as_text=True))


def test_filters(app, world, credits, login):
    c = login("city")
    # 授分时间 range (inclusive on both ends)
    assert _list(c, "_flt_0_granted_on=2025-05-01&_flt_1_granted_on=2025-06-01") == {"李四的活动", B_ONLY, "孙七的活动"}
    assert _list(c, "_flt_1_granted_on=2024-12-01") == {"自学一"}  # (补传的旧学分 is not among _contents)
    # 学分来源, 审核状态, 学分类别, 项目编号, 活动内容, 学分大类
    assert _list(c, "_flt_0_source=self_study") == {"自学一"}
    assert _list(c, "_flt_0_source=qr") == {"李四的活动"}
    html = c.get("/credits/list/?_flt_0_status=rejected").get_data(as_text=True)
    assert "被驳回的活动" in html and not _contents(html)
    assert _list(c, "_flt_0_project_no=B-2025") == {B_ONLY}  # 开始于
    assert _list(c, "_flt_2_content=心血管") == {"心血管介入新进展"}  # 包含
    assert _list(c, "_flt_0_activity_type=有计划的自学") == {"自学一"}
    # 学分类别: an exact choice (indexed), not a typed prefix
    assert _list(c, "_flt_0_category=市级继续医学教育项目") == {"李四的活动"}
    assert _list(c, "_flt_0_category=有计划的自学") == {"自学一"}
    assert _list(c, "_flt_0_category=市级") == set()
    # the person by name, card or initials
    assert _list(c, "_flt_0_person=王五") == {B_ONLY}
    assert _list(c, "_flt_0_person=A0000002") == {"李四的活动"}
    assert _list(c, "_flt_0_person=zs") == {"心血管介入新进展", "自学一"}
    # a filter never widens the scope
    assert _list(login("inst_a"), "_flt_0_person=王五") == set()


# ------------------------------------------------------------------------------ export
def test_export_streams_the_scope_with_the_seed_titles(app, world, credits, login):
    rows = _xlsx(login("inst_a").get("/credits/export/"))
    assert rows[0] == ["姓名", "IC卡号"] + SEED_TITLES + ["审核状态"]
    assert {r[4] for r in rows[1:]} == {"心血管介入新进展", "自学一", "自学二", "被驳回的活动", "补传的旧学分", "李四的活动"}
    national = next(r for r in rows if r[4] == "心血管介入新进展")
    assert national == ["张三", "A0000001", "继续医学教育项目", "2025-01-01(01)", "心血管介入新进展",
                        national[5], "国家级继续医学教育项目", "心血管病学", 10, 30, "第1期", "北京市继续医学教育委员会",
                        "2025-03-01 14:40:58", "刷卡", "单位审核通过"]
    assert str(national[5])[:10] == "2025-03-01"
    # newest first, like the list
    dates = [str(r[5])[:10] for r in rows[1:]]
    assert dates == sorted(dates, reverse=True)
    # filtered export = filtered list, and never the other institution
    rows = _xlsx(login("inst_a").get("/credits/export/?_flt_0_source=self_study"))
    assert [r[4] for r in rows[1:]] == ["自学二", "自学一"]
    assert B_ONLY not in str(_xlsx(login("sec_a").get("/credits/export/")))


def test_export_uses_xlsxwriter_constant_memory(app, world, credits, login, monkeypatch):
    import xlsxwriter

    seen = {}
    original = xlsxwriter.Workbook.__init__

    def spy(self, filename=None, options=None):
        seen.update(options or {})
        original(self, filename, options)

    monkeypatch.setattr(xlsxwriter.Workbook, "__init__", spy)
    _xlsx(login("city").get("/credits/export/"))
    assert seen.get("constant_memory") is True


def test_technician_cannot_export_or_open_results(app, world, credits, login):
    c = login("tech_a")
    assert c.get("/credits/export/").status_code == 403
    assert c.get("/compliance/list/").status_code == 403


# ------------------------------------------------------------------------------ city corrections
def test_only_the_city_admin_edits_and_deletes(app, world, credits, login):
    from app.extensions import db
    from app.models import ComplianceResult, Credit

    for username in ("inst_a", "district1", "sec_a", "tech_a"):
        c = login(username)
        assert c.get(f"/credits/edit/{credits.national}").status_code == 403, username
        assert c.post(f"/credits/delete/{credits.national}").status_code in (403, 405), username
    city = login("city")
    html = city.get(f"/credits/edit/{credits.national}").get_data(as_text=True)
    assert 'class="form-control cme-picker"' in html and "王五（B0000001）" not in html  # AJAX person picker
    assert 'name="status"' not in html  # the review workflow owns the status
    # Move the credit to 李四: the record follows 李四's place and both results are recomputed.
    r = city.post(f"/credits/edit/{credits.national}", data={
        "person": str(world.pa2), "activity_type": "继续医学教育项目", "content": "心血管介入新进展",
        "granted_on": "2025-03-01", "category": "国家级继续医学教育项目", "credits": "10"})
    assert r.status_code == 302
    with app.app_context():
        c = db.session.get(Credit, credits.national)
        assert (c.person_id, c.department_id) == (world.pa2, world.a_dept2)
        totals = dict(db.session.execute(select(ComplianceResult.person_id, ComplianceResult.total)
                                         .where(ComplianceResult.year == 2025)).tuples().all())
        assert float(totals[world.pa]) == 10 and float(totals[world.pa2]) == 35
    r = city.post(f"/credits/delete/{credits.national}")
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Credit, credits.national) is None
        assert float(db.session.scalar(select(ComplianceResult.total).where(
            ComplianceResult.person_id == world.pa2, ComplianceResult.year == 2025))) == 25


def test_city_cannot_move_a_credit_to_a_missing_person(app, world, credits, login):
    from app.extensions import db
    from app.models import Credit

    r = login("city").post(f"/credits/edit/{credits.national}", data={
        "person": "999999", "activity_type": "继续医学教育项目", "content": "x", "granted_on": "2025-03-01",
        "category": "国家级继续医学教育项目", "credits": "10"})
    assert r.status_code == 200 and "所选记录不存在或无权访问" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Credit, credits.national).person_id == world.pa


# ------------------------------------------------------------------------------ 达标结果
def test_results_list_scope_and_export(app, world, credits, login):
    html = login("inst_a").get("/compliance/list/").get_data(as_text=True)
    for title in ("年度", "人员", "单位", "科室", "职称级别", "已获学分", "要求学分", "达标"):
        assert f">{title}" in html, title
    assert "张三（A0000001）" in html and "李四（A0000002）" in html and "王五" not in html
    assert "甲医院" in html and "心内科" in html and "骨科" in html
    rows = _xlsx(login("inst_a").get("/compliance/export/"))
    assert rows[0] == ["年度", "姓名", "IC卡号", "单位", "科室", "职称级别", "已获学分", "要求学分", "达标"]
    assert sorted(rows[1:]) == [[2025, "张三", "A0000001", "甲医院", "心内科", "中级", 20, 25, "不达标"],
                                [2025, "李四", "A0000002", "甲医院", "骨科", "中级", 25, 25, "达标"]]
    # filters: met, person, institution name
    city = login("city")
    html = city.get("/compliance/list/?_flt_0_met=1").get_data(as_text=True)
    assert "李四" in html and "王五" in html and "张三" not in html
    html = city.get("/compliance/list/?_flt_0_institution_id=乙医院").get_data(as_text=True)
    assert "王五" in html and "孙七" in html and "张三" not in html
    html = city.get("/compliance/list/?_flt_0_person=zs").get_data(as_text=True)
    assert "张三" in html and "李四" not in html
    with app.app_context():
        from app.extensions import db
        from app.models import ComplianceResult

        pb_result = db.session.scalar(select(ComplianceResult.id).where(ComplianceResult.person_id == world.pb))
    assert login("inst_a").get(f"/compliance/show/{pb_result}").status_code == 404
    assert login("inst_b").get(f"/compliance/show/{pb_result}").status_code == 200


def test_recompute_job_for_the_scope(app, world, credits, login):
    from app.extensions import db
    from app.models import ComplianceResult, Job, OperationLog

    with app.app_context():
        db.session.query(ComplianceResult).delete()
        db.session.commit()
    c = login("inst_a")
    html = c.get("/compliance/list/").get_data(as_text=True)
    assert 'id="recompute-form"' in html and '<option value="2025" selected>' in html
    r = c.post("/compliance/recompute/", data={"year": "2025"})
    assert r.status_code == 302 and "job=" in r.headers["Location"]
    job_id = r.headers["Location"].split("job=")[1]
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "finished" and job.message.startswith("2025年度达标计算完成") and job.total == 2
        stored = dict(db.session.execute(select(ComplianceResult.person_id, ComplianceResult.met)).tuples().all())
        assert stored == {world.pa: False, world.pa2: True}  # inst_a's scope only
        log = db.session.scalar(select(OperationLog).where(OperationLog.action == "达标计算"))
        assert log.operator == "inst_a" and "共2人" in log.message
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'class="cme-job"' in html and f"/jobs/{job_id}/status" in html
    assert c.get(f"/jobs/{job_id}/status").get_json()["percent"] == 100
    # a job id of someone else shows no progress bar
    assert 'class="cme-job"' not in login("inst_b").get(r.headers["Location"]).get_data(as_text=True)
    # a year without a rule set, and roles without the permission, are refused
    assert c.post("/compliance/recompute/", data={"year": "2031"}).status_code == 400
    assert login("sec_a").post("/compliance/recompute/", data={"year": "2025"}).status_code == 403
    assert 'id="recompute-form"' not in login("sec_a").get("/compliance/list/").get_data(as_text=True)


def test_recompute_is_one_set_based_statement(app, world, credits, monkeypatch):
    """The job calls compliance.recompute once for the scope, not once per person."""
    from app.jobs import compliance as job_module
    from app.services import credit_records

    calls = []
    original = credit_records.recompute

    def spy(session, policy, rule_set_id, year, scope, person_ids=None):
        calls.append((year, scope, person_ids))
        return original(session, policy, rule_set_id, year, scope, person_ids)

    monkeypatch.setattr(credit_records, "recompute", spy)

    class Ctx:
        user_id = None
        progress = staticmethod(lambda *a, **k: None)

    with app.app_context():
        from app.extensions import db
        from app.models import CmeUser

        Ctx.user_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "city"))
        out = job_module.recompute_year(Ctx(), 2025)
    assert out["total"] == 5 and len(calls) == 1 and calls[0][2] is None and calls[0][1].is_all


def test_list_pages_load_persons_with_the_rows(app, world, credits, login):
    """No query per row: the persons of a page come with it (FAB-NOTES: lists over big tables)."""
    from sqlalchemy import event

    from app.extensions import db

    c = login("city")
    with app.app_context():
        engine = db.engine
    for url in ("/credits/list/", "/compliance/list/", "/credits/export/"):
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731, B023 (used before the next turn)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert c.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        per_person = [s for s in statements if "\nFROM person " in s and "\nWHERE person.id = " in s]
        assert per_person == [], url


def test_list_count_stops_at_the_cap_and_asks_for_a_filter(app, world, credits, login, monkeypatch):
    """City scale: the pager's count is a LIMITed count (COUNT_CAP); past it the page says so."""
    from app.views import credits as views

    c = login("city")
    html = c.get("/credits/list/").get_data(as_text=True)
    assert 'id="count-capped"' not in html
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    html = c.get("/credits/list/").get_data(as_text=True)
    assert 'id="count-capped"' in html and "符合条件的学分记录超过3条" in html
    # A narrower filter under the cap: exact count, no note.
    html = c.get("/credits/list/?_flt_0_person=B0000001").get_data(as_text=True)
    assert 'id="count-capped"' not in html and B_ONLY in html


def test_credit_year_and_unit_filters(app, world, credits, login):
    """Issue 15.2: 学分记录 filters by 学分年度 (the credit year's window of seed 001: "2021 年 11 月 1 日至
    2022 年 10 月 31 日" is 2022), by 机构 and by 科室; the page offers the judged years, the export obeys."""
    c = login("city")
    html = c.get("/credits/list/?year=2025&psize_CreditView=100").get_data(as_text=True)
    assert _contents(html) == {"心血管介入新进展", "自学一", "李四的活动", "赵六的活动", B_ONLY, "孙七的活动"}
    assert "补传的旧学分" not in html  # granted 2024-10-20: credit year 2024
    assert 'id="credit-year-select"' in html and '<option value="2025" selected>' in html
    html = c.get("/credits/list/?year=2024&psize_CreditView=100").get_data(as_text=True)
    assert "补传的旧学分" in html and not _contents(html)
    # 机构 / 科室 by name; never wider than the scope
    assert _list(c, "_flt_0_institution_id=乙医院") == {B_ONLY, "孙七的活动"}
    assert _list(c, "_flt_0_department_id=骨科") == {"李四的活动"}
    assert _list(login("inst_a"), "_flt_0_institution_id=乙医院") == set()
    rows = _xlsx(c.get("/credits/export/?year=2024"))
    assert [r for r in rows[1:] if "补传的旧学分" in r] and not [r for r in rows[1:] if "自学一" in r]


def test_recompute_while_one_runs_starts_none(app, world, credits, login, clock):
    """A second 达标计算 of the same scope and year while one is queued or running starts no job: another
    admin is told who started it; the one who started it sees its progress again."""
    import datetime

    from app.extensions import db
    from app.models import CmeUser, Job

    key = f"compliance_recompute:institution:{world.a}:2025"
    started = clock.at() - datetime.timedelta(minutes=5)  # running for 5 minutes: not taken for dead
    with app.app_context():
        inst_a = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "inst_a"))
        city = db.session.scalar(select(CmeUser).where(CmeUser.username == "city"))
        city_name = city.display_name
        db.session.add(Job(id="j-other", kind="compliance_recompute", title="2025年度达标计算", user_id=city.id,
                           status="running", dedupe_key=key, created_at=started))
        db.session.commit()
    c = login("inst_a")
    r = c.post("/compliance/recompute/", data={"year": "2025"})
    assert r.status_code == 302 and "job=" not in r.headers["Location"]
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert f"{city_name}已于{started:%H:%M}发起本范围2025年度的达标计算，正在进行中" in html
    # another year, or another scope, is other work: it starts
    assert "job=" in login("inst_b").post("/compliance/recompute/", data={"year": "2025"}).headers["Location"]
    with app.app_context():
        db.session.get(Job, "j-other").user_id = inst_a  # now it is inst_a's own
        db.session.commit()
    r = c.post("/compliance/recompute/", data={"year": "2025"})
    assert r.headers["Location"].endswith("job=j-other")
    assert "本范围2025年度的达标计算已在进行中" in c.get(r.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job).where(Job.dedupe_key == key)) == 1
        db.session.get(Job, "j-other").status = "finished"
        db.session.commit()
    # once it has ended the key is free: a new job runs
    r = c.post("/compliance/recompute/", data={"year": "2025"})
    job_id = r.headers["Location"].split("job=")[1]
    with app.app_context():
        assert job_id != "j-other" and db.session.get(Job, job_id).status == "finished"
