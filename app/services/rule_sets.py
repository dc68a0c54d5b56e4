"""The shipped rule sets (Beijing 2025, Xuzhou 2024, National 2006) as data, copying to a new year,
publishing, and the one answer to "which rule set is in force" (the region's published rule set on a day,
the one judging a credit year, the one the wizard and hand entries compute with).

Every standard below transcribes a seed line; tests/services/test_credit_rules.py quotes them.
Admins edit these rows afterwards; this module only installs what is missing.
"""
from __future__ import annotations

import copy
import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from app.i18n import _mark
from app.models import CompliancePolicy, ComplianceResult, Credit, CreditStandard, Parameter, RuleSet
from app.services import workflow
from app.services.compliance import PolicyError, compliance_year, validate_policy, window
from app.services.credit_rules import RuleError, validate_params
from app.services.errors import DomainError
from app.services.region import REGION_KEY
from app.services.ttl_cache import TtlCache

PROJECT = "继续医学教育项目"
STUDY = "进修学习"
DEGREE = "在职学历(学位)教育"
PRACTICE = "有组织的继续医学教育实践活动"
GOV = "政府指令性医疗卫生任务"
SELF = "有计划的自学"
OTHER = "符合规定的其他方式"
ACTIVITY_TYPES = [PROJECT, STUDY, DEGREE, PRACTICE, GOV, SELF, OTHER]


def _lecturer(per: int, rate: int, cap: int | None = None) -> dict:
    p = {"unit": "hours", "per": per, "rate": rate, "lecturer": True}
    if cap:
        p["cap"] = cap
    return p


def _hours(per: int, rate: int, cap: int | None = None) -> dict:
    p = {"unit": "hours", "per": per, "rate": rate}
    if cap:
        p["cap"] = cap
    return p


