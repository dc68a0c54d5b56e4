"""Project supervision rules (seed 003 part 02, SUP-1..7), Flask-free.

Filing states and their one transition table; saving a filing with its venues; half-day periods;
site-manager login codes, SMS codes and the commitment letter; period feedback (photos stamped and
checked, lecturers, submit); the supervision overview and export.
"""
from __future__ import annotations

import datetime
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Attachment, Org, Parameter
from app.models.supervision import (
    FILING_STATUSES,
    FIXED_SLOTS,
    HALVES,
    PHOTO_SLOTS,
    PROJECT_TYPES,
    SCORES,
    Feedback,
    FeedbackPhoto,
    Filing,
    FilingLog,
    FilingVenue,
    Period,
    SiteManager,
    SmsCode,
)
from app.services import attachments, photos, upsert, workflow
from app.services.errors import N_, DomainError
from app.services.scope import Scope
from app.services.uploads import UploadError


class SupervisionError(DomainError):
    """A refused supervision action; message in Chinese."""


class FilingConflict(SupervisionError):
    """Another reviewer decided the filing first (the guarded status change found another status)."""

    status = 409


class FilingInvalid(SupervisionError):
    """The filing form's problems, each (field label, reason), listed above the form at once.

    A reason is a SupervisionError (message id with its parameters); ``errors`` gives them translated."""

    default_message = "报备信息有误"

    def __init__(self, problems: list[tuple[str, DomainError]]):
        super().__init__()
        self.problems = problems

    @property
    def errors(self) -> list[tuple[str, str]]:
        return [(label, str(reason)) for label, reason in self.problems]

    def __str__(self) -> str:
        return "；".join(reason for _, reason in self.errors)


Problems = list[tuple[str, DomainError]]


# ----------------------------------------------------------------------------------------- filings
PHONE_RE = re.compile(r"^1\d{10}$")
PROJECT_NO_RE = re.compile(r"^[0-9A-Za-z\-()（）京国]{3,64}$")
LIMITS = {"name": 200, "organizer": 200, "province": 32, "city": 32, "county": 32, "approver": 64,
          "approval_method": 64, "approval_no": 64}
FILING_FIELDS = {"project_no": "项目编号", "name": "项目名称", "project_type": "项目类型", "year": "年度",
                 "organizer": "主办单位", "province": "举办省份", "city": "举办城市", "county": "举办区县",
                 "starts_at": "开始时间", "ends_at": "结束时间", "sessions": "期数", "approver": "项目审批人",
                 "approval_method": "项目审批方式", "approval_no": "批准文号"}
VENUE_FIELDS = {"name": "会场名称", "address": "举办地点", "organizer": "承办单位", "person": "负责人姓名",
                "phone": "负责人联系电话", "date": "日期"}
REQUIRED = ("project_no", "name", "project_type", "starts_at", "ends_at")

# Transition table: action -> (states it may start from, state it ends in).
TRANSITIONS = {
    "submit": ({"draft", "rejected", "returned"}, "pending"),
    "pass": ({"pending"}, "approved"),
    "fail": ({"pending"}, "rejected"),
    "return": ({"pending", "approved"}, "returned"),
}
EDITABLE = {"draft", "rejected", "returned"}
ACTION_LABELS = {"submit": "提交", "pass": "通过", "fail": "不通过", "return": "退回"}


def parse_datetime(text: str, end: bool = False) -> datetime.datetime | None:
    """2025-04-22, 2025/4/22, 2025-04-22 14:00 or a datetime-local value; a bare end date means its
    whole day (23:59:59)."""
    if isinstance(text, datetime.datetime):
        return text
    if isinstance(text, datetime.date):
        return datetime.datetime.combine(text, datetime.time(23, 59, 59) if end else datetime.time())
    text = (text or "").strip().replace("/", "-").replace("T", " ")
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        day = datetime.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return None
    return day.replace(hour=23, minute=59, second=59) if end else day


