"""Audit helpers shared by the audit areas (Flask-free; pass a SQLAlchemy session).

* ``credit_window(cycle)`` — the dates compliance counts in a cycle (AUD-1: "Compliance in a cycle
  counts only credits inside its window"; seed 001 三、"2021 年 11 月 1 日至 2022 年 10 月 31 日期间卫生技术
  人员获取的继续医学教育学分").
* ``allocated_person_ids`` / ``allocated_persons_criterion`` / ``expert_may_see_person`` — an expert's data
  scope: the persons allocated to them (专家分配), nothing else.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import aliased

from app.i18n import _mark
from app.models import Org
from app.models.audit import (
    AuditAllocation,
    AuditCycle,
    AuditDraw,
    AuditExpert,
    AuditFinalPerson,
    AuditStandard,
)
from app.models.org import INSTITUTION_LEVELS
from app.services import users
from app.services.errors import N_, DomainError


def credit_window(cycle: AuditCycle) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) — both inclusive — of the credits a cycle audits."""
    return cycle.window_start, cycle.window_end


def credit_in_window_criterion(cycle: AuditCycle, date_column: Any):
    """SQL criterion: ``date_column`` (a Date/DateTime credit date) inside the cycle's window.

    The end is compared as "< the day after" so DateTime columns include the whole last day.
    """
    start, end = credit_window(cycle)
    return (date_column >= start) & (date_column < end + datetime.timedelta(days=1))


def _expert_ids_select(user_id: int, cycle_id: int | None = None):
    q = select(AuditExpert.id).where(AuditExpert.user_id == user_id, AuditExpert.status == "active")
    if cycle_id is not None:
        q = q.where(AuditExpert.year == select(AuditCycle.year).where(AuditCycle.id == cycle_id)
                    .scalar_subquery())
    return q


def allocated_persons_select(user_id: int, cycle_id: int | None = None):
    """SELECT person_id of the persons allocated to the expert account ``user_id``.

    ``cycle_id`` narrows to one cycle; without it every cycle counts (an expert only sees rows of
    their own active expert records). A disabled (注销) expert sees nobody.
    """
    q = select(AuditAllocation.person_id).where(AuditAllocation.expert_id.in_(_expert_ids_select(user_id, cycle_id)))
    if cycle_id is not None:
        q = q.where(AuditAllocation.cycle_id == cycle_id)
    return q


def allocated_person_ids(session, expert_user: Any, cycle_id: int | None = None) -> set[int]:
    """Ids of the persons allocated to ``expert_user`` (a CmeUser or its id)."""
    user_id = getattr(expert_user, "id", expert_user)
    if user_id is None:
        return set()
    return set(session.execute(allocated_persons_select(user_id, cycle_id)).scalars())


def allocated_persons_criterion(expert_user: Any, person_id_column: Any, cycle_id: int | None = None):
    """SQL criterion for a query: ``person_id_column`` is a person allocated to this expert."""
    user_id = getattr(expert_user, "id", expert_user)
    return person_id_column.in_(allocated_persons_select(user_id, cycle_id))


def expert_may_see_person(session, expert_user: Any, person_id: int, cycle_id: int | None = None) -> bool:
    user_id = getattr(expert_user, "id", expert_user)
    q = allocated_persons_select(user_id, cycle_id).where(AuditAllocation.person_id == person_id).limit(1)
    return session.execute(q).first() is not None


# =========================================================================== cycles (AUD-1)
class AuditAdminError(DomainError):
    """A refused audit-administration action; the message is Chinese."""


# Messages a view shows in the user's language (marked for extraction, translated where flashed).
QUOTA_NOT_INTEGER = _mark("配额必须是整数")
CYCLE_HAS_DRAWS = _mark("该审验年度已有抽取记录，不能删除，可将其关闭")
CYCLE_HAS_STANDARDS = _mark("该审验年度已有抽取标准，不能删除")
EXPERT_ALLOCATED = _mark("该专家已分配审验人员，不能删除；请先清空分配")


def cycle_quotas(per_district: Mapping[str, Any], *, tertiary_all: bool) -> dict[str, Any]:
    """The 抽审单位配额 of the 审验时间设置 form (seed 001 四(二)2(1)): 三级 "all" when every tertiary
    institution takes part (else 0), then each level's number per district as typed (``{"二级": "1", …}``).

    Raises AuditAdminError("配额必须是整数") when a number is not an integer; the ranges are
    checked by ``validate_cycle``.
    """
    quotas: dict[str, Any] = {"三级": "all"} if tertiary_all else {"三级": 0}
    for level, value in per_district.items():
        try:
            quotas[level] = int(value)
        except (TypeError, ValueError):
            raise AuditAdminError(QUOTA_NOT_INTEGER) from None
    return quotas


