"""Credit records (ICME-9) and their stored compliance results (ICME-10).

Which rule set judges which credit year is answered in services/rule_sets.py (``region``,
``rule_set_for_year``, ``default_year``; re-exported here). A credit dated ``d`` belongs to
``compliance_year(policy, d)``.

Results stay current in two ways: ``recompute_scope`` (the JOB-1 job, one set-based statement for a
whole scope) and a session hook (``install``) that, before each commit, recomputes the results of the
persons whose credits were added, changed or deleted in that transaction — set-based too, for
exactly those persons — and of persons whose title level or place (district, institution,
department) changed. Core ``insert(Credit)`` statements are not seen by the ORM: their callers
hand the rows to ``note_credits`` so the same commit recomputes those persons (projects.grant).
Bulk ``query.update()`` / ``delete()`` bypass the hook; run the job after them.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session

from app.models import (
    ComplianceResult,
    Credit,
    CreditStandard,
    Person,
    RuleSet,
)
from app.services import counting
from app.services.compliance import (
    Evaluation,
    compliance_year,
    evaluate,
    recompute,
    window,
)
from app.services.errors import DomainError
from app.services.manual_credits import categories as dictionary_categories
from app.services.region import REGION_KEY  # noqa: F401 (re-exported)
from app.services.rule_sets import (  # noqa: F401 (re-exported: which rule set is in force lives there)
    DEFAULT_REGION,
    RULE_SET_MISSING,
    default_year,
    policy_params,
    published,
    region,
    rule_set_for_year,
    rule_set_missing,
)
from app.services.rule_sets import judged_years as years  # noqa: F401 (re-exported)
from app.services.rule_sets import judging as _judge
from app.services.scope import Scope

CHUNK = 500  # persons per recompute statement (keeps IN lists well under SQLite's limits)

# session.info keys of the hook.
SKIP = "credit_records_skip"  # set True by bulk work that recomputes the whole scope itself
_PENDING = "credit_records_pending"  # {person_id: {dates}} touched in this transaction
_OLD = "credit_records_old"  # {credit id: (person_id, granted_on)} as stored before this flush
_MOVED = "credit_records_moved"  # person ids whose title level or place changed in this transaction
# Person attributes a stored result copies or depends on (required credits by title level; the
# district / institution / department lists filter results by).
PERSON_ATTRIBUTES = ("title_level", "district_id", "institution_id", "department_id")


class CreditRecordError(DomainError):
    """Nothing to judge with (no rule set for the year…); message in Chinese."""


def affected(session: Session, person_ids: Iterable[int], dates: Iterable[datetime.date],
             region_name: str | None = None) -> set[tuple[int, int]]:
    """(year, rule set id) pairs whose results credits dated ``dates`` change: the region's rule set
    of each date's credit year, and any stored result of these persons whose window holds a date."""
    dates = {d for d in dates if d is not None}
    ids = sorted({p for p in person_ids if p is not None})
    if not dates or not ids:
        return set()
    rule_sets = published(session, region_name or region(session))
    pairs: set[tuple[int, int]] = set()
    for day in dates:
        for rs in rule_sets:
            year = compliance_year(policy_params(rs), day)
            if year is not None and _judge(rule_sets, year) is rs:
                pairs.add((year, rs.id))
    stored = _stored_pairs(session, ids)
    for year, rule_set_id in stored - pairs:
        rs = session.get(RuleSet, rule_set_id)
        start, end = window(policy_params(rs), year)
        start = counting.span_start(policy_params(rs), year, start)  # a multi-year rule reads earlier years
        if any(start <= d <= end for d in dates):
            pairs.add((year, rule_set_id))
    return pairs


def recompute_persons(session: Session, person_ids: Iterable[int], dates: Iterable[datetime.date]) -> int:
    """Recompute the stored results of ``person_ids`` for every (year, rule set) their credits dated
    ``dates`` touch, with compliance.recompute (set-based, CHUNK persons per statement). Returns the
    number of results written; the caller commits."""
    ids = sorted({p for p in person_ids if p is not None})
    return _recompute_pairs(session, ids, affected(session, ids, dates))


def _recompute_pairs(session: Session, ids: list[int], pairs: set[tuple[int, int]]) -> int:
    """Recompute ``ids`` for each (year, rule set id) of ``pairs``, CHUNK persons per statement."""
    written = 0
    for year, rule_set_id in sorted(pairs):
        rs = session.get(RuleSet, rule_set_id)
        for chunk in _chunks(ids):
            written += recompute(session, policy_params(rs), rs.id, year, Scope("all"), chunk)
    return written


def recompute_scope(session: Session, scope: Scope, year: int) -> tuple[RuleSet, int]:
    """Recompute ``year`` for everyone in ``scope`` under the region's rule set for that year: one
    set-based compliance.recompute. Returns (rule set, results written); the caller commits."""
    region_name = region(session)
    rs = rule_set_for_year(session, region_name, year)
    if rs is None:
        raise CreditRecordError("%(region)s没有适用于%(year)s年度的已发布规则集，请先在“授分规则”中发布", region=region_name,
                                year=year)
    return rs, recompute(session, policy_params(rs), rs.id, year, scope)