def validate_filing(values: dict) -> tuple[dict, Problems]:
    """Clean the filing's fields; returns (clean values, [(field label, reason)]); ``str(reason)`` is the
    translated message."""
    errors: Problems = []
    clean: dict = {}
    for key in FILING_FIELDS:
        raw = values.get(key)
        clean[key] = raw.strip() if isinstance(raw, str) else raw
    for key in REQUIRED:
        if clean.get(key) in (None, ""):
            errors.append((FILING_FIELDS[key], SupervisionError("%(field)s不能为空", field=FILING_FIELDS[key])))
    if clean["project_no"] and not PROJECT_NO_RE.match(str(clean["project_no"])):
        errors.append(("项目编号", SupervisionError("项目编号格式不正确（3-64位字母、数字或“-”）")))
    if clean["project_type"] and clean["project_type"] not in PROJECT_TYPES:
        errors.append(("项目类型", SupervisionError("项目类型只能是：%(types)s", types="、".join(PROJECT_TYPES))))
    for key, limit in LIMITS.items():
        if clean.get(key) and len(str(clean[key])) > limit:
            errors.append((FILING_FIELDS[key], SupervisionError("%(field)s不能超过%(limit)s个字符",
                                                                field=FILING_FIELDS[key], limit=limit)))
    start = parse_datetime(clean["starts_at"]) if clean["starts_at"] else None
    end = parse_datetime(clean["ends_at"], end=True) if clean["ends_at"] else None
    if clean["starts_at"] and start is None:
        errors.append(("开始时间", SupervisionError("开始时间格式不正确，应为 2025-04-22 或 2025-04-22 08:30")))
    if clean["ends_at"] and end is None:
        errors.append(("结束时间", SupervisionError("结束时间格式不正确，应为 2025-04-22 或 2025-04-22 17:30")))
    if start and end and end <= start:
        errors.append(("结束时间", SupervisionError("结束时间必须晚于开始时间")))
    if start and end and (end - start).days > 366:
        errors.append(("结束时间", SupervisionError("项目举办周期不能超过一年")))
    clean["starts_at"], clean["ends_at"] = start, end
    year = clean.get("year")
    if year in (None, ""):
        clean["year"] = start.year if start else None
    else:
        try:
            clean["year"] = int(float(year))
            if not 2000 <= clean["year"] <= 2100:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(("年度", SupervisionError("年度应为四位年份")))
    sessions = clean.get("sessions")
    try:
        clean["sessions"] = int(float(sessions)) if sessions not in (None, "") else 1
        if clean["sessions"] < 1 or clean["sessions"] > 99:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(("期数", SupervisionError("期数应为1-99的整数")))
    for key in ("organizer", "province", "city", "county", "approver", "approval_method", "approval_no"):
        clean[key] = clean.get(key) or None
    return clean, errors


def validate_venue(values: dict, number: int) -> tuple[dict, Problems]:
    """One venue (会场); ``number`` names it in messages (会场1 …)."""
    errors: Problems = []
    clean = {k: (str(values.get(k) or "").strip()) for k in VENUE_FIELDS}
    for key in ("name", "address"):
        if not clean[key]:
            errors.append((f"会场{number}{VENUE_FIELDS[key]}", SupervisionError(
                "会场%(number)s的%(field)s不能为空", number=number, field=VENUE_FIELDS[key])))
    for key, limit in (("name", 128), ("address", 256), ("organizer", 128), ("person", 64)):
        if len(clean[key]) > limit:
            errors.append((f"会场{number}{VENUE_FIELDS[key]}", SupervisionError(
                "%(field)s不能超过%(limit)s个字符", field=VENUE_FIELDS[key], limit=limit)))
    if clean["phone"] and not PHONE_RE.match(clean["phone"]):
        errors.append((f"会场{number}负责人联系电话", SupervisionError("负责人联系电话应为11位手机号")))
    day = None
    if clean["date"]:
        when = parse_datetime(clean["date"])
        if when is None:
            errors.append((f"会场{number}日期", SupervisionError("日期格式不正确，应为 2025-04-22")))
        else:
            day = when.date()
    clean["date"] = day
    for key in ("organizer", "person", "phone"):
        clean[key] = clean[key] or None
    return clean, errors


