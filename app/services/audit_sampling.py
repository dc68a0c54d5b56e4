"""Audit sampling (AUD-3, AUD-4): institution draw by quota, person draws by standard, lists, merge.

Rules from seed 001 (京继委办发〔2022〕4号):

* 四(二)2(1) 抽审单位："各三级医疗卫生机构均参加抽审。各区分别抽取二级医疗卫生机构 1 家，一级医疗卫生机构
  2 家，社会办医疗卫生机构 2 家。" — the numbers are the cycle's ``quotas`` (``DEFAULT_QUOTAS``).
* 四(二)2(3) 抽审人数："按指定单位的科室人员抽取" — a standard draws ``per_department`` persons from every
  department of the sampled (or named) institutions.

Every draw is random but reproducible: candidates are read in id order (one set-based query), then
``random.Random(seed)`` samples them group by group in a fixed order. The seed, the parameters, a digest of
the candidates, the operator and the time are stored on ``AuditDraw``; a re-run with the same seed over the
same data yields the same list.
"""
from __future__ import annotations

import datetime
import hashlib
import random
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from app.i18n import _mark
from app.models import Org, Person
from app.models.audit import (
    DEFAULT_QUOTAS,
    AuditAllocation,
    AuditCycle,
    AuditDraw,
    AuditDrawnPerson,
    AuditFinalPerson,
    AuditSampledInstitution,
    AuditStandard,
)
from app.models.org import INSTITUTION_LEVELS
from app.services import audit, upsert
from app.services.audit import hold_cycle
from app.services.errors import DomainError
from app.services.scope import Scope

Progress = Callable[[int, int, str], None] | None

# 审验归属 → the person specialties it covers (综合 = every specialty). Seed 001 一(二)1(2) puts 护理
# staff under their district; a 护理 standard draws nursing staff only.
AUDIT_SCOPE_SPECIALTIES = {
    "综合": [], "医疗": ["临床医学", "中医学"], "护理": ["护理学"], "医技": ["医学技术"], "药学": ["药学"],
    "公共卫生": ["公共卫生"],
}


class AuditError(DomainError):
    """A refused audit action; the message is Chinese and shown to the user."""


# Messages a view shows in the user's language (marked for extraction, translated where flashed).
STANDARD_CYCLE_NOT_OPEN = _mark("请选择开启中的审验年度")
STANDARD_LOCKED = _mark("专家分配已锁定，不能再修改抽取标准")
STANDARD_NOT_YOURS = _mark("无权维护抽取标准")
STANDARD_HAS_LIST = _mark("该标准已有抽取名单，请先清空名单再修改")
RERUN_STANDARD_GONE = _mark("抽取标准已删除，不能重新抽取")


def new_seed() -> int:
    """A fresh random seed (53 bits: exact in JSON and JavaScript)."""
    return secrets.randbits(53)


def level_order(column: Any):
    """SQL ordering expression for unit levels: 三级, 二级, 一级, 社会办医, then anything else."""
    return case({lvl: i for i, lvl in enumerate(INSTITUTION_LEVELS)}, value=column, else_=len(INSTITUTION_LEVELS))


# --------------------------------------------------------------------------- quotas
def normalise_quotas(quotas: Any) -> dict[str, Any]:
    """Check a cycle's quotas (services/audit.normalise_quotas); raises AuditError in Chinese."""
    return audit.normalise_quotas(quotas, AuditError)


