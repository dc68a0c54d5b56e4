"""The units' part of the credit audit (Flask-free; pass a SQLAlchemy session).

单位审验 — seed 001 四(二)1 "单位审验 (1) 三级医疗卫生机构负责本单位人员的学分审验。(2) 区卫健委负责辖区内除三级医疗
卫生机构以外人员的学分审验 … 护理专业人员按照属地化管理的原则，其学分审验由各区卫健委负责。" and 五 "11 月 1 日—
11 月 5 日：各区卫健委和三级医疗卫生机构学分审验". A 三级 institution judges its own staff but its nurses; a
district judges everyone else of its district and all its nurses. Verdicts only inside the cycle's
unit-audit window (refused before and after it: the lock), one verdict per person and cycle (upsert).

回执 — seed 001 七(三) "各相关单位将本单位被抽查人员名单、科室、职称、IC卡编号和学分审验工作联系人回执于11月7日前…":
a sampled institution confirms its persons on the final list and names a contact person (name, phone);
the city (and the district, for its own) sees who has replied.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Org, Person
from app.models.audit import AuditCycle, AuditFinalPerson
from app.models.audit_units import UNIT_VERDICTS, AuditReply, AuditUnitCheck
from app.services import upsert
from app.services.errors import DomainError
from app.services.scope import Scope

TERTIARY = "三级"
NURSING = "护理学"
REASON_MAX = 500
PAGE_SIZE = 20
# The states of a unit's own audit: the window by the clock, then the work done.
UNIT_STATES = {"unset": "未设置自审时间", "before": "未开始", "open": "进行中", "done": "已完成",
               "locked": "已结束（已锁定）"}
PHONE = re.compile(r"^[0-9+\- ]{7,20}$")


class UnitAuditError(DomainError):
    """A refused 单位审验 or 回执 action; the message is Chinese."""


# =========================================================================== 单位审验
def auditor_org(session: Session, scope: Scope) -> Org | None:
    """The unit a user audits for: a 三级 institution (its admin) or a district (its admin); None for
    anyone else (the other institutions are audited by their district)."""
    if scope.level == "institution":
        org = session.get(Org, scope.org_id)
        return org if org is not None and org.level == TERTIARY else None
    if scope.level == "district":
        return session.get(Org, scope.org_id)
    return None


def _tertiary_ids():
    return select(Org.id).where(Org.kind == "institution", Org.level == TERTIARY)


def _nurse():
    return func.coalesce(Person.specialty, "") == NURSING


def responsible_criterion(org: Org):
    """SQL criterion over Person: the persons ``org`` answers for (see the module docstring)."""
    if org.kind == "institution":
        return and_(Person.institution_id == org.id, ~_nurse())
    return and_(Person.district_id == org.id, or_(~Person.institution_id.in_(_tertiary_ids()), _nurse()))


def responsible_org_id(session: Session, person: Person) -> int | None:
    """The unit answering for ``person``: their 三级 institution (not for nurses), else their district."""
    level = session.scalar(select(Org.level).where(Org.id == person.institution_id))
    if level == TERTIARY and (person.specialty or "") != NURSING:
        return person.institution_id
    return person.district_id


def window_state(cycle: AuditCycle, now: datetime.datetime) -> str:
    """unset / before / open / locked — by the clock against the cycle's unit-audit window."""
    if cycle.unit_audit_start is None or cycle.unit_audit_end is None:
        return "unset"
    if now < cycle.unit_audit_start:
        return "before"
    if now > cycle.unit_audit_end:
        return "locked"
    return "open"


def state(cycle: AuditCycle, figures: dict, now: datetime.datetime) -> str:
    """A unit's state: the window's, or 已完成 when every person is judged inside the window."""
    w = window_state(cycle, now)
    if w == "open" and figures["total"] and figures["judged"] >= figures["total"]:
        return "done"
    return w