# (序号, 名称, 授分规则, 学分类别, 活动形式, 备注, activity type, kind, params) — seed 003 授分标准修改.
BEIJING_2025 = [
    (1, "国家级继续医学教育项目主讲人授分", "每1小时2分（上限10分）", "国家级继续医学教育项目", "继续医学教育项目",
     "主讲人分数不能超过项目分数", PROJECT, "per_unit", _lecturer(1, 2, 10)),
    (2, "市级继续医学教育项目主讲人授分", "每1小时2分（上限10分）", "市级继续医学教育项目", "继续医学教育项目",
     "主讲人分数不能超过项目分数", PROJECT, "per_unit", _lecturer(1, 2, 10)),
    (3, "区级继续医学教育项目主讲人授分", "每1小时2分（上限10分）", "区级继续医学教育项目", "继续医学教育项目",
     "主讲人分数不能超过项目分数", PROJECT, "per_unit", _lecturer(1, 2, 10)),
    (4, "参加外地国家级继续医学教育项目", "申报项目导入", "国家级继续医学教育项目", "继续医学教育项目", None,
     PROJECT, "imported", {"source": "project"}),
    (5, "参加外地市级继续医学教育项目", "申报项目导入", "市级继续医学教育项目", "继续医学教育项目", None,
     PROJECT, "imported", {"source": "project"}),
    (6, "进修学习满3个月", "25分", "进修学习", "满三个月学习时间", None, STUDY, "fixed",
     {"credits": 25, "unit": "months", "min_amount": 3}),
    (7, "进修学习不满3个月", "每6小时1分（上限25分）", "进修学习", "不足三个月学习时间", None, STUDY, "per_unit",
     _hours(6, 1, 25)),
    (8, "在职学历(学位)教育满3个月", "25分", "在职学历(学位)教育", "满三个月学习时间", None, DEGREE, "fixed",
     {"credits": 25, "unit": "months", "min_amount": 3}),
    (9, "在职学历(学位)教育不满3个月", "每6小时1分（上限25分）", "在职学历(学位)教育", "不足三个月学习时间", None,
     DEGREE, "per_unit", _hours(6, 1, 25)),
    (10, "继续医学教育实践活动主讲人授分", "每3小时1分", "有组织的继续医学教育实践活动", "根据实际情况填写",
     "主讲人分数不能超过项目分数", PRACTICE, "per_unit", _lecturer(3, 1)),
    (11, "单次继续医学教育实践活动主讲人授分", "0.5学分", "有组织的继续医学教育实践活动", "根据实际情况填写",
     "主讲人分数不能超过项目分数； 单次不少于1小时学习", PRACTICE, "per_session",
     {"credits": 0.5, "min_hours": 1, "lecturer": True}),
    (12, "政府指令性医疗卫生任务满3个月", "25分", "政府指令性医疗卫生任务", "满三个月学习时间", None, GOV, "fixed",
     {"credits": 25, "unit": "months", "min_amount": 3}),
    (13, "政府指令性医疗卫生任务不满3个月", "每6小时1分（上限25分）", "政府指令性医疗卫生任务", "不足三个月学习时间",
     None, GOV, "per_unit", _hours(6, 1, 25)),
    (14, "住院医师规范化培训", "25分", "住院医师规范化培训", "住院医师规范化培训", None, OTHER, "fixed",
     {"credits": 25}),
    (15, "参加国家级继续医学教育项目", "每3小时1分（上限10分）", "国家级继续医学教育项目", "继续医学教育项目", None,
     PROJECT, "per_unit", _hours(3, 1, 10)),
    (16, "参加市级继续医学教育项目", "每3小时1分（上限10分）", "市级继续医学教育项目", "继续医学教育项目", None,
     PROJECT, "per_unit", _hours(3, 1, 10)),
    (17, "参加区级继续医学教育项目", "每3小时1分（上限10分）", "区级继续医学教育项目", "继续医学教育项目", None,
     PROJECT, "per_unit", _hours(3, 1, 10)),
    (18, "北京市继教委许可发证书项目", "许可发项目导入", "北京市继教委许可发证书项目", "北京市继教委许可发证书项目",
     None, PROJECT, "imported", {"source": "licensed_project"}),
    (19, "继续医学教育实践活动", "每6小时1分", "有组织的继续医学教育实践活动", "根据实际情况填写", None, PRACTICE,
     "per_unit", _hours(6, 1)),
    (20, "单次继续医学教育实践活动", "0.2学分", "有组织的继续医学教育实践活动", "根据实际情况填写",
     "单次不少于1小时授课", PRACTICE, "per_session", {"credits": 0.2, "min_hours": 1}),
]

# National 2024 reform as applied in Beijing 2025 (SPEC "Rule facts"): 25 a year, no class split,
# ≥ 3 months further study / degree study / government task (and completed residency) = the full year,
# self-study ≤ 10 a year; the credit year runs 11-01 … 10-31 (seed 001: 2021-11-01 至 2022-10-31).
BEIJING_2025_POLICY = {
    "required_total": 25,
    "required_by_title_level": {},
    "window": {"start": "11-01", "end": "10-31"},
    "class_split": False,
    "category_limits": [{"category": "有计划的自学", "max": 10}],
    "full_year": [
        {"categories": ["进修学习", "在职学历(学位)教育", "政府指令性医疗卫生任务"], "min_months": 3,
         "label": "进修学习、在职学历(学位)教育或政府指令性医疗卫生任务满3个月"},
        {"categories": ["住院医师规范化培训"], "min_months": 0, "label": "住院医师规范化培训"},
    ],
}

PAPER_TABLE = {"SCI、EI、ISTP": [10, 9, 8], "核心": [8, 7, 6], "非核心": [5, 4, 3], "内部刊物": [3, 2, 1]}
RESEARCH_TABLE = {"国家级": [10, 9, 8, 7, 6], "省部级": [8, 7, 6, 5, 4], "市、厅级": [6, 5, 4, 3, 2]}
XUZHOU_JOURNALS = ["中国继续医学教育", "实用临床医药杂志", "江苏继续医学教育通讯", "中华皮肤科杂志",
                   "国际皮肤性病学杂志", "临床皮肤科杂志", "国际麻醉学与复苏杂志"]