def _digest(values: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for v in values:
        h.update(repr(v).encode())
        h.update(b";")
    return h.hexdigest()[:16]


def _check_scope_for_cycle_draw(scope: Scope) -> None:
    if not scope.is_all:
        raise AuditError("只有市继教办可以抽取抽审单位")


# --------------------------------------------------------------------------- draw records
# A queued or running draw younger than this holds its target (a draw whose job died frees it after).
DRAW_BUSY = datetime.timedelta(hours=1)


def latest_draw(session: Session, cycle_id: int, kind: str, standard_id: int | None = None) -> AuditDraw | None:
    """The last draw of a cycle's institutions (``standard_id`` None) or of one standard's persons."""
    q = select(AuditDraw).where(AuditDraw.cycle_id == cycle_id, AuditDraw.kind == kind)
    if standard_id is not None:
        q = q.where(AuditDraw.standard_id == standard_id)
    return session.scalar(q.order_by(AuditDraw.id.desc()).limit(1))


def _started_by(session: Session, draw: AuditDraw) -> str:
    from app.models import CmeUser
    from app.services.workflow import decided_by

    user = session.get(CmeUser, draw.operator_fk) if draw.operator_fk else None
    name = ((user.get_full_name() or "").strip() or user.username) if user is not None else None
    return decided_by(name, draw.created_at, "发起")


def _check_no_other_draw(session: Session, cycle: AuditCycle, kind: str, standard: AuditStandard | None,
                         seen: int | None, now: datetime.datetime) -> None:
    """Two admins starting (or re-running) one draw at once: the cycle's row is held, so the second
    finds the first one's draw and is refused with who started it and when — while it is still
    queued or running, or whenever the page it came from (``seen``: the last draw id it showed, 0 =
    none) is out of date. One draw, one list, no duplicate rows."""
    latest = latest_draw(session, cycle.id, kind, standard.id if standard else None)
    if latest is None:
        return
    if latest.status in ("queued", "running") and latest.created_at and now - latest.created_at < DRAW_BUSY:
        raise AuditError("已有一次抽取正在进行%(by)s，请等待其完成后查看结果", by=_started_by(session, latest))
    if seen is not None and latest.id != seen:
        raise AuditError("抽取已被他人重新发起%(by)s，本次未执行，请刷新页面查看最新名单", by=_started_by(session, latest))


def create_draw(session: Session, cycle: AuditCycle, operator_id: int, *, kind: str,
                standard: AuditStandard | None = None, seed: int | None = None,
                rerun_of: AuditDraw | None = None, seen: int | None = None,
                now: datetime.datetime | None = None) -> AuditDraw:
    """Record a queued draw (the job then runs ``run_draw``); refused while another draw of the same
    target is under way or since the page ``seen`` (see ``_check_no_other_draw``)."""
    if cycle.status != "open":
        raise AuditError("审验年度已关闭，不能抽取")
    hold_cycle(session, cycle, "专家分配已锁定，不能再抽取%(by)s", AuditError)
    _check_no_other_draw(session, cycle, kind, standard, seen, now or datetime.datetime.now())
    if seed is not None and not (0 <= int(seed) < 2 ** 63):
        raise AuditError("随机种子必须是非负整数")
    draw = AuditDraw(cycle_id=cycle.id, kind=kind, standard_id=standard.id if standard else None,
                     district_id=standard.district_id if standard else None,
                     seed=int(seed) if seed is not None else new_seed(), params={}, status="queued",
                     operator_fk=operator_id, rerun_of_id=rerun_of.id if rerun_of else None)
    session.add(draw)
    session.flush()
    return draw


def set_draw_job(session: Session, draw_id: int, job_id: Any) -> None:
    """Remember the job that runs a draw (one UPDATE; the draw row may have been committed by the job)."""
    session.execute(AuditDraw.__table__.update().where(AuditDraw.id == draw_id).values(job_id=job_id))


def check_rerun(draw: AuditDraw) -> None:
    """按同一种子重新抽取 needs the draw's standard (a person draw); raises AuditError when it was deleted."""
    if draw.kind == "person" and draw.standard is None:
        raise AuditError(RERUN_STANDARD_GONE)


def run_draw(session: Session, draw: AuditDraw, progress: Progress = None) -> int:
    """Run a recorded draw (institutions or persons); returns the number drawn. Caller commits."""
    if draw.kind == "institution":
        n = draw_institutions(session, draw, progress)
    else:
        n = draw_persons(session, draw, progress)
    draw.status = "done"
    draw.drawn_count = n
    draw.finished_at = datetime.datetime.now()
    return n


# --------------------------------------------------------------------------- institutions
def draw_institutions(session: Session, draw: AuditDraw, progress: Progress = None) -> int:
    """抽审单位 of a cycle by its quotas; replaces the cycle's earlier institution sample."""
    cycle = session.get(AuditCycle, draw.cycle_id)
    quotas = normalise_quotas(cycle.quotas or DEFAULT_QUOTAS)
    rows = session.execute(
        select(Org.id, Org.district_id, Org.level)
        .where(Org.kind == "institution", Org.active.is_(True), Org.level.in_(list(quotas)))
        .order_by(Org.district_id, Org.id)).all()
    if progress:
        progress(1, 3, "正在抽取抽审单位")
    groups: dict[tuple[int, str], list[int]] = {}
    for inst_id, district_id, level in rows:
        groups.setdefault((district_id, level), []).append(inst_id)
    rng = random.Random(draw.seed)
    picked: list[tuple[int, int, str, str]] = []
    shortfall = []
    levels = [lvl for lvl in INSTITUTION_LEVELS if lvl in quotas]
    for district_id in sorted({d for d, _ in groups}, key=lambda d: (d is None, d or 0)):
        for level in levels:
            ids = groups.get((district_id, level), [])
            quota = quotas[level]
            if quota == "all":
                chosen, reason = ids, "all"
            else:
                chosen, reason = sorted(rng.sample(ids, min(quota, len(ids)))), "quota"
                if len(ids) < quota:
                    shortfall.append({"district_id": district_id, "level": level, "quota": quota,
                                      "available": len(ids)})
            picked.extend((i, district_id, level, reason) for i in chosen)
    # The warning names the district that fell short (issue 16 item 5), not "有区".
    names = dict(session.execute(select(Org.id, Org.name).where(
        Org.id.in_({s["district_id"] for s in shortfall if s["district_id"] is not None}))).all()) if shortfall else {}
    for s in shortfall:
        s["district_name"] = names.get(s["district_id"], "未归属区")
    draw.params = {"quotas": quotas, "candidates": len(rows), "digest": _digest(rows), "shortfall": shortfall}
    session.execute(delete(AuditSampledInstitution).where(AuditSampledInstitution.cycle_id == cycle.id))
    if picked:
        session.execute(insert(AuditSampledInstitution), [
            {"cycle_id": cycle.id, "draw_id": draw.id, "institution_id": i, "district_id": d, "level": lvl,
             "reason": reason} for i, d, lvl, reason in picked])
    if progress:
        progress(2, 3, "正在保存抽审单位")
    return len(picked)


# --------------------------------------------------------------------------- standards
def check_standard_scope(scope: Scope, standard: AuditStandard) -> None:
    """A district admin works on its own district's standards only; the city on all."""
    if scope.is_all:
        return
    if scope.level == "district" and standard.district_id is not None and standard.district_id == scope.org_id:
        return
    raise AuditError("无权操作该抽取标准")


def prepare_standard(session: Session, scope: Scope, standard: AuditStandard, *, cycle_id: int,
                     unit_levels: list[str], titles: list[str], specialties: list[str],
                     institution_ids: list[int]) -> None:
    """Before a standard is added or saved (审验标准设置): it belongs to an open, unlocked cycle (and takes
    its year), a district admin's standard is its district's, the values are valid (``validate_standard``)
    and a standard with a drawn list is not changed. Raises AuditError; the caller commits."""
    cycle = session.get(AuditCycle, cycle_id)
    if cycle is None or cycle.status != "open":
        raise AuditError(STANDARD_CYCLE_NOT_OPEN)
    if cycle.allocation_locked:
        raise AuditError(STANDARD_LOCKED)
    standard.cycle_id, standard.year = cycle.id, cycle.year
    standard.unit_levels = list(unit_levels)
    standard.titles = list(titles)
    standard.specialties = list(specialties)
    standard.institution_ids = list(institution_ids)
    if scope.is_all:
        pass  # a city standard (district_id stays as it was: NULL)
    elif scope.level == "district":
        standard.district_id = scope.org_id
    else:
        raise AuditError(STANDARD_NOT_YOURS)
    validate_standard(session, standard)
    if standard.id is not None and session.scalar(select(AuditDrawnPerson.id)
                                                  .where(AuditDrawnPerson.standard_id == standard.id).limit(1)):
        raise AuditError(STANDARD_HAS_LIST)


def validate_standard(session: Session, standard: AuditStandard) -> None:
    """Check a standard before saving (Chinese message on the first problem)."""
    if not (standard.name or "").strip():
        raise AuditError("请填写标准名称")
    if standard.per_department is None or standard.per_department < 0:
        raise AuditError("每科室抽取人数必须是不小于0的整数（0表示全部）")
    for level in standard.unit_levels or []:
        if level not in INSTITUTION_LEVELS:
            raise AuditError("未知的单位级别：%(level)s", level=level)
    if standard.audit_scope not in AUDIT_SCOPE_SPECIALTIES:
        raise AuditError("审验归属不正确")
    ids = [int(i) for i in standard.institution_ids or []]
    if ids:
        q = select(Org.id, Org.district_id).where(Org.id.in_(ids), Org.kind == "institution")
        found = dict(session.execute(q).all())
        if len(found) != len(set(ids)):
            raise AuditError("指定单位中有不存在的机构")
        if standard.district_id is not None and any(d != standard.district_id for d in found.values()):
            raise AuditError("区级抽取标准只能指定本区的机构")


def _standard_institutions(session: Session, standard: AuditStandard) -> list[int]:
    """The institutions a standard draws in: the named ones, else the cycle's sampled ones (by level)."""
    if standard.institution_ids:
        q = select(Org.id).where(Org.id.in_([int(i) for i in standard.institution_ids]), Org.kind == "institution")
        if standard.unit_levels:
            q = q.where(Org.level.in_(standard.unit_levels))
    else:
        q = select(AuditSampledInstitution.institution_id).where(AuditSampledInstitution.cycle_id == standard.cycle_id)
        if standard.unit_levels:
            q = q.where(AuditSampledInstitution.level.in_(standard.unit_levels))
        if standard.district_id is not None:
            q = q.where(AuditSampledInstitution.district_id == standard.district_id)
    if standard.district_id is not None and standard.institution_ids:
        q = q.where(Org.district_id == standard.district_id)
    return sorted(session.scalars(q))


def _earlier_cycles(cycle: AuditCycle):
    return select(AuditCycle.id).where(AuditCycle.year < cycle.year)


def candidates_select(session: Session, standard: AuditStandard, cycle: AuditCycle, institution_ids: list[int]):
    """SELECT (institution_id, department_id, person id) of the persons a standard may draw, in id order."""
    q = (select(Person.institution_id, Person.department_id, Person.id)
         .where(Person.active.is_(True), Person.institution_id.in_(institution_ids)))
    if standard.titles:
        q = q.where(Person.title.in_(standard.titles))
    specialties = list(standard.specialties or []) or AUDIT_SCOPE_SPECIALTIES.get(standard.audit_scope or "综合", [])
    if standard.specialties and AUDIT_SCOPE_SPECIALTIES.get(standard.audit_scope or "综合"):
        specialties = [s for s in standard.specialties if s in AUDIT_SCOPE_SPECIALTIES[standard.audit_scope]]
        if not specialties:
            return None
    if specialties:
        q = q.where(Person.specialty.in_(specialties))
    if not standard.allow_repeat:
        # 是否重复抽取 = 否: nobody drawn (or on the final list) in an earlier cycle.
        earlier = _earlier_cycles(cycle)
        q = q.where(~Person.id.in_(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.cycle_id.in_(earlier))),
                    ~Person.id.in_(select(AuditFinalPerson.person_id).where(AuditFinalPerson.cycle_id.in_(earlier))))
    # The department NULL group first, then by department id; persons by id: a fixed order for the RNG.
    return q.order_by(Person.institution_id, func.coalesce(Person.department_id, 0), Person.id)