def project_no_taken(session: Session, project_no: str, exclude_id: int | None = None) -> bool:
    query = select(Filing.id).where(Filing.project_no == project_no)
    if exclude_id:
        query = query.where(Filing.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def filing_max_bytes(session: Session) -> int:
    """The size limit of one 报备附件 / 通知公告 / 项目日程 file (parameter filing_attachment_max_mb, 2 MB)."""
    value = session.scalar(select(Parameter.value).where(Parameter.key == "filing_attachment_max_mb"))
    try:
        return int(float(value or 2) * 1024 * 1024)
    except ValueError:
        return 2 * 1024 * 1024


def save_filing(session: Session, user, values: dict, files: Iterable = (), filing: Filing | None = None, *,
                institution: Org | None = None) -> Filing:
    """项目报备 add (``filing`` None: a draft of ``institution``) or edit, with its venues and attachments.

    ``values`` holds the FILING_FIELDS as posted plus ``venues`` (dicts of VENUE_FIELDS); ``files`` the
    uploaded 报备附件. Every problem is checked before anything changes and raised together as
    FilingInvalid. Venues keep their ids (and managers) by position; extra ones are added, missing ones
    removed with their managers' accounts. Stores the files and flushes; the caller commits."""
    clean, errors = validate_filing(values)
    venues = []
    for number, venue in enumerate(values["venues"], start=1):
        v, problems = validate_venue(venue, number)
        venues.append(v)
        errors += problems
    if not venues:
        errors.append(("会场信息", SupervisionError("请至少填写一个会场")))
    if clean.get("project_no") and project_no_taken(session, clean["project_no"], filing.id if filing else None):
        errors.append(("项目编号", SupervisionError("项目编号%(no)s已报备，不能重复报备", no=clean["project_no"])))
    uploads = []
    try:
        for storage in files:
            if storage and storage.filename:
                uploads.append((attachments.check(storage, {"jpg", "pdf"}, filing_max_bytes(session)),
                                storage.filename))
    except UploadError as exc:
        errors.append(("附件", exc))
    inst = institution if filing is None else filing.institution
    if inst is None:
        errors.append(("申报单位", SupervisionError("只有医疗机构账号可以报备项目")))
    if errors:
        raise FilingInvalid(errors)
    if filing is None:
        filing = Filing(institution_id=inst.id, district_id=inst.district_id, status="draft",
                        created_by_fk=user.id, **clean)
        session.add(filing)
    else:
        for key, value in clean.items():
            setattr(filing, key, value)
    existing = list(filing.venues)
    for i, v in enumerate(venues):
        if i < len(existing):
            for key, value in v.items():
                setattr(existing[i], key, value)
        else:
            filing.venues.append(FilingVenue(**v))
    removed = existing[len(venues):]
    remove_manager_accounts(session, [v.manager for v in removed if v.manager is not None])
    for venue in removed:
        filing.venues.remove(venue)
    try:
        session.flush()
    except IntegrityError as exc:  # the same project number saved by another unit at this instant
        if "project_no" not in str(exc.orig):
            raise
        raise FilingInvalid([("项目编号", SupervisionError("项目编号%(no)s刚由他人报备，不能重复报备",
                                                          no=clean["project_no"]))]) from None
    for (data, kind), name in uploads:
        attachments.store_bytes(data, kind, name, "sup_filing", filing.id, user_id=user.id)
    return filing


def log(filing: Filing, action: str, user, reason: str | None = None) -> None:
    org = getattr(user, "org", None)
    filing.logs.append(FilingLog(action=action, reason=reason or None, at=datetime.datetime.now(),
                                 operator=user.get_full_name() if user is not None else None,
                                 operator_org=org.name if org is not None else None))


def has_supervision_data(session: Session, filing: Filing) -> bool:
    """督查数据: any feedback filed by a site manager for this filing."""
    return session.scalar(select(Feedback.id).where(Feedback.filing_id == filing.id).limit(1)) is not None


def apply(session: Session, filing: Filing, action: str, user, reason: str = "",
          hours: dict | None = None) -> None:
    """The one place a filing's status changes: checks the transition, writes the log, keeps periods."""
    sources, target = TRANSITIONS[action]
    if filing.status not in sources:
        last = session.scalars(select(FilingLog.operator).where(FilingLog.filing_id == filing.id)
                               .order_by(FilingLog.id.desc()).limit(1)).first()
        mine = user.get_full_name() if user is not None else None
        params = {"status": filing.status_label, "decision": _last_decision(session, filing),
                  "action": ACTION_LABELS[action]}
        if last and last != mine:
            raise SupervisionError("操作未执行：该报备已由他人先处理，当前状态“%(status)s”%(decision)s不能%(action)s",
                                   **params)
        raise SupervisionError("当前状态“%(status)s”%(decision)s不能%(action)s", **params)
    reason = (reason or "").strip()
    if action in ("fail", "return") and not reason:
        raise SupervisionError("请填写原因")
    if len(reason) > 500:
        raise SupervisionError("原因不能超过500个字符")
    now = datetime.datetime.now()
    if action == "submit":
        if not filing.venues:
            raise SupervisionError("请至少填写一个会场信息后再提交")
        filing.submitted_at = now
    if action == "return" and has_supervision_data(session, filing):
        raise SupervisionError("该项目已有督查数据，不能退回")
    if action in ("pass", "fail", "return"):
        filing.reviewed_at = now
        filing.reason = reason or None
    before = filing.status
    try:  # guarded UPDATE … WHERE status = :before: of two reviewers at once, one decides
        workflow.guarded_set(session, filing, before, target)
    except workflow.TransitionConflict:
        raise _lost(session, filing, action) from None
    if action == "pass":
        make_periods(session, filing, hours or half_day_hours(session))
    elif action == "return":
        filing.periods.clear()
    log(filing, ACTION_LABELS[action], user, reason)


def _last_decision(session: Session, filing: Filing) -> str:
    """"（张三 于 2026-… 通过）" from the filing's latest log row, or ""."""
    row = session.scalars(select(FilingLog).where(FilingLog.filing_id == filing.id)
                          .order_by(FilingLog.id.desc()).limit(1)).first()
    return workflow.decided_by(row.operator, row.at, row.action) if row is not None else ""


def _lost(session: Session, filing: Filing, action: str) -> FilingConflict:
    status = workflow.current_value(session, filing)
    return FilingConflict("操作未执行：该报备已由他人先处理，当前状态为“%(status)s”%(decision)s。"
                          "您的“%(action)s”未生效，请刷新页面查看", status=FILING_STATUSES.get(status, status),
                          decision=_last_decision(session, filing), action=ACTION_LABELS[action])


def can_delete(session: Session, filing: Filing, reviewer: bool) -> str | None:
    """None when the filing may be deleted, else the reason's message id (seed: 已退回的项目不可再进行删除操作)."""
    if filing.status == "returned":
        return N_("已退回的项目不能删除")
    if not reviewer and filing.status not in ("draft", "rejected"):
        return N_("已提交的报备不能删除")
    if has_supervision_data(session, filing):
        return N_("该项目已有督查数据，不能删除")
    return None


# ----------------------------------------------------------------------------------------- periods
def _parse_hours(text: str) -> tuple[datetime.time, datetime.time]:
    start, end = (part.strip() for part in text.split("-", 1))
    parse = lambda t: datetime.time(23, 59, 59) if t == "24:00" else datetime.datetime.strptime(t, "%H:%M").time()
    return parse(start), parse(end)


def half_day_hours(session: Session) -> dict[str, tuple[datetime.time, datetime.time]]:
    """The hours of 上午 and 下午 from the system parameters half_day_morning / half_day_afternoon."""
    values = dict(session.execute(select(Parameter.key, Parameter.value).where(
        Parameter.key.in_(("half_day_morning", "half_day_afternoon")))).all())
    return {"am": _parse_hours(values.get("half_day_morning") or "08:00-12:00"),
            "pm": _parse_hours(values.get("half_day_afternoon") or "13:30-17:30")}


@dataclass(frozen=True)
class Slot:
    day: datetime.date
    half: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime


def split(starts_at: datetime.datetime, ends_at: datetime.datetime,
          hours: dict[str, tuple[datetime.time, datetime.time]]) -> list[Slot]:
    """Seed 003: “系统自动根据项目举办周期，按照每半天一次进行反馈的规则进行分期”.

    Every half day (上午 / 下午, hours from the parameters) that overlaps [starts_at, ends_at] is one period:
    a project from 2025-04-22 14:00 to 2025-04-23 11:00 has 22日下午 and 23日上午."""
    slots = []
    day = starts_at.date()
    while day <= ends_at.date():
        for half in ("am", "pm"):
            start = datetime.datetime.combine(day, hours[half][0])
            end = datetime.datetime.combine(day, hours[half][1])
            if start < ends_at and end > starts_at:
                slots.append(Slot(day, half, start, end))
        day += datetime.timedelta(days=1)
    return slots


def make_periods(session: Session, filing: Filing, hours: dict) -> list[Period]:
    filing.periods.clear()
    session.flush()
    for slot in split(filing.starts_at, filing.ends_at, hours):
        filing.periods.append(Period(day=slot.day, half=slot.half, starts_at=slot.starts_at, ends_at=slot.ends_at))
    return filing.periods


def period_status(period: Period, now: datetime.datetime, submitted: bool) -> str:
    """未开始 / 进行中 / 已提交 / 已过期."""
    if submitted:
        return "已提交"
    if now < period.starts_at:
        return "未开始"
    if now <= period.ends_at:
        return "进行中"
    return "已过期"


def is_open(period: Period, now: datetime.datetime) -> bool:
    """Only the current period can be filled; 已过期的督查时间段不能补报."""
    return period.starts_at <= now <= period.ends_at


# ------------------------------------------------------------------------------ site managers, codes
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_login_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        if session.scalar(select(SiteManager.id).where(SiteManager.login_code == code)) is None:
            return code


def save_manager(session: Session, venue: FilingVenue, name: str, phone: str) -> SiteManager:
    """指定负责人: name and phone of the venue's manager; the first save issues the login code."""
    name, phone = (name or "").strip(), (phone or "").strip()
    if not name or len(name) > 64:
        raise SupervisionError("请填写负责人姓名（不超过64个字符）")
    if not PHONE_RE.match(phone):
        raise SupervisionError("负责人手机号应为11位手机号")
    manager = venue.manager
    if manager is None:
        manager = SiteManager(filing_id=venue.filing_id, venue=venue, name=name, phone=phone,
                              login_code=new_login_code(session), code_issued_at=datetime.datetime.now())
        session.add(manager)
    else:
        if manager.phone != phone:
            manager.letter_accepted_at = None  # a new person signs the letter again
        manager.name, manager.phone = name, phone
    return manager


def managers_of(session: Session, filing_ids: Iterable[int]) -> list[SiteManager]:
    """The site managers of these filings that have a login account."""
    ids = list(filing_ids)
    if not ids:
        return []
    return list(session.scalars(select(SiteManager).where(SiteManager.filing_id.in_(ids),
                                                          SiteManager.user_id.is_not(None))))


def remove_manager_accounts(session: Session, managers: Iterable[SiteManager]) -> tuple[int, int]:
    """The login accounts issued to these site managers (phone login) go with them, in the caller's
    transaction, when their filing or venue is deleted: an account whose only role is 现场会务负责人 is deleted
    (the ORM delete is written to the operation log); one that other data still refers to is deactivated
    instead (FAB refuses its login); one holding further roles keeps them and loses only 现场会务负责人.
    Returns (deleted, deactivated)."""
    from sqlalchemy.orm import selectinload

    from app.models import CmeUser
    from app.services.references import blockers
    from app.services.roles import SITE_MANAGER

    managers = [m for m in managers if m.user_id]
    if not managers:
        return 0, 0
    users = list(session.scalars(select(CmeUser).where(CmeUser.id.in_([m.user_id for m in managers]))
                                 .options(selectinload(CmeUser.roles))))
    for manager in managers:
        manager.user_id = None
    session.flush()  # the managers no longer hold the accounts: only other data can block their delete
    only_site = [u for u in users if {r.name for r in u.roles} == {SITE_MANAGER}]
    for user in users:
        if user not in only_site:
            user.roles = [r for r in user.roles if r.name != SITE_MANAGER]
    blocked: set[int] = set()
    if only_site and blockers(session, only_site):  # rare: find which ones, one by one
        blocked = {u.id for u in only_site if blockers(session, [u])}
    deleted = deactivated = 0
    for user in only_site:
        if user.id in blocked:
            user.active = False
            deactivated += 1
        else:
            session.delete(user)
            deleted += 1
    return deleted, deactivated


def manager_account(session: Session, manager: SiteManager):
    """The login account of a site manager signing in on the phone: its own, named after the manager,
    created (services/users) at the first login with a random password nobody knows."""
    from app.models import CmeUser
    from app.services.roles import SITE_MANAGER
    from app.services.users import create_user

    if manager.user_id:
        user = session.get(CmeUser, manager.user_id)
        user.first_name, user.last_name = "", manager.name
        return user
    user = create_user(session, f"site{manager.id}_{secrets.token_hex(4)}", SITE_MANAGER, last_name=manager.name,
                       first_name="", org=manager.filing.institution, password=secrets.token_urlsafe(24))
    manager.user_id = user.id
    return user


def regenerate_code(session: Session, manager: SiteManager) -> str:
    """如登录码遗失可以重新生成登录码，则前一登录码自动失效."""
    manager.login_code = new_login_code(session)
    manager.code_issued_at = datetime.datetime.now()
    return manager.login_code


def manager_by_code(session: Session, code: str) -> SiteManager | None:
    code = (code or "").strip().upper()
    if not code:
        return None
    manager = session.scalar(select(SiteManager).where(SiteManager.login_code == code))
    if manager is None or manager.filing.status != "approved":
        return None
    return manager


@dataclass(frozen=True)
class SmsLimits:
    ttl_seconds: int = 300
    interval_seconds: int = 60
    daily_max: int = 10
    max_attempts: int = 5


def issue_sms_code(session: Session, manager: SiteManager, phone: str, now: datetime.datetime,
                   limits: SmsLimits) -> str:
    """A new 6-digit code for ``phone`` (rate-limited per phone); the caller sends it and commits."""
    phone = (phone or "").strip()
    if phone != manager.phone:
        raise SupervisionError("手机号与该登录码登记的负责人手机号不一致")
    last = session.scalar(select(func.max(SmsCode.created_at)).where(SmsCode.phone == phone))
    if last is not None and (now - last).total_seconds() < limits.interval_seconds:
        wait = limits.interval_seconds - int((now - last).total_seconds())
        raise SupervisionError("发送过于频繁，请%(seconds)s秒后再试", seconds=wait)
    day_start = datetime.datetime.combine(now.date(), datetime.time())
    sent_today = session.scalar(select(func.count(SmsCode.id)).where(SmsCode.phone == phone,
                                                                    SmsCode.created_at >= day_start))
    if sent_today >= limits.daily_max:
        raise SupervisionError("该手机号今日获取验证码次数已达上限，请明天再试")
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(SmsCode(phone=phone, manager_id=manager.id, code_hash=generate_password_hash(code),
                        created_at=now, expires_at=now + datetime.timedelta(seconds=limits.ttl_seconds)))
    return code


def verify_sms_code(session: Session, manager: SiteManager, phone: str, code: str, now: datetime.datetime,
                    limits: SmsLimits) -> None:
    """The latest unused code of this phone and manager: unexpired, right, then used up."""
    row = session.scalar(select(SmsCode).where(SmsCode.phone == (phone or "").strip(),
                                               SmsCode.manager_id == manager.id, SmsCode.used_at.is_(None))
                         .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).limit(1))
    if row is None:
        raise SupervisionError("请先获取短信验证码")
    if row.expires_at < now or row.attempts >= limits.max_attempts:
        raise SupervisionError("短信验证码已失效，请重新获取")
    if not check_password_hash(row.code_hash, (code or "").strip()):
        row.attempts += 1
        raise SupervisionError("短信验证码不正确")
    row.used_at = now


