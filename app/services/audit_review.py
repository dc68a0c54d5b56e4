"""Expert verdicts, audit results, appeals and certificates (学分审验 AUD-6, AUD-7). Flask-free.

Seed 003 part 03 学分明细审核: "可根据筛选信息条件进行学分查询，查看人员具体达标情况，在线预览/下载查看附件信息、点击
通过或不通过，对学分进行审核。也可点击已审、未审对状态进行标记，点击“达标计算”对人员重新进行达标计算。"
Seed 001 六、审验结果反馈: "市继教委办公室对抽查审验中认定的不合格材料…所授予的学分将不予认可…各单位对抽查审验认定的不合格
材料如有异议，应在12月2日17时前申请复审并提交相关证明材料，最终认定结果由市继教委办公室确定。"

* Who may audit whom: an expert only the persons allocated to them in the cycle (services/audit.py);
  the city office every person of the cycle's final list.
* Verdicts are written by compare-and-swap on ``AuditVerdict.version``: the version the expert saw must
  still be stored (0 = no verdict yet), else ``ConflictError`` and nothing is written (all or nothing).
* 达标计算 judges the PASSED credits inside the cycle's credit window with services/compliance.evaluate
  under the rule set that judges the cycle's credit year; the rules are not re-implemented here. The
  credits audited at all are those that rule set's counting policy counts (services/counting).
"""
from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.models import Credit, Org, Person
from app.models.audit import AuditCycle, AuditExpert, AuditFinalPerson
from app.models.audit_review import (
    VERDICTS,
    AuditAppeal,
    AuditCertificate,
    AuditResult,
    AuditVerdict,
)
from app.services import audit as audit_admin
from app.services import counting, upsert
from app.services.compliance import evaluate, window
from app.services.credit_records import region, rule_set_for_year
from app.services.errors import DomainError
from app.services.rule_sets import policy_params
from app.services.scope import Scope

REASON_MAX = 500
PAGE_SIZE = 20


class ReviewError(DomainError):
    """A refused audit action; the message is Chinese."""


class ConflictError(ReviewError):
    """Someone else changed a verdict since the page was loaded (optimistic lock)."""

    status = 409


# =========================================================================== who sees whom
@dataclass(frozen=True)
class Auditor:
    """The acting user as the audit sees them: ``city`` (市继教办: everything), ``scope`` (district /
    institution admins: their scope), ``expert`` (only allocated persons)."""

    user_id: int | None
    kind: str  # city / scope / expert / none
    scope: Scope | None = None

    @property
    def is_city(self) -> bool:
        return self.kind == "city"


def persons_criterion(auditor: Auditor, cycle_id: int, person_col: Any = AuditFinalPerson.person_id,
                      model: Any = AuditFinalPerson):
    """SQL criterion limiting rows of ``model`` (with the scope columns) to what ``auditor`` may see in
    ``cycle_id``."""
    if auditor.kind == "city":
        return person_col.in_(select(AuditFinalPerson.person_id).where(AuditFinalPerson.cycle_id == cycle_id))
    if auditor.kind == "expert" and auditor.user_id:
        return audit_admin.allocated_persons_criterion(auditor.user_id, person_col, cycle_id)
    if auditor.kind == "scope" and auditor.scope is not None:
        return and_(auditor.scope.criterion(model),
                    person_col.in_(select(AuditFinalPerson.person_id).where(AuditFinalPerson.cycle_id == cycle_id)))
    return false()


def may_audit(session: Session, auditor: Auditor, cycle: AuditCycle, person_id: int) -> bool:
    """May ``auditor`` judge this person's credits in ``cycle``? (the city, or the allocated expert)"""
    if auditor.kind == "city":
        return session.scalar(select(AuditFinalPerson.id).where(
            AuditFinalPerson.cycle_id == cycle.id, AuditFinalPerson.person_id == person_id).limit(1)) is not None
    if auditor.kind == "expert" and auditor.user_id:
        return audit_admin.expert_may_see_person(session, auditor.user_id, person_id, cycle.id)
    return False


def may_see(session: Session, auditor: Auditor, cycle: AuditCycle, person_id: int) -> bool:
    """May ``auditor`` read this person's audit result in ``cycle``?"""
    q = select(AuditFinalPerson.id).where(AuditFinalPerson.cycle_id == cycle.id,
                                          AuditFinalPerson.person_id == person_id,
                                          persons_criterion(auditor, cycle.id)).limit(1)
    return session.scalar(q) is not None