I, II = "Ⅰ类", "Ⅱ类"  # noqa: E741 (the seed's own names of the two classes)

# Seed 002 附件 二 (医疗机构学分审核要点).
XUZHOU_2024 = [
    (1, "发表论文", "按期刊类别和作者排序授分，仅第一至第三作者", "发表论文", "发表论文",
     "SCI、EI、ISTP 10/9/8；核心 8/7/6；非核心 5/4/3；内部刊物 3/2/1", OTHER, "table",
     {"table": PAPER_TABLE, "cols": ["第一作者", "第二作者", "第三作者"], "row_label": "期刊类别",
      "col_label": "作者排序", "class": II}),
    (2, "立项科研项目", "按立项级别和课题组成员排序授分，仅第一至第五成员", "立项科研项目", "立项科研项目",
     "国家级 10..6；省部级 8..4；市、厅级 6..2", OTHER, "table",
     {"table": RESEARCH_TABLE, "cols": ["第一完成人", "第二完成人", "第三完成人", "第四完成人", "第五完成人"],
      "row_label": "立项级别", "col_label": "完成人排序", "class": II}),
    (3, "外省、市进修6个月以下（Ⅰ类）", "每月授予Ⅰ类学分2分", "进修学习", "外省、市进修", None, STUDY,
     "per_unit", {"unit": "months", "per": 1, "rate": 2, "below": 6, "class": I}),
    (4, "外省、市进修6个月以下（Ⅱ类）", "每月授予Ⅱ类学分3分", "进修学习", "外省、市进修", None, STUDY,
     "per_unit", {"unit": "months", "per": 1, "rate": 3, "below": 6, "class": II}),
    (5, "市内进修6个月以下", "每月授予Ⅱ类学分3分", "进修学习", "市内进修", None, STUDY, "per_unit",
     {"unit": "months", "per": 1, "rate": 3, "below": 6, "class": II}),
    (6, "进修或规培6个月以上", "视为完成当年规定学分数", "进修学习", "进修、规培", None, STUDY, "fixed",
     {"credits": 25, "unit": "months", "min_amount": 6}),
    (7, "援疆、援藏、援外医疗任务满6个月", "视为完成当年规定学分数", "援外医疗任务", "援疆、援藏、援外", None, GOV,
     "fixed", {"credits": 25, "unit": "months", "min_amount": 6}),
    (8, "援疆、援藏、援外医疗任务6个月以下（Ⅰ类）", "每月授予Ⅰ类学分2分", "援外医疗任务", "援疆、援藏、援外", None,
     GOV, "per_unit", {"unit": "months", "per": 1, "rate": 2, "below": 6, "class": I}),
    (9, "援疆、援藏、援外医疗任务6个月以下（Ⅱ类）", "每月授予Ⅱ类学分3分", "援外医疗任务", "援疆、援藏、援外", None,
     GOV, "per_unit", {"unit": "months", "per": 1, "rate": 3, "below": 6, "class": II}),
    (10, "自学/成人学历教育", "每门医学专业课程合格授予Ⅱ类学分2分", "自学/成人学历教育", "自学/成人学历教育",
     "只适用于一级医疗机构或社区卫生服务机构", DEGREE, "per_unit",
     {"unit": "courses", "per": 1, "rate": 2, "class": II, "eligible_levels": ["一级"],
      "eligible_types": ["社区卫生服务中心"]}),
    (11, "教材、杂志", "学习认可杂志获杂志社授予学分，全年最多Ⅱ类学分5分", "教材、杂志", "教材、杂志",
     "认可期刊目录见徐州2024通知附件二第7条", SELF, "entered",
     {"max": 5, "allowed": XUZHOU_JOURNALS, "allowed_label": "杂志", "class": II}),
    (12, "参加经市级批准的继续医学教育项目", "刷卡授予，按项目学分", "市级继续医学教育项目", "继续医学教育项目", None,
     PROJECT, "imported", {"source": "project"}),
]
XUZHOU_2024_POLICY = {
    "required_total": 25,
    "required_by_title_level": {},
    "window": {"start": "01-01", "end": "12-31"},  # "所获Ⅰ、Ⅱ类学分当年有效"
    "class_split": False,  # "学分授予可不限于Ⅰ、Ⅱ类划分"
    "category_limits": [{"category": "教材、杂志", "max": 5}],
    "full_year": [
        {"categories": ["进修学习"], "min_months": 6, "label": "进修或规培6个月以上"},
        {"categories": ["援外医疗任务"], "min_months": 6, "label": "援疆、援藏、援外医疗任务满6个月"},
    ],
    # Seed 002 附件一 4 (补录: "市级审核后，根据审核结果决定是否授予学分"), 三 3 (刷卡: "经市级审核通过后授予
    # 学分") and 附件一 1–3 (手工录入 → 单位审核 → 市级审核): these count only after the city's review.
    "counting": {"statuses": ["unit_approved", "city_approved"],
                 "by_source": {"manual": ["city_approved"], "late": ["city_approved"],
                               "card": ["city_approved"], "qr": ["city_approved"]}},
}
# SPEC "Rule facts" (national 2006 rules): "staff of provincial units and tertiary hospitals need 10
# national-project credits within 5 years" — a multi-year requirement (services/counting.py) a region
# adds to its policy ("multi_year": [NATIONAL_FIVE_YEARS]); no seed gives a figure of its own, so the
# shipped policies leave it out and their yearly results stay as they were.
NATIONAL_FIVE_YEARS = {"label": "三级医疗机构人员5年内国家级继续医学教育项目学分", "years": 5,
                       "categories": ["国家级继续医学教育项目"], "min": 10, "institution_levels": ["三级"]}