# ------------------------------------------------------------------------------------------ feedback
def feedback_for(session: Session, period: Period, manager: SiteManager, create: bool = False) -> Feedback | None:
    query = select(Feedback).where(Feedback.period_id == period.id, Feedback.manager_id == manager.id)
    fb = session.scalar(query)
    if fb is None and create:  # INSERT … ON CONFLICT DO NOTHING: two first uploads at once make one row
        filing = manager.filing
        upsert.insert_ignore(session, Feedback, {
            "period_id": period.id, "manager_id": manager.id, "filing_id": filing.id,
            "district_id": filing.district_id, "institution_id": filing.institution_id, "lecturers": 1},
            ["period_id", "manager_id"])
        fb = session.scalar(query)
    return fb


def check_open(period: Period, now: datetime.datetime) -> None:
    if now > period.ends_at:
        raise SupervisionError("已过期的督查时间段不能补报或修改")
    if now < period.starts_at:
        raise SupervisionError("该督查时间段尚未开始")


def photo_flags(period: Period, taken: datetime.datetime | None, lat, lon) -> list[str]:
    """Seed: 照片中实时携带拍照时间和地点 — a photo outside its period or without a place is flagged."""
    flags = []
    if taken is None:
        flags.append("无拍摄时间")
    elif not period.starts_at <= taken <= period.ends_at:
        flags.append("拍摄时间不在督查时段内")
    if lat is None or lon is None:
        flags.append("无位置信息")
    return flags