def draw_persons(session: Session, draw: AuditDraw, progress: Progress = None) -> int:
    """按指定单位的科室人员抽取: ``per_department`` persons of each department (0 = all of them)."""
    standard = session.get(AuditStandard, draw.standard_id)
    if standard is None:
        raise AuditError("抽取标准不存在")
    cycle = session.get(AuditCycle, draw.cycle_id)
    institution_ids = _standard_institutions(session, standard)
    if progress:
        progress(1, 4, "正在读取候选人员")
    q = candidates_select(session, standard, cycle, institution_ids) if institution_ids else None
    rows = session.execute(q).all() if q is not None else []
    groups: dict[tuple[int, int], list[int]] = {}
    for inst_id, dept_id, person_id in rows:
        groups.setdefault((inst_id, dept_id or 0), []).append(person_id)
    if progress:
        progress(2, 4, f"正在从{len(rows)}名候选人员中抽取")
    rng = random.Random(draw.seed)
    k = standard.per_department or 0
    chosen: list[int] = []
    for key in sorted(groups):
        ids = groups[key]
        chosen.extend(ids if k == 0 else sorted(rng.sample(ids, min(k, len(ids)))))
    draw.params = {
        "standard": {"name": standard.name, "year": standard.year, "unit_levels": standard.unit_levels,
                     "titles": standard.titles, "specialties": standard.specialties,
                     "audit_scope": standard.audit_scope, "institution_ids": standard.institution_ids,
                     "allow_repeat": standard.allow_repeat, "per_department": k,
                     "district_id": standard.district_id},
        "institutions": institution_ids, "candidates": len(rows), "digest": _digest(rows),
    }
    session.execute(delete(AuditDrawnPerson).where(AuditDrawnPerson.standard_id == standard.id))
    if chosen:
        # One INSERT … SELECT per chunk: unit, department and level copied from the person's rows.
        inst = aliased(Org)
        for start in range(0, len(chosen), 5000):
            part = chosen[start:start + 5000]
            src = (select(literal(cycle.id), literal(draw.id), literal(standard.id), Person.id, Person.district_id,
                          Person.institution_id, Person.department_id, inst.level)
                   .join(inst, inst.id == Person.institution_id).where(Person.id.in_(part)))
            session.execute(insert(AuditDrawnPerson).from_select(
                ["cycle_id", "draw_id", "standard_id", "person_id", "district_id", "institution_id", "department_id",
                 "level"], src))
    if progress:
        progress(3, 4, "正在保存名单")
    return len(chosen)


