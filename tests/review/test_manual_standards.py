"""Manual entry with a credit standard (issue 4 point 3 follow-up): the credits are computed by
services/credit_rules.py from the chosen standard and the entered amount; the typed credits count only
when no standard is chosen. Parameter manual_credit_max caps one manual entry."""
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Credit, CreditStandard, Parameter, ReviewLog, RuleSet
from app.services import manual_credits
from app.services.seed_data import PARAMETERS
from tests.review.helpers import form, pdf


def _standard(app, seq, code="BJ2025"):
    with app.app_context():
        return db.session.scalar(select(CreditStandard.id).join(RuleSet).where(
            RuleSet.code == code, CreditStandard.seq == seq))


def _enter(client, **over):
    data = form(**over)
    data["evidence"] = pdf()
    data["submit"] = "0"
    return client.post("/manual-credits/add", data=data, content_type="multipart/form-data")


def _credits(app):
    with app.app_context():
        return list(db.session.scalars(select(Credit).order_by(Credit.id)))


def test_picker_offers_manual_standards_of_the_active_rule_set(app, world, login):
    with app.app_context():
        standards = manual_credits.manual_standards(db.session)
        seqs = {s.seq for s in standards}
        assert {s.rule_set.code for s in standards} == {"BJ2025"}
    # Seed 003 授分标准修改: "7 进修学习不满3个月 每6小时1分（上限25分）", "6 进修学习满3个月 25分",
    # "14 住院医师规范化培训 25分", "15 参加国家级继续医学教育项目 每3小时1分（上限10分）" are offered;
    # "4 参加外地国家级继续医学教育项目 申报项目导入" (the project's own credits), the lecturers' standards
    # ("主讲人分数不能超过项目分数") and the practice activities (they need an approved plan) are not.
    assert {6, 7, 8, 9, 12, 13, 14, 15, 16, 17} == seqs
    page = login("tech_a").get("/manual-credits/add").get_data(as_text=True)
    assert "进修学习不满3个月（每6小时1分（上限25分））" in page and "不按授分标准（直接填写学分）" in page
    assert "/api/v1/credit_rules/compute" in page and "manual_credits.js" in page


def test_standard_computes_credits_typed_ones_ignored(app, world, login):
    tech = login("tech_a")
    # "7 进修学习不满3个月 每6小时1分（上限25分）": 20 hours → 3 whole units → 3 credits; the typed 9 is ignored.
    r = _enter(tech, standard_id=str(_standard(app, 7)), amount="20", credits="9", category="")
    assert r.status_code == 302, r.get_data(as_text=True)
    c = _credits(app)[0]
    assert c.credits == Decimal(3) and c.category == "进修学习" and c.activity_type == "进修学习"
    assert c.amount == Decimal(20) and c.standard_id == _standard(app, 7) and c.rule_set_id is not None
    assert "每6小时1分" in c.remark
    show = tech.get(f"/manual-credits/{c.id}").get_data(as_text=True)
    assert 'id="credit-standard"' in show and "7. 进修学习不满3个月" in show and "得3分" in show
    # "6 进修学习满3个月 25分": 4 months → 25, and the months are kept for the full-year rule.
    r = _enter(tech, standard_id=str(_standard(app, 6)), amount="4", credits="1")
    assert r.status_code == 302
    c = _credits(app)[1]
    assert c.credits == Decimal(25) and c.months == Decimal(4)
    # Without a standard the typed credits are used (seed 002 附件一: 学分学时 录入完整正确).
    assert _enter(tech, credits="4.5").status_code == 302
    c = _credits(app)[2]
    assert c.credits == Decimal("4.5") and c.standard_id is None and c.category == "国家级继续医学教育项目"


