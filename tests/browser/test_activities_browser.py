"""Issue 4 points 1, 2, 4 in headless Chromium (CSRF on): the credit wizard walked for 进修学习 (hours →
credits, cap), 在职学历(学位)教育 (≥ 3 months → 25), 有组织的继续医学教育实践活动 (single session 0.2, lecturer 0.5,
with an approved plan) and 住院医师规范化培训 (25), going back a step, uploading evidence and submitting;
and a practice plan uploaded by the institution and passed by its district.

Seed 003: "7 进修学习不满3个月 每6小时1分（上限25分）", "8 在职学历(学位)教育满3个月 25分", "11 单次继续医学教育实践活动
主讲人授分 0.5学分", "20 单次继续医学教育实践活动 0.2学分", "14 住院医师规范化培训 25分".
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def clean(browser_app):
    """Leave the shared browser world as it was: drop what the walks created."""
    yield
    from app.extensions import db
    from app.models import Attachment, ComplianceResult, Credit, ReviewLog
    from app.models.activities import ActivityGrant, GrantDraft, GrantDraftPerson
    from app.models.practice import PracticePlan, PracticePlanLog

    with browser_app.app_context():
        credit_ids = select(Credit.id).where(Credit.source == "unit", Credit.grantor_name.is_not(None))
        db.session.execute(delete(ReviewLog).where(ReviewLog.owner_type == "credit",
                                                   ReviewLog.owner_id.in_(credit_ids)))
        db.session.execute(delete(ActivityGrant))
        db.session.execute(delete(Attachment).where(Attachment.owner_type.in_(["credit", "grant_draft",
                                                                               "practice_plan"])))
        db.session.execute(delete(Credit).where(Credit.id.in_(credit_ids)))
        db.session.execute(delete(ComplianceResult))
        db.session.execute(delete(GrantDraftPerson))
        db.session.execute(delete(GrantDraft))
        db.session.execute(delete(PracticePlanLog))
        db.session.execute(delete(PracticePlan))
        db.session.commit()


def _credits(browser_app, activity_type):
    from app.extensions import db
    from app.models import Credit, Person

    with browser_app.app_context():
        rows = db.session.execute(select(Person.name, Credit.credits, Credit.status).join(Person, Person.id == Credit.person_id)
                                  .where(Credit.activity_type == activity_type).order_by(Person.name)).all()
        db.session.remove()
        return [tuple(r) for r in rows]


def _start(page, slug: str, entry: str) -> None:
    page.goto("/activities/")
    page.click(f"#activity-tree a >> text={entry}")
    with page.expect_navigation():
        page.click("#start-wizard")
    assert page.url.endswith(f"/activities/{slug}/new")  # no draft until the first save (issue 15.3)


def _choose(page, standard_name: str) -> None:
    page.check(f"#standards input[data-name='{standard_name}']")
    with page.expect_navigation():
        page.click("#step1-next")
    assert page.url.endswith("/2")


def _pick(page, name: str) -> None:
    page.fill("#person-search #name", name)
    with page.expect_navigation():
        page.click("#search-btn")
    page.check(f"#search-results tr:has-text('{name}') input[name=person_id]")
    with page.expect_navigation():
        page.click("#add-selected")
    expect(page.locator("#grant-list")).to_contain_text(name)


def _next_to_step3(page) -> None:
    with page.expect_navigation():
        page.click("#step2-next")
    assert page.url.endswith("/3")


def _common_details(page, form: str, content: str, evidence: str = "证明.pdf") -> None:
    page.select_option("#activity_form", form)
    page.click("#subject + .select2 .select2-selection")
    page.fill(".select2-search__field", "内科")
    page.click(".select2-results__option >> text=内科学")
    page.fill("#activity_date", "2025-05-10")
    page.fill("#content", content)
    page.set_input_files("#evidence", files=[{"name": evidence, "mimeType": "application/pdf", "buffer": PDF}])


def _submit(page, slug: str) -> None:
    with page.expect_navigation():
        page.click("#step3-submit")
    assert page.url.endswith(f"/activities/{slug}/"), page.inner_text(".alert") if page.locator(".alert").count() else page.url
    expect(page.locator(".alert-success")).to_contain_text("已为1人授予学分")


def test_study_hours_to_credits_with_cap_and_going_back(page, login_as, browser_app, clean):
    login_as("inst_a")
    _start(page, "study", "进修学习学分录入")
    _choose(page, "进修学习不满3个月")
    _pick(page, "张三")
    _next_to_step3(page)
    expect(page.locator("#rule-detail")).to_have_text("按每6小时授予1学分计算，上限25学分")
    expect(page.locator("#evidence-notes")).to_contain_text("*提供进修结业证")
    page.fill("#amount", "200")  # 33 full units of 6 hours → capped at 25
    expect(page.locator("#granted")).to_have_text("25")
    expect(page.locator("#compute-explanation")).to_contain_text("超过上限按25分计")
    page.fill("#amount", "14")
    expect(page.locator("#granted")).to_have_text("2")
    expect(page.locator("#hours")).to_have_value("14")
    # Back a step: the grant list is still there, and so are the details typed on step 3.
    with page.expect_navigation():
        page.click("#step3-prev")
    expect(page.locator("#grant-list")).to_contain_text("张三")
    _next_to_step3(page)
    expect(page.locator("#amount")).to_have_value("14")
    expect(page.locator("#granted")).to_have_text("2")
    _common_details(page, "不足三个月学习时间", "北京协和医院心内科进修", "进修结业证.pdf")
    _submit(page, "study")
    expect(page.locator("#granted-credits")).to_contain_text("北京协和医院心内科进修")
    assert _credits(browser_app, "进修学习") == [("张三", Decimal("2.00"), "unit_approved")]
    assert not page.js_errors


def test_degree_three_months_gives_25(page, login_as, browser_app, clean):
    login_as("inst_a")
    _start(page, "degree", "在职学历(学位)教育学分录入")
    _choose(page, "在职学历(学位)教育满3个月")
    _pick(page, "李四")
    _next_to_step3(page)
    expect(page.locator("#rule-detail")).to_have_text("满3个月，视为完成当年继续医学教育25学分")
    expect(page.locator("#evidence-notes")).to_contain_text("由学校教务部门提供成绩单")
    page.fill("#amount", "2")
    expect(page.locator("#compute-error")).to_contain_text("须满3个月")
    page.fill("#amount", "4")
    expect(page.locator("#granted")).to_have_text("25")
    page.fill("#hours", "320")
    _common_details(page, "满三个月学习时间", "在职研究生课程", "成绩单.pdf")
    _submit(page, "degree")
    assert _credits(browser_app, "在职学历(学位)教育") == [("李四", Decimal("25.00"), "unit_approved")]
    assert not page.js_errors


def test_practice_plan_passed_then_single_session_and_lecturer_credits(page, login_as, browser_app, browser, live_url,
                                                                       clean):
    # The institution uploads its plan …
    login_as("inst_a")
    page.goto("/activities/")
    with page.expect_navigation():
        page.click("#activity-tree a >> text=教学活动计划上传")
    page.goto("/practiceplan/add")
    page.fill("#name", "2025年度教学活动计划")
    page.select_option("#plan_type", "年度计划")
    page.check("#activity-forms input[value=手术示范]")
    page.check("#activity-forms input[value=教学病例讨论]")
    page.set_input_files("#plan_file", files=[{"name": "计划.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.click("#plan-submit")
    expect(page.locator("table.table-bordered")).to_contain_text("待审核")

    # … its district passes it (own browser context, own login).
    from tests.browser.conftest import TIMEOUT_MS

    context = browser.new_context(base_url=live_url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    reviewer = context.new_page()
    reviewer.goto("/login/")
    reviewer.fill("#username", "district1")
    reviewer.fill("#password", "Test@2026pw")
    with reviewer.expect_navigation():
        reviewer.click("form[name=login] [type=submit]")
    reviewer.goto("/practiceplanreview/list/")
    # The plan page embeds the PDF in an iframe; headless Chromium's PDF viewer may hold the page's
    # "load" event for seconds, so wait for the document itself.
    with reviewer.expect_navigation(wait_until="domcontentloaded"):
        reviewer.click("a:has-text('查看 / 审核日志')")
    assert reviewer.locator("iframe").count() == 1
    # The PDF viewer's frame may still be laying itself out (its error box, a height change) when a
    # pointer click lands, which then hits nothing: press the button itself (it submits its form
    # with result=pass like a click).
    with reviewer.expect_navigation(wait_until="domcontentloaded"):
        reviewer.locator("#review-pass").evaluate("button => button.click()")
    expect(reviewer.locator("table.table-bordered")).to_contain_text("已通过")
    context.close()

    # Single session, participant: 0.2.
    _start(page, "practice", "有组织的继教实践活动学分录入")
    _choose(page, "单次继续医学教育实践活动")
    _pick(page, "张三")
    _next_to_step3(page)
    page.fill("#session_hours", "0.5")
    expect(page.locator("#compute-error")).to_contain_text("单次不少于1小时")
    page.fill("#session_hours", "2")
    expect(page.locator("#granted")).to_have_text("0.2")
    page.select_option("#practice_plan_id", label="2025年度教学活动计划（年度计划，甲医院）")
    _common_details(page, "手术示范", "腔镜手术示范")
    _submit(page, "practice")

    # Lecturer of a single session: 0.5, never more than the project's credits.
    _start(page, "practice", "有组织的继教实践活动学分录入")
    _choose(page, "单次继续医学教育实践活动主讲人授分")
    _pick(page, "张三")
    _next_to_step3(page)
    page.fill("#session_hours", "1.5")
    page.fill("#project_credits", "0.3")
    expect(page.locator("#granted")).to_have_text("0.3")
    page.fill("#project_credits", "2")
    expect(page.locator("#granted")).to_have_text("0.5")
    page.select_option("#practice_plan_id", label="2025年度教学活动计划（年度计划，甲医院）")
    _common_details(page, "教学病例讨论", "疑难病例讨论主讲")
    _submit(page, "practice")
    assert sorted(c for _n, c, _s in _credits(browser_app, "有组织的继续医学教育实践活动")) == [Decimal("0.20"),
                                                                                       Decimal("0.50")]
    assert not page.js_errors


def test_residency_training_gives_25(page, login_as, browser_app, clean):
    login_as("inst_a")
    _start(page, "other", "符合规定的其他方式学分录入")
    _choose(page, "住院医师规范化培训")
    _pick(page, "张三")
    _next_to_step3(page)
    expect(page.locator("#rule-detail")).to_have_text("获得继续医学教育25学分")
    page.fill("#amount", "1")
    expect(page.locator("#granted")).to_have_text("25")
    page.fill("#hours", "2000")
    _common_details(page, "住院医师规范化培训", "完成住院医师规范化培训", "规培合格证.pdf")
    _submit(page, "other")
    assert _credits(browser_app, "符合规定的其他方式") == [("张三", Decimal("25.00"), "unit_approved")]
    assert not page.js_errors


def _drafts(browser_app) -> int:
    from sqlalchemy import func

    from app.extensions import db
    from app.models.activities import GrantDraft

    with browser_app.app_context():
        n = db.session.scalar(select(func.count()).select_from(GrantDraft))
        db.session.remove()
        return n


def test_wizard_keeps_evidence_and_values_after_an_error(page, login_as, browser_app, clean):
    """Issue 15.3: step 2 lists the people at once; the evidence uploads on selection (with progress) and
    survives a refused submission; the refusal stands at its field; reopening the draft restores step 3;
    opening the entry creates no draft."""
    from tests.browser.test_layout_browser import shot

    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("inst_a")
    _start(page, "study", "进修学习学分录入")
    assert _drafts(browser_app) == 0  # the click on the entry wrote nothing
    _choose(page, "进修学习不满3个月")
    assert _drafts(browser_app) == 1
    # the institution's people are listed before any search
    expect(page.locator("#search-results")).to_contain_text("张三")
    expect(page.locator("#search-results")).to_contain_text("李四")
    with page.expect_navigation():
        page.click("#add-all")
    expect(page.locator("#grant-list")).to_contain_text("李四")
    expect(page.locator("#grant-total")).to_have_text("2")
    shot(page, "wizard-step2")
    _next_to_step3(page)
    page.fill("#amount", "14")
    expect(page.locator("#hours")).to_have_value("14")  # filled in by the rules engine
    page.set_input_files("#evidence", files=[{"name": "进修结业证.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(page.locator("#evidence-files li a")).to_have_text("进修结业证.pdf")  # uploaded at once
    page.fill("#content", "进修内容")
    # submit without 活动形式 / 学科 / 日期: refused, each problem at its field, the file still there
    with page.expect_navigation():
        page.click("#step3-submit")
    expect(page.locator("#step3-problems")).to_contain_text("未提交")
    expect(page.locator("#error-subject")).to_be_visible()
    expect(page.locator("#error-activity_date")).to_be_visible()
    expect(page.locator("#error-evidence")).to_have_count(0)
    expect(page.locator("#evidence-files li a")).to_have_text("进修结业证.pdf")
    expect(page.locator("#amount")).to_have_value("14")
    shot(page, "wizard-step3-refused")
    # reopen the draft from the type page: step 3 as it was typed
    page.goto("/activities/study/")
    with page.expect_navigation():
        page.click("#drafts a:has-text('继续录入')")
    expect(page.locator("#amount")).to_have_value("14")
    expect(page.locator("#content")).to_have_value("进修内容")
    expect(page.locator("#evidence-files li a")).to_have_text("进修结业证.pdf")
    expect(page.locator("#activity_form")).to_have_value("不足三个月学习时间")
    page.click("#subject + .select2 .select2-selection")
    page.fill(".select2-search__field", "内科")
    page.click(".select2-results__option >> text=内科学")
    page.fill("#activity_date", "2025-05-10")
    with page.expect_navigation():
        page.click("#step3-submit")
    expect(page.locator(".alert-success")).to_contain_text("已为2人授予学分")
    assert _drafts(browser_app) == 1  # the one draft, submitted
    assert not page.js_errors


@pytest.fixture
def signed_in_activity(browser_app):
    """An approved plan of 甲医院 and a practice activity of it with 张三 and 李四 signed in by QR."""
    import datetime

    from app.extensions import db
    from app.models import Org, Person
    from app.models.practice import PracticePlan
    from app.models.projects import PracticeActivity, PracticeCheckIn

    with browser_app.app_context():
        inst = db.session.scalar(select(Org).where(Org.name == "甲医院"))
        db.session.add(PracticePlan(institution_id=inst.id, district_id=inst.district_id, name="2025年度教学活动计划",
                                    plan_type="年度计划", activity_forms="手术示范、教学病例讨论", status="approved"))
        start = datetime.datetime(2025, 5, 10, 14, 0)
        activity = PracticeActivity(institution_id=inst.id, district_id=inst.district_id, name="心内科教学查房",
                                    form="教学病例讨论", starts_at=start, ends_at=start + datetime.timedelta(hours=2),
                                    hours=Decimal(2), qr_token="tok-browser-practice")
        db.session.add(activity)
        db.session.flush()
        for name in ("张三", "李四"):
            pid = db.session.scalar(select(Person.id).where(Person.name == name))
            db.session.add(PracticeCheckIn(activity_id=activity.id, person_id=pid, institution_id=inst.id,
                                           district_id=inst.district_id, source="qr", checked_at=start))
        db.session.commit()
        db.session.remove()
    yield
    with browser_app.app_context():
        ours = select(PracticeActivity.id).where(PracticeActivity.qr_token == "tok-browser-practice")
        db.session.execute(delete(PracticeCheckIn).where(PracticeCheckIn.activity_id.in_(ours)))
        db.session.execute(delete(PracticeActivity).where(PracticeActivity.qr_token == "tok-browser-practice"))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_practice_grant_list_from_sign_ins(page, login_as, browser_app, clean, signed_in_activity, size):
    """Seed 003: practice credits "还须与学员考勤核对": step 2 takes the grant list from an activity's sign-ins,
    step 3 starts from its content, date and hours; on the office laptop and on a phone."""
    from tests.browser.test_layout_browser import shot

    page.set_viewport_size({"width": size[0], "height": size[1]})
    login_as("inst_a")
    _start(page, "practice", "有组织的继教实践活动学分录入")
    _choose(page, "单次继续医学教育实践活动")
    expect(page.locator("#activity_id")).to_contain_text("心内科教学查房（已签到2人）")
    with page.expect_navigation():
        page.click("#add-signed")
    expect(page.locator(".alert-success")).to_contain_text("2名签到人员添加到授予名单")
    expect(page.locator("#grant-list")).to_contain_text("张三")
    expect(page.locator("#grant-list")).to_contain_text("李四")
    box = page.locator("#signin-add").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 1, box  # the form stays on the screen
    shot(page, f"practice-signins-{size[0]}")
    _next_to_step3(page)
    expect(page.locator("#session_hours")).to_have_value("2")
    expect(page.locator("#content")).to_have_value("心内科教学查房")
    expect(page.locator("#granted")).to_have_text("0.2")
    page.select_option("#practice_plan_id", label="2025年度教学活动计划（年度计划，甲医院）")
    page.click("#subject + .select2 .select2-selection")
    page.fill(".select2-search__field", "内科")
    page.click(".select2-results__option >> text=内科学")
    page.set_input_files("#evidence", files=[{"name": "签到表.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.click("#step3-submit")
    expect(page.locator(".alert-success")).to_contain_text("已为2人授予学分")
    assert [(n, c) for n, c, _s in _credits(browser_app, "有组织的继续医学教育实践活动")] == [
        ("张三", Decimal("0.20")), ("李四", Decimal("0.20"))]
    assert not page.js_errors