def prepare_cycle(session, cycle: AuditCycle, *, per_district: Mapping[str, Any], tertiary_all: bool) -> None:
    """Before a cycle is added or saved: set its quotas from the form (``cycle_quotas``) and check it
    (``validate_cycle``). Raises AuditAdminError; the caller commits."""
    cycle.quotas = cycle_quotas(per_district, tertiary_all=tertiary_all)
    validate_cycle(session, cycle)


def check_cycle_deletable(session, cycle: AuditCycle) -> None:
    """A cycle with draws or sampling standards stays (it can be closed); raises AuditAdminError."""
    if session.scalar(select(AuditDraw.id).where(AuditDraw.cycle_id == cycle.id).limit(1)):
        raise AuditAdminError(CYCLE_HAS_DRAWS)
    if session.scalar(select(AuditStandard.id).where(AuditStandard.cycle_id == cycle.id).limit(1)):
        raise AuditAdminError(CYCLE_HAS_STANDARDS)


def normalise_quotas(quotas: Any, error: type[DomainError] | None = None) -> dict[str, Any]:
    """Check a cycle's quotas: {level: "all" | non-negative int}; raises ``error`` (AuditAdminError)."""
    error = error or AuditAdminError
    if not isinstance(quotas, dict) or not quotas:
        raise error(N_("抽审单位配额格式不正确"))
    out: dict[str, Any] = {}
    for level, value in quotas.items():
        if level not in INSTITUTION_LEVELS:
            raise error(N_("未知的单位级别：%(level)s"), level=level)
        if value == "all":
            out[level] = "all"
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise error(N_("%(level)s的抽取家数必须是不小于0的整数"), level=level)
        out[level] = value
    return out


def validate_cycle(session, cycle: AuditCycle) -> None:
    """Dates in order, one open cycle per year (AUD-1), quotas well-formed; raises AuditAdminError."""
    if not (cycle.name or "").strip():
        raise AuditAdminError("请填写名称")
    if not cycle.year or not (2000 <= int(cycle.year) <= 2100):
        raise AuditAdminError("年度不正确")
    if not cycle.window_start or not cycle.window_end or cycle.window_start > cycle.window_end:
        raise AuditAdminError("学分时间范围的开始日期不能晚于结束日期")
    if not cycle.audit_start or not cycle.audit_end or cycle.audit_start > cycle.audit_end:
        raise AuditAdminError("审验时间的开始时间不能晚于结束时间")
    if cycle.appeal_deadline and cycle.appeal_deadline < cycle.audit_start:
        raise AuditAdminError("复审截止时间不能早于审验开始时间")
    cycle.quotas = normalise_quotas(cycle.quotas)
    if cycle.status == "open":
        q = select(AuditCycle.id).where(AuditCycle.year == cycle.year, AuditCycle.status == "open")
        if cycle.id is not None:
            q = q.where(AuditCycle.id != cycle.id)
        with session.no_autoflush:
            if session.execute(q.limit(1)).first():
                raise AuditAdminError("%(year)s年度已有开启的审验，请先关闭后再开启新的审验", year=cycle.year)


def open_cycle(session, year: int) -> AuditCycle | None:
    """The open cycle of ``year`` (None when there is none)."""
    return session.scalar(select(AuditCycle).where(AuditCycle.year == year, AuditCycle.status == "open"))


# =========================================================================== experts (AUD-2)
def _random_password() -> str:
    import secrets
    import string

    # Letters, digits and a symbol: passes the password rules (three character classes, length ≥ 8).
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(10))
    return core[:3] + secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + secrets.choice("23456789") + "@" + core[3:]


def _hash(password: str) -> str:
    return users.hash_password(password)