def _minute(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def check_window(cycle: AuditCycle, now: datetime.datetime) -> None:
    """Seed 001 五 "11 月 1 日—11 月 5 日": verdicts only inside the window; refused in Chinese outside it."""
    w = window_state(cycle, now)
    if w == "unset":
        raise UnitAuditError("本次审验尚未设置单位自审时间，请联系市继教办")
    if w == "before":
        raise UnitAuditError("单位自审尚未开始（自审时间自%(start)s起），不能审验", start=_minute(cycle.unit_audit_start))
    if w == "locked":
        raise UnitAuditError("单位自审已于%(end)s结束并锁定，不能再审验", end=_minute(cycle.unit_audit_end))


@dataclass(frozen=True)
class UnitFilters:
    name: str = ""
    card: str = ""
    verdict: str = ""  # passed / failed / none / ""


def persons_select(cycle: AuditCycle, org: Org, f: UnitFilters = UnitFilters()):
    """(Person, AuditUnitCheck | None, department name) of the persons ``org`` audits, filtered."""
    dept = aliased(Org)
    q = (select(Person, AuditUnitCheck, dept.name)
         .outerjoin(AuditUnitCheck, and_(AuditUnitCheck.person_id == Person.id, AuditUnitCheck.cycle_id == cycle.id))
         .outerjoin(dept, dept.id == Person.department_id)
         .where(Person.active.is_(True), responsible_criterion(org)))
    if f.name:
        q = q.where(Person.name.like(f.name + "%"))
    if f.card:
        q = q.where(Person.card_no.like(f.card + "%"))
    if f.verdict == "none":
        q = q.where(AuditUnitCheck.id.is_(None))
    elif f.verdict in UNIT_VERDICTS:
        q = q.where(AuditUnitCheck.verdict == f.verdict)
    return q.order_by(Person.institution_id, Person.department_id, Person.id)


def figures(session: Session, cycle: AuditCycle, org: Org) -> dict[str, Any]:
    """The completion figure of a unit: persons, judged, passed, failed, percent."""
    total = session.scalar(select(func.count()).select_from(Person)
                           .where(Person.active.is_(True), responsible_criterion(org))) or 0
    by_verdict = dict(session.execute(
        select(AuditUnitCheck.verdict, func.count()).join(Person, Person.id == AuditUnitCheck.person_id)
        .where(AuditUnitCheck.cycle_id == cycle.id, Person.active.is_(True), responsible_criterion(org))
        .group_by(AuditUnitCheck.verdict)).all())
    judged = sum(by_verdict.values())
    return {"total": total, "judged": judged, "passed": by_verdict.get("passed", 0),
            "failed": by_verdict.get("failed", 0), "percent": round(100 * judged / total) if total else 0}


def set_verdicts(session: Session, cycle: AuditCycle, org: Org, person_ids: Sequence[int], verdict: str,
                 reason: str | None, *, user_id: int | None, now: datetime.datetime | None = None) -> int:
    """合格 / 不合格 for persons ``org`` audits, inside the window. All or nothing: a person outside the
    unit's responsibility (a guessed id) refuses the batch. Returns how many."""
    now = now or datetime.datetime.now()
    if verdict not in UNIT_VERDICTS:
        raise UnitAuditError("审验结论不正确")
    reason = (reason or "").strip()
    if verdict == "failed" and not reason:
        raise UnitAuditError("请填写不合格原因")
    if len(reason) > REASON_MAX:
        raise UnitAuditError("不合格原因不能超过%(n)s个字", n=REASON_MAX)
    # Hold the cycle's row (FOR SHARE): a verdict racing a change of the window is decided on one side of it.
    session.refresh(cycle, attribute_names=["unit_audit_start", "unit_audit_end"], with_for_update={"read": True})
    check_window(cycle, now)
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        raise UnitAuditError("请选择要审验的人员")
    persons = list(session.scalars(select(Person).where(Person.id.in_(ids), Person.active.is_(True),
                                                        responsible_criterion(org))))
    if len(persons) != len(ids):
        raise UnitAuditError("所选人员不在本单位的审验范围内")
    upsert.insert_or_update(session, AuditUnitCheck, [
        {"cycle_id": cycle.id, "person_id": p.id, "auditor_org_id": org.id, "district_id": p.district_id,
         "institution_id": p.institution_id, "department_id": p.department_id, "verdict": verdict,
         "reason": reason or None, "decided_by_fk": user_id, "decided_at": now, "version": 1} for p in persons],
        ["cycle_id", "person_id"], ["verdict", "reason", "decided_by_fk", "decided_at", "auditor_org_id"])
    return len(persons)


def overview(session: Session, cycle: AuditCycle, scope: Scope, now: datetime.datetime | None = None) -> list[dict]:
    """Every auditing unit in ``scope`` (三级 institutions, districts) with its completion figure and state:
    the city sees all, a district itself and its 三级 institutions, a 三级 institution itself."""
    now = now or datetime.datetime.now()
    q = select(Org).where(or_(Org.kind == "district", and_(Org.kind == "institution", Org.level == TERTIARY)),
                          Org.active.is_(True))
    if scope.level == "district":
        q = q.where(or_(Org.id == scope.org_id, Org.district_id == scope.org_id))
    elif scope.level == "institution":
        q = q.where(Org.id == scope.org_id)
    elif not scope.is_all:
        return []
    units = list(session.scalars(q.order_by(Org.kind, Org.district_id, Org.name)))
    names = dict(session.execute(select(Org.id, Org.name).where(Org.kind == "district")).all())
    out = []
    for org in units:
        fig = figures(session, cycle, org)
        out.append({"org": org, "district": names.get(org.district_id if org.kind == "institution" else org.id, ""),
                    "kind": "三级医疗卫生机构" if org.kind == "institution" else "区卫健委", **fig,
                    "state": state(cycle, fig, now)})
    return out


# =========================================================================== 回执
def sampled_persons(session: Session, cycle: AuditCycle, institution_id: int) -> list[tuple]:
    """(Person, department name) of an institution on the cycle's final list — what its 回执 confirms."""
    dept = aliased(Org)
    return list(session.execute(
        select(Person, dept.name).join(AuditFinalPerson, AuditFinalPerson.person_id == Person.id)
        .outerjoin(dept, dept.id == AuditFinalPerson.department_id)
        .where(AuditFinalPerson.cycle_id == cycle.id, AuditFinalPerson.institution_id == institution_id)
        .order_by(AuditFinalPerson.department_id, Person.name, Person.id)).all())


def reply_of(session: Session, cycle_id: int, institution_id: int) -> AuditReply | None:
    return session.scalar(select(AuditReply).where(AuditReply.cycle_id == cycle_id,
                                                   AuditReply.institution_id == institution_id))


def sampled_cycles(session: Session, institution_id: int) -> list[AuditCycle]:
    """The cycles whose final list holds persons of the institution (newest first)."""
    ids = select(AuditFinalPerson.cycle_id).where(AuditFinalPerson.institution_id == institution_id).distinct()
    return list(session.scalars(select(AuditCycle).where(AuditCycle.id.in_(ids)).order_by(AuditCycle.year.desc())))


def save_reply(session: Session, cycle: AuditCycle, institution: Org, *, contact_name: str, contact_phone: str,
               confirmed: bool, remark: str | None, user_id: int | None,
               now: datetime.datetime | None = None) -> AuditReply:
    """The institution's 回执: its sampled persons confirmed and its contact person named (again: updated).
    Seed 001 七(三): "被抽查人员名单、科室、职称、IC卡编号和学分审验工作联系人"."""
    now = now or datetime.datetime.now()
    persons = sampled_persons(session, cycle, institution.id)
    if not persons:
        raise UnitAuditError("本单位不在本次审验的抽查名单中，无需回执")
    name, phone = (contact_name or "").strip(), (contact_phone or "").strip()
    if not name or len(name) > 64:
        raise UnitAuditError("请填写学分审验工作联系人姓名（不超过64个字）")
    if not PHONE.match(phone):
        raise UnitAuditError("联系电话格式不正确（7-20位数字）")
    if not confirmed:
        raise UnitAuditError("请核对被抽查人员名单后勾选确认")
    upsert.insert_or_update(session, AuditReply, [{
        "cycle_id": cycle.id, "institution_id": institution.id, "district_id": institution.district_id,
        "contact_name": name, "contact_phone": phone, "confirmed": True, "persons": len(persons),
        "remark": (remark or "").strip()[:500] or None, "replied_by_fk": user_id, "replied_at": now}],
        ["cycle_id", "institution_id"],
        ["contact_name", "contact_phone", "confirmed", "persons", "remark", "replied_by_fk", "replied_at"])
    return reply_of(session, cycle.id, institution.id)


def replies(session: Session, cycle: AuditCycle, scope: Scope, *, replied: str = "") -> list[dict]:
    """Each sampled institution in ``scope`` with its sampled persons and its 回执 (or None); ``replied``
    "1" / "0" keeps those that have / have not replied. Late replies (after the deadline) are marked."""
    q = (select(AuditFinalPerson.institution_id, func.count()).where(AuditFinalPerson.cycle_id == cycle.id)
         .group_by(AuditFinalPerson.institution_id))
    if scope.level == "district":
        q = q.where(AuditFinalPerson.district_id == scope.org_id)
    elif scope.level == "institution":
        q = q.where(AuditFinalPerson.institution_id == scope.org_id)
    elif not scope.is_all:
        return []
    counts = dict(session.execute(q).all())
    orgs = {o.id: o for o in session.scalars(select(Org).where(Org.id.in_(list(counts))))} if counts else {}
    districts = dict(session.execute(select(Org.id, Org.name).where(Org.kind == "district")).all())
    got = {r.institution_id: r for r in session.scalars(select(AuditReply).where(
        AuditReply.cycle_id == cycle.id, AuditReply.institution_id.in_(list(counts))))} if counts else {}
    out = []
    for inst_id, n in counts.items():
        org, reply = orgs.get(inst_id), got.get(inst_id)
        if replied == "1" and reply is None or replied == "0" and reply is not None:
            continue
        late = bool(reply and cycle.reply_deadline and reply.replied_at > cycle.reply_deadline)
        out.append({"institution_id": inst_id, "name": org.name if org else "", "level": org.level if org else "",
                    "district": districts.get(org.district_id if org else None, ""), "persons": n,
                    "reply": reply, "late": late})
    out.sort(key=lambda r: (r["district"], r["reply"] is not None, r["name"]))
    return out