def clear_standard_list(session: Session, scope: Scope, standard: AuditStandard) -> int:
    """清空: remove a standard's drawn list (the draw records stay as history)."""
    check_standard_scope(scope, standard)
    cycle = session.get(AuditCycle, standard.cycle_id)
    hold_cycle(session, cycle, "专家分配已锁定，不能清空名单%(by)s", AuditError)
    n = session.execute(delete(AuditDrawnPerson).where(AuditDrawnPerson.standard_id == standard.id)).rowcount
    session.execute(update(AuditDraw).where(AuditDraw.standard_id == standard.id, AuditDraw.status == "done")
                    .values(status="cleared"))
    return n or 0


def delete_standard(session: Session, scope: Scope, standard: AuditStandard) -> None:
    check_standard_scope(scope, standard)
    if session.scalar(select(func.count()).select_from(AuditDrawnPerson)
                      .where(AuditDrawnPerson.standard_id == standard.id)):
        raise AuditError("该标准已有抽取名单，请先清空名单再删除")
    session.execute(update(AuditDraw).where(AuditDraw.standard_id == standard.id).values(standard_id=None))
    session.execute(update(AuditFinalPerson).where(AuditFinalPerson.source_standard_id == standard.id)
                    .values(source_standard_id=None))
    session.delete(standard)