def check_slot(fb: Feedback, slot: str, lecturer_no: int) -> None:
    if slot in FIXED_SLOTS:
        return
    if slot != "lecturer" or not 1 <= lecturer_no <= fb.lecturers:
        raise SupervisionError("照片类别不正确")


def photo_label(slot: str, lecturer_no: int) -> str:
    """场地 / 背板 / … / 主讲教师2: the photo's category as the pages and the stamp name it."""
    return PHOTO_SLOTS[slot] + (str(lecturer_no) if slot == "lecturer" else "")


def add_photo(session: Session, period: Period, fb: Feedback, slot: str, lecturer_no: int, storage, *,
              max_bytes: int, user_id: int | None, browser_time: datetime.datetime | None = None,
              browser_lat: float | None = None, browser_lon: float | None = None,
              now: datetime.datetime | None = None) -> FeedbackPhoto:
    """A site manager's photo of one slot of the period's feedback (SUP-6), replacing the slot's old one.

    Time and place come from the photo's EXIF, else from the browser, else the time is now; the original
    is kept and a stamped copy (time, place, project, period, slot) is stored beside it. A photo taken
    outside the period or without a place is kept but flagged (``photo.flags``). Raises SupervisionError
    (slot), UploadError (file) or photos.PhotoError (unreadable image); flushes, the caller commits."""
    check_slot(fb, slot, lecturer_no)
    data, kind = attachments.check(storage, {"jpg", "png"}, max_bytes)
    exif_time, exif_lat, exif_lon = photos.read_exif(data)
    taken = exif_time or browser_time or now or datetime.datetime.now()
    lat = exif_lat if exif_lat is not None else browser_lat
    lon = exif_lon if exif_lon is not None else browser_lon
    label = photo_label(slot, lecturer_no)
    stamped = photos.stamp(data, taken, lat, lon, f"{period.filing.name} {period.label} {label}")
    for old in [p for p in fb.photos if p.slot == slot and p.lecturer_no == lecturer_no]:
        drop_photo(session, fb, old)
    original = attachments.store_bytes(data, kind, storage.filename, "sup_photo", None, user_id=user_id)
    copy = attachments.store_bytes(stamped, "jpg", f"stamped-{os.path.splitext(storage.filename)[0]}.jpg",
                                   "sup_photo_stamped", None, user_id=user_id)
    session.flush()
    flags = photo_flags(period, taken, lat, lon)
    photo = FeedbackPhoto(slot=slot, lecturer_no=lecturer_no, original_id=original.id, stamped_id=copy.id,
                          exif_time=exif_time, exif_lat=exif_lat, exif_lon=exif_lon, browser_time=browser_time,
                          browser_lat=browser_lat, browser_lon=browser_lon, taken_at=taken,
                          flags="；".join(flags) or None)
    fb.photos.append(photo)
    session.flush()
    original.owner_id = copy.owner_id = photo.id
    return photo