def categories(session: Session) -> list[str]:
    """Every 学分类别 a credit can carry, for the lists' category filter: the dictionary's items in
    their order, then the categories of the rule sets' standards not in the dictionary."""
    names = dictionary_categories(session)
    known = set(names)
    for name in session.scalars(select(CreditStandard.category).distinct().order_by(CreditStandard.category)):
        if name and name not in known:
            names.append(name)
            known.add(name)
    return names


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


# ------------------------------------------------------------------------------------ transcript
@dataclass
class Transcript:
    """A person's credit year: the credits granted or uploaded in it and the explained judgement."""

    person: Person
    year: int
    window: tuple[datetime.date, datetime.date]
    rule_set: RuleSet | None
    credits: list[Credit] = field(default_factory=list)
    evaluation: Evaluation | None = None
    stored: ComplianceResult | None = None


def year_credits(session: Session, person_id: int, start: datetime.date, end: datetime.date) -> list[Credit]:
    """The person's credits granted in [start, end] or uploaded then (a late upload of an older
    credit shows up with the reason it does not count)."""
    after_end = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time())
    return list(session.scalars(select(Credit).where(
        Credit.person_id == person_id,
        or_(and_(Credit.granted_on >= start, Credit.granted_on <= end),
            and_(Credit.uploaded_at >= datetime.datetime.combine(start, datetime.time()),
                 Credit.uploaded_at < after_end)))
        .order_by(Credit.granted_on, Credit.id)))


def transcript(session: Session, person: Person, year: int, region_name: str | None = None) -> Transcript:
    """The person's credits of ``year`` judged by the region's rule set for it (compliance.evaluate)."""
    rs = rule_set_for_year(session, region_name or region(session), year)
    if rs is None:
        span = (datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        return Transcript(person, year, span, None, year_credits(session, person.id, *span))
    policy = policy_params(rs)
    span = window(policy, year)
    credits = year_credits(session, person.id, *span)
    stored = session.scalar(select(ComplianceResult).where(
        ComplianceResult.person_id == person.id, ComplianceResult.year == year,
        ComplianceResult.rule_set_id == rs.id))
    return Transcript(person, year, span, rs, credits, evaluate(
        policy, year, credits, person.title_level, **counting.context(session, person, policy, year, credits)), stored)


# ------------------------------------------------------------------------------------ session hook
def _note(session: Session, person_id: Any, day: Any) -> None:
    if person_id is not None and day is not None:
        session.info.setdefault(_PENDING, {}).setdefault(person_id, set()).add(day)


def note_credits(session: Session, rows: Iterable[Any]) -> None:
    """Tell the hook about credits written with Core statements (``insert(Credit)``), which the
    ORM's flush does not see: each row (a mapping with ``person_id`` and ``granted_on``) marks its
    person's result of that date's year for recompute before this transaction commits."""
    for row in rows:
        _note(session, row.get("person_id"), row.get("granted_on"))


def _stored_pairs(session: Session, person_ids: list[int]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for chunk in _chunks(person_ids):
        pairs |= set(session.execute(select(ComplianceResult.year, ComplianceResult.rule_set_id)
                                     .where(ComplianceResult.person_id.in_(chunk)).distinct()).tuples())
    return pairs


def _before_flush(session: Session, flush_context, instances) -> None:
    # The stored person and date of changed / deleted credits, read before this flush overwrites
    # them: a credit moved to another person or year changes the old result as well.
    ids = [inspect(obj).identity[0] for obj in chain(session.dirty, session.deleted)
           if isinstance(obj, Credit) and inspect(obj).identity]
    moved = [obj.id for obj in session.dirty if isinstance(obj, Person) and obj.id is not None
             and any(inspect(obj).attrs[name].history.has_changes() for name in PERSON_ATTRIBUTES)]
    if moved:
        session.info.setdefault(_MOVED, set()).update(moved)
    old = session.info.setdefault(_OLD, {})
    if ids:
        with session.no_autoflush:
            for chunk in _chunks(ids):
                for credit_id, person_id, day in session.execute(
                        select(Credit.id, Credit.person_id, Credit.granted_on).where(Credit.id.in_(chunk))):
                    old[credit_id] = (person_id, day)
                    _note(session, person_id, day)


def _after_flush(session: Session, flush_context) -> None:
    # New values are complete only now (person_id of a credit added with ``person=…``).
    old = session.info.pop(_OLD, {})
    for obj in chain(session.new, session.dirty):
        if not isinstance(obj, Credit):
            continue
        state = inspect(obj)
        before = old.get(state.identity[0]) if state.identity else None
        person_id = state.dict.get("person_id", before[0] if before else None)
        day = state.dict.get("granted_on", before[1] if before else None)
        _note(session, person_id, day)


def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this event: collect its changes now
    pending = session.info.pop(_PENDING, None)
    moved = session.info.pop(_MOVED, None)
    if session.info.get(SKIP):
        return
    if pending:
        recompute_persons(session, list(pending), set().union(*pending.values()))
    if moved:  # every stored result of these persons: their required total or place changed
        ids = sorted(moved)
        _recompute_pairs(session, ids, _stored_pairs(session, ids))


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(_OLD, None)
        session.info.pop(_MOVED, None)


def install(session_class: Any = Session) -> None:
    """Register the hook once per process: a person's stored results are recomputed, before the
    commit, whenever their credits change."""
    if not event.contains(session_class, "before_commit", _before_commit):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "before_commit", _before_commit)
        event.listen(session_class, "after_soft_rollback", _after_soft_rollback)