# --------------------------------------------------------------------------- lists
def remove_drawn_person(session: Session, scope: Scope, row: AuditDrawnPerson) -> None:
    standard = session.get(AuditStandard, row.standard_id)
    check_standard_scope(scope, standard)
    hold_cycle(session, session.get(AuditCycle, row.cycle_id), "专家分配已锁定，不能修改名单%(by)s", AuditError)
    session.delete(row)


def merge_into_final(session: Session, scope: Scope, cycle: AuditCycle, standard_ids: list[int],
                     operator_id: int) -> int:
    """Merge drawn lists into the cycle's final list; a person already there (or on two lists) once.

    Returns the number of persons added. City only; refused once the allocation is locked."""
    if not scope.is_all:
        raise AuditError("只有市继教办可以生成最终抽取名单")
    hold_cycle(session, cycle, "专家分配已锁定，不能修改最终名单%(by)s", AuditError)
    ids = sorted({int(i) for i in standard_ids})
    if not ids:
        raise AuditError("请选择要合并的名单")
    found = set(session.scalars(select(AuditStandard.id).where(AuditStandard.id.in_(ids),
                                                               AuditStandard.cycle_id == cycle.id)))
    if found != set(ids):
        raise AuditError("所选名单不属于该审验年度")
    d = AuditDrawnPerson
    first = (select(func.min(d.id)).where(d.standard_id.in_(ids)).group_by(d.person_id))
    src = (select(d.cycle_id, d.person_id, d.standard_id, d.district_id, d.institution_id, d.department_id, d.level)
           .where(d.id.in_(first),
                  ~d.person_id.in_(select(AuditFinalPerson.person_id).where(AuditFinalPerson.cycle_id == cycle.id))))
    before = _final_count(session, cycle.id)
    # The cycle row is held (hold_cycle), so merges of one cycle run one after the other; ON CONFLICT
    # keeps a person once even so (uq_audit_final_cycle_person).
    stmt = upsert.insert_from_select_ignore(
        session, AuditFinalPerson,
        ["cycle_id", "person_id", "source_standard_id", "district_id", "institution_id", "department_id", "level"],
        src, ["cycle_id", "person_id"])
    session.execute(stmt)
    session.execute(update(AuditFinalPerson).where(AuditFinalPerson.cycle_id == cycle.id,
                                                   AuditFinalPerson.added_by_fk.is_(None))
                    .values(added_by_fk=operator_id).execution_options(synchronize_session=False))
    return _final_count(session, cycle.id) - before