def create_expert(session, *, username: str, name: str, year: int, contact: str = "", unit: str = "",
                  password: str | None = None) -> tuple[AuditExpert, str | None]:
    """A new expert of ``year``: the login (role 审验专家) is created, or reused when that username
    already is an expert of another year. Returns (expert, the initial password when one was generated)."""

    from app.models import CmeUser
    from app.services.passwords import check_password
    from app.services.roles import EXPERT

    username = (username or "").strip()
    name = (name or "").strip()
    if not username or not name:
        raise AuditAdminError("请填写用户名和负责人")
    if not year or not (2000 <= int(year) <= 2100):
        raise AuditAdminError("年度不正确")
    user = session.scalar(select(CmeUser).where(CmeUser.username == username))
    generated = None
    if user is not None:
        if [r.name for r in user.roles] != [EXPERT]:
            raise AuditAdminError("该用户名已被其他账号使用")
        if session.scalar(select(AuditExpert.id).where(AuditExpert.user_id == user.id, AuditExpert.year == year)):
            raise AuditAdminError("%(username)s 已是%(year)s年度的审验专家", username=username, year=year)
    else:
        if password:
            problem = check_password(password)
            if problem:
                raise AuditAdminError(problem)
        else:
            password = generated = _random_password()
        try:
            user = users.create_user(session, username, EXPERT, last_name=name, password=password,
                                     email=f"{username}@expert.cme.local")
        except users.UserError:
            raise AuditAdminError("该用户名已被其他账号使用（可能刚由他人创建），请刷新后查看") from None
    expert = AuditExpert(user_id=user.id, year=int(year), name=name, contact=(contact or "").strip() or None,
                         unit=(unit or "").strip() or None, status="active")
    _insert_once(session, expert, "%(username)s 已是%(year)s年度的审验专家（可能刚由他人添加），请刷新后查看",
                 username=username, year=year)
    user.active = True
    return expert, generated


def _insert_once(session, row: Any, message: str, **params: Any) -> None:
    """Insert ``row`` now: two city users creating the same expert account (or the same year of it) at
    once both pass the checks above; the unique key lets one in and the other is refused in Chinese
    instead of a database error. The refused transaction is rolled back whole (nothing else of it is
    kept: the caller had nothing else pending)."""
    from sqlalchemy.exc import IntegrityError

    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AuditAdminError(message, **params) from None


def reset_expert_password(session, expert: AuditExpert) -> str:
    """密码初始化: a new random password, stored hashed; returned once for the page to show."""
    password = _random_password()
    expert.user.password = _hash(password)
    return password


def set_expert_status(session, expert: AuditExpert, status: str) -> None:
    """Disable (注销) or re-enable an expert; the login is active while any of its years is active."""
    if status not in ("active", "disabled"):
        raise AuditAdminError("状态不正确")
    # Hold the login's row: two years of one expert changed at once count each other's new status
    # (without the lock both read the other as still active and the login stayed enabled).
    session.refresh(expert.user, attribute_names=["active"], with_for_update=True)
    expert.status = status
    session.flush()
    others = session.scalar(select(func.count()).select_from(AuditExpert)
                            .where(AuditExpert.user_id == expert.user_id, AuditExpert.status == "active"))
    expert.user.active = bool(others)


def expert_allocated_count(session, expert_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditAllocation)
                          .where(AuditAllocation.expert_id == expert_id)) or 0


def check_expert_deletable(session, expert: AuditExpert) -> None:
    """An expert with allocated persons stays (清空分配 first); raises AuditAdminError."""
    if expert_allocated_count(session, expert.id):
        raise AuditAdminError(EXPERT_ALLOCATED)


def retire_expert_login(session, user: Any) -> bool:
    """After an expert row is deleted: the login (it holds only the expert role) goes with its last
    year. Returns True when the login was switched off (the caller commits)."""
    if session.scalar(select(AuditExpert.id).where(AuditExpert.user_id == user.id)):
        return False
    user.active = False  # the account stays (log rows name it) but can no longer sign in
    return True


def delete_expert(session, expert: AuditExpert) -> None:
    """Delete an expert of a year — only when nobody is allocated to it. The login goes with its
    last year (it holds only the expert role)."""
    check_expert_deletable(session, expert)
    user = expert.user
    session.delete(expert)
    session.flush()
    retire_expert_login(session, user)


# =========================================================================== allocation (AUD-5)
def hold_cycle(session, cycle: AuditCycle, message: str = "专家分配已锁定，不能再修改%(by)s",
               error: type[Exception] | None = None) -> None:
    """Hold the cycle's row (SELECT … FOR UPDATE) and read its lock again from the database: a list
    or allocation change racing 锁定分配结果 either commits before the lock or is refused after it —
    never changed behind a locked allocation. Refused with who locked it and when: ``message`` is a
    message id with a ``%(by)s`` parameter."""
    session.refresh(cycle, attribute_names=["allocation_locked", "locked_at", "locked_by_fk", "status"],
                    with_for_update=True)
    if cycle.allocation_locked:
        raise (error or AuditAdminError)(message, by=locked_by(session, cycle))


