"""Counting policy (issue 16 items 6 and 7): which credits count toward compliance, per rule set and
per source, and requirements over several years. Both evaluators of services/compliance.py (the
per-person ``evaluate`` and the set-based ``result_select``) read these helpers, so they agree.

Policy keys (in the compliance policy's JSON, beside the keys compliance.py documents):

    counting: {statuses: ["unit_approved", "city_approved"],           # default for every source
               by_source: {"manual": ["city_approved"], "late": [...], "card": [...], "qr": [...]}}
    multi_year: [{label, years: 5, categories: ["国家级继续医学教育项目"], min: 10,
                  institution_levels: ["三级"]}]

Source keys: the credit's ``source`` (CREDIT_SOURCES: project_import, card, qr, unit, self_study,
audit, distance …) except two read from the manual-entry row (models/review.ManualCredit):
``manual`` — any hand entry of a non-project credit (by the technician, or by the unit for its
staff), ``late`` — a unit's late entry (补录) of a closed year (seed 002 附件一 4).

Seed 002 三 3: "刷卡记录需在项目结束一周内上传 ICME 系统，经市级审核通过后授予学分" — a source whose
statuses are only ``city_approved`` waits for the city: ``needs_city_review`` says so, the grant keeps
the check-in's source (``grant_source``) and the city passes it (views/city_review.py).
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, or_, select
from sqlalchemy.orm import Session

from app.models.credits import COUNTED_STATUSES, CREDIT_SOURCES, CREDIT_STATUSES, GRANT_SOURCES, Credit
from app.models.review import ManualCredit
from app.services.credit_year import window

LATE, MANUAL = "late", "manual"
SOURCE_LABELS = {**CREDIT_SOURCES, MANUAL: "手工录入", LATE: "补录", "distance": "远程教育"}
CITY_ONLY = ("city_approved",)
NOT_YET_CITY = "待市级审核，暂不计入"


# ------------------------------------------------------------------------------------ statuses
def default_statuses(policy: Mapping) -> tuple[str, ...]:
    counting = policy.get("counting") or {}
    return tuple(counting.get("statuses") or COUNTED_STATUSES)


def by_source(policy: Mapping) -> dict[str, tuple[str, ...]]:
    counting = policy.get("counting") or {}
    return {src: tuple(sts) for src, sts in (counting.get("by_source") or {}).items()}


def statuses_for(policy: Mapping, source: str) -> tuple[str, ...]:
    """The statuses in which a credit of ``source`` counts under ``policy``."""
    return by_source(policy).get(source, default_statuses(policy))


def _city_only(statuses: Iterable[str]) -> bool:
    statuses = tuple(statuses)
    return "city_approved" in statuses and "unit_approved" not in statuses


def needs_city_review(policy: Mapping, source: str) -> bool:
    """Credits of ``source`` count only once the city passed them (Xuzhou: seed 002 三 3, 附件一 4)."""
    return _city_only(statuses_for(policy, source))


def city_review_labels(policy: Mapping) -> list[str]:
    """Chinese names of the sources the policy counts only after the city's review (the transcript's note)."""
    return [SOURCE_LABELS.get(s, s) for s in by_source(policy) if needs_city_review(policy, s)]


def summary(policy: Mapping) -> list[dict[str, Any]]:
    """The counting policy as the rule set's page lists it: one row per source the policy names
    (``label`` its Chinese name), then the default row (``label`` None) holding for every other source;
    ``statuses`` are the Chinese names of the counted statuses, ``city`` whether they wait for the city."""
    rows = [(SOURCE_LABELS.get(src, src), sts) for src, sts in by_source(policy).items()]
    rows.append((None, default_statuses(policy)))
    return [{"label": label, "statuses": [CREDIT_STATUSES.get(s, s) for s in sts], "city": _city_only(sts)}
            for label, sts in rows]


def source_key(source: str | None, late: bool | None) -> str:
    """The counting source of one credit; ``late`` is its ManualCredit.late (None: no manual row)."""
    if late:
        return LATE
    if source == "manual" or (source == "unit" and late is not None):
        return MANUAL
    return source or "unit"


def counts(policy: Mapping, source: str, status: str) -> bool:
    return status in statuses_for(policy, source)


def not_counted_note(policy: Mapping, source: str, status: str) -> str:
    """Why a credit in ``status`` does not count (the transcript's 说明)."""
    if status == "unit_approved" and needs_city_review(policy, source):
        return f"未计入：{NOT_YET_CITY}（{SOURCE_LABELS.get(source, source)}学分须经市级审核通过后计入）"
    return f"未计入：状态为“{CREDIT_STATUSES.get(status, status)}”"


def hand_entries(session: Session, credit_ids: Iterable[int]) -> dict[int, bool]:
    """credit id → late flag, for the credits with a manual-entry row (one query per 500 ids)."""
    ids = sorted({i for i in credit_ids if i})
    out: dict[int, bool] = {}
    for start in range(0, len(ids), 500):
        out.update(session.execute(select(ManualCredit.credit_id, ManualCredit.late).where(
            ManualCredit.credit_id.in_(ids[start:start + 500]))).tuples().all())
    return out


# ------------------------------------------------------------------------------------ SQL side
def needs_join(policy: Mapping) -> bool:
    """The set-based evaluator joins the manual-entry rows only when the policy names sources."""
    return bool(by_source(policy))


def source_key_sql() -> ColumnElement:
    """``source_key`` in SQL over Credit outer-joined to ManualCredit."""
    return case((ManualCredit.late.is_(True), literal(LATE)),
                (or_(Credit.source == "manual", and_(Credit.source == "unit", ManualCredit.id.is_not(None))),
                 literal(MANUAL)),
                else_=Credit.source)


def counted_sql(policy: Mapping) -> ColumnElement:
    """The SQL condition "this credit counts" — exactly ``counts`` (Credit joined to ManualCredit
    when ``needs_join``)."""
    default = list(default_statuses(policy))
    special = by_source(policy)
    if not special:
        return Credit.status.in_(default)
    key = source_key_sql()
    clauses = [and_(key == src, Credit.status.in_(list(sts))) for src, sts in special.items()]
    clauses.append(and_(key.not_in(list(special)), Credit.status.in_(default)))
    return or_(*clauses)


def with_sources(stmt, policy: Mapping):
    """Add the outer join the source key needs (a credit has at most one manual row)."""
    if needs_join(policy):
        stmt = stmt.outerjoin(ManualCredit, ManualCredit.credit_id == Credit.id)
    return stmt


# ------------------------------------------------------------------------------------ grants
def grant_source(policy: Mapping, checkin_source: str | None, default: str) -> str:
    """The credit source a project grant writes for one check-in: the check-in's own (刷卡 / 扫码) when
    the policy sends that source through the city's review, else ``default`` (today's behaviour)."""
    if checkin_source in ("card", "qr") and needs_city_review(policy, checkin_source):
        return checkin_source
    return default


def pending_city_sql(policies: Mapping[int, Mapping]) -> ColumnElement:
    """Credits waiting for the city's review because of their rule set's counting policy (swipe / QR
    grants under Xuzhou's): ``policies`` maps rule set id → policy params."""
    clauses = []
    for rule_set_id, policy in policies.items():
        sources = [s for s in by_source(policy) if s in GRANT_SOURCES and needs_city_review(policy, s)]
        if sources:
            clauses.append(and_(Credit.rule_set_id == rule_set_id, Credit.source.in_(sources)))
    if not clauses:
        return literal(False)
    return and_(Credit.status == "unit_approved", or_(*clauses))


def waits_for_city(session: Session, credit: Any) -> bool:
    """A granted credit whose rule set's policy sends its source through the city's review
    (workflow's ``needs_city`` guard of city_pass / city_fail)."""
    from app.models import RuleSet

    if credit.source not in GRANT_SOURCES or not credit.rule_set_id:
        return False
    rule_set = session.get(RuleSet, credit.rule_set_id)
    policy = rule_set.policy.params if rule_set is not None and rule_set.policy is not None else {}
    return needs_city_review(policy, credit.source)


# ------------------------------------------------------------------------------------ multi-year
def multi_year_rules(policy: Mapping) -> list[dict[str, Any]]:
    return [dict(r) for r in policy.get("multi_year") or []]


def multi_year_span(policy: Mapping, year: int, years: int) -> tuple[datetime.date, datetime.date]:
    """The windows of ``years`` credit years ending with ``year`` (5 years: year-4 … year)."""
    return window(policy, year - int(years) + 1)[0], window(policy, year)[1]


def span_start(policy: Mapping, year: int, start: datetime.date) -> datetime.date:
    """The earliest day a result of ``year`` reads: its window's ``start``, or the start of the
    longest multi-year span (a credit of 2021 changes the 2024 result of a five-year rule)."""
    starts = [multi_year_span(policy, year, r.get("years", 5))[0] for r in multi_year_rules(policy)]
    return min([start, *starts])


def applies(rule: Mapping, institution_level: str | None) -> bool:
    levels = rule.get("institution_levels") or []
    return not levels or institution_level in levels


def multi_year_check(policy: Mapping, year: int, rule: Mapping, credits: Iterable[Any],
                     hand: Mapping[int, bool], institution_level: str | None) -> dict[str, Any]:
    """One multi-year requirement for one person: counted credits of the rule's categories in the
    span (statuses by the counting policy, no yearly caps)."""
    start, end = multi_year_span(policy, year, rule.get("years", 5))
    need = Decimal(str(rule.get("min", 0)))
    got = Decimal(0)
    cats = set(rule.get("categories") or [])
    for c in credits:
        if c.category in cats and start <= c.granted_on <= end and counts(
                policy, source_key(c.source, hand.get(getattr(c, "id", None))), c.status):
            got += Decimal(str(c.credits))
    applied = applies(rule, institution_level)
    return {"label": rule.get("label") or "、".join(sorted(cats)), "start": start, "end": end,
            "min": need, "got": got, "applies": applied, "met": (not applied) or got >= need,
            "years": int(rule.get("years", 5)), "categories": sorted(cats),
            "levels": list(rule.get("institution_levels") or [])}


def context(session: Session, person: Any, policy: Mapping, year: int, credits: list[Any]) -> dict[str, Any]:
    """What ``compliance.evaluate`` needs beyond the year's credits for one person: the manual-entry
    flags, the credits of the multi-year span and the person's institution level."""
    from app.models.org import Org

    history = None
    rules = multi_year_rules(policy)
    if rules:
        longest = max(int(r.get("years", 5)) for r in rules)
        start, end = multi_year_span(policy, year, longest)
        history = list(session.scalars(select(Credit).where(
            Credit.person_id == person.id, Credit.granted_on >= start, Credit.granted_on <= end)))
    ids = [c.id for c in credits] + [c.id for c in history or []]
    level = session.scalar(select(Org.level).where(Org.id == person.institution_id)) \
        if getattr(person, "institution_id", None) else None
    return {"hand": hand_entries(session, ids) if needs_join(policy) else {}, "history": history,
            "institution_level": level}


# ------------------------------------------------------------------------------------ validation
def validate(params: Mapping) -> list[str]:  # noqa: C901
    """Problems of the ``counting`` and ``multi_year`` keys, in Chinese (compliance.validate_policy)."""
    errors: list[str] = []
    counting = params.get("counting")
    if counting is not None:
        if not isinstance(counting, dict) or not set(counting) <= {"statuses", "by_source"}:
            errors.append("计入规则只能设置默认计入状态（statuses）和按来源计入状态（by_source）")
        else:
            lists = [("默认", counting.get("statuses") or list(COUNTED_STATUSES))]
            sources = counting.get("by_source") or {}
            if not isinstance(sources, dict):
                errors.append("按来源计入状态必须是 {来源: [状态…]} 的形式")
                sources = {}
            for src, sts in sources.items():
                if src not in SOURCE_LABELS:
                    errors.append(f"未知的学分来源“{src}”（可用：{'、'.join(SOURCE_LABELS)}）")
                lists.append((SOURCE_LABELS.get(src, src), sts))
            for label, sts in lists:
                if not isinstance(sts, list) or not sts or any(s not in CREDIT_STATUSES for s in sts):
                    errors.append(f"{label}计入状态必须是非空列表，状态只能是：{'、'.join(CREDIT_STATUSES)}")
    rules = params.get("multi_year")
    if rules is not None:
        if not isinstance(rules, list):
            errors.append("多年度要求必须是列表")
            rules = []
        for n, rule in enumerate(rules, start=1):
            if not isinstance(rule, dict) or not set(rule) <= {"label", "years", "categories", "min",
                                                                "institution_levels"}:
                errors.append(f"第{n}条多年度要求只能设置说明、年数、类别、最少学分和单位级别")
                continue
            years = rule.get("years")
            if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 10:
                errors.append(f"第{n}条多年度要求的年数必须是1到10的整数")
            cats = rule.get("categories")
            if not isinstance(cats, list) or not cats or not all(isinstance(c, str) and c.strip() for c in cats):
                errors.append(f"第{n}条多年度要求必须至少有一个学分类别")
            low = rule.get("min")
            if not isinstance(low, (int, float)) or isinstance(low, bool) or not 0 < low <= 1000:
                errors.append(f"第{n}条多年度要求的最少学分必须是大于0且不超过1000的数字")
            levels = rule.get("institution_levels", [])
            if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels):
                errors.append(f"第{n}条多年度要求的单位级别必须是列表")
    return errors
