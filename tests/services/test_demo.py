"""Demo data (issue 2 point 9): a Beijing-like city with valid, unique ID and card numbers, one
user per role, and the same generator scaling institutions for the 300,000-person benchmark."""
import datetime
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from app.demo import city as demo
from app.services import idcard
from app.services.pinyin import initials

BEIJING = ["东城区", "西城区", "朝阳区", "丰台区", "石景山区", "海淀区", "门头沟区", "房山区", "通州区",
           "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区"]


def _stand_in_departments(n: int = 300):
    """Departments as person_rows sees them: id, code (district code first), ancestors."""
    codes = [code for code, _ in demo.DISTRICTS]
    return [SimpleNamespace(id=1000 + k, code=f"{codes[k % 16]}{k:05d}", district_id=k % 16 + 1,
                            institution_id=100 + k // 10) for k in range(n)]


def test_50k_generated_persons_have_unique_valid_numbers():
    departments = _stand_in_departments()
    rows = list(demo.person_rows(departments, 50_000))
    assert len(rows) == 50_000
    assert len({r["id_number"] for r in rows}) == 50_000
    assert len({r["card_no"] for r in rows}) == 50_000
    area_of = {d.id: d.code[:6] for d in departments}
    for r in rows:
        assert idcard.validate(r["id_number"]) == r["id_number"]  # checksum, date, format
        assert r["id_number"][:6] == area_of[r["department_id"]]  # born in the department's district
        assert r["gender"] == idcard.gender(r["id_number"])
        assert r["birth_date"] == idcard.birth_date(r["id_number"])
        assert r["card_no"].startswith(r["id_number"][2:6])


def test_fast_initials_equal_pypinyin_for_every_generated_name():
    # The generator skips pypinyin per row; the shortcut must give what imports and edits store.
    rows = demo.person_rows(_stand_in_departments(), 50_000, seed=7)
    assert all(r["name_initials"] == initials(r["name"]) for r in rows)
    fast = demo.NameInitials(demo.SURNAMES + demo.GIVEN)
    assert fast("叶韵") == initials("叶韵") == "xy"  # a phrase: pypinyin reads 叶 as xié here


def test_generation_is_deterministic_and_weighted_by_institution():
    departments = _stand_in_departments(20)  # institutions 100 (k < 10) and 101
    heavy = demo.person_rows(departments, 5000, institution_weight=lambda d: 4 if d.institution_id == 100 else 1)
    counts = {100: 0, 101: 0}
    for r in heavy:
        counts[r["institution_id"]] += 1
    assert counts == {100: 4000, 101: 1000}
    assert list(demo.person_rows(departments, 200)) == list(demo.person_rows(departments, 200))


def test_institution_plan_is_the_demo_by_default_and_scales_for_the_benchmark():
    base = demo.institution_plan()
    assert 60 <= len(base) <= 90
    assert demo.institutions_for(2000) == len(base)
    assert demo.institutions_for(300_000) == 150
    scaled = demo.institution_plan(150)
    assert len(scaled) == 150
    assert {row[1] for row in base} <= {row[1] for row in scaled}  # the demo's, plus more
    assert len({name for _, name, _, _ in scaled}) == 150  # no two institutions share a name
    assert {level for _, _, level, _ in scaled} == {"三级", "二级", "一级", "社会办医"}
    departments = sum(len(demo._departments_for(level, kind)) for _, _, level, kind in scaled)
    assert departments > 1500


def test_demo_city_in_the_database(app_ctx):
    from app.cli import build_demo
    from app.extensions import db
    from app.models import CmeUser, Org, Person
    from app.services import roles as R

    logins = build_demo(persons=3000)
    districts = db.session.scalars(select(Org.name).where(Org.kind == "district")).all()
    assert sorted(districts) == sorted(BEIJING)
    institutions = db.session.scalars(select(Org).where(Org.kind == "institution")).all()
    assert len(institutions) == len(demo.institution_plan())
    assert {i.level for i in institutions} == {"三级", "二级", "一级", "社会办医"}
    assert {i.inst_type for i in institutions} >= {"医院", "社区卫生服务中心", "疾病预防控制中心"}
    # Departments went in by bulk insert: their ancestor ids are set like the flush hook would.
    departments = db.session.scalars(select(Org).where(Org.kind == "department")).all()
    assert departments and all(d.department_id == d.id and d.institution_id == d.parent_id
                               and d.district_id == d.parent.district_id for d in departments)
    for inst in institutions:
        assert db.session.scalar(select(func.count(Org.id)).where(Org.parent_id == inst.id)) >= 3
    assert db.session.scalar(select(func.count(Person.id))) == 3000
    mismatched = db.session.scalar(
        select(func.count(Person.id)).join(Org, Org.id == Person.department_id)
        .where((Org.institution_id != Person.institution_id) | (Org.district_id != Person.district_id)))
    assert mismatched == 0
    # A tertiary hospital has more staff than a community centre.
    sizes = dict(db.session.execute(
        select(Org.level, func.count(Person.id) / func.count(func.distinct(Org.id)))
        .join(Person, Person.institution_id == Org.id).group_by(Org.level)).all())
    assert sizes["三级"] > 5 * sizes["一级"]
    roles = {role for _, _, role in logins}
    assert roles == set(R.ALL_ROLES)
    for username, _, role in logins:
        user = db.session.scalar(select(CmeUser).where(CmeUser.username == username))
        assert [r.name for r in user.roles] == [role]
    student = db.session.scalar(select(CmeUser).where(CmeUser.username == "student"))
    assert student.person_id is not None


def test_demo_command_scales_institutions(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cme", "demo", "--persons", "500", "--institutions", "100", "--no-activity"])
    assert result.exit_code == 0, result.output
    assert "500 人" in result.output and "admin" in result.output
    with app.app_context():
        from app.extensions import db
        from app.models import Org, Person

        assert db.session.scalar(select(func.count(Org.id)).where(Org.kind == "institution")) == 100
        assert db.session.scalar(select(func.count(Person.id))) == 500
    again = runner.invoke(args=["cme", "demo"])
    assert again.exit_code == 0 and "跳过" in again.output  # idempotent


def test_bulk_load_keeps_indexes_and_foreign_keys(app_ctx):
    """PostgreSQL loads by COPY with indexes and foreign keys dropped and rebuilt in the same
    transaction: afterwards the table has exactly the same ones."""
    from app.extensions import db

    def schema():
        if db.engine.dialect.name != "postgresql":
            return db.session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'person' ORDER BY name")).all()
        return db.session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'person' UNION ALL "
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'person'::regclass "
            "ORDER BY 1")).all()

    before = schema()
    orgs = demo.build_orgs(db.session)
    assert demo.build_persons(db.session, orgs["departments"], 1200, chunk=500) == 1200
    db.session.commit()
    assert schema() == before
    assert any("ix_person_institution_scope" in str(row) for row in before)


# ------------------------------------------------------------------------------ the demo's activity
# What a newcomer clicks through after ./scripts/run.sh (app/demo/activity.py): every area has
# rows, made by the area's own services, and every demo login opens its home and menu pages.
DEMO_LOGINS = ("admin", "district", "hospital", "secretary", "expert", "site", "student")


@pytest.fixture
def drop_demo_rule_set(app):
    """The demo publishes BJ2026; reset_data keeps rule sets, so take it away for the next tests."""
    yield
    with app.app_context():
        from app.extensions import db
        from app.models import RuleSet
        from tests.helpers import reset_data

        reset_data()
        for rs in db.session.scalars(select(RuleSet).where(RuleSet.code == "BJ2026")):
            db.session.delete(rs)
        db.session.commit()


def _menu_links(html: str) -> list[str]:
    nav = html[html.find("navbar-collapse"):html.find("</header>")]
    return sorted({link for link in re.findall(r'href="(/[^"#]*)"', nav)
                   if "logout" not in link and "/lang/" not in link})


def _count(model, *where) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_small_demo_fills_every_area_and_each_login_walks_its_menus(app, drop_demo_rule_set):
    from app.cli import DEMO_PASSWORD, build_demo
    from app.demo.activity import SITE_PHONE, site_login
    from app.extensions import db
    from app.models import (
        ComplianceResult,
        Credit,
        Person,
        RuleSet,
        SelfStudy,
        SelfStudyDelegation,
    )
    from app.models.activities import GrantDraft
    from app.models.audit import (
        AuditAllocation,
        AuditCycle,
        AuditFinalPerson,
        AuditSampledInstitution,
    )
    from app.models.audit_review import AuditResult, AuditVerdict
    from app.models.practice import PracticePlan
    from app.models.projects import CheckIn, Project, Topic
    from app.models.review import ManualCredit
    from app.models.supervision import (
        Feedback,
        FeedbackPhoto,
        Filing,
        Period,
        SiteManager,
    )

    with app.app_context():
        build_demo(persons=600)
        # 1. Beijing 2025 copied to 2026 and published: today has a rule set in force.
        rs = db.session.scalar(select(RuleSet).where(RuleSet.code == "BJ2026"))
        assert rs.status == "published" and str(rs.effective_from) == "2026-01-01" and len(rs.standards) == 20
        # 2. Credits of both credit years, by standard, several sources and statuses; results of both years,
        # compliant and not.
        for year, (start, end) in {2025: ("2024-11-01", "2025-10-31"), 2026: ("2025-11-01", "2026-10-31")}.items():
            assert _count(Credit, Credit.granted_on >= datetime.date.fromisoformat(start),
                          Credit.granted_on <= datetime.date.fromisoformat(end)) > 600
            met = dict(db.session.execute(select(ComplianceResult.met, func.count()).where(
                ComplianceResult.year == year).group_by(ComplianceResult.met)).all())
            assert met.get(True, 0) > 100 and met.get(False, 0) > 100, (year, met)
        # Hand entries name no standard (typed credits); the self-study grant is capped by the policy.
        assert _count(Credit, Credit.standard_id.is_(None), Credit.source != "self_study",
                      Credit.id.not_in(select(ManualCredit.credit_id))) == 0
        sources = set(db.session.scalars(select(Credit.source).distinct()))
        assert {"card", "qr", "project_import", "unit", "manual", "self_study"} <= sources
        statuses = set(db.session.scalars(select(Credit.status).distinct()))
        assert {"draft", "submitted", "unit_approved", "city_approved", "rejected"} <= statuses
        # 3. Issue 4: plans, wizard, manual credits with the failure reason, self-study.
        assert {p.status for p in db.session.scalars(select(PracticePlan))} == {"approved", "pending"}
        assert {d.status for d in db.session.scalars(select(GrantDraft))} == {"open", "submitted"}
        assert _count(ManualCredit) >= 8
        assert _count(SelfStudyDelegation) == 1
        assert {s.status for s in db.session.scalars(select(SelfStudy))} == {"submitted", "granted", "returned"}
        # 4. Issue 5: projects with topics, card and QR attendance, grants, one flagged.
        assert _count(Project) == 2 and _count(Topic) == 5
        assert {c.source for c in db.session.scalars(select(CheckIn))} == {"card", "qr"}
        assert _count(Project, Project.flagged.is_(True)) >= 1
        assert _count(Credit, Credit.project_no == "2026-01-02-105 (国)") > 0
        # 5. Issue 6: filings in several states, periods, the site manager, photos.
        assert {f.status for f in db.session.scalars(select(Filing))} == {"pending", "approved", "returned"}
        assert _count(Period) > 0 and _count(Feedback, Feedback.submitted_at.is_not(None)) >= 1
        assert _count(FeedbackPhoto) >= 4
        code, phone = site_login(db.session)
        assert phone == SITE_PHONE and db.session.scalar(select(SiteManager.login_code)) == code
        # 6. Issue 7: the open 2026 cycle, draws, final list allocated to the demo expert, verdicts.
        cycle = db.session.scalar(select(AuditCycle).where(AuditCycle.year == 2026, AuditCycle.status == "open"))
        assert (str(cycle.window_start), str(cycle.window_end)) == ("2025-11-01", "2026-10-31")
        assert _count(AuditSampledInstitution) > 0 and _count(AuditFinalPerson) > 0
        assert _count(AuditAllocation) > 0
        assert {v.verdict for v in db.session.scalars(select(AuditVerdict))} == {"passed", "failed"}
        assert _count(AuditResult, AuditResult.met.is_not(None)) >= 2
        expert_person = db.session.scalar(select(Person.name).join(
            AuditAllocation, AuditAllocation.person_id == Person.id).order_by(AuditAllocation.person_id).limit(1))
        db.session.remove()

    # Every demo login: the home page and every page of its menu answer 200 (redirects followed).
    for username in DEMO_LOGINS:
        client = app.test_client()
        assert client.post("/login/", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
        home = client.get("/", follow_redirects=True)  # a site manager may be sent to the phone pages
        assert home.status_code == 200, username
        links = _menu_links(home.get_data(as_text=True))
        assert links or username == "site", username
        for link in links:
            if link == "/selfstudy/mine" and username != "student":
                continue  # 我的自学计划 is for a login linked to a person (the city admin sees every menu)
            response = client.get(link, follow_redirects=True)
            assert response.status_code == 200, (username, link, response.status_code)
        pages = {
            "student": ["/transcript/me", "/manual-credits/"],
            "hospital": ["/credit-review/", "/projects/list/", "/filing/list/"],
            "expert": ["/audit-review/persons"],
            "admin": ["/compliance/list/", "/stats/", "/auditcycle/list/", "/supervision/"],
        }.get(username, [])
        for page in pages:
            text = client.get(page, follow_redirects=True).get_data(as_text=True)
            if page == "/manual-credits/":
                assert "证书编号与电子证书不一致" in text or "审核不通过" in text
            if page == "/audit-review/persons":
                assert expert_person in text
            if page == "/projects/list/":
                assert "重症患者血流动力学监测新进展" in text

    # The site manager's phone login with the printed code (the image captcha fixed for the test).
    app.config.update(SUP_CAPTCHA_FIXED="AB12")
    try:
        phone_client = app.test_client()
        phone_client.get(f"/m/login?code={code}")
        phone_client.get("/m/captcha.png")
        assert phone_client.post("/m/sms", data={"code": code, "phone": phone, "captcha": "AB12"}).status_code == 200
        with app.app_context():
            from app.models.supervision import SmsOutbox

            text = db.session.scalar(select(SmsOutbox.text).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc()))
            sms = re.search(r"验证码(\d{6})", text).group(1)
        phone_client.get("/m/captcha.png")
        r = phone_client.post("/m/login", data={"code": code, "phone": phone, "captcha": "AB12", "sms_code": sms})
        assert r.status_code == 302
        home = phone_client.get("/m/", follow_redirects=True)
        assert home.status_code == 200 and "心血管介入诊疗技术规范化培训班" in home.get_data(as_text=True)
    finally:
        app.config.pop("SUP_CAPTCHA_FIXED", None)


def test_bulk_credits_are_set_based_and_fit_large_person_ids(app_ctx, drop_demo_rule_set):
    """One INSERT … SELECT per activity and year, whatever the number of persons; the person's profile
    number is computed inside a 32-bit integer (PostgreSQL int4) even at benchmark-sized ids."""
    from app.demo import activity as demo_activity
    from app.extensions import db
    from app.models import Credit, Person, RuleSet
    from tests.helpers import add_person

    orgs = demo.build_orgs(db.session)
    inst = orgs["institutions"][0]
    dept = next(d for d in orgs["departments"] if d.institution_id == inst.id)
    people = [add_person(inst, dept, f"测试{k}") for k in range(40)]
    big = add_person(inst, dept, "大号")
    db.session.execute(Person.__table__.update().where(Person.id == big.id).values(id=2_999_999))
    db.session.commit()
    rs = {2025: db.session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025")),
          2026: demo_activity.rule_set_2026(db.session)}
    statements = []
    from sqlalchemy import event

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO CREDIT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        written = demo_activity.bulk_credits(db.session, rs)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.commit()
    assert len(statements) == 2 * len(demo_activity.ACTIVITIES)
    assert written == db.session.scalar(select(func.count(Credit.id))) > len(people)
    assert db.session.scalar(select(func.count(Credit.id)).where(Credit.person_id == 2_999_999)) >= 1
    # Amounts are the engine's: 30 hours of a national project (每3小时1分，上限10分) → 10.
    national = db.session.scalars(select(Credit.credits).where(Credit.content.like("%国家级%"),
                                                               Credit.source == "card")).all()
    assert national and set(national) == {10}