def locked_by(session, cycle: AuditCycle) -> str:
    """"（张三 于 2026-… 锁定）" for a locked allocation, or ""."""
    from app.models import CmeUser
    from app.services.workflow import decided_by

    if not cycle.allocation_locked:
        return ""
    user = session.get(CmeUser, cycle.locked_by_fk) if cycle.locked_by_fk else None
    name = ((user.get_full_name() or "").strip() or user.username) if user is not None else None
    return decided_by(name, cycle.locked_at, "锁定")


def _check_unlocked(cycle: AuditCycle) -> None:
    from sqlalchemy.orm import object_session

    hold_cycle(object_session(cycle), cycle)


def _expert_of_cycle(session, cycle: AuditCycle, expert_id: int) -> AuditExpert:
    expert = session.get(AuditExpert, expert_id)
    if expert is None or expert.year != cycle.year:
        raise AuditAdminError("专家不属于该审验年度")
    return expert


def _allocate_select(cycle_id: int, units: list[int], departments: list[tuple[int, int]]):

    fp = AuditFinalPerson
    conds = []
    if units:
        conds.append(fp.institution_id.in_(units))
    for inst_id, dept_id in departments:
        conds.append(and_(fp.institution_id == inst_id, func.coalesce(fp.department_id, 0) == dept_id))
    return (select(fp.id).where(fp.cycle_id == cycle_id, or_(*conds),
                                ~fp.id.in_(select(AuditAllocation.final_person_id)
                                           .where(AuditAllocation.cycle_id == cycle_id))))


def allocate(session, cycle: AuditCycle, expert_id: int, *, units: list[int] = (),
             departments: list[tuple[int, int]] = (), operator_id: int | None = None) -> int:
    """分配学员: give the still unallocated final-list persons of the chosen units (whole institutions)
    and departments ((institution id, department id or 0)) to an expert. Returns how many."""

    _check_unlocked(cycle)
    expert = _expert_of_cycle(session, cycle, expert_id)
    if expert.status != "active":
        raise AuditAdminError("该专家已注销，不能分配")
    units, departments = list(units), list(departments)
    if not units and not departments:
        raise AuditAdminError("请选择要分配的单位或科室")
    fp = AuditFinalPerson
    src = (select(literal(cycle.id), fp.id, fp.person_id, literal(expert.id), fp.district_id, fp.institution_id,
                  fp.department_id, literal(operator_id), literal(datetime.datetime.now()))
           .where(fp.id.in_(_allocate_select(cycle.id, units, departments))))
    result = session.execute(insert(AuditAllocation).from_select(
        ["cycle_id", "final_person_id", "person_id", "expert_id", "district_id", "institution_id", "department_id",
         "allocated_by_fk", "allocated_at"], src))
    return result.rowcount or 0


def clear_allocation(session, cycle: AuditCycle, expert_id: int) -> int:
    """清空分配 of one expert in a cycle."""

    _check_unlocked(cycle)
    _expert_of_cycle(session, cycle, expert_id)
    return session.execute(delete(AuditAllocation).where(AuditAllocation.cycle_id == cycle.id,
                                                         AuditAllocation.expert_id == expert_id)).rowcount or 0


def lock_allocation(session, cycle: AuditCycle, operator_id: int) -> None:
    """锁定分配结果: from now on nobody changes the allocation (there is no unlock)."""
    _check_unlocked(cycle)
    if not session.scalar(select(AuditAllocation.id).where(AuditAllocation.cycle_id == cycle.id).limit(1)):
        raise AuditAdminError("尚未分配任何学员，不能锁定")
    from app.services.workflow import TransitionConflict, guarded_set

    # The row is held since _check_unlocked; the guarded UPDATE keeps SQLite (no FOR UPDATE) safe too.
    try:
        guarded_set(session, cycle, False, True, column="allocation_locked",
                    describe=lambda: "操作未执行：专家分配已由他人先锁定，请刷新页面查看",
                    locked_at=datetime.datetime.now(), locked_by_fk=operator_id)
    except TransitionConflict as exc:
        raise AuditAdminError(exc.message, **exc.params) from None


