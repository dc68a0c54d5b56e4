"""services/workflow.py: the credit transition table (seed 002 附件一 手工录入学分注意事项)."""
import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Credit, ManualCredit, Person, ReviewLog
from app.models.users import CmeUser
from app.services import workflow
from app.services.workflow import WorkflowError


def _user(name):
    return db.session.scalar(select(CmeUser).where(CmeUser.username == name))


def _credit(person_id, status=None):
    p = db.session.get(Person, person_id)
    c = Credit(person_id=p.id, district_id=p.district_id, institution_id=p.institution_id,
               department_id=p.department_id, activity_type="继续医学教育项目", content="国家级项目",
               granted_on=datetime.date.today(), category="国家级继续医学教育项目", credits=Decimal(5),
               source="manual")
    return c


def test_chain_with_rejection_and_log(app_ctx, world):
    tech, unit, city = _user("tech_a"), _user("inst_a"), _user("city")
    c = _credit(world.pa)
    workflow.created(c, tech, "save")
    db.session.add(ManualCredit(credit_id=c.id, year=c.granted_on.year))
    assert c.status == "draft"
    workflow.apply(c, "submit", tech)
    # "个人账号授分后" — a submitted credit cannot be submitted again.
    with pytest.raises(WorkflowError, match="不能执行"):
        workflow.apply(c, "submit", tech)
    with pytest.raises(WorkflowError, match="不通过原因"):
        workflow.apply(c, "unit_fail", unit, reason="  ")
    workflow.apply(c, "unit_fail", unit, reason="证书编号有误")
    assert c.status == "rejected" and workflow.editable(c, tech)
    workflow.apply(c, "submit", tech)
    workflow.apply(c, "unit_pass", unit)
    workflow.apply(c, "city_pass", city)
    db.session.commit()
    rows = workflow.logs("credit", c.id)
    assert [r.action for r in rows] == ["save", "submit", "unit_fail", "submit", "unit_pass", "city_pass"]
    assert rows[2].reason == "证书编号有误" and rows[2].user_name == "inst_a" and rows[2].actor == "unit"
    assert rows[-1].to_status == "city_approved"


def test_invalid_transitions_refused(app_ctx, world):
    tech, unit, city, unit_b = _user("tech_a"), _user("inst_a"), _user("city"), _user("inst_b")
    c = _credit(world.pa)
    workflow.created(c, tech, "save")
    db.session.add(ManualCredit(credit_id=c.id, year=c.granted_on.year))
    with pytest.raises(WorkflowError):
        workflow.apply(c, "city_pass", city)  # city pass of a draft
    with pytest.raises(WorkflowError):
        workflow.apply(c, "unit_pass", unit)  # unit pass of a draft
    workflow.apply(c, "submit", tech)
    with pytest.raises(WorkflowError, match="无权"):
        workflow.apply(c, "unit_pass", tech)  # the owner cannot pass their own
    with pytest.raises(WorkflowError, match="其他单位"):
        workflow.apply(c, "unit_pass", unit_b)  # institution B cannot pass A's
    with pytest.raises(WorkflowError, match="无权"):
        workflow.created(_credit(world.pb), tech, "save")  # another person's credit
    assert c.status == "submitted"
    # A wizard credit (no manual entry row) never goes to the city.
    w = _credit(world.pa)
    workflow.created(w, unit, "enter")
    assert w.status == "unit_approved"
    with pytest.raises(WorkflowError, match="不是需要市级审核"):
        workflow.apply(w, "city_pass", city)


def test_log_creation_bulk(app_ctx, world):
    unit = _user("inst_a")
    cs = [_credit(world.pa), _credit(world.pa2)]
    for c in cs:
        c.status = "unit_approved"
        db.session.add(c)
    workflow.log_creation(db.session, cs, user_id=unit.id)
    db.session.commit()
    assert db.session.query(ReviewLog).filter_by(action="enter").count() == 2


def test_status_change_recomputes_compliance(app_ctx, world):
    """A credit counts from unit_approved (COUNTED_STATUSES); the session hook of credit_records
    recomputes the person's stored result whenever a transition changes the status."""
    from app.models import ComplianceResult

    unit, city = _user("inst_a"), _user("city")
    c = _credit(world.pa)
    c.granted_on = datetime.date(2025, 6, 1)  # judged by the shipped Beijing 2025 rule set
    workflow.created(c, unit, "late_enter")
    db.session.add(ManualCredit(credit_id=c.id, year=2025, late=True, entered_by="unit"))
    db.session.commit()

    def total():
        db.session.expire_all()
        return db.session.scalar(select(ComplianceResult.total).where(ComplianceResult.person_id == world.pa))

    assert total() == 5
    workflow.apply(c, "city_fail", city, reason="补录证明不全")
    db.session.commit()
    assert total() == 0


def test_stale_decision_is_refused_by_the_guarded_update(app, world):
    """Two reviewers loaded the same submitted credit; the first decides and commits. The second
    (its object still says 已提交) is refused by the guarded UPDATE with who decided what — no
    second log row, the first decision stays. Both backends (the race itself: tests/concurrency)."""
    from sqlalchemy.orm import Session

    with app.app_context():
        c = _credit(world.pa)
        workflow.created(c, _user("tech_a"), "save")
        db.session.add(ManualCredit(credit_id=c.id, year=c.granted_on.year))
        workflow.apply(c, "submit", _user("tech_a"))
        db.session.commit()
        cid = c.id
        db.session.remove()
        with Session(db.engine) as first, Session(db.engine) as second:
            mine = second.get(Credit, cid)
            assert mine.status == "submitted"  # loaded before the other decides
            unit = first.scalar(select(CmeUser).where(CmeUser.username == "inst_a"))
            workflow.apply(first.get(Credit, cid), "unit_pass", unit, session=first)
            first.commit()
            other = second.scalar(select(CmeUser).where(CmeUser.username == "inst_a"))
            with pytest.raises(workflow.TransitionConflict) as refused:
                workflow.apply(mine, "unit_fail", other, reason="证书不清晰", session=second)
            second.rollback()
        message = str(refused.value)
        assert "已由他人先处理" in message and "当前状态为“单位审核通过”" in message and "inst_a" in message
        assert db.session.get(Credit, cid).status == "unit_approved"
        assert [r.action for r in workflow.logs("credit", cid)] == ["save", "submit", "unit_pass"]
