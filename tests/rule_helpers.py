"""Helpers for rule-set, what-if and statistics tests: credits for a person, cleanup of added rule sets."""
from __future__ import annotations

import datetime
from decimal import Decimal

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import (
    CompliancePolicy,
    ComplianceResult,
    Credit,
    CreditStandard,
    Person,
    RuleSet,
)
from app.services.rule_sets import SHIPPED

SHIPPED_CODES = [s[0] for s in SHIPPED]


def add_credit(person_id: int, credits, on: datetime.date, category: str = "国家级继续医学教育项目",
               status: str = "unit_approved", rule_set_id: int | None = None, months=None) -> Credit:
    """A credit placed where the person works (as the credit services do)."""
    p = db.session.get(Person, person_id)
    c = Credit(person_id=p.id, district_id=p.district_id, institution_id=p.institution_id,
               department_id=p.department_id, activity_type="继续医学教育项目", content=f"{category}{credits}",
               granted_on=on, category=category, credits=Decimal(str(credits)), status=status,
               rule_set_id=rule_set_id, months=months)
    db.session.add(c)
    return c


def rule_set(code: str) -> RuleSet:
    return db.session.scalar(select(RuleSet).where(RuleSet.code == code))


def drop_added_rule_sets() -> None:
    """Delete every rule set the tests added and put the shipped ones back to published."""
    db.session.rollback()
    extra = select(RuleSet.id).where(RuleSet.code.not_in(SHIPPED_CODES)).scalar_subquery()
    db.session.execute(delete(ComplianceResult).where(ComplianceResult.rule_set_id.in_(extra)))
    db.session.execute(delete(Credit).where(Credit.rule_set_id.in_(extra)))
    db.session.execute(delete(CreditStandard).where(CreditStandard.rule_set_id.in_(extra)))
    db.session.execute(delete(CompliancePolicy).where(CompliancePolicy.rule_set_id.in_(extra)))
    db.session.execute(update(RuleSet).values(copied_from_id=None))
    db.session.execute(delete(RuleSet).where(RuleSet.code.not_in(SHIPPED_CODES)))
    db.session.execute(update(RuleSet).values(status="published"))
    db.session.commit()
    db.session.remove()
