"""Helpers of the activities tests: Beijing 2025 standards by 序号, evidence files, approved practice plans."""
from __future__ import annotations

import io

from sqlalchemy import select

from app.extensions import db
from app.models import CreditStandard, RuleSet

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def standard_id(seq: int, code: str = "BJ2025") -> int:
    return db.session.scalar(select(CreditStandard.id).join(RuleSet).where(RuleSet.code == code,
                                                                           CreditStandard.seq == seq))


def pdf(name: str = "结业证.pdf") -> tuple[io.BytesIO, str]:
    return io.BytesIO(PDF), name


def add_plan(institution_id: int, status: str = "approved", forms: str = "手术示范、教学病例讨论",
             name: str = "2025年度教学活动计划") -> int:
    from app.models import Org
    from app.models.practice import PracticePlan

    inst = db.session.get(Org, institution_id)
    plan = PracticePlan(institution_id=inst.id, district_id=inst.district_id, name=name, plan_type="年度计划",
                        activity_forms=forms, status=status)
    db.session.add(plan)
    db.session.commit()
    return plan.id