def _final_count(session: Session, cycle_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditFinalPerson)
                          .where(AuditFinalPerson.cycle_id == cycle_id)) or 0


def remove_final_person(session: Session, scope: Scope, row: AuditFinalPerson) -> None:
    if not scope.is_all:
        raise AuditError("只有市继教办可以修改最终抽取名单")
    hold_cycle(session, session.get(AuditCycle, row.cycle_id), "专家分配已锁定，不能修改最终名单%(by)s", AuditError)
    if session.scalar(select(AuditAllocation.id).where(AuditAllocation.final_person_id == row.id)):
        raise AuditError("该人员已分配给专家，请先清空该专家的分配")
    session.delete(row)


# --------------------------------------------------------------------------- grouped lists
def list_query(model: Any, criterion: Any):
    """Rows of a drawn or final list, ordered level → unit → department → person (one query)."""
    inst, dept = aliased(Org), aliased(Org)
    return (select(model, Person, inst.name.label("institution_name"), dept.name.label("department_name"))
            .join(Person, Person.id == model.person_id)
            .join(inst, inst.id == model.institution_id)
            .outerjoin(dept, dept.id == model.department_id)
            .where(criterion)
            .order_by(level_order(model.level), inst.name, model.institution_id,
                      func.coalesce(dept.name, ""), model.department_id, Person.id))


def group_counts(session: Session, model: Any, criterion: Any) -> dict[str, Any]:
    """小计 per unit and 人数 per department of a whole list, and its totals (GROUP BY, one query)."""
    rows = session.execute(select(model.institution_id, model.department_id, func.count())
                           .where(criterion).group_by(model.institution_id, model.department_id)).all()
    units: dict[int, int] = {}
    depts: dict[tuple[int, int], int] = {}
    for inst_id, dept_id, n in rows:
        units[inst_id] = units.get(inst_id, 0) + n
        depts[(inst_id, dept_id or 0)] = n
    return {"units": units, "departments": depts, "persons": sum(units.values()), "unit_count": len(units)}


def compliance_of(session: Session, person_ids: list[int], year: int) -> dict[int, bool]:
    """Current 达标 state of persons for a year (latest computed result), one query."""
    from app.models import ComplianceResult

    if not person_ids:
        return {}
    rows = session.execute(select(ComplianceResult.person_id, ComplianceResult.met)
                           .where(ComplianceResult.person_id.in_(person_ids), ComplianceResult.year == year)
                           .order_by(ComplianceResult.computed_at, ComplianceResult.id)).all()
    return {pid: met for pid, met in rows}


def standard_list_criterion(standard_id: int, scope: Scope):
    return and_(AuditDrawnPerson.standard_id == standard_id, scope.criterion(AuditDrawnPerson))


def final_list_criterion(cycle_id: int, scope: Scope):
    return and_(AuditFinalPerson.cycle_id == cycle_id, scope.criterion(AuditFinalPerson))