def drop_photo(session: Session, fb: Feedback, photo: FeedbackPhoto) -> None:
    """Remove a feedback photo with its original and stamped files' rows."""
    files = (photo.original_id, photo.stamped_id)
    fb.photos.remove(photo)
    session.flush()  # the photo's row first: it refers to both files (PostgreSQL checks the foreign keys)
    for att_id in files:
        att = session.get(Attachment, att_id)
        if att is not None:
            session.delete(att)
    session.flush()


MAX_LECTURERS = 30


def add_lecturer(fb: Feedback) -> None:
    """One more 主讲教师 slot (at most 30)."""
    if fb.lecturers >= MAX_LECTURERS:
        raise SupervisionError("主讲教师不能超过30位")
    fb.lecturers += 1


def remove_lecturer(session: Session, fb: Feedback) -> None:
    """The last 主讲教师 slot goes with its photos; one always stays."""
    if fb.lecturers <= 1:
        raise SupervisionError("至少保留一位主讲教师")
    for photo in [p for p in fb.photos if p.slot == "lecturer" and p.lecturer_no == fb.lecturers]:
        drop_photo(session, fb, photo)
    fb.lecturers -= 1


def submit_feedback(fb: Feedback, now: datetime.datetime | None = None) -> None:
    """提交 the period's feedback once every required photo is there."""
    missing = missing_photos(fb)
    if missing:
        raise SupervisionError("请先上传：%(items)s", items="、".join(missing))
    fb.submitted_at = now or datetime.datetime.now()


