"""Demo audit (审验): the 2026 cycle, its draws, the final list allocated to the demo expert, verdicts."""
from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.common import SEED, DemoUsers
from app.models import Org
from app.services.scope import Scope


# ------------------------------------------------------------------------------------ audit
def audit(session: Session, users: DemoUsers, institution: Org) -> dict[str, int]:
    """The 2026 cycle (window 2025-11-01 … 2026-10-31, audit 11-01 … 12-02, appeals until 12-02 17:00):
    institution draw by the seed-001 quotas, a standard drawing 2 persons a department, the final list,
    the demo hospital's persons allocated to the demo expert, who has judged three of them."""
    from app.models.audit import (
        DEFAULT_QUOTAS,
        AuditAllocation,
        AuditCycle,
        AuditStandard,
    )
    from app.services import audit as admin
    from app.services import audit_review as review
    from app.services import audit_sampling as sampling

    # The audit period stays open for 60 days from the day the demo is built, so the demo expert can
    # always judge (verdicts after the period are refused); the seed's dates where they are still ahead.
    open_until = max(datetime.datetime(2026, 12, 2, 23, 59, 59),
                     datetime.datetime.combine(datetime.date.today() + datetime.timedelta(days=60),
                                               datetime.time(23, 59, 59)))
    cycle = AuditCycle(name="2026年度继续医学教育学分审验", year=2026, window_start=datetime.date(2025, 11, 1),
                       window_end=datetime.date(2026, 10, 31), audit_start=datetime.datetime(2026, 11, 1),
                       audit_end=open_until,
                       upload_cutoff=datetime.datetime(2026, 11, 5, 23, 59, 59),  # seed 001 七(一) "11月5日24:00"
                       appeal_deadline=open_until.replace(hour=17, minute=0, second=0), status="open",
                       quotas=dict(DEFAULT_QUOTAS), remark="京继委办发〔2026〕 审验通知（演示）")
    admin.validate_cycle(session, cycle)
    session.add(cycle)
    session.flush()
    expert, _ = admin.create_expert(session, username=users.expert.username, name="王审验", year=2026,
                                    contact="13700001111", unit="北京市继续医学教育委员会专家库")
    draw = sampling.create_draw(session, cycle, users.admin.id, kind="institution", seed=SEED)
    institutions = sampling.run_draw(session, draw)
    standard = AuditStandard(cycle_id=cycle.id, name="2026年度综合抽审（每科室2人）", year=2026, unit_levels=[],
                             titles=[], specialties=[], audit_scope="综合", institution_ids=[], allow_repeat=True,
                             per_department=2, status="active")
    sampling.validate_standard(session, standard)
    session.add(standard)
    session.flush()
    draw = sampling.create_draw(session, cycle, users.admin.id, kind="person", standard=standard, seed=SEED + 1)
    drawn = sampling.run_draw(session, draw)
    final = sampling.merge_into_final(session, Scope("all"), cycle, [standard.id], users.admin.id)
    allocated = admin.allocate(session, cycle, expert.id, units=[institution.id], operator_id=users.admin.id)
    session.flush()
    auditor = review.Auditor(user_id=users.expert.id, kind="expert")
    persons = list(session.scalars(select(AuditAllocation.person_id).where(
        AuditAllocation.cycle_id == cycle.id, AuditAllocation.expert_id == expert.id)
        .order_by(AuditAllocation.person_id).limit(3)))
    verdicts = 0
    judged = datetime.datetime(2026, 11, 20, 10, 0)  # the expert judged during 集中审验 (seed 001 五: 11-14 … 11-25)
    for k, person_id in enumerate(persons):
        rows = review.person_credits(session, cycle, person_id)
        ids = [c.id for c, _ in rows]
        if not ids:
            continue
        if k == 2 and len(ids) > 1:
            verdicts += review.set_verdicts(session, auditor, cycle, person_id, {ids[0]: 0}, "failed",
                                            "学分证书与项目编号不符，未提供签到记录", now=judged)
            ids = ids[1:]
        verdicts += review.set_verdicts(session, auditor, cycle, person_id, {i: 0 for i in ids}, "passed",
                                        now=judged)
        review.set_reviewed(session, auditor, cycle, person_id, True, now=judged)
        review.compute(session, auditor, cycle, person_id, now=judged)
    session.flush()
    units = unit_audit(session, users, cycle, institution)
    return {"institutions": institutions, "drawn": drawn, "final": final, "allocated": allocated,
            "verdicts": verdicts, **units}


def unit_audit(session: Session, users: DemoUsers, cycle, institution: Org) -> dict[str, int]:
    """单位审验 in progress (seed 001 五 "11 月 1 日—11 月 5 日：各区卫健委和三级医疗卫生机构学分审验"): the window is
    the seed's, widened to stay open a few days around the day the demo is built; the demo hospital (or its
    district when it is not 三级) has judged part of its persons, the district some of the rest. The demo
    hospital, when sampled, has sent its 回执 (七(三) "回执于11月7日前")."""
    from app.models.audit import AuditFinalPerson
    from app.services import audit_units as units

    today = datetime.date.today()
    cycle.unit_audit_start = min(datetime.datetime(2026, 11, 1),
                                 datetime.datetime.combine(today - datetime.timedelta(days=2), datetime.time()))
    cycle.unit_audit_end = max(datetime.datetime(2026, 11, 5, 23, 59, 59),
                               datetime.datetime.combine(today + datetime.timedelta(days=3), datetime.time(23, 59, 59)))
    cycle.reply_deadline = datetime.datetime(2026, 11, 7, 23, 59, 59)
    session.flush()
    now = min(max(datetime.datetime.now(), cycle.unit_audit_start), cycle.unit_audit_end)
    out = {"unit_checks": 0, "replies": 0}
    district = session.get(Org, institution.district_id) if institution.district_id else None
    for org, user, share in ((institution if institution.level == units.TERTIARY else None, users.hospital, 2),
                             (district, users.district, 3)):
        if org is None:
            continue
        ids = [p.id for p, _c, _d in session.execute(units.persons_select(cycle, org).limit(40))]
        judged = ids[: len(ids) // share]  # part of them: the audit is in progress
        if len(judged) > 1:
            out["unit_checks"] += units.set_verdicts(session, cycle, org, judged[:1], "failed",
                                                     "继续医学教育学分未达标，缺少Ⅰ类学分证明", user_id=user.id, now=now)
            judged = judged[1:]
        if judged:
            out["unit_checks"] += units.set_verdicts(session, cycle, org, judged, "passed", None, user_id=user.id, now=now)
    if session.scalar(select(AuditFinalPerson.id).where(AuditFinalPerson.cycle_id == cycle.id,
                                                        AuditFinalPerson.institution_id == institution.id).limit(1)):
        units.save_reply(session, cycle, institution, contact_name="付宁娜", contact_phone="010-63132231",
                         confirmed=True, remark="材料将于11月11日前送达", user_id=users.hospital.id,
                         now=datetime.datetime(2026, 11, 6, 15, 30))
        out["replies"] = 1
    session.flush()
    return out
