"""Planned self-study (有计划的自学, ICME-7): delegation, the seven-section form, the grant.

Seed 003 part 01 "增加有计划的自学学分录入":
- "分级下放上传权限 … 点击“机构上传”或“学员上传”" — ``mode_for`` reads the department's setting, else
  the institution's, else 机构上传.
- "提交自学计划": the seven sections below (SECTIONS), with counts, text and attachment slots, then
  "保存 / 保存并提交".
- "主管部门可查看到上传的自学计划信息 … 并进行“授分”的操作" — ``grant`` computes the credits through
  credit_rules: the rule set's own 有计划的自学 standard when it has one, else an ``entered`` amount capped
  by the policy's category limit for 有计划的自学 (Beijing 2025: ≤ 10 a year, SPEC "self-study … ≤ 10
  credits a year"), and creates the credit at ``unit_approved`` with its review log; the supervisor may
  send a submitted form back instead (``return_form``, 退回 with a reason).

Where the numbers come from (checked against the seeds):
- Seed 003 part 01 gives the seven sections only as counts to fill ("研究生授课带教 次", "在国际期刊发表
  篇论文 字数", "作为通讯作者 个、第一作者 个 …") and "并进行“授分”的操作"; its 授分标准修改 table (the 20
  Beijing 2025 standards) has no row for 有计划的自学. No credit per item is given anywhere, so the seven
  counts are evidence for the supervisor, not inputs of a formula: the supervisor enters the amount and
  the policy's 有计划的自学 limit (rule_sets.BEIJING_2025_POLICY ``category_limits``, data, editable) caps it.
- Seed 002 附件二 gives two self-study-like rules, both already data in rule_sets.XUZHOU_2024:
  "7.教材、杂志类 … 全年最多可授予Ⅱ类学分 5 分" with its 认可期刊 list (standard 11, activity type
  有计划的自学, kind ``entered`` with ``max`` 5 and ``allowed`` journals — the grant then asks for the
  journal), and "3.自学/成人学历教育类 … 每门课授予Ⅱ类学分 2 分" (standard 10, per course, only for 一级
  医疗机构或社区卫生服务机构), which is degree study (在职学历(学位)教育), granted through the wizard.
  Paper and research credits (附件二 5, 6) are the Xuzhou table standards 1 and 2, entered by hand.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Credit,
    CreditStandard,
    Person,
    RuleSet,
    SelfStudy,
    SelfStudyDelegation,
)
from app.models.org import Org
from app.models.selfstudy import DELEGATION_MODES
from app.services import attachments, credit_records, credit_rules, upsert, workflow
from app.services.errors import DomainError
from app.services.rule_sets import SELF, policy_params
from app.services.scope import Scope
from app.services.uploads import UploadError

OWNER_TYPE = "self_study"
CATEGORY = SELF  # 学分类别 有计划的自学
ROLES = ["主编", "副主编", "编委", "章节撰写"]
LEVELS = ["国家级", "省部级", "市、厅级", "区县级", "其他"]
MAX_COUNT = 1000
MAX_WORDS = 10_000_000

# (key, label, kind, unit) — kinds: count (whole number), words, text, choice, remark; file slots (key, label).
# The seed's "任给授课带教" is read as 住培 (住院医师规范化培训) 授课带教.
SECTIONS: list[dict[str, Any]] = [
    {"key": "s1", "title": "1.授课或带教", "fields": [
        ("s1_resident", "住培授课带教", "count", "次"), ("s1_graduate", "研究生授课带教", "count", "次"),
        ("s1_visiting", "进修生授课带教", "count", "次"), ("s1_other", "其他授课带教等", "count", "次"),
        ("s1_remark", "备注", "remark", "")],
     "files": [("s1_syllabus", "教学大纲原件扫描件"), ("s1_plan", "教学计划原件扫描件"), ("s1_other", "其他证明材料")]},
    {"key": "s2", "title": "2.参与专业考试命题", "fields": [
        ("s2_pro", "专业考试命题", "count", "次"), ("s2_pro_title", "专业考试命题题目", "text", ""),
        ("s2_other", "其他考试命题", "count", "次"), ("s2_other_title", "其他考试命题题目", "text", ""),
        ("s2_remark", "备注", "remark", "")],
     "files": [("s2_proof", "证明材料")]},
    {"key": "s3", "title": "3.开展健康宣教", "fields": [
        ("s3_article_media", "发表科普文章的杂志/报刊/网站", "text", ""), ("s3_articles", "发表科普文章", "count", "篇"),
        ("s3_article_words", "科普文章字数", "words", "字"),
        ("s3_video_media", "发表视频的网站/电视台", "text", ""), ("s3_videos", "发表视频", "count", "场/次"),
        ("s3_video_minutes", "视频时长", "words", "分钟"),
        ("s3_event_kind", "参加的活动（内容科普咨询/义诊等）", "text", ""), ("s3_events", "参加活动", "count", "场/次"),
        ("s3_remark", "备注", "remark", "")],
     "files": [("s3_article", "原件扫描件(文字、图片)"), ("s3_video", "原件扫描件(文字、图片或视频截图)"),
               ("s3_event", "活动通知等相关证明材料")]},
    {"key": "s4", "title": "4.发表论文", "fields": [
        *[(f"s4_{lv}_{k}", f"{name}{label}", kind, unit)
          for lv, name in (("intl", "国际期刊"), ("cn", "国内"), ("prov", "省级"))
          for k, label, kind, unit in (("papers", "发表论文", "count", "篇"), ("words", "论文字数", "words", "字"),
                                       ("corr", "通讯作者", "count", "个"), ("a1", "第一作者", "count", "个"),
                                       ("a2", "第二作者", "count", "个"), ("a3", "第三作者", "count", "个"),
                                       ("a4", "第四作者以上", "count", "个"))],
        ("s4_remark", "备注", "remark", "")],
     "files": [("s4_intl", "国际期刊论文原件扫描件(文字、图片)"), ("s4_cn", "国内论文原件扫描件(文字、图片)"),
               ("s4_prov", "省级论文原件扫描件(文字、图片)")]},
    {"key": "s5", "title": "5.出版著作", "fields": [
        ("s5_book", "著作（出版社名称、出版物名称）", "text", ""), ("s5_words", "承担字数", "words", "字"),
        ("s5_role", "担任", "choice", ROLES), ("s5_remark", "备注", "remark", "")],
     "files": [("s5_cover", "著作封面"), ("s5_coauthor", "合著者名字部分扫描件")]},
    {"key": "s6", "title": "6.承担教学和科研课题", "fields": [
        ("s6_level", "级别", "choice", LEVELS), ("s6_unit", "单位、科研课题名称", "text", ""),
        ("s6_topic", "具体申报课题名称", "text", ""), ("s6_role", "担任", "choice", ROLES),
        ("s6_remark", "备注", "remark", "")],
     "files": [("s6_notice", "立项通知书原件扫描件")]},
    {"key": "s7", "title": "7.传染病相关文章及传染病相关著作", "fields": [("s7_remark", "备注", "remark", "")],
     "files": [("s7_cover", "著作封面"), ("s7_coauthor", "合著者名字部分扫描件")]},
]
FIELDS = {f[0]: f for s in SECTIONS for f in s["fields"]}
SLOTS = {key: label for s in SECTIONS for key, label in s["files"]}


class SelfStudyError(DomainError):
    """Refused self-study action; message in Chinese, nothing written. A workflow or rule-engine
    refusal (workflow.WorkflowError, credit_rules.RuleError) passes through as it is."""


class SelfStudyProblems(SelfStudyError):
    """Every bad field of the form at once, shown as one message ("…；…")."""

    def __init__(self, problems: list[SelfStudyError]):
        super().__init__("；".join(p.message for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return "；".join(str(p) for p in self.problems)


# ------------------------------------------------------------------------------ delegation
def mode_for(session: Session, person: Person) -> str:
    """机构上传 (institution) or 学员上传 (person) for ``person``: department row, else institution row."""
    rows = {d.org_id: d.mode for d in session.scalars(select(SelfStudyDelegation).where(
        SelfStudyDelegation.org_id.in_([i for i in (person.department_id, person.institution_id) if i])))}
    return rows.get(person.department_id) or rows.get(person.institution_id) or "institution"


def set_mode(session: Session, user: Any, scope: Scope, org_ids: list[int], mode: str) -> int:
    """Set the mode of the selected institutions / departments: all or nothing, inside ``scope``.
    An institution sets its departments; its own row is set by its district or the city."""
    if mode not in DELEGATION_MODES:
        raise SelfStudyError("请选择“机构上传”或“学员上传”")
    ids = sorted({int(i) for i in org_ids})
    if not ids:
        raise SelfStudyError("请选择机构或科室")
    orgs = list(session.scalars(scope.filter(select(Org).where(
        Org.id.in_(ids), Org.kind.in_(("institution", "department"))), Org)))
    if len(orgs) != len(ids):
        raise SelfStudyError("所选机构或科室中有不在您管理范围内的记录，未做任何修改")
    if workflow.actor_of(user) == workflow.UNIT and any(o.kind == "institution" for o in orgs):
        raise SelfStudyError("本机构的上传权限由主管部门设置，机构只能设置所属科室")
    # INSERT … ON CONFLICT (org_id) DO UPDATE: two people setting one unit at once, the last one counts
    # (no unique-key violation on the second first row).
    changed = ["mode", "district_id", "institution_id", "department_id", "updated_by_fk", "updated_at"]
    now = datetime.datetime.now()
    upsert.insert_or_update(session, SelfStudyDelegation, [
        {"org_id": org.id, "mode": mode, "district_id": org.district_id, "institution_id": org.institution_id,
         "department_id": org.department_id, "updated_by_fk": getattr(user, "id", None), "updated_at": now}
        for org in orgs], ["org_id"], changed)
    session.expire_all()
    return len(orgs)


def modes_of(session: Session, org_ids: list[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    return dict(session.execute(select(SelfStudyDelegation.org_id, SelfStudyDelegation.mode).where(
        SelfStudyDelegation.org_id.in_(org_ids))).tuples().all())


# ------------------------------------------------------------------------------ the form
def may_fill(session: Session, user: Any, person: Person) -> bool:
    actor = workflow.actor_of(user)
    mode = mode_for(session, person)
    if actor == workflow.OWNER:
        return mode == "person" and getattr(user, "person_id", None) == person.id
    if actor == workflow.UNIT:
        return mode == "institution" and workflow.within(user, person)
    return False


def clean(form: Mapping[str, Any], submit: bool) -> dict[str, Any]:
    """The form's values by field key; one Chinese message naming every bad field."""
    errors, out = [], {}
    for key, label, kind, extra in FIELDS.values():
        raw = str(form.get(key) or "").strip()
        if not raw:
            continue
        if kind in ("count", "words"):
            upper = MAX_COUNT if kind == "count" else MAX_WORDS
            if not raw.isdigit() or int(raw) > upper:
                errors.append(SelfStudyError("“%(label)s”必须是0到%(upper)s之间的整数", label=label, upper=upper))
                continue
            if int(raw):
                out[key] = int(raw)
        elif kind == "choice":
            if raw not in extra:
                errors.append(SelfStudyError("“%(label)s”请从%(choices)s中选择", label=label, choices="、".join(extra)))
                continue
            out[key] = raw
        else:
            size = 500 if kind == "remark" else 128
            if len(raw) > size:
                errors.append(SelfStudyError("“%(label)s”不能超过%(n)s个字", label=label, n=size))
                continue
            out[key] = raw
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SelfStudyProblems(errors)
    return out