# National 2006 profile (SPEC "Rule facts"): ≥ 25 a year, class I 5–10 and class II 15–20, not interchangeable.
NATIONAL_2006 = [
    (1, "Ⅰ类学分项目", "按项目学分", "Ⅰ类学分项目", "继续医学教育项目", None, PROJECT, "imported",
     {"source": "project", "class": I}),
    (2, "Ⅱ类学分项目", "按项目学分", "Ⅱ类学分项目", "继续医学教育项目", None, PROJECT, "imported",
     {"source": "project", "class": II}),
    (3, "Ⅱ类学分活动", "每3小时1分", "Ⅱ类学分活动", "根据实际情况填写", None, PRACTICE, "per_unit",
     {"unit": "hours", "per": 3, "rate": 1, "class": II}),
]
NATIONAL_2006_POLICY = {
    "required_total": 25,
    "required_by_title_level": {},
    "window": {"start": "01-01", "end": "12-31"},
    "class_split": True,
    "class_limits": {I: {"min": 5, "max": 10}, II: {"min": 15, "max": 20}},
    "category_limits": [],
    "full_year": [],
}

SHIPPED = [
    ("BJ2025", "北京市2025年授分标准", "北京市", 2025, BEIJING_2025, BEIJING_2025_POLICY),
    ("XZ2024", "徐州市2024年授分标准", "徐州市", 2024, XUZHOU_2024, XUZHOU_2024_POLICY),
    ("CN2006", "全国2006年学分规定（Ⅰ/Ⅱ类分开）", "全国", 2006, NATIONAL_2006, NATIONAL_2006_POLICY),
]


def install_rule_sets(session: Session) -> int:
    """Install the shipped rule sets that are missing (by code). Returns how many were added."""
    existing = set(session.scalars(select(RuleSet.code)))
    added = 0
    for code, name, region, year, rows, policy in SHIPPED:
        if code in existing:
            continue
        rs = RuleSet(code=code, name=name, region=region, year=year, status="published",
                     effective_from=datetime.date(year, 1, 1), effective_to=datetime.date(year, 12, 31))
        for seq, sname, rule, category, form, remark, atype, kind, params in rows:
            rs.standards.append(CreditStandard(
                seq=seq, name=sname, rule_text=rule, category=category, activity_form=form, remark=remark,
                activity_type=atype, kind=kind, params=copy.deepcopy(params), credit_class=params.get("class"),
                active=True))
        rs.policy = CompliancePolicy(params=copy.deepcopy(policy))
        session.add(rs)
        added += 1
    session.flush()
    return added