def allocation_counters(session, cycle: AuditCycle) -> dict[str, int]:
    """已分配/未分配 单位, 学员, 专家 of a cycle (seed 003: "已分配单位数量: 0 已分配学员数量: 0
    未分配单位数量: 1 未分配学员数量: 33 已分配专家数量: 0 未分配专家数量: 1"). Three GROUP BY queries."""

    fp, al = AuditFinalPerson, AuditAllocation
    rows = session.execute(
        select(fp.institution_id, func.count(fp.id), func.count(al.id))
        .outerjoin(al, al.final_person_id == fp.id).where(fp.cycle_id == cycle.id)
        .group_by(fp.institution_id)).all()
    allocated_units = sum(1 for _, _, a in rows if a)
    unallocated_units = sum(1 for _, n, a in rows if n > a)
    allocated_persons = sum(a for _, _, a in rows)
    total = sum(n for _, n, _ in rows)
    experts = session.execute(
        select(AuditExpert.id, func.count(al.id))
        .outerjoin(al, (al.expert_id == AuditExpert.id) & (al.cycle_id == cycle.id))
        .where(AuditExpert.year == cycle.year, AuditExpert.status == "active")
        .group_by(AuditExpert.id)).all()
    return {"allocated_units": allocated_units, "unallocated_units": unallocated_units,
            "allocated_persons": allocated_persons, "unallocated_persons": total - allocated_persons,
            "allocated_experts": sum(1 for _, n in experts if n), "unallocated_experts": sum(1 for _, n in experts if not n)}


def expert_rows(session, cycle: AuditCycle, name: str = "", unit: str = "") -> list[dict]:
    """The 专家分配 table: each expert of the cycle's year with 分配人数, 覆盖区域, 覆盖单位, 分配状态."""


    al = AuditAllocation
    q = select(AuditExpert).where(AuditExpert.year == cycle.year)
    if name:
        q = q.where(AuditExpert.name.contains(name))
    if unit:
        q = q.where(AuditExpert.unit.contains(unit))
    experts = list(session.scalars(q.order_by(AuditExpert.id)))
    ids = [e.id for e in experts]
    counts = dict(session.execute(select(al.expert_id, func.count()).where(al.cycle_id == cycle.id, al.expert_id.in_(ids))
                                  .group_by(al.expert_id)).all()) if ids else {}
    cover = session.execute(select(al.expert_id, al.district_id, al.institution_id)
                            .where(al.cycle_id == cycle.id, al.expert_id.in_(ids)).distinct()).all() if ids else []
    org_ids = {d for _, d, _ in cover if d} | {i for _, _, i in cover}
    names = dict(session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids))).all()) if org_ids else {}
    out = []
    for e in experts:
        mine = [(d, i) for x, d, i in cover if x == e.id]
        out.append({"expert": e, "count": counts.get(e.id, 0),
                    "districts": "、".join(sorted({names.get(d, "") for d, _ in mine if d})),
                    "units": "、".join(sorted({names.get(i, "") for _, i in mine})),
                    "allocated": bool(counts.get(e.id))})
    return out


def unallocated_tree(session, cycle: AuditCycle, unit_name: str = "", dept_name: str = "") -> list[dict]:
    """The 分配学员 dialog: units with their departments and unallocated learner counts (one GROUP BY)."""


    fp = AuditFinalPerson
    inst, dept = aliased(Org), aliased(Org)
    q = (select(fp.institution_id, inst.name, func.coalesce(fp.department_id, 0), dept.name, func.count())
         .join(inst, inst.id == fp.institution_id).outerjoin(dept, dept.id == fp.department_id)
         .where(fp.cycle_id == cycle.id,
                ~fp.id.in_(select(AuditAllocation.final_person_id).where(AuditAllocation.cycle_id == cycle.id)))
         .group_by(fp.institution_id, inst.name, func.coalesce(fp.department_id, 0), dept.name)
         .order_by(inst.name, fp.institution_id, dept.name))
    if unit_name:
        q = q.where(inst.name.contains(unit_name))
    if dept_name:
        q = q.where(dept.name.contains(dept_name))
    units: dict[int, dict] = {}
    for inst_id, iname, dept_id, dname, n in session.execute(q):
        u = units.setdefault(inst_id, {"id": inst_id, "name": iname, "count": 0, "departments": []})
        u["departments"].append({"id": dept_id, "name": dname or "（未分科室）", "count": n})
        u["count"] += n
    return list(units.values())