def cycles_for(session: Session, auditor: Auditor) -> list[AuditCycle]:
    """The cycles the auditor works in: an expert's are the years of their (active) expert rows; open
    ones first, newest first."""
    q = select(AuditCycle)
    if auditor.kind == "expert":
        q = q.where(AuditCycle.year.in_(select(AuditExpert.year).where(AuditExpert.user_id == auditor.user_id,
                                                                      AuditExpert.status == "active")))
    elif auditor.kind == "none":
        return []
    rows = list(session.scalars(q.order_by(AuditCycle.year.desc(), AuditCycle.id.desc())))
    return sorted(rows, key=lambda c: (c.status != "open", -c.year, -c.id))


def pick_cycle(session: Session, auditor: Auditor, cycle_id: int | None) -> AuditCycle | None:
    cycles = cycles_for(session, auditor)
    if cycle_id:
        return next((c for c in cycles if c.id == cycle_id), None)
    return cycles[0] if cycles else None


# =========================================================================== workspace lists
def counts(session: Session, auditor: Auditor, cycle: AuditCycle) -> dict[str, int]:
    """全部学员 / 已审验 / 待审验 of the auditor in a cycle (one query)."""
    fp, r = AuditFinalPerson, AuditResult
    total, done = session.execute(
        select(func.count(fp.id), func.count(r.id))
        .select_from(fp)
        .outerjoin(r, and_(r.cycle_id == fp.cycle_id, r.person_id == fp.person_id, r.reviewed.is_(True)))
        .where(fp.cycle_id == cycle.id, persons_criterion(auditor, cycle.id))).one()
    return {"total": total or 0, "reviewed": done or 0, "pending": (total or 0) - (done or 0)}


@dataclass
class PersonFilters:
    name: str = ""
    card: str = ""
    unit: str = ""
    dept: str = ""
    reviewed: str = ""  # "" / "1" / "0"
    met: str = ""  # "" / "1" / "0" / "none"


def persons_select(auditor: Auditor, cycle: AuditCycle, f: PersonFilters):
    """The persons of the final list the auditor may see, with their place and audit result."""
    fp, r = AuditFinalPerson, AuditResult
    inst, dept = aliased(Org), aliased(Org)
    q = (select(fp.level, inst.name.label("unit"), dept.name.label("dept"), Person, r)
         .select_from(fp).join(Person, Person.id == fp.person_id)
         .join(inst, inst.id == fp.institution_id).outerjoin(dept, dept.id == fp.department_id)
         .outerjoin(r, and_(r.cycle_id == fp.cycle_id, r.person_id == fp.person_id))
         .where(fp.cycle_id == cycle.id, persons_criterion(auditor, cycle.id)))
    if f.name:
        q = q.where(Person.name.contains(f.name))
    if f.card:
        q = q.where(Person.card_no.contains(f.card))
    if f.unit:
        q = q.where(inst.name.contains(f.unit))
    if f.dept:
        q = q.where(dept.name.contains(f.dept))
    if f.reviewed == "1":
        q = q.where(r.reviewed.is_(True))
    elif f.reviewed == "0":
        q = q.where(or_(r.id.is_(None), r.reviewed.is_(False)))
    if f.met == "1":
        q = q.where(r.met.is_(True))
    elif f.met == "0":
        q = q.where(r.met.is_(False))
    elif f.met == "none":
        q = q.where(or_(r.id.is_(None), r.met.is_(None)))
    return q.order_by(fp.level, inst.name, dept.name, Person.card_no)


def page_of(session: Session, q, page: int, size: int = PAGE_SIZE) -> tuple[list, int]:
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    rows = session.execute(q.limit(size).offset(max(page - 1, 0) * size)).all()
    return rows, total


@dataclass
class CreditFilters:
    project_no: str = ""
    content: str = ""
    start: datetime.date | None = None
    end: datetime.date | None = None
    source: str = ""
    verdict: str = ""  # "" / pending / passed / failed


def clamp(cycle: AuditCycle, f: CreditFilters) -> CreditFilters:
    """举办时间 range defaults to, and stays inside, the cycle's credit window."""
    start = max(f.start or cycle.window_start, cycle.window_start)
    end = min(f.end or cycle.window_end, cycle.window_end)
    return CreditFilters(f.project_no, f.content, start, end, f.source, f.verdict)


LATE_UPLOAD = "上传时间晚于本次审验截止时间"


def counting_policy(session: Session, cycle: AuditCycle) -> dict[str, Any]:
    """The policy of the rule set judging the cycle's credit year (as 达标计算 finds it): its counting
    statuses per source say which credits the audit judges ({} without one: the default statuses)."""
    rs = rule_set_for_year(session, region(session), cycle.year)
    return policy_params(rs) if rs is not None else {}


