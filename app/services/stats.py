"""Dashboard statistics (SYS-7): compliance rates and credits per month, inside the user's scope.

Every figure is one GROUP BY over the stored ComplianceResult rows (written by the recompute job) or
over Credit; the page draws each as a chart with its table.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session, aliased

from app.models import ComplianceResult, Credit, Org, RuleSet
from app.models.org import INSTITUTION_LEVELS
from app.services import counting
from app.services.compliance import window
from app.services.person_fields import title_levels
from app.services.rule_sets import policy_params
from app.services.scope import Scope

UNKNOWN = "未填写"
OTHER = "其他/未填写"  # title levels: outside the dictionary or empty


@dataclass
class RateRow:
    label: str
    persons: int
    met: int

    @property
    def rate(self) -> float:
        """Compliance rate in percent, one decimal."""
        return round(self.met * 100.0 / self.persons, 1) if self.persons else 0.0


@dataclass
class MonthRow:
    month: str  # YYYY-MM
    count: int
    credits: Decimal


def result_years(session: Session, scope: Scope) -> list[tuple[int, int, str]]:
    """(year, rule set id, rule set name) that have stored results visible in ``scope``, newest first."""
    query = (select(ComplianceResult.year, RuleSet.id, RuleSet.name)
             .join(RuleSet, RuleSet.id == ComplianceResult.rule_set_id)
             .group_by(ComplianceResult.year, RuleSet.id, RuleSet.name)
             .order_by(ComplianceResult.year.desc(), RuleSet.id))
    return [tuple(r) for r in session.execute(scope.filter(query, ComplianceResult))]


def _rates(session: Session, scope: Scope, year: int, rule_set_id: int, label_col: Any, join: Any = None,
           order: list[str] | None = None) -> list[RateRow]:
    query = select(label_col.label("label"), func.count(),
                   func.coalesce(func.sum(case((ComplianceResult.met, 1), else_=0)), 0))
    query = query.select_from(ComplianceResult)
    if join is not None:
        query = query.outerjoin(*join)
    query = (query.where(ComplianceResult.year == year, ComplianceResult.rule_set_id == rule_set_id)
             .group_by(label_col))
    rows = [RateRow(r[0] or UNKNOWN, int(r[1]), int(r[2])) for r in session.execute(scope.filter(query, ComplianceResult))]
    rank = {name: i for i, name in enumerate(order or [])}
    return sorted(rows, key=lambda r: (rank.get(r.label, len(rank)), r.label))


def rate_by_district(session: Session, scope: Scope, year: int, rule_set_id: int) -> list[RateRow]:
    """Compliance rate per district (by the person's district when the result was computed)."""
    district = aliased(Org)
    names = list(session.scalars(select(Org.name).where(Org.kind == "district").order_by(Org.sort, Org.name)))
    return _rates(session, scope, year, rule_set_id, district.name,
                  (district, district.id == ComplianceResult.district_id), names)


def rate_by_institution_level(session: Session, scope: Scope, year: int, rule_set_id: int) -> list[RateRow]:
    """Compliance rate per institution level (三级 / 二级 / 一级 / 社会办医)."""
    inst = aliased(Org)
    return _rates(session, scope, year, rule_set_id, inst.level,
                  (inst, inst.id == ComplianceResult.institution_id), INSTITUTION_LEVELS)


def rate_by_title_level(session: Session, scope: Scope, year: int, rule_set_id: int) -> list[RateRow]:
    """Compliance rate per title level of the 职称级别 dictionary (初级 / 中级 / 副高 / 正高); a stored level
    outside it (a legacy typed value) or none counts under 其他/未填写, never as a level of its own."""

    levels = title_levels(session)
    merged: dict[str, RateRow] = {}
    for row in _rates(session, scope, year, rule_set_id, ComplianceResult.title_level, None, levels):
        label = row.label if row.label in levels else OTHER
        into = merged.setdefault(label, RateRow(label, 0, 0))
        into.persons += row.persons
        into.met += row.met
    rank = {name: i for i, name in enumerate(levels)}
    return sorted(merged.values(), key=lambda r: rank.get(r.label, len(rank)))


def credits_by_month(session: Session, scope: Scope, start: datetime.date, end: datetime.date,
                     policy: Mapping | None = None) -> list[MonthRow]:
    """Credits per month between ``start`` and ``end`` that count under the rule set's ``policy`` (its
    counting statuses per source, as compliance.result_select counts them; none: the default statuses);
    months without credits are listed with 0."""
    policy = policy or {}
    y, m = extract("year", Credit.granted_on), extract("month", Credit.granted_on)
    query = (counting.with_sources(select(y, m, func.count(), func.coalesce(func.sum(Credit.credits), 0))
                                   .select_from(Credit), policy)
             .where(counting.counted_sql(policy), Credit.granted_on >= start, Credit.granted_on <= end)
             .group_by(y, m))
    found = {(int(r[0]), int(r[1])): (int(r[2]), Decimal(str(r[3])))
             for r in session.execute(scope.filter(query, Credit))}
    rows, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):  # at most a handful of months, not rows
        count, total = found.get((year, month), (0, Decimal(0)))
        rows.append(MonthRow(f"{year}-{month:02d}", count, total))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


def dashboard(session: Session, scope: Scope, year: int, rule_set_id: int) -> dict[str, Any]:
    """Everything the statistics page shows for one year and rule set."""
    rule_set = session.get(RuleSet, rule_set_id)
    policy = policy_params(rule_set) if rule_set is not None else {}
    start, end = window(policy, year) if rule_set is not None else (
        datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    return {
        "district": rate_by_district(session, scope, year, rule_set_id),
        "institution_level": rate_by_institution_level(session, scope, year, rule_set_id),
        "title_level": rate_by_title_level(session, scope, year, rule_set_id),
        "months": credits_by_month(session, scope, start, end, policy),
        "window": (start, end),
    }