def _check_files(files: Mapping[str, list]) -> list[tuple[str, bytes, str, str]]:
    checked = []
    for slot, storages in files.items():
        if slot not in SLOTS:
            continue
        for storage in storages:
            if storage is None or not getattr(storage, "filename", ""):
                continue
            data, kind = attachments.check(storage)
            checked.append((slot, data, kind, storage.filename))
    return checked


def save(session: Session, user: Any, person: Person, year: int, form: Mapping[str, Any],
         files: Mapping[str, list], *, submit: bool, remove: list[int] | None = None) -> SelfStudy:
    """保存 / 保存并提交 the person's form of ``year`` (by the technician under 学员上传, by the
    institution under 机构上传). Files are checked before anything is stored."""
    if not may_fill(session, user, person):
        mode = DELEGATION_MODES[mode_for(session, person)]
        raise SelfStudyError("该学员的自学计划由“%(mode)s”，您不能填写", mode=mode)
    values = clean(form, submit)
    checked = _check_files(files)
    ss = session.scalar(select(SelfStudy).where(SelfStudy.person_id == person.id, SelfStudy.year == year))
    creating = ss is None
    if creating:
        # INSERT … ON CONFLICT (person_id, year) DO NOTHING: of two first saves at once, one creates the
        # form; the other is told (no unique-key violation). Rolled back with the rest on a refusal.
        if not upsert.insert_ignore(session, SelfStudy, {
                "person_id": person.id, "year": year, "district_id": person.district_id,
                "institution_id": person.institution_id, "department_id": person.department_id, "data": {},
                "status": "draft", "created_by_fk": getattr(user, "id", None)}, ["person_id", "year"]):
            raise SelfStudyError("该学员本年度的自学计划刚由他人创建，请刷新页面查看后再修改")
        ss = session.scalar(select(SelfStudy).where(SelfStudy.person_id == person.id, SelfStudy.year == year))
    elif ss.status not in workflow.SELF_STUDY.editable:
        raise SelfStudyError("自学计划状态为“%(status)s”，不能修改", status=workflow.status_label(ss, ss.status))
    file_map = {k: list(v) for k, v in (ss.data or {}).get("files", {}).items()}
    if remove:
        for att in attachments.of(OWNER_TYPE, ss.id) if ss.id else []:
            if att.id in remove:
                session.delete(att)
                for ids in file_map.values():
                    if att.id in ids:
                        ids.remove(att.id)
    if submit and not values and not checked and not any(file_map.values()):
        raise SelfStudyError("自学计划内容为空，请至少填写一项或上传证明材料后再提交")
    if creating:
        workflow.created(ss, user, "save", session=session)
    session.flush()
    for slot, data, kind, name in checked:
        att = attachments.store_bytes(data, kind, name, OWNER_TYPE, ss.id, user_id=getattr(user, "id", None))
        session.flush()
        file_map.setdefault(slot, []).append(att.id)
    ss.data = {"fields": values, "files": file_map}
    ss.submitted_by = workflow.actor_of(user)
    if submit:
        workflow.apply(ss, "submit", user, session=session)
        ss.submitted_at = datetime.datetime.now()
    return ss