def copy_rule_set(session: Session, source: RuleSet, year: int, code: str | None = None) -> RuleSet:
    """Copy a rule set with its standards and policy to ``year`` as a draft (ICME-2)."""
    code = code or f"{source.code[:-4] if source.code[-4:].isdigit() else source.code}{year}"
    if session.scalar(select(RuleSet.id).where(RuleSet.code == code)) is not None:
        raise ValueError(f"规则集编码{code}已存在")
    new = RuleSet(code=code, name=source.name.replace(str(source.year), str(year)), region=source.region,
                  year=year, status="draft", copied_from_id=source.id,
                  effective_from=_shift(source.effective_from, year - source.year),
                  effective_to=_shift(source.effective_to, year - source.year))
    for s in source.standards:
        new.standards.append(CreditStandard(
            seq=s.seq, name=s.name, rule_text=s.rule_text, category=s.category, activity_form=s.activity_form,
            remark=s.remark, activity_type=s.activity_type, kind=s.kind, params=copy.deepcopy(s.params),
            credit_class=s.credit_class, active=s.active))
    if source.policy is not None:
        new.policy = CompliancePolicy(params=copy.deepcopy(source.policy.params))
    session.add(new)
    session.flush()
    return new


def _shift(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def active_rule_set(session: Session, region: str, on: datetime.date) -> RuleSet | None:
    """The published rule set of a region in force on a date."""
    return session.scalar(select(RuleSet).where(
        RuleSet.region == region, RuleSet.status == "published", RuleSet.effective_from <= on,
        RuleSet.effective_to >= on).order_by(RuleSet.year.desc()))


def policy_params(rule_set: RuleSet) -> dict[str, Any]:
    return dict(rule_set.policy.params) if rule_set.policy is not None else {}


# ------------------------------------------------------------------------------ which rule set is in force
# The system parameter 所在地区 names the region; the region's published rule set in force on the last
# day of a credit year's window judges that year (Beijing 2025, in force in 2025, judges 2024-11-01 …
# 2025-10-31). credit_records, activities, manual entry, self-study and the audit all ask here.
DEFAULT_REGION = "北京市"


# Which region and credit years are in force is asked on most pages (the credit year select, the
# transcript, the compliance list) and changes when a rule set is published or 所在地区 is set: the plain
# answers (no ORM rows) are kept a minute per process and recomputed at the commit of such a change.
KEPT_SECONDS = 60.0


def _touches_rule_sets(classes: set[type]) -> bool:
    return any(issubclass(cls, (Parameter, RuleSet, CompliancePolicy)) for cls in classes)


_answers = TtlCache("rule_sets", KEPT_SECONDS, 256, _touches_rule_sets)


def region(session: Session) -> str:
    """The region whose rule sets are in force (system parameter 所在地区)."""
    return _answers.kept(session, ("region",), lambda: _region(session))


def _region(session: Session) -> str:
    value = session.scalar(select(Parameter.value).where(Parameter.key == REGION_KEY))
    return (value or "").strip() or DEFAULT_REGION


def published(session: Session, region_name: str) -> list[RuleSet]:
    """The region's published rule sets with their policies, newest year first (a handful of rows)."""
    return list(session.scalars(select(RuleSet).options(selectinload(RuleSet.policy)).where(
        RuleSet.region == region_name, RuleSet.status == "published").order_by(RuleSet.year.desc(), RuleSet.id)))


def _in_force(rule_sets: list[RuleSet], on: datetime.date) -> RuleSet | None:
    """``active_rule_set`` over rows already loaded by ``published``: same condition, same order."""
    return next((rs for rs in rule_sets if rs.effective_from <= on <= rs.effective_to), None)


def judging(rule_sets: list[RuleSet], year: int) -> RuleSet | None:
    """Among ``published`` rows, the one judging credit ``year``."""
    for candidate in rule_sets:
        if _in_force(rule_sets, window(policy_params(candidate), year)[1]) is candidate:
            return candidate
    return None


def rule_set_for_year(session: Session, region_name: str, year: int) -> RuleSet | None:
    """The rule set judging credit ``year`` in ``region_name``: the published one in force
    (as ``active_rule_set`` finds it) on the last day of that year's window."""
    return judging(published(session, region_name), year)


def year_window(session: Session, region_name: str, year: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of credit ``year`` under the rule set judging it (seed 001: 2021-11-01 …
    2022-10-31 is 2022). A year no published rule set judges keeps the region's window shape (its newest
    rule set's); a region without any published rule set counts calendar years."""
    rule_set = rule_set_for_year(session, region_name, year)
    if rule_set is None:
        newest = published(session, region_name)
        rule_set = max(newest, key=lambda rs: rs.year) if newest else None
    return window(policy_params(rule_set) if rule_set is not None else {}, year)


def judged_years(session: Session, region_name: str) -> list[int]:
    """The credit years some published rule set of the region judges, newest first."""
    return list(_answers.kept(session, ("judged", region_name), lambda: tuple(_judged_years(session, region_name))))


def _judged_years(session: Session, region_name: str) -> list[int]:
    rule_sets = published(session, region_name)
    return sorted({year for rs in rule_sets for year in (rs.year - 1, rs.year, rs.year + 1)
                   if judging(rule_sets, year) is rs}, reverse=True)


def default_year(session: Session, region_name: str, today: datetime.date | None = None) -> int | None:
    """The credit year of ``today`` when a rule set judges it, else the newest year one does."""
    today = today or datetime.date.today()
    return _answers.kept(session, ("default", region_name, today),
                         lambda: _default_year(session, region_name, today))


def _default_year(session: Session, region_name: str, today: datetime.date) -> int | None:
    choices = judged_years(session, region_name)
    current = active_rule_set(session, region_name, today)
    if current is not None:
        year = compliance_year(policy_params(current), today)
        if year in choices:
            return year
    return choices[0] if choices else None


def current_rule_set(session: Session, today: datetime.date | None = None) -> RuleSet | None:
    """What new credits compute with (the wizard, hand entries, check-in grants): the region's published
    rule set in force today, else the one judging the newest credit year."""
    today = today or datetime.date.today()
    name = region(session)
    current = active_rule_set(session, name, today)
    if current is not None:
        return current
    year = default_year(session, name, today)
    return rule_set_for_year(session, name, year) if year is not None else None


RULE_SET_MISSING = _mark("%(region)s没有在今天（%(day)s）生效的已发布授分规则集，新录入的学分无法按规则计算。"
                         "请在“授分规则”中复制上一年度的规则集，核对后发布")


def rule_set_missing(session: Session, today: datetime.date | None = None) -> dict[str, str] | None:
    """The home page's to-do for whoever publishes rule sets: the region has no published rule set
    in force today (a fresh install ships Beijing 2025; the wizard, manual entry and check-in grants
    compute with today's rule set). ``None`` when one is in force, else the message's arguments."""
    today = today or datetime.date.today()
    region_name = region(session)
    if active_rule_set(session, region_name, today) is not None:
        return None
    return {"region": region_name, "day": today.isoformat()}


# ------------------------------------------------------------------------------ admin actions (ICME-2)
class RuleSetError(DomainError):
    """A rule-set action that is refused; the message is Chinese and shown as is."""


def overlapping_published(session: Session, rule_set: RuleSet) -> RuleSet | None:
    """Another published rule set of the same region whose effective dates overlap ``rule_set``'s."""
    return session.scalar(select(RuleSet).where(
        RuleSet.region == rule_set.region, RuleSet.status == "published", RuleSet.id != rule_set.id,
        RuleSet.effective_from <= rule_set.effective_to, RuleSet.effective_to >= rule_set.effective_from))


def publish_rule_set(session: Session, rule_set: RuleSet) -> None:
    """draft → published: every standard and the policy must validate, and at most one published rule
    set per region may be in force on any day."""
    # Publishers of one region one after the other: lock the region's rule sets (FOR UPDATE) before
    # the overlap check, so two overlapping drafts published at the same instant cannot both pass it.
    session.execute(select(RuleSet.id).where(RuleSet.region == rule_set.region).order_by(RuleSet.id)
                    .with_for_update())
    expected = rule_set.status
    if expected == "draft" and _current_status(session, rule_set) != "draft":
        raise _lost(session, rule_set, "发布")
    if rule_set.status != "draft":
        raise RuleSetError("只有草稿状态的规则集可以发布（“%(name)s”当前为%(status)s）", name=rule_set.name,
                           status=RULE_SET_STATUSES.get(rule_set.status))
    if rule_set.effective_from > rule_set.effective_to:
        raise RuleSetError("生效开始日期不能晚于结束日期")
    other = overlapping_published(session, rule_set)
    if other is not None:
        raise RuleSetError("%(region)s已有已发布的规则集“%(other)s”（%(start)s至%(end)s）与本规则集生效日期重叠，"
                           "请先调整生效日期或将其归档", region=rule_set.region, other=other.name,
                           start=other.effective_from, end=other.effective_to)
    if rule_set.policy is None:
        raise RuleSetError("请先设置达标规则再发布")
    try:
        validate_policy(rule_set.policy.params)
    except PolicyError as exc:
        raise RuleSetError("达标规则有误：%(error)s", error=exc) from None
    for standard in rule_set.standards:
        try:
            validate_params(standard.kind, standard.params)
        except RuleError as exc:
            raise RuleSetError("授分标准“%(seq)s. %(name)s”参数有误：%(error)s", seq=standard.seq, name=standard.name,
                               error=exc) from None
    _guarded(session, rule_set, "draft", "published", "发布")


def archive_rule_set(rule_set: RuleSet) -> None:
    """published → archived (kept for the credits granted under it, no longer in force)."""
    if rule_set.status != "published":
        raise RuleSetError("只有已发布的规则集可以归档")
    _guarded(object_session(rule_set), rule_set, "published", "archived", "归档")


def _current_status(session: Session, rule_set: RuleSet) -> str | None:
    return workflow.current_value(session, rule_set)


def _lost(session: Session, rule_set: RuleSet, action: str) -> RuleSetError:
    status = _current_status(session, rule_set)
    return RuleSetError("操作未执行：规则集“%(name)s”已由他人先处理，当前为“%(status)s”。您的“%(action)s”未生效，请刷新页面查看",
                        name=rule_set.name, status=RULE_SET_STATUSES.get(status, status), action=action)


def _guarded(session: Session, rule_set: RuleSet, expected: str, target: str, action: str) -> None:
    """The status change as a guarded UPDATE … WHERE status = :expected (one of two clicks wins)."""
    try:
        workflow.guarded_set(session, rule_set, expected, target, describe=lambda: _lost(session, rule_set, action))
    except workflow.TransitionConflict as exc:
        raise RuleSetError("%(decided)s", decided=exc.params.get("decided", exc)) from None


def prepare_delete(session: Session, rule_set: RuleSet) -> None:
    """Before deleting: a rule set that credits were granted under stays (archive it instead); its
    stored compliance results go with it and its copies forget where they came from."""
    from sqlalchemy import delete, update

    if session.scalar(select(Credit.id).where(Credit.rule_set_id == rule_set.id).limit(1)) is not None:
        raise RuleSetError("“%(name)s”已有学分记录，不能删除（可归档）", name=rule_set.name)
    session.execute(delete(ComplianceResult).where(ComplianceResult.rule_set_id == rule_set.id))
    session.execute(update(RuleSet).where(RuleSet.copied_from_id == rule_set.id).values(copied_from_id=None))


RULE_SET_STATUSES = {"draft": "草稿", "published": "已发布", "archived": "已归档"}