def missing_photos(fb: Feedback) -> list[str]:
    have = {(p.slot, p.lecturer_no) for p in fb.photos}
    missing = [PHOTO_SLOTS[s] for s in FIXED_SLOTS if (s, 0) not in have]
    missing += [f"主讲教师{n}" for n in range(1, fb.lecturers + 1) if ("lecturer", n) not in have]
    return missing


# -------------------------------------------------------------------------------- management (SUP-7)
def validate_score(score: str, comment: str) -> tuple[str, str | None]:
    if score not in SCORES:
        raise SupervisionError("督查评分只能是：%(scores)s", scores="、".join(SCORES))
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise SupervisionError("评分意见不能超过500个字符")
    return score, comment or None


def set_score(filing: Filing, score: str, comment: str, scorer: str, now: datetime.datetime) -> Filing:
    """督查评分 of an approved project."""
    filing.score, filing.score_comment = validate_score(score, comment)
    filing.scored_at, filing.scored_by = now, scorer
    return filing


def publish(filings: list[Filing], publish: bool, now: datetime.datetime) -> int:
    """督查结果公布 (or its withdrawal) of these projects: all scored, or nothing changes."""
    unscored = [f.project_no for f in filings if not f.score]
    if publish and unscored:
        raise SupervisionError("以下项目尚未督查评分，不能公布：%(nos)s", nos="、".join(unscored))
    for f in filings:
        f.published, f.published_at = publish, now if publish else None
    return len(filings)


@dataclass
class ProjectStats:
    feedback_count: int = 0
    first_at: datetime.datetime | None = None
    latest_at: datetime.datetime | None = None
    periods: int = 0
    filled: int = 0

    @property
    def percent(self) -> int:
        return round(self.filled * 100 / self.periods) if self.periods else 0


