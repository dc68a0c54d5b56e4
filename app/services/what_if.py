"""What-if (ICME-10, issue 3 point 6): before publishing a draft rule set, show who would change status.

Both policies are judged by ``compliance.result_select`` — the very SELECT ``recompute`` stores — and
the two result sets are joined on person in one statement: nothing is written, no Python loop over
people. "现行" is the published rule set the draft would replace.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Org, Person, RuleSet
from app.services.compliance import result_select
from app.services.errors import DomainError
from app.services.rule_sets import policy_params
from app.services.scope import Scope

CHANGE_LABELS = {"lost": "达标→不达标", "gained": "不达标→达标"}
EXPORT_HEADER = ["卡号", "姓名", "单位", "科室", "职称级别", "现行学分", "现行要求", "现行结果", "草稿学分",
                 "草稿要求", "草稿结果", "变化"]


class WhatIfError(DomainError):
    """The comparison cannot be made; message in Chinese."""


def default_base(session: Session, draft: RuleSet) -> RuleSet | None:
    """The published rule set the draft would replace: the one it was copied from if still published,
    else the region's latest published one."""
    if draft.copied_from_id:
        source = session.get(RuleSet, draft.copied_from_id)
        if source is not None and source.status == "published":
            return source
    return session.scalar(select(RuleSet).where(
        RuleSet.region == draft.region, RuleSet.status == "published", RuleSet.id != draft.id)
        .order_by(RuleSet.year.desc(), RuleSet.id.desc()))


@dataclass
class Summary:
    persons: int
    base_met: int
    draft_met: int
    lost: int  # 达标 → 不达标
    gained: int  # 不达标 → 达标

    @property
    def changed(self) -> int:
        return self.lost + self.gained


class WhatIf:
    """Compare ``draft``'s policy with ``base``'s for ``year`` over everyone in ``scope``."""

    def __init__(self, draft: RuleSet, base: RuleSet, year: int, scope: Scope):
        if draft.policy is None:
            raise WhatIfError("“%(name)s”尚未设置达标规则", name=draft.name)
        if base.policy is None:
            raise WhatIfError("“%(name)s”尚未设置达标规则", name=base.name)
        if draft.id == base.id:
            raise WhatIfError("请选择另一个规则集作为对比的现行规则")
        self.draft, self.base, self.year, self.scope = draft, base, year, scope
        self._new = result_select(policy_params(draft), draft.id, year, scope).subquery("draft_result")
        self._old = result_select(policy_params(base), base.id, year, scope).subquery("base_result")
        new, old = self._new, self._old
        self._lost = and_(old.c.met, not_(new.c.met))
        self._gained = and_(not_(old.c.met), new.c.met)

    def _joined(self, *columns: Any) -> Select:
        return select(*columns).select_from(self._old).join(self._new, self._new.c.person_id == self._old.c.person_id)

    def summary(self, session: Session) -> Summary:
        """Counts in one statement."""
        one = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)
        row = session.execute(self._joined(
            func.count(), one(self._old.c.met), one(self._new.c.met), one(self._lost), one(self._gained))).one()
        return Summary(*(int(x or 0) for x in row))

    def changes_select(self) -> Select:
        """The people whose status changes, with both results (ordered by unit, card number)."""
        inst, dept = aliased(Org), aliased(Org)
        old, new = self._old, self._new
        change = case((self._lost, "lost"), else_="gained").label("change")
        return (self._joined(Person.id, Person.card_no, Person.name, inst.name.label("institution"),
                             dept.name.label("department"), Person.title_level,
                             old.c.total.label("base_total"), old.c.required.label("base_required"),
                             old.c.met.label("base_met"), new.c.total.label("draft_total"),
                             new.c.required.label("draft_required"), new.c.met.label("draft_met"), change)
                .join(Person, Person.id == old.c.person_id)
                .outerjoin(inst, inst.id == Person.institution_id)
                .outerjoin(dept, dept.id == Person.department_id)
                .where(or_(self._lost, self._gained))
                .order_by(inst.name, Person.card_no, Person.id))

    def changes(self, session: Session, page: int = 1, page_size: int = 50) -> list[Any]:
        """One page of ``changes_select``."""
        page = max(1, page)
        return list(session.execute(self.changes_select().offset((page - 1) * page_size).limit(page_size)))

    def export_rows(self, session: Session) -> Iterator[list[Any]]:
        """Rows for the Excel export (EXPORT_HEADER), streamed."""
        result = session.execute(self.changes_select().execution_options(yield_per=1000))
        for r in result:
            yield [r.card_no, r.name, r.institution or "", r.department or "", r.title_level or "",
                   _num(r.base_total), _num(r.base_required), _met(r.base_met), _num(r.draft_total),
                   _num(r.draft_required), _met(r.draft_met), CHANGE_LABELS[r.change]]


def _num(value: Any) -> float:
    return float(Decimal(str(value or 0)))


def _met(value: Any) -> str:
    return "达标" if value else "不达标"