def _in_window(stmt, policy: Mapping, cycle: AuditCycle, person_id: int):
    """``stmt`` (over Credit) limited to the person's credits granted inside the cycle's window that
    count under ``policy`` (services/counting: a swipe waiting for the city's review does not)."""
    return counting.with_sources(stmt, policy).where(
        Credit.person_id == person_id, counting.counted_sql(policy),
        Credit.granted_on >= cycle.window_start, Credit.granted_on <= cycle.window_end)


def _audited_credits(stmt, policy: Mapping, cycle: AuditCycle, person_id: int):
    """``stmt`` limited to the credits an audit judges: the person's counted credits granted inside the
    cycle's window and uploaded by its cutoff (seed 001 七(一): "逾期未上传的数据，将无法纳入学分审验")."""
    stmt = _in_window(stmt, policy, cycle, person_id)
    if cycle.upload_cutoff is None:
        return stmt
    return stmt.where(Credit.uploaded_at <= cycle.upload_cutoff)


def late_credits(session: Session, cycle: AuditCycle, person_id: int) -> list[Credit]:
    """The person's credits of the cycle's window left out because they were uploaded after the cutoff
    (shown to the expert with LATE_UPLOAD as the reason)."""
    if cycle.upload_cutoff is None:
        return []
    stmt = _in_window(select(Credit), counting_policy(session, cycle), cycle, person_id)
    return list(session.scalars(stmt.where(Credit.uploaded_at > cycle.upload_cutoff)
                                .order_by(Credit.granted_on, Credit.id)))


def person_credits(session: Session, cycle: AuditCycle, person_id: int, f: CreditFilters | None = None, *,
                   policy: Mapping | None = None) -> list[tuple[Credit, AuditVerdict | None]]:
    """(credit, verdict or None) of one person in a cycle, filtered; one query over the credits.
    ``policy``: the counting policy judging the cycle (``counting_policy`` when None)."""
    f = clamp(cycle, f or CreditFilters())
    if policy is None:
        policy = counting_policy(session, cycle)
    v = AuditVerdict
    q = _audited_credits(select(Credit, v).outerjoin(v, and_(v.credit_id == Credit.id, v.cycle_id == cycle.id)),
                         policy, cycle, person_id).where(Credit.granted_on >= f.start, Credit.granted_on <= f.end)
    if f.project_no:
        q = q.where(Credit.project_no.contains(f.project_no))
    if f.content:
        q = q.where(Credit.content.contains(f.content))
    if f.source:
        q = q.where(Credit.source == f.source)
    if f.verdict == "pending":
        q = q.where(v.id.is_(None))
    elif f.verdict in VERDICTS:
        q = q.where(v.verdict == f.verdict)
    return [tuple(row) for row in session.execute(q.order_by(Credit.granted_on, Credit.id)).all()]


def appeals_by_verdict(session: Session, verdict_ids: list[int]) -> dict[int, AuditAppeal]:
    if not verdict_ids:
        return {}
    return {a.verdict_id: a for a in session.scalars(select(AuditAppeal).where(AuditAppeal.verdict_id.in_(verdict_ids)))}


# =========================================================================== verdicts
def _held_open(session: Session, cycle: AuditCycle) -> bool:
    """Is the cycle open? Read again under a share lock of its row (FOR SHARE): a judgment racing the
    cycle's 关闭 (an UPDATE of that row) is written before the close commits, or refused after it."""
    session.refresh(cycle, attribute_names=["status"], with_for_update={"read": True})
    return cycle.is_open