def project_stats(session: Session, filing_ids: Iterable[int]) -> dict[int, ProjectStats]:
    """反馈数量, 第一次 / 最新一次反馈时间, filled / total periods: two grouped queries, no N+1."""
    ids = list(filing_ids)
    out = {i: ProjectStats() for i in ids}
    if not ids:
        return out
    for fid, count, first, latest, filled in session.execute(
            select(Feedback.filing_id, func.count(Feedback.id), func.min(Feedback.submitted_at),
                   func.max(Feedback.submitted_at), func.count(func.distinct(Feedback.period_id)))
            .where(Feedback.filing_id.in_(ids), Feedback.submitted_at.is_not(None)).group_by(Feedback.filing_id)):
        stats = out[fid]
        stats.feedback_count, stats.first_at, stats.latest_at, stats.filled = count, first, latest, filled
    for fid, total in session.execute(select(Period.filing_id, func.count(Period.id))
                                      .where(Period.filing_id.in_(ids)).group_by(Period.filing_id)):
        out[fid].periods = total
    return out


def period_rows_many(session: Session, filing_ids: list[int], now: datetime.datetime) -> dict[int, list[dict]]:
    """Per period of each filing: status, submitted feedback count, photo and flagged-photo counts.

    Four set-based queries whatever the number of filings (the export covers a whole range)."""
    out: dict[int, list[dict]] = {i: [] for i in filing_ids}
    if not filing_ids:
        return out
    counts: dict[int, int] = {}
    photos: dict[int, int] = {}
    flagged: dict[int, int] = {}
    for start in range(0, len(filing_ids), 500):
        chunk = filing_ids[start:start + 500]
        counts.update(session.execute(select(Feedback.period_id, func.count(Feedback.id))
                                      .where(Feedback.filing_id.in_(chunk), Feedback.submitted_at.is_not(None))
                                      .group_by(Feedback.period_id)).all())
        for pid, total, bad in session.execute(
                select(Feedback.period_id, func.count(FeedbackPhoto.id),
                       func.count(FeedbackPhoto.flags))
                .join(FeedbackPhoto, FeedbackPhoto.feedback_id == Feedback.id)
                .where(Feedback.filing_id.in_(chunk), Feedback.submitted_at.is_not(None))  # shown once submitted
                .group_by(Feedback.period_id)):
            photos[pid], flagged[pid] = total, bad
        for p in session.scalars(select(Period).where(Period.filing_id.in_(chunk))
                                 .order_by(Period.filing_id, Period.starts_at)):
            out[p.filing_id].append({"period": p, "label": p.label,
                                     "status": period_status(p, now, counts.get(p.id, 0) > 0),
                                     "feedback": counts.get(p.id, 0), "photos": photos.get(p.id, 0),
                                     "flagged": flagged.get(p.id, 0)})
    return out


def period_rows(session: Session, filing: Filing, now: datetime.datetime) -> list[dict]:
    """The periods of one filing with their status and counts."""
    return period_rows_many(session, [filing.id], now)[filing.id]


def supervised_filings(scope: Scope):
    """All approved projects (and those returned after approval have no periods) inside the scope."""
    return scope.filter(select(Filing).where(Filing.status == "approved"), Filing)


def published_results(session: Session, scope: Scope, limit: int = 10) -> list[Filing]:
    """Published supervision results a unit sees on its home page."""
    if scope.level in ("none", "person"):
        return []
    query = scope.filter(select(Filing).where(Filing.published.is_(True)), Filing)
    return list(session.scalars(query.order_by(Filing.published_at.desc(), Filing.id.desc()).limit(limit)))


def export_rows(session: Session, filings: list[Filing], now: datetime.datetime):
    """(project rows, period rows) for the Excel export: one row per project, one per period."""
    stats = project_stats(session, [f.id for f in filings])
    projects = []
    for f in filings:
        s = stats[f.id]
        projects.append([f.project_no, f.name, f.project_type, f.institution.name if f.institution else "",
                         f.place, f.starts_at, f.ends_at, s.feedback_count, s.first_at or "", s.latest_at or "",
                         f"{s.filled}/{s.periods}", f"{s.percent}%", f.score or "", f.score_comment or "",
                         "是" if f.published else "否"])
    return projects, stats


__all__ = [
    "HALVES",
    "FilingConflict",
    "FilingInvalid",
    "SmsLimits",
    "SupervisionError",
    "add_photo",
    "apply",
    "can_delete",
    "feedback_for",
    "half_day_hours",
    "is_open",
    "issue_sms_code",
    "make_periods",
    "manager_account",
    "manager_by_code",
    "period_rows",
    "period_status",
    "photo_flags",
    "project_stats",
    "publish",
    "published_results",
    "regenerate_code",
    "save_filing",
    "save_manager",
    "set_score",
    "split",
    "validate_filing",
    "validate_venue",
    "verify_sms_code",
]
