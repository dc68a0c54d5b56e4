"""A health technician (卫生技术人员: tech_a, 张三 of 甲医院) on a phone (390×844).

Every page the navbar menu offers this role — found by opening the burger menu, not listed by hand — and
the pages one tap further (手工录入's add form, an entry's detail and edit page, the profile's edit form)
open without a JavaScript error or English words and never scroll sideways as a whole (a wide list scrolls
inside its own box); the transcript's cards show their whole texts. The self-study form is filled in and
saved with a file (学员上传), and its opened preview stays on the screen too.
Screenshots: CME_BROWSER_SHOTS (default /tmp/cme-browser-shots), layout-phone-tech-*.png.
"""
from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from tests.browser.test_layout_browser import LONG, shot

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
REASON = "证书编号与电子学分证书不一致，请核对证书编号并重新上传加盖举办单位公章的电子学分证书后再提交"
# The pages the technician's menu must offer (more may come: every link found is visited).
EXPECTED = {"/credits/list/", "/transcript/me", "/manual-credits/", "/selfstudy/mine", "/users/userinfo/",
            "/resetmypassword/form"}
# Latin letters a Chinese page may show: the world's user names and e-mail, file types.
LATIN_OK = {"tech", "inst", "cme", "local", "pdf", "PDF", "PNG", "JPG"}
MENU_LINKS = """() => [...document.querySelectorAll('.cme-navbar .navbar-collapse a[href]')]
  .filter(a => a.offsetParent !== null).map(a => [a.innerText.trim(), a.getAttribute('href')])"""
# The page's own width, and what reaches past the screen's right edge outside any box that scrolls or
# clips it sideways (names the culprit in a failure).
OVERFLOW = """(width) => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null) continue;
    const r = el.getBoundingClientRect();
    if (r.right <= width + 1 || r.width === 0) continue;
    let boxed = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { boxed = true; break; }
    }
    const name = el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className;
    if (!boxed) wide.push(name + ' → ' + Math.round(r.right));
  }
  return {scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 6)};
}"""


@pytest.fixture(scope="module")
def tech_rows(browser_app):
    """张三's credits of the 2025 credit year (2024-11-01 … 2025-10-31; one with a long name), a draft and a
    rejected manual entry (with a long reason in its review log), 学员上传 for his department; all removed
    afterwards, with what the walk saved (the self-study form, its file)."""
    from app.extensions import db
    from app.models import Attachment, ComplianceResult, Credit, ManualCredit, Person, ReviewLog, SelfStudy
    from app.models.selfstudy import SelfStudyDelegation
    from tests.conftest import Clock
    from tests.credit_helpers import credit

    clock = Clock()
    clock.at()  # the compliance results stored on commit read "计算于 2026-03-18 10:30" (FIXED_NOW)
    try:
        with browser_app.app_context():
            pa = db.session.scalar(select(Person).where(Person.card_no == "A0000001"))
            credit(pa.id, 10, datetime.date(2025, 3, 1), content=LONG, project_no="2025-01-01(01)", subject="心血管病学",
                   hours=Decimal(30), source="card", grantor_name="北京市继续医学教育委员会", remark="备注：" + LONG)
            credit(pa.id, 2, datetime.date(2024, 12, 5), category="有计划的自学", content="自学：心电图判读",
                   source="self_study", activity_type="有计划的自学")
            manual = {}
            for status, label, on in (("draft", "草稿", datetime.date(2025, 9, 20)),
                                      ("rejected", "退回", datetime.date(2025, 6, 2))):
                c = credit(pa.id, 5, on, status=status, source="manual", content=f"手机录入（{label}）：" + LONG,
                           project_no="2025-03-01-088", certificate_no="ZS-2025-0001", hours=Decimal(15),
                           grantor_name="中华医学会")
                db.session.add(ManualCredit(credit_id=c.id, year=on.year))
                manual[status] = c.id
            db.session.add(ReviewLog(owner_type="credit", owner_id=manual["rejected"], action="unit_fail",
                                     from_status="submitted", to_status="rejected", result="单位审核不通过", reason=REASON,
                                     user_name="inst_a", actor="unit", person_id=pa.id, district_id=pa.district_id,
                                     institution_id=pa.institution_id, department_id=pa.department_id,
                                     created_at=datetime.datetime(2025, 6, 5, 9, 30)))
            db.session.add(SelfStudyDelegation(org_id=pa.department_id, mode="person", district_id=pa.district_id,
                                               institution_id=pa.institution_id, department_id=pa.department_id))
            db.session.commit()
            ids = {"pa": pa.id, "dept": pa.department_id, **manual}
            db.session.remove()
    finally:
        clock.stop()
    yield ids
    with browser_app.app_context():
        studies = select(SelfStudy.id).where(SelfStudy.person_id == ids["pa"])
        credits = select(Credit.id).where(Credit.person_id == ids["pa"])
        db.session.execute(delete(Attachment).where(Attachment.owner_type == "self_study",
                                                    Attachment.owner_id.in_(studies)))
        db.session.execute(delete(ReviewLog).where(ReviewLog.person_id == ids["pa"]))
        db.session.execute(delete(SelfStudy).where(SelfStudy.person_id == ids["pa"]))
        db.session.execute(delete(SelfStudyDelegation).where(SelfStudyDelegation.org_id == ids["dept"]))
        db.session.execute(delete(ManualCredit).where(ManualCredit.credit_id.in_(credits)))
        db.session.execute(delete(Credit).where(Credit.person_id == ids["pa"]))
        db.session.execute(delete(ComplianceResult).where(ComplianceResult.person_id == ids["pa"]))
        db.session.commit()
        db.session.remove()