def test_standard_refusals_write_nothing(app, world, login):
    tech = login("tech_a")
    cases = [
        # 满3个月 standard with 2 months: the engine refuses ("须满3个月").
        ({"standard_id": str(_standard(app, 6)), "amount": "2"}, "须满3"),
        # An hours standard with less than one whole unit: nothing to grant.
        ({"standard_id": str(_standard(app, 7)), "amount": "5"}, "不能授分"),
        # Not offered for manual entry: imported project credits, a practice activity, a lecturer.
        ({"standard_id": str(_standard(app, 4))}, "不适用于手工录入"),
        ({"standard_id": str(_standard(app, 20))}, "不适用于手工录入"),
        ({"standard_id": str(_standard(app, 1))}, "不适用于手工录入"),
        # Another rule set's standard (Xuzhou 2024), a guessed id and rubbish.
        ({"standard_id": str(_standard(app, 1, "XZ2024"))}, "不适用于手工录入"),
        ({"standard_id": "999999"}, "不适用于手工录入"),
        ({"standard_id": "abc"}, "不适用于手工录入"),
        ({"standard_id": str(_standard(app, 7)), "amount": "abc"}, "必须是数字"),
    ]
    for over, message in cases:
        r = _enter(tech, **over)
        assert r.status_code == 422, over
        assert message in r.get_data(as_text=True), (over, r.get_data(as_text=True)[:3000])
    with app.app_context():
        assert db.session.query(Credit).count() == 0 and db.session.query(ReviewLog).count() == 0


def test_unit_entry_and_edit_with_standard(app, world, login):
    unit, tech = login("inst_a"), login("tech_a")
    data = {**form(), "card_no": "A0000001", "evidence": pdf(), "standard_id": str(_standard(app, 15)),
            "amount": "40", "hours": "40"}
    # "15 参加国家级继续医学教育项目 每3小时1分（上限10分）": 40 h → 13 → capped at 10.
    assert unit.post("/manual-credits/add", data=data, content_type="multipart/form-data").status_code == 302
    c = _credits(app)[0]
    assert c.credits == Decimal(10) and c.status == "unit_approved" and "上限" in c.remark
    # The technician edits a draft: choosing a standard later recomputes; clearing it takes typed credits.
    assert _enter(tech).status_code == 302
    own = _credits(app)[1]
    edit = form(standard_id=str(_standard(app, 17)), hours="9")  # 区级 每3小时1分 → 3
    assert tech.post(f"/manual-credits/{own.id}/edit", data=edit).status_code == 302
    assert _credits(app)[1].credits == Decimal(3)
    page = tech.get(f"/manual-credits/{own.id}/edit").get_data(as_text=True)
    assert f'value="{_standard(app, 17)}"' in page and "selected" in page
    assert tech.post(f"/manual-credits/{own.id}/edit", data=form(credits="2")).status_code == 302
    c = _credits(app)[1]
    assert c.credits == Decimal(2) and c.standard_id is None and c.activity_type == "继续医学教育项目"


def test_compute_api_for_the_form(app, world, login):
    tech = login("tech_a")
    r = tech.post("/api/v1/credit_rules/compute", json={"standard_id": _standard(app, 7), "amount": 20})
    # The test config may switch CSRF off; the browser test sends the page's token.
    assert r.status_code == 200 and r.get_json()["credits"] == 3


def test_manual_credit_max_parameter(app, world, login):
    # Seeded with a Chinese label and description, editable as a parameter.
    entry = next(p for p in PARAMETERS if p[0] == "manual_credit_max")
    assert entry[2] == "25" and "手工录入" in entry[1] and entry[3]
    with app.app_context():
        row = db.session.scalar(select(Parameter).where(Parameter.key == "manual_credit_max"))
        assert row is not None and row.value == "25" and row.name == entry[1]
        row.value = "3"
        db.session.commit()
    tech = login("tech_a")
    r = _enter(tech, credits="4")
    assert r.status_code == 422 and "单条手工录入学分不能超过3分" in r.get_data(as_text=True)
    # Computed credits are capped by it too: 25 from "进修学习满3个月" is refused.
    r = _enter(tech, standard_id=str(_standard(app, 6)), amount="4")
    assert r.status_code == 422 and "不能超过3分" in r.get_data(as_text=True)
    assert _enter(tech, credits="3").status_code == 302
    # The admin page lists it for editing.
    page = login("city").get("/parameters/list/").get_data(as_text=True)
    assert "manual_credit_max" in page
    with app.app_context():
        assert manual_credits.max_credits(db.session) == Decimal(3)
        db.session.scalar(select(Parameter).where(Parameter.key == "manual_credit_max")).value = "x"
        db.session.commit()
        assert manual_credits.max_credits(db.session) == Decimal(25)  # unreadable → the default