def _minute(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def in_period(cycle: AuditCycle, now: datetime.datetime | None = None) -> None:
    """Seed 001 五、审验时间 "2022 年 11 月 1 日—12 月 2 日为学分审验时间": verdicts, 标记为已审 and 达标计算
    only inside the cycle's 审验时间 (audit_start … audit_end); refused in Chinese before and after it."""
    now = now or datetime.datetime.now()
    if cycle.audit_start is not None and now < cycle.audit_start:
        raise ReviewError("本次审验尚未开始（审验时间自%(start)s起），不能审核", start=_minute(cycle.audit_start))
    if cycle.audit_end is not None and now > cycle.audit_end:
        raise ReviewError("本次审验已于%(end)s结束，不能再审核或计算", end=_minute(cycle.audit_end))


def _reason(verdict: str, reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if verdict == "failed" and not reason:
        raise ReviewError("请填写不通过原因")
    if len(reason) > REASON_MAX:
        raise ReviewError("不通过原因不能超过%(n)s个字", n=REASON_MAX)
    return reason or None


def set_verdicts(session: Session, auditor: Auditor, cycle: AuditCycle, person_id: int,
                 seen: dict[int, int], verdict: str, reason: str | None = None, *,
                 now: datetime.datetime | None = None) -> int:
    """通过 / 不通过 for the credits ``seen`` ({credit id: version the auditor saw, 0 = none yet}).

    All or nothing: a credit that is not this person's audited credit, a verdict under appeal, or a
    version changed since (another expert's verdict) refuses the whole batch. Returns how many."""
    if verdict not in VERDICTS:
        raise ReviewError("审核结论不正确")
    reason = _reason(verdict, reason)
    if not _held_open(session, cycle):
        raise ReviewError("该审验已关闭，不能再审核")
    in_period(cycle, now)
    if not may_audit(session, auditor, cycle, person_id):
        raise ReviewError("该学员未分配给您，不能审核")
    if not seen:
        raise ReviewError("请选择要审核的学分")
    ids = sorted(seen)
    found = dict(session.execute(_audited_credits(
        select(Credit.id, Credit.content).select_from(Credit).where(Credit.id.in_(ids)),
        counting_policy(session, cycle), cycle, person_id)).all())
    if len(found) != len(ids):
        held = set(session.scalars(_audited_credits(select(Credit.id).where(Credit.id.in_(ids)), {}, cycle,
                                                    person_id))) - set(found)
        if held and held == set(ids) - set(found):  # the person's and in the window, but not counted (yet)
            raise ReviewError("所选学分按本年度学分计入规则尚不计入（如须经市级审核通过），不在审验范围内")
        raise ReviewError("所选学分不属于该学员或不在本次审验的学分时间范围内")
    current = {v.credit_id: v for v in session.scalars(select(AuditVerdict).where(
        AuditVerdict.cycle_id == cycle.id, AuditVerdict.credit_id.in_(ids)))}
    appealed = appeals_by_verdict(session, [v.id for v in current.values()])
    if appealed:
        names = "、".join(f"“{found[v.credit_id]}”" for v in current.values() if v.id in appealed)
        raise ReviewError("学分%(names)s已申请复审，结论由市继教办复审决定", names=names)
    stale = [cid for cid in ids if int(seen[cid] or 0) != (current[cid].version if cid in current else 0)]
    if stale:  # seen versions are already outdated: refuse before writing anything
        raise _conflict(session, cycle, stale, found)
    person = session.get(Person, person_id)
    now = now or datetime.datetime.now()
    conflicts: list[int] = []
    try:
        for credit_id in ids:
            expected = int(seen[credit_id] or 0)
            if expected == 0:
                session.execute(insert(AuditVerdict).values(
                    cycle_id=cycle.id, credit_id=credit_id, person_id=person_id, district_id=person.district_id,
                    institution_id=person.institution_id, department_id=person.department_id, verdict=verdict,
                    reason=reason, via_appeal=False, decided_by_fk=auditor.user_id, decided_at=now, version=1))
                continue
            # Compare-and-swap: only the version the auditor saw may be replaced.
            done = session.execute(update(AuditVerdict).where(
                AuditVerdict.cycle_id == cycle.id, AuditVerdict.credit_id == credit_id,
                AuditVerdict.version == expected).values(
                verdict=verdict, reason=reason, decided_by_fk=auditor.user_id, decided_at=now,
                version=AuditVerdict.version + 1).execution_options(synchronize_session=False))
            if done.rowcount != 1:
                conflicts.append(credit_id)
    except IntegrityError:  # another first verdict on the same credit came in between
        conflicts = ids
    if conflicts:
        # All or nothing: the whole transaction is rolled back (the caller had nothing else pending).
        session.rollback()
        raise _conflict(session, cycle, conflicts, found)
    session.expire_all()
    return len(ids)


def _conflict(session: Session, cycle: AuditCycle, credit_ids: list[int], names: dict[int, str]) -> ConflictError:
    from app.models import CmeUser

    rows = session.execute(select(AuditVerdict.credit_id, AuditVerdict.verdict, AuditVerdict.decided_at,
                                  CmeUser.last_name, CmeUser.username)
                           .outerjoin(CmeUser, CmeUser.id == AuditVerdict.decided_by_fk)
                           .where(AuditVerdict.cycle_id == cycle.id, AuditVerdict.credit_id.in_(credit_ids))).all()
    parts = []
    for credit_id, verdict, at, last_name, username in rows:
        who = last_name or username or "其他人"
        parts.append(f"“{names.get(credit_id, credit_id)}”已被{who}于{at:%Y-%m-%d %H:%M:%S}审核为“{VERDICTS.get(verdict, verdict)}”")
    detail = "；".join(parts) or "所选学分的审核结论已被他人修改"
    return ConflictError("审核冲突：%(detail)s。本次审核未保存，请刷新页面查看最新结论后再审核。", detail=detail)


def _result_row(session: Session, cycle: AuditCycle, person: Person) -> AuditResult:
    """The person's result row, created if missing (INSERT … ON CONFLICT DO NOTHING: two experts
    marking or computing one person at once no longer collide on uq_audit_result_cycle_person),
    then locked FOR UPDATE so concurrent marks / computations apply one after the other."""
    upsert.insert_ignore(session, AuditResult, {
        "cycle_id": cycle.id, "person_id": person.id, "district_id": person.district_id,
        "institution_id": person.institution_id, "department_id": person.department_id, "reviewed": False, "version": 1},
        ["cycle_id", "person_id"])
    return upsert.locked(session, select(AuditResult).where(AuditResult.cycle_id == cycle.id,
                                                            AuditResult.person_id == person.id))


def set_reviewed(session: Session, auditor: Auditor, cycle: AuditCycle, person_id: int, reviewed: bool, *,
                 now: datetime.datetime | None = None) -> AuditResult:
    """已审 / 未审 mark of a person."""
    if not _held_open(session, cycle):
        raise ReviewError("该审验已关闭，不能再审核")
    in_period(cycle, now)
    if not may_audit(session, auditor, cycle, person_id):
        raise ReviewError("该学员未分配给您，不能审核")
    result = _result_row(session, cycle, session.get(Person, person_id))
    result.reviewed = bool(reviewed)
    result.reviewed_at = (now or datetime.datetime.now()) if reviewed else None
    result.reviewed_by_fk = auditor.user_id if reviewed else None
    session.flush()
    return result


# =========================================================================== 达标计算
def cycle_policy(policy: dict, cycle: AuditCycle) -> tuple[dict, int]:
    """The policy with its credit year set to the cycle's window, and the year to evaluate: seed 001
    三、"2021 年 11 月 1 日至 2022 年 10 月 31 日" → window 11-01 … 10-31 of 2022."""
    adjusted = dict(policy)
    adjusted["window"] = {"start": cycle.window_start.strftime("%m-%d"), "end": cycle.window_end.strftime("%m-%d")}
    year = cycle.window_end.year
    if window(adjusted, year) != (cycle.window_start, cycle.window_end):
        raise ReviewError("审验的学分时间范围超过一年，无法按达标规则计算")
    return adjusted, year


def compute(session: Session, auditor: Auditor, cycle: AuditCycle, person_id: int, *,
            after_appeal: bool = False, now: datetime.datetime | None = None) -> AuditResult:
    """达标计算: judge the person from the PASSED credits inside the cycle's window and store the
    explained result. ``after_appeal`` (the city's appeal decision) keeps the expert's own result."""
    if not after_appeal:
        if not _held_open(session, cycle):
            raise ReviewError("该审验已关闭，不能再计算")
        in_period(cycle, now)
        if not may_audit(session, auditor, cycle, person_id):
            raise ReviewError("该学员未分配给您，不能审核")
    rs = rule_set_for_year(session, region(session), cycle.year)
    if rs is None:
        raise ReviewError("没有适用于%(year)s年度的已发布规则集，请先在“授分规则”中发布", year=cycle.year)
    policy, year = cycle_policy(policy_params(rs), cycle)
    person = session.get(Person, person_id)
    rows = person_credits(session, cycle, person_id, policy=policy)
    # evaluate sees each credit's counting source as the SQL above did (a hand entry's late flag too)
    hand = counting.hand_entries(session, [c.id for c, _ in rows]) if counting.needs_join(policy) else {}
    shadows, notes = [], {}
    for credit, verdict in rows:
        status = credit.status
        if verdict is None:
            status, notes[credit.id] = "audit_pending", "未计入：尚未审验"
        elif verdict.verdict != "passed":
            status = "audit_failed"
            notes[credit.id] = f"未计入：审验不通过（{verdict.reason or ''}）"
        shadows.append(SimpleNamespace(id=credit.id, content=credit.content, category=credit.category,
                                       credit_class=credit.credit_class, credits=credit.credits,
                                       months=credit.months, granted_on=credit.granted_on, status=status,
                                       source=credit.source))
    ev = evaluate(policy, year, shadows, person.title_level, hand=hand)
    for line in ev.lines:
        if line.credit_id in notes:
            line.note = notes[line.credit_id]
    explanation = ev.as_dict()
    explanation["rule_set"] = rs.name
    result = _result_row(session, cycle, person)
    result.rule_set_id = rs.id
    result.met = ev.met
    if not after_appeal:
        result.expert_met = ev.met
    result.total = ev.total
    result.required = ev.required
    result.summary = ev.summary[:512]
    result.explanation = explanation
    result.computed_at = now or datetime.datetime.now()
    result.computed_by_fk = auditor.user_id
    result.version = (result.version or 0) + 1
    session.flush()
    return result


# =========================================================================== 通报
def results_visible(auditor: Auditor, cycle: AuditCycle) -> bool:
    """Seed 001 六、"学分审验结果将于2023年4月上旬前通报": the city and the experts see results while they are
    made; units and districts only once the city has published (通报) them."""
    return auditor.kind in ("city", "expert") or cycle.results_published


def publish_results(session: Session, auditor: Auditor, cycle: AuditCycle, *,
                    now: datetime.datetime | None = None) -> None:
    """通报: the city publishes the cycle's results, once, after its 审验时间 has ended (a guarded UPDATE:
    of two clicks at once one publishes, the other is told it was already done)."""
    now = now or datetime.datetime.now()
    if not auditor.is_city:
        raise ReviewError("只有市继教办可以通报审验结果")
    if cycle.audit_end is not None and now <= cycle.audit_end:
        raise ReviewError("审验时间至%(end)s结束，结束后才能通报结果", end=_minute(cycle.audit_end))
    done = session.execute(update(AuditCycle).where(
        AuditCycle.id == cycle.id, AuditCycle.results_published_at.is_(None)).values(
        results_published_at=now, results_published_by_fk=auditor.user_id).execution_options(
        synchronize_session=False))
    if done.rowcount != 1:
        raise ReviewError("本次审验结果已通报")
    session.expire(cycle)


def result_is_stale(session: Session, result: AuditResult | None) -> bool:
    """A verdict changed after the last 达标计算: the stored result no longer reflects the verdicts."""
    if result is None or result.computed_at is None:
        return False
    last = session.scalar(select(func.max(AuditVerdict.decided_at)).where(
        AuditVerdict.cycle_id == result.cycle_id, AuditVerdict.person_id == result.person_id))
    return last is not None and last > result.computed_at


def result_of(session: Session, cycle_id: int, person_id: int) -> AuditResult | None:
    return session.scalar(select(AuditResult).where(AuditResult.cycle_id == cycle_id, AuditResult.person_id == person_id))


# =========================================================================== appeals (复审)
def failed_select(auditor: Auditor, cycle: AuditCycle, status: str = "", q: str = ""):
    """不合格材料 the auditor's units may see: failed verdicts (and verdicts passed on appeal) with the
    credit, the person and the appeal if any."""
    v, a = AuditVerdict, AuditAppeal
    inst = aliased(Org)
    stmt = (select(v, Credit, Person, inst.name.label("unit"), a)
            .join(Credit, Credit.id == v.credit_id).join(Person, Person.id == v.person_id)
            .outerjoin(inst, inst.id == v.institution_id).outerjoin(a, a.verdict_id == v.id)
            .where(v.cycle_id == cycle.id, or_(v.verdict == "failed", a.id.is_not(None)),
                   persons_criterion(auditor, cycle.id, v.person_id, v)))
    if status == "none":
        stmt = stmt.where(a.id.is_(None))
    elif status:
        stmt = stmt.where(a.status == status)
    if q:
        stmt = stmt.where(or_(Person.name.contains(q), Person.card_no.contains(q)))
    return stmt.order_by(inst.name, Person.card_no, Credit.granted_on, v.id)


def appeal_open(cycle: AuditCycle, now: datetime.datetime | None = None) -> bool:
    now = now or datetime.datetime.now()
    return cycle.is_open and (cycle.appeal_deadline is None or now <= cycle.appeal_deadline)


def file_appeal(session: Session, auditor: Auditor, verdict: AuditVerdict, reason: str, *, user_id: int | None,
                now: datetime.datetime | None = None) -> AuditAppeal:
    """复审申请 of one unqualified material. Refused after the cycle's appeal deadline (seed 001:
    "应在12月2日17时前申请复审并提交相关证明材料"), for a verdict that is not 不通过, or twice."""
    cycle = session.get(AuditCycle, verdict.cycle_id)
    now = now or datetime.datetime.now()
    if not _held_open(session, cycle):
        raise ReviewError("该审验已关闭，不能再申请复审")
    if cycle.appeal_deadline is not None and now > cycle.appeal_deadline:
        raise ReviewError("复审申请已截止（截止时间：%(deadline)s），不能再申请", deadline=_minute(cycle.appeal_deadline))
    if auditor.kind not in ("scope", "city") or not may_see(session, auditor, cycle, verdict.person_id):
        raise ReviewError("无权为该学员申请复审")
    if verdict.verdict != "failed":
        raise ReviewError("只有审验不通过的材料才能申请复审")
    if session.scalar(select(AuditAppeal.id).where(AuditAppeal.verdict_id == verdict.id)):
        raise ReviewError("该材料已申请过复审")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("请填写复审理由")
    if len(reason) > REASON_MAX:
        raise ReviewError("复审理由不能超过%(n)s个字", n=REASON_MAX)
    # INSERT … ON CONFLICT (verdict_id) DO NOTHING: of two people appealing one material at once,
    # the second is told it was appealed (no unique-key violation).
    if not upsert.insert_ignore(session, AuditAppeal, {
            "cycle_id": cycle.id, "verdict_id": verdict.id, "credit_id": verdict.credit_id, "person_id": verdict.person_id,
            "district_id": verdict.district_id, "institution_id": verdict.institution_id,
            "department_id": verdict.department_id, "reason": reason, "failed_reason": verdict.reason, "status": "pending",
            "created_by_fk": user_id, "created_at": now}, ["verdict_id"]):
        raise ReviewError("该材料已申请过复审（他人刚刚提交），请刷新页面查看")
    return session.scalars(select(AuditAppeal).where(AuditAppeal.verdict_id == verdict.id)).one()


def decide_appeal(session: Session, auditor: Auditor, appeal: AuditAppeal, accept: bool, reason: str) -> AuditAppeal:
    """市继教办复审: accept (the material passes; the person's result is recomputed — the final result)
    or reject with a reason."""
    from app.models import CmeUser
    from app.services import workflow

    if not auditor.is_city:
        raise ReviewError("复审结论由市继教办确定")
    reason = (reason or "").strip()
    if not accept and not reason and appeal.status == "pending":
        raise ReviewError("请填写复审不通过的原因")
    if len(reason) > REASON_MAX:
        raise ReviewError("复审意见不能超过%(n)s个字", n=REASON_MAX)
    now = datetime.datetime.now()
    try:  # workflow.APPEAL by a guarded UPDATE: of two city users deciding at once, one decides
        workflow.apply(appeal, "accept" if accept else "reject", session.get(CmeUser, auditor.user_id),
                       reason or None, session=session, when=now)
    except workflow.WorkflowError as exc:
        raise ReviewError(exc.message, **exc.params) from None
    appeal.decision_reason = reason or None
    appeal.decided_by_fk = auditor.user_id
    appeal.decided_at = now
    if accept:
        verdict = appeal.verdict
        verdict.verdict = "passed"
        verdict.via_appeal = True
        verdict.decided_by_fk = auditor.user_id
        verdict.decided_at = now
        verdict.version = (verdict.version or 0) + 1
        session.flush()
        cycle = session.get(AuditCycle, appeal.cycle_id)
        if result_of(session, cycle.id, appeal.person_id) is not None:
            compute(session, auditor, cycle, appeal.person_id, after_appeal=True)
    session.flush()
    return appeal


# =========================================================================== certificates (证明)
def _new_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def certificate_for(session: Session, result: AuditResult, user_id: int | None) -> AuditCertificate:
    """The certificate of the current result: reused while the result is unchanged; a changed result
    supersedes the old certificate and gets a new code."""
    if result.met is None:
        raise ReviewError("尚未进行达标计算，不能出具证明")
    current = session.scalar(select(AuditCertificate).where(
        AuditCertificate.cycle_id == result.cycle_id, AuditCertificate.person_id == result.person_id,
        AuditCertificate.superseded.is_(False)).order_by(AuditCertificate.id.desc()).limit(1))
    if current is not None and current.result_version == result.version:
        return current
    if current is not None:
        session.execute(update(AuditCertificate).where(
            AuditCertificate.cycle_id == result.cycle_id, AuditCertificate.person_id == result.person_id)
            .values(superseded=True).execution_options(synchronize_session=False))
    cert = AuditCertificate(cycle_id=result.cycle_id, person_id=result.person_id, district_id=result.district_id,
                            institution_id=result.institution_id, department_id=result.department_id,
                            code=_new_code(), met=bool(result.met), total=result.total, required=result.required,
                            result_version=result.version, superseded=False, issued_by_fk=user_id)
    session.add(cert)
    session.flush()
    return cert


def verify(session: Session, code: str) -> AuditCertificate | None:
    code = (code or "").strip().upper().replace(" ", "")
    if len(code) == 16 and "-" not in code:
        code = "-".join(code[i:i + 4] for i in range(0, 16, 4))
    if len(code) != 19:
        return None
    return session.scalar(select(AuditCertificate).where(AuditCertificate.code == code))


# =========================================================================== exports (AUD-8)
RESULT_HEADER = ["审验", "单位", "科室", "姓名", "IC卡号", "职称", "审核状态", "达标状态", "专家计算结果", "已获学分",
                 "要求学分", "结论说明", "计算时间"]
VERDICT_HEADER = ["审验", "单位", "科室", "姓名", "IC卡号", "学分大类", "项目编号", "活动内容", "授分时间", "学分类别",
                  "学科", "学分", "学时", "授分单位", "学分来源", "审核结论", "不通过原因", "审核人", "审核时间", "复审状态"]


def _met_text(value: bool | None) -> str:
    return "未计算" if value is None else ("达标" if value else "不达标")


def _num(value: Any) -> Any:
    return float(value) if value is not None else ""


def result_rows(session: Session, auditor: Auditor, cycle: AuditCycle, f: PersonFilters):
    """Rows of the results export, streamed (yield_per)."""
    q = persons_select(auditor, cycle, f).execution_options(yield_per=1000)
    for _level, unit, dept, person, r in session.execute(q):
        yield [cycle.name, unit or "", dept or "", person.name, person.card_no, person.title or "",
               "已审" if r is not None and r.reviewed else "未审", _met_text(r.met if r else None),
               _met_text(r.expert_met if r else None), _num(r.total if r else None), _num(r.required if r else None),
               (r.summary or "") if r else "", r.computed_at.strftime("%Y-%m-%d %H:%M:%S") if r and r.computed_at else ""]


def verdict_rows(session: Session, auditor: Auditor, cycle: AuditCycle):
    """Rows of the per-credit verdicts export, streamed: every verdict the auditor may see."""
    from app.models import CmeUser
    from app.models.audit_review import APPEAL_STATUSES
    from app.models.credits import CREDIT_SOURCES

    v, a = AuditVerdict, AuditAppeal
    inst, dept = aliased(Org), aliased(Org)
    q = (select(v, Credit, Person.name, Person.card_no, inst.name, dept.name, CmeUser.last_name, CmeUser.username,
                a.status)
         .join(Credit, Credit.id == v.credit_id).join(Person, Person.id == v.person_id)
         .outerjoin(inst, inst.id == v.institution_id).outerjoin(dept, dept.id == v.department_id)
         .outerjoin(CmeUser, CmeUser.id == v.decided_by_fk).outerjoin(a, a.verdict_id == v.id)
         .where(v.cycle_id == cycle.id, persons_criterion(auditor, cycle.id, v.person_id, v))
         .order_by(inst.name, Person.card_no, Credit.granted_on, v.id)).execution_options(yield_per=1000)
    for verdict, c, name, card, unit, dname, last_name, username, appeal_status in session.execute(q):
        yield [cycle.name, unit or "", dname or "", name, card, c.activity_type, c.project_no or "", c.content,
               c.granted_on, c.category, c.subject or "", _num(c.credits), _num(c.hours), c.grantor_name or "",
               CREDIT_SOURCES.get(c.source, c.source), VERDICTS.get(verdict.verdict, verdict.verdict)
               + ("（复审改判）" if verdict.via_appeal else ""), verdict.reason or "", last_name or username or "",
               verdict.decided_at.strftime("%Y-%m-%d %H:%M:%S") if verdict.decided_at else "",
               APPEAL_STATUSES.get(appeal_status, "") if appeal_status else ""]


__all__ = [
    "Auditor",
    "ConflictError",
    "CreditFilters",
    "PersonFilters",
    "ReviewError",
    "appeal_open",
    "certificate_for",
    "compute",
    "counts",
    "cycle_policy",
    "cycles_for",
    "decide_appeal",
    "failed_select",
    "file_appeal",
    "in_period",
    "late_credits",
    "may_audit",
    "may_see",
    "page_of",
    "person_credits",
    "persons_criterion",
    "persons_select",
    "pick_cycle",
    "publish_results",
    "result_is_stale",
    "result_of",
    "result_rows",
    "results_visible",
    "set_reviewed",
    "set_verdicts",
    "verdict_rows",
    "verify",
]