def _check(page, name: str, problems: list) -> None:
    """Screenshot, no JavaScript error, nothing wider than the phone, no English words; what is wrong goes
    to ``problems`` so one run names every page that needs work."""
    page.wait_for_load_state("load")
    shot(page, f"phone-tech-{name}")
    if page.js_errors:
        problems.append((name, "JavaScript errors", list(page.js_errors)))
        page.js_errors.clear()
    data = page.evaluate(OVERFLOW, PHONE["width"])
    if data["scroll"] > PHONE["width"] + 1:
        problems.append((name, "scrolls sideways", data))
    english = set(re.findall(r"[A-Za-z]{3,}", page.inner_text("body"))) - LATIN_OK
    if english:
        problems.append((name, "English on the page", sorted(english)))


def _menu_links(page) -> dict[str, str]:
    """Open the burger menu and each of its menus in turn (Bootstrap keeps one open): href → label."""
    page.click(".cme-navbar .navbar-toggle")
    expect(page.locator(".cme-navbar .navbar-collapse.in")).to_be_visible()
    links: dict[str, str] = {}
    for toggle in page.locator(".cme-navbar .navbar-collapse .dropdown-toggle").all():
        toggle.click()
        for text, href in page.evaluate(MENU_LINKS):
            if href and href != "#" and not href.startswith("/lang/"):  # not the language switch
                links.setdefault(href, text)
    return links


def test_every_menu_page_fits_a_phone(page, login_as, clock, tech_rows):
    clock.at(tick=True)  # FIXED_NOW, ticking: the credit year, the self-study year, the entry's closing date
    page.set_viewport_size(PHONE)
    login_as("tech_a")
    problems: list = []
    _check(page, "home", problems)
    links = _menu_links(page)
    assert not EXPECTED - set(links), links
    page.locator(".cme-navbar .navbar-collapse .dropdown-toggle").first.click()
    _check(page, "menu", problems)

    for href, label in links.items():
        response = page.goto(href)
        assert response.status == 200, (href, label, response.status)
        _check(page, href.strip("/").replace("/", "-"), problems)
        if href == "/credits/list/":
            expect(page.locator("table.cme-fit")).to_contain_text("自学：心电图判读")
        elif href == "/transcript/me":
            expect(page.locator("#transcript-credits")).to_contain_text("自学：心电图判读")
            # a card line shows its whole text (no hover tooltip on a phone)
            cut = page.evaluate("""[...document.querySelectorAll('#transcript-credits td')]
              .filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.innerText.slice(0, 20))""")
            if cut:
                problems.append(("transcript-me", "card lines cut", cut))
        elif href == "/users/userinfo/":
            with page.expect_navigation():
                page.click(".cme-main a:has-text('编辑用户')")
            _check(page, "userinfo-edit", problems)
        elif href == "/manual-credits/":
            expect(page.locator("#manual-list")).to_contain_text(REASON)
            with page.expect_navigation():
                page.click("#manual-add")
            _check(page, "manual-credits-add", problems)
            page.goto(f"/manual-credits/{tech_rows['rejected']}")
            expect(page.locator(".cme-review-log")).to_contain_text(REASON)
            _check(page, "manual-credits-show", problems)
            page.goto(f"/manual-credits/{tech_rows['draft']}/edit")
            _check(page, "manual-credits-edit", problems)
        elif href == "/selfstudy/mine":
            assert "/selfstudy/form/" in page.url
            # 学员上传: the technician fills the form in and saves it with a scanned file
            page.fill("#s1_resident", "2")
            page.set_input_files("#s1_syllabus", files=[{"name": "教学大纲.pdf", "mimeType": "application/pdf",
                                                         "buffer": PDF}])
            with page.expect_navigation():
                page.click("#btn-save")
            expect(page.locator(".alert-success")).to_contain_text("自学计划已保存")
            page.locator("#section-s1 details.cme-preview summary").click()
            _check(page, "selfstudy-saved", problems)
    assert not problems, "\n".join(f"{name}: {what}: {detail}" for name, what, detail in problems)