# ------------------------------------------------------------------------------ the grant
def grant_rule(session: Session, year: int) -> tuple[Any, CreditStandard | None, Decimal | None]:
    """(rule set, its 有计划的自学 standard or None, the policy's cap for 有计划的自学 or None)."""
    region = credit_records.region(session)
    rs = credit_records.rule_set_for_year(session, region, year)
    if rs is None:
        rs = session.scalar(select(RuleSet).where(
            RuleSet.region == region, RuleSet.status == "published")
            .order_by(RuleSet.year.desc()))
    if rs is None:
        raise SelfStudyError("%(region)s没有已发布的授分规则，不能授分", region=region)
    standard = session.scalar(select(CreditStandard).where(
        CreditStandard.rule_set_id == rs.id, CreditStandard.activity_type == SELF,
        CreditStandard.active.is_(True)).order_by(CreditStandard.seq))
    cap = None
    for limit in policy_params(rs).get("category_limits", []):
        if limit.get("category") == CATEGORY and limit.get("max") is not None:
            cap = Decimal(str(limit["max"]))
    return rs, standard, cap


def grant(session: Session, user: Any, scope: Scope, ss_id: int, credits: Any,
          allowed_value: Any = None) -> Credit:
    """授分: the supervisor grants the submitted form; the credit is computed by the rule engine.
    ``allowed_value``: the catalogue entry (e.g. the 认可期刊) a standard with an ``allowed`` list asks for."""
    ss = session.scalar(scope.filter(select(SelfStudy).where(SelfStudy.id == ss_id), SelfStudy))
    if ss is None:
        raise SelfStudyError("自学计划不存在或不在您的管理范围内")
    rs, standard, cap = grant_rule(session, ss.year)
    if standard is not None:
        result = credit_rules.compute_standard(standard, {"credits": credits, "amount": credits,
                                                          "allowed_value": allowed_value})
    else:
        # An integral cap stays an int so the explanation reads "上限按10分计", not "10.0".
        params = {"max": int(cap) if cap == cap.to_integral_value() else float(cap)} if cap is not None else {}
        result = credit_rules.compute("entered", params, {"credits": credits})
    if not result.grantable:
        raise SelfStudyError(result.explanation)
    person = session.get(Person, ss.person_id)
    today = datetime.date.today()
    credit = Credit(person_id=person.id, district_id=ss.district_id, institution_id=ss.institution_id,
                    department_id=ss.department_id, rule_set_id=rs.id,
                    standard_id=standard.id if standard else None, activity_type=SELF,
                    content=f"{ss.year}年有计划的自学", granted_on=today,
                    category=standard.category if standard else CATEGORY,
                    credit_class=result.credit_class or (standard.credit_class if standard else None),
                    credits=result.credits, source="self_study", remark=result.explanation[:256],
                    grantor_org_id=getattr(user, "org_id", None))
    workflow.check(ss, "grant", user, session=session)
    workflow.created(credit, user, "enter", session=session)
    workflow.apply(ss, "grant", user, session=session)
    ss.credit_id, ss.credits, ss.granted_at = credit.id, credit.credits, datetime.datetime.now()
    return credit


def return_form(session: Session, user: Any, scope: Scope, ss_id: int, reason: Any) -> SelfStudy:
    """退回: the supervisor sends a submitted form back with a reason (required, written to the review
    log). The filler (technician under 学员上传, institution under 机构上传) sees the reason, edits and
    submits again (services/workflow.py SELF_STUDY: submitted → returned → submitted)."""
    ss = session.scalar(scope.filter(select(SelfStudy).where(SelfStudy.id == ss_id), SelfStudy))
    if ss is None:
        raise SelfStudyError("自学计划不存在或不在您的管理范围内")
    text = str(reason or "").strip()
    if len(text) > 500:
        raise SelfStudyError("退回原因不能超过500个字")
    workflow.apply(ss, "return", user, text, session=session)
    return ss


def attachment_in_scope(session: Session, scope: Scope, attachment_id: int):
    from app.models import Attachment

    query = select(Attachment).join(SelfStudy, SelfStudy.id == Attachment.owner_id).where(
        Attachment.id == attachment_id, Attachment.owner_type == OWNER_TYPE)
    return session.scalar(scope.filter(query, SelfStudy))


__all__ = [
    "FIELDS",
    "SECTIONS",
    "SLOTS",
    "SelfStudyError",
    "UploadError",
    "attachment_in_scope",
    "clean",
    "grant",
    "grant_rule",
    "may_fill",
    "mode_for",
    "modes_of",
    "return_form",
    "save",
    "set_mode",
]
