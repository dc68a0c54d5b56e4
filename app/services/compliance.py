"""Compliance (达标计算, ICME-10): one policy, two evaluators that agree.

``evaluate`` judges one person and explains itself (which credits counted, which were capped and by
which limit, which did not count and why, totals per category, what is missing).
``recompute`` judges a whole scope with set-based SQL (GROUP BY, no Python loop over people) and
stores ComplianceResult rows. Both read the same policy params:

    required_total, required_by_title_level {初级: 20, …}, window {start: "11-01", end: "10-31"},
    class_split, class_limits {Ⅰ类: {min, max}, Ⅱ类: {min, max}},
    category_limits [{category, min, max}] (either bound or both), full_year [{categories: […], min_months, label}],
    counting {statuses, by_source} and multi_year [{label, years, categories, min, institution_levels}]
    (services/counting.py: which statuses count per source; requirements over several years).

Caps apply per category (per category and class when classes are split), in date order. A category
minimum is judged on the category's counted credits (after its cap, all classes together): a person
who reaches the total but misses a category minimum is not compliant ("Ⅰ类学分项目学分还差2学分").
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from app.models import ComplianceResult, Credit, Person
from app.services import counting, ttl_cache
from app.services.credit_year import compliance_year, window  # noqa: F401 (the credit year's home; re-exported)
from app.services.errors import DomainError
from app.services.numbers import plain
from app.services.scope import Scope

ZERO = Decimal(0)


def category_bounds(policy: Mapping) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(caps, minimums) by category from the policy's ``category_limits``: the one reading both
    evaluators share, so they cannot disagree on which limit applies."""
    caps: dict[str, Decimal] = {}
    minimums: dict[str, Decimal] = {}
    for item in policy.get("category_limits") or []:
        if item.get("max") is not None:
            caps[item["category"]] = Decimal(str(item["max"]))
        if item.get("min") is not None and Decimal(str(item["min"])) > 0:
            minimums[item["category"]] = Decimal(str(item["min"]))
    return caps, minimums


def required_for(policy: Mapping, title_level: str | None) -> Decimal:
    by_level = policy.get("required_by_title_level") or {}
    value = by_level.get(title_level) if title_level else None
    return Decimal(str(value if value is not None else policy.get("required_total", 25)))


@dataclass
class CreditLine:
    credit_id: int | None
    content: str
    category: str
    credit_class: str | None
    credits: Decimal
    counted: Decimal
    granted_on: datetime.date
    status: str
    note: str = ""


@dataclass
class Evaluation:
    year: int
    window: tuple[datetime.date, datetime.date]
    required: Decimal
    total: Decimal
    met: bool
    full_year: str | None
    lines: list[CreditLine] = field(default_factory=list)
    by_category: dict[str, Decimal] = field(default_factory=dict)
    by_class: dict[str, Decimal] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    multi_year: list[dict[str, Any]] = field(default_factory=list)  # counting.multi_year_check, one per rule
    city_review_sources: list[str] = field(default_factory=list)  # labels of sources counted after the city

    @property
    def summary(self) -> str:
        if self.met:
            if self.full_year:
                return f"达标（{self.full_year}，视为完成当年规定学分）"
            return f"达标（{_fmt(self.total)}/{_fmt(self.required)}学分）"
        return "不达标：" + "；".join(self.missing)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year, "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "required": float(self.required), "total": float(self.total), "met": self.met,
            "full_year": self.full_year, "summary": self.summary, "missing": self.missing,
            "by_category": {k: float(v) for k, v in self.by_category.items()},
            "by_class": {k: float(v) for k, v in self.by_class.items()},
            "multi_year": [{"label": m["label"], "start": m["start"].isoformat(), "end": m["end"].isoformat(),
                            "min": float(m["min"]), "got": float(m["got"]), "applies": m["applies"],
                            "met": m["met"]} for m in self.multi_year],
            "credits": [{"id": ln.credit_id, "content": ln.content, "category": ln.category,
                         "credit_class": ln.credit_class, "credits": float(ln.credits),
                         "counted": float(ln.counted), "granted_on": ln.granted_on.isoformat(),
                         "status": ln.status, "note": ln.note} for ln in self.lines],
        }


_fmt = plain


def evaluate(policy: Mapping, year: int, credits: Iterable[Any], title_level: str | None = None, *,  # noqa: C901
             hand: Mapping[int, bool] | None = None, history: Iterable[Any] | None = None,
             institution_level: str | None = None) -> Evaluation:
    """Judge one person. ``credits``: objects with id, content, category, credit_class, credits, months,
    granted_on, status, source (Credit rows or anything alike). ``hand``: credit id → late flag of the
    hand entries (counting.source_key); ``history``: the credits of the longest multi-year span (the
    year's credits when None); ``institution_level``: whom a multi-year rule applies to
    (counting.context gathers all three for a person)."""
    hand = hand or {}
    credits = list(credits)
    start, end = window(policy, year)
    required = required_for(policy, title_level)
    split = bool(policy.get("class_split"))
    caps, minimums = category_bounds(policy)
    used: dict[tuple, Decimal] = {}
    lines: list[CreditLine] = []
    months: dict[str, Decimal] = {}
    for c in sorted(credits, key=lambda c: (c.granted_on, getattr(c, "id", 0) or 0)):
        amount = Decimal(str(c.credits))
        line = CreditLine(getattr(c, "id", None), c.content, c.category, c.credit_class, amount, ZERO,
                          c.granted_on, c.status)
        lines.append(line)
        source = counting.source_key(getattr(c, "source", None), hand.get(getattr(c, "id", None)))
        if not counting.counts(policy, source, c.status):
            line.note = counting.not_counted_note(policy, source, c.status)
            continue
        if not (start <= c.granted_on <= end):
            line.note = f"未计入：不在学分年度（{start:%Y-%m-%d}至{end:%Y-%m-%d}）内"
            continue
        key = (c.category, c.credit_class) if split else (c.category,)
        counted = amount
        if c.category in caps:
            room = max(ZERO, caps[c.category] - used.get(key, ZERO))
            if counted > room:
                counted = room
                line.note = f"封顶：{c.category}每年最多{_fmt(caps[c.category])}学分，本条计入{_fmt(counted)}分"
        used[key] = used.get(key, ZERO) + counted
        line.counted = counted
        if c.months is not None:
            months[c.category] = months.get(c.category, ZERO) + Decimal(str(c.months))
        if not line.note:
            line.note = "计入"

    by_category: dict[str, Decimal] = {}
    by_class: dict[str, Decimal] = {}
    for ln in lines:
        if ln.counted:
            by_category[ln.category] = by_category.get(ln.category, ZERO) + ln.counted
            cls = ln.credit_class or "未分类"
            by_class[cls] = by_class.get(cls, ZERO) + ln.counted

    missing: list[str] = []
    if split:
        limits = policy.get("class_limits") or {}
        total = ZERO
        for cls, lim in limits.items():
            got = by_class.get(cls, ZERO)
            top = Decimal(str(lim.get("max"))) if lim.get("max") is not None else got
            total += min(got, top)
            low = Decimal(str(lim.get("min", 0)))
            if got < low:
                missing.append(f"{cls}学分还差{_fmt(low - got)}学分（{cls}至少{_fmt(low)}学分，与其他类别不能互相替代）")
    else:
        total = sum(by_category.values(), ZERO)
    for cat, low in minimums.items():
        got = by_category.get(cat, ZERO)
        if got < low:
            missing.append(f"{cat}学分还差{_fmt(low - got)}学分（{cat}每年至少{_fmt(low)}学分，已获{_fmt(got)}学分）")

    full_year = None
    for rule in policy.get("full_year") or []:
        need = Decimal(str(rule.get("min_months", 0)))
        for cat in rule["categories"]:
            if cat in by_category or months.get(cat, ZERO) > 0:
                has = months.get(cat, ZERO)
                if has >= need and (need > 0 or cat in by_category):
                    full_year = rule.get("label") or cat
        if full_year:
            break

    if total < required:
        missing.insert(0, f"还差{_fmt(required - total)}学分（要求{_fmt(required)}学分，已获{_fmt(total)}学分）")
    met = full_year is not None or not missing
    if full_year:
        missing = []
    # Multi-year requirements (SPEC: 10 national-project credits within 5 years): not replaced by a full year.
    multi = [counting.multi_year_check(policy, year, rule, credits if history is None else history, hand,
                                       institution_level) for rule in counting.multi_year_rules(policy)]
    for m in multi:
        if not m["met"]:
            met = False
            missing.append(f"{m['label']}：{m['start']:%Y-%m-%d}至{m['end']:%Y-%m-%d}须获{_fmt(m['min'])}学分，"
                           f"已获{_fmt(m['got'])}学分，还差{_fmt(m['min'] - m['got'])}学分")
    return Evaluation(year=year, window=(start, end), required=required, total=total, met=met,
                      full_year=full_year, lines=lines, by_category=by_category, by_class=by_class,
                      missing=missing, multi_year=multi, city_review_sources=counting.city_review_labels(policy))


# The columns of result_select, in order: the ComplianceResult columns it fills.
RESULT_COLUMNS = ["person_id", "year", "rule_set_id", "district_id", "institution_id", "department_id",
                  "title_level", "total", "required", "class1", "class2", "full_year", "met", "computed_at"]
KEY_COLUMNS = ("person_id", "year", "rule_set_id")  # one stored result per person, year and rule set
CLASSES = ("Ⅰ类", "Ⅱ类")


def _persons(scope: Scope, person_ids: list[int] | None) -> Select:
    persons = scope.filter(select(Person.id), Person)
    if person_ids is not None:
        persons = persons.where(Person.id.in_(person_ids))
    return persons


class hundredths(FunctionElement):
    """An exact two-decimal value (credits, months: NUMERIC(…, 2)) as a whole number of hundredths.
    The set-based judgement sums integers, not NUMERIC: PostgreSQL's integer sums keep their state
    in a machine word, where a NUMERIC sum allocates per row and serialises its partial states
    between parallel workers — measured 30–40 % of the recompute (bench/bench_credits.py)."""

    type = Integer()
    name = "hundredths"
    inherit_cache = True


@compiles(hundredths)
def _hundredths_default(element, compiler, **kw):  # SQLite keeps NUMERIC as REAL: round before the cast
    return f"CAST(round(({compiler.process(element.clauses, **kw)}) * 100) AS INTEGER)"


@compiles(hundredths, "postgresql")
def _hundredths_postgresql(element, compiler, **kw):  # exact NUMERIC; the cast to integer rounds
    return f"CAST(({compiler.process(element.clauses, **kw)}) * 100 AS INTEGER)"


def _cents(value: Any) -> int:
    """A policy number (25, "0.5") in hundredths, as the SQL compares it."""
    return int((Decimal(str(value)) * 100).to_integral_value())


def _from_cents(value: ColumnElement) -> ColumnElement:
    return value / literal_column("100.0")


def _amount(*conditions) -> ColumnElement:
    """Sum of the credits of the rows matching ``conditions``, in hundredths (0 when none) — one
    conditional aggregate of the per-person GROUP BY."""
    return func.coalesce(func.sum(case((and_(*conditions), hundredths(Credit.credits)))), 0)


def _capped(value: ColumnElement, cap: int) -> ColumnElement:
    return case((value > cap, literal(cap)), else_=value)


def result_select(policy: Mapping, rule_set_id: int, year: int, scope: Scope,
                  person_ids: list[int] | None = None) -> Select:
    """One SELECT judging every person in ``scope`` (or just ``person_ids``) under ``policy`` for
    ``year``: one row per person, columns labelled as RESULT_COLUMNS. Nothing is written, so the
    same statement feeds ``recompute`` and the what-if comparison of two policies.

    The credits are read once and grouped once, by person: each cap, category minimum and
    full-year rule is a conditional aggregate of that one GROUP BY (as cheap as a bare per-person
    sum), with evaluate's meaning — caps per category (and class when classes are split), minimums
    on the capped category total over all classes, months summed per category."""
    start, end = window(policy, year)
    split = bool(policy.get("class_split"))
    caps, minimums = category_bounds(policy)
    capped_names = list(caps)
    # The evaluator keys caps by (category, class) when classes are split; these are its class buckets.
    buckets: list[Any] = ([Credit.credit_class == cls for cls in CLASSES]
                          + [or_(Credit.credit_class.is_(None), Credit.credit_class.not_in(CLASSES))]
                          if split else [true()])

    def capped_category(cat: str, *bucket) -> ColumnElement:
        return _capped(_amount(Credit.category == cat, *bucket), _cents(caps[cat]))

    def counted(*bucket) -> ColumnElement:
        """Counted credits (caps applied) of the rows in ``bucket``."""
        value = _amount(Credit.category.not_in(capped_names), *bucket) if caps else _amount(*bucket)
        for cat in capped_names:
            value = value + capped_category(cat, *bucket)
        return value

    columns: list[Any] = [Credit.person_id.label("person_id")]
    if split:
        columns += [counted(Credit.credit_class == cls).label(f"class{idx}") for idx, cls in enumerate(CLASSES, 1)]
    else:
        columns.append(counted().label("raw_total"))
    for idx, cat in enumerate(minimums):
        if cat in caps:
            value = capped_category(cat, buckets[0])
            for bucket in buckets[1:]:
                value = value + capped_category(cat, bucket)
        else:
            value = _amount(Credit.category == cat)
        columns.append(value.label(f"min{idx}"))
    full_conditions = []
    for rule in policy.get("full_year") or []:
        need = _cents(rule.get("min_months", 0))
        for cat in rule["categories"]:
            if need > 0:
                months = func.coalesce(func.sum(case((Credit.category == cat, hundredths(Credit.months)))), 0)
                full_conditions.append(months >= need)
            else:  # completed (规培): any counted credit of the category
                full_conditions.append(_amount(Credit.category == cat) > 0)
    columns.append(case((or_(*full_conditions), 1), else_=0).label("full_year") if full_conditions
                   else literal(0).label("full_year"))

    per_person = counting.with_sources(select(*columns).select_from(Credit), policy).where(
        counting.counted_sql(policy), Credit.granted_on >= start, Credit.granted_on <= end)
    if not scope.is_all or person_ids is not None:
        per_person = per_person.where(Credit.person_id.in_(_persons(scope, person_ids).scalar_subquery()))
    per_person = per_person.group_by(Credit.person_id).subquery("per_person")
    multi = _multi_year_select(policy, year, scope, person_ids)

    # Sums and bounds are compared in hundredths (exact integers); stored totals are converted back.
    by_level = policy.get("required_by_title_level") or {}
    default_required = policy.get("required_total", 25)

    def by_title(convert) -> ColumnElement:
        if not by_level:
            return literal(convert(default_required))
        return case(*[(Person.title_level == lvl, literal(convert(v))) for lvl, v in by_level.items()],
                    else_=literal(convert(default_required)))

    required_cents = by_title(_cents)
    required = by_title(lambda v: Decimal(str(v)))

    if split:
        limits = policy.get("class_limits") or {}
        l1, l2 = limits.get(CLASSES[0], {}), limits.get(CLASSES[1], {})
        c1 = func.coalesce(per_person.c.class1, 0)
        c2 = func.coalesce(per_person.c.class2, 0)
        c1_top = _capped(c1, _cents(l1["max"])) if l1.get("max") is not None else c1
        c2_top = _capped(c2, _cents(l2["max"])) if l2.get("max") is not None else c2
        total = c1_top + c2_top
        class_ok = and_(c1 >= _cents(l1.get("min", 0)), c2 >= _cents(l2.get("min", 0)))
        class_cols = [_from_cents(c1), _from_cents(c2)]
    else:
        total = func.coalesce(per_person.c.raw_total, 0)
        class_ok = literal(True)
        class_cols = [cast(null(), ComplianceResult.class1.type), cast(null(), ComplianceResult.class2.type)]
    category_checks = [func.coalesce(per_person.c[f"min{idx}"], 0) >= _cents(low)
                       for idx, low in enumerate(minimums.values())]
    category_ok = and_(*category_checks) if category_checks else literal(True)
    full = func.coalesce(per_person.c.full_year, 0) == 1
    met = case((full, True), (and_(total >= required_cents, class_ok, category_ok), True), else_=False)
    if multi is not None:
        met = and_(met, multi[1])

    values = [Person.id, literal(year), literal(rule_set_id), Person.district_id, Person.institution_id,
              Person.department_id, Person.title_level, _from_cents(total), required, *class_cols,
              case((full, True), else_=False), met, literal(datetime.datetime.now())]
    stmt = (select(*[v.label(name) for v, name in zip(values, RESULT_COLUMNS)])
            .select_from(Person).outerjoin(per_person, per_person.c.person_id == Person.id))
    if multi is not None:
        stmt = multi[0](stmt)
    stmt = scope.filter(stmt, Person)
    if person_ids is not None:
        stmt = stmt.where(Person.id.in_(person_ids))
    # SQLite reads "INSERT … SELECT … ON CONFLICT" right only when the SELECT has a WHERE clause.
    return stmt.where(true())


def _multi_year_select(policy: Mapping, year: int, scope: Scope, person_ids: list[int] | None):
    """The multi-year requirements in SQL: one GROUP BY per person over the longest span, one
    conditional sum per rule (counted statuses per source, no yearly caps — as counting.multi_year_check).
    Returns (join: stmt → stmt, condition "every rule that applies is met"), or None without rules."""
    from app.models.org import Org

    rules = counting.multi_year_rules(policy)
    if not rules:
        return None
    spans = [counting.multi_year_span(policy, year, r.get("years", 5)) for r in rules]
    cols = [Credit.person_id.label("person_id")]
    for idx, (rule, (lo, hi)) in enumerate(zip(rules, spans)):
        cols.append(_amount(Credit.category.in_(list(rule["categories"])), Credit.granted_on >= lo,
                            Credit.granted_on <= hi).label(f"multi{idx}"))
    sub = counting.with_sources(select(*cols).select_from(Credit), policy).where(
        counting.counted_sql(policy), Credit.granted_on >= min(s[0] for s in spans),
        Credit.granted_on <= max(s[1] for s in spans))
    if not scope.is_all or person_ids is not None:
        sub = sub.where(Credit.person_id.in_(_persons(scope, person_ids).scalar_subquery()))
    sub = sub.group_by(Credit.person_id).subquery("multi_year")
    inst = select(Org.id, Org.level).subquery("multi_year_org")
    checks = []
    for idx, rule in enumerate(rules):
        got = func.coalesce(sub.c[f"multi{idx}"], 0) >= _cents(rule["min"])
        levels = rule.get("institution_levels") or []
        checks.append(or_(got, func.coalesce(inst.c.level, "").not_in(levels)) if levels else got)

    def join(stmt):
        return (stmt.outerjoin(sub, sub.c.person_id == Person.id)
                .outerjoin(inst, inst.c.id == Person.institution_id))
    return join, and_(*checks)


def recompute(session: Session, policy: Mapping, rule_set_id: int, year: int, scope: Scope,
              person_ids: list[int] | None = None) -> int:
    """Recompute and store results for every person in ``scope`` (or just ``person_ids``) with
    set-based SQL: INSERT … SELECT result_select … ON CONFLICT DO UPDATE (a person's row is
    replaced; nobody's is deleted first). Returns the number of persons judged. The caller commits.

    On PostgreSQL a whole scope goes through ``_recompute_staged`` (parallel SELECT, only changed
    rows rewritten); single persons (the credit hook) and SQLite take the one-statement upsert."""
    source = result_select(policy, rule_set_id, year, scope, person_ids)
    dialect = session.get_bind().dialect.name
    if person_ids is None:  # a whole scope rewritten: the home pages' shares are recounted at the commit
        ttl_cache.mark_stale(session, "summaries")
    if dialect == "postgresql" and person_ids is None:
        return _recompute_staged(session, source)
    if dialect in ("postgresql", "sqlite"):
        upsert = _upsert_for(dialect)
        stmt = upsert(ComplianceResult).from_select(RESULT_COLUMNS, source)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={name: stmt.excluded[name] for name in RESULT_COLUMNS if name not in KEY_COLUMNS})
    else:
        session.execute(delete(ComplianceResult).where(
            ComplianceResult.year == year, ComplianceResult.rule_set_id == rule_set_id,
            ComplianceResult.person_id.in_(_persons(scope, person_ids).scalar_subquery())))
        stmt = insert(ComplianceResult).from_select(RESULT_COLUMNS, source)
    result = session.execute(stmt)
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else 0


def _upsert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    return upsert


# Settings of the whole-scope recompute's transaction on PostgreSQL (measured in bench/bench_credits.py,
# 300,000 persons / 10,000,000 credits): hash aggregation of 300,000 persons in memory instead of
# hundreds of spilled batches at the default 4 MB, and no JIT (seconds of compiling the wide CASE
# aggregate for a single pass over the rows).
STAGED_SETTINGS = {"work_mem": "128MB", "jit": "off"}
STAGED_TABLE = "compliance_staged"


def _recompute_staged(session: Session, source: Select) -> int:
    """PostgreSQL, whole scope: judge everyone into a temporary table first (CREATE TABLE AS may
    run the SELECT with parallel workers; INSERT … SELECT may not), joined there with the stored
    results (each person's stored id, and whether the result changed), then update by primary key
    only the rows whose result changed (``computed_at`` is when a stored result last changed) and
    insert only the missing ones: one pass over the stored results, and a recompute that changes
    little writes little. Returns the number of persons judged.

    No statement reads the table it writes: with cold statistics (the results emptied and vacuumed,
    "0 rows") the old INSERT … WHERE NOT EXISTS was planned as a nested-loop anti join over the very
    table it filled — quadratic, 45 minutes for 300,000 persons (bench/README.md)."""
    conn = session.connection()
    for name, value in STAGED_SETTINGS.items():
        conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
    compiled = source.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    table = ComplianceResult.__tablename__
    values = [name for name in RESULT_COLUMNS if name not in KEY_COLUMNS]
    compared = [name for name in values if name != "computed_at"]
    same_key = " AND ".join(f"s.{name} = j.{name}" for name in KEY_COLUMNS)
    changed = " OR ".join(f"s.{name} IS DISTINCT FROM j.{name}" for name in compared)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGED_TABLE}")
    judged = conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGED_TABLE} ON COMMIT DROP AS "
        f"SELECT j.*, s.id AS stored_id, ({changed}) AS changed "
        f"FROM ({compiled}) AS j LEFT JOIN {table} AS s ON {same_key}", compiled.params).rowcount
    # How many changed / are missing (usually few): the planner then updates them by primary key.
    conn.exec_driver_sql(f"ANALYZE {STAGED_TABLE} (stored_id, changed)")
    conn.exec_driver_sql(
        f"UPDATE {table} AS s SET " + ", ".join(f"{name} = t.{name}" for name in values)
        + f" FROM {STAGED_TABLE} AS t WHERE t.changed AND s.id = t.stored_id")
    # New results; a person's own recompute (the credit hook) may have stored one meanwhile: keep it.
    columns = ", ".join(RESULT_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGED_TABLE} WHERE stored_id IS NULL "
        f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO NOTHING")
    conn.exec_driver_sql(f"DROP TABLE {STAGED_TABLE}")
    for name in STAGED_SETTINGS:
        conn.exec_driver_sql(f"RESET {name}")
    return judged if judged is not None and judged >= 0 else 0


# ---------------------------------------------------------------------------------------- validation
class PolicyError(DomainError):
    """A compliance policy the evaluators cannot use; ``errors`` lists each problem in Chinese."""

    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors))
        self.errors = errors


POLICY_KEYS = {"required_total": "年度要求学分", "required_by_title_level": "各职称级别要求",
               "window": "学分年度起止", "class_split": "Ⅰ/Ⅱ类分开", "class_limits": "Ⅰ/Ⅱ类学分要求",
               "category_limits": "各类别最少/上限", "full_year": "视为完成当年学分的规定",
               "counting": "计入规则（按学分来源）", "multi_year": "多年度要求"}
POLICY_CLASSES = ("Ⅰ类", "Ⅱ类")


def _is_number(value: Any, low: float = 0, high: float = 1000) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _month_day(text: Any) -> bool:
    try:
        month, day = (int(x) for x in str(text).split("-"))
        datetime.date(2001, month, day)  # not a leap year: 02-29 would not exist every year
    except ValueError:
        return False
    return len(str(text)) == 5


def validate_policy(params: Any) -> dict[str, Any]:  # noqa: C901
    """Check a compliance policy (the keys documented at the top of this module). Returns the params;
    raises PolicyError listing every problem in Chinese."""
    from app.models.people import TITLE_LEVELS

    if not isinstance(params, dict):
        raise PolicyError(["达标规则必须是JSON对象"])
    errors = [f"未知设置“{k}”（可用：{'、'.join(POLICY_KEYS)}）" for k in params if k not in POLICY_KEYS]
    if not _is_number(params.get("required_total"), 0.01):
        errors.append("年度要求学分必须是大于0且不超过1000的数字")
    by_level = params.get("required_by_title_level") or {}
    if not isinstance(by_level, dict):
        errors.append("各职称级别要求必须是 {职称级别: 学分} 的形式")
    else:
        for level, value in by_level.items():
            if level not in TITLE_LEVELS:
                errors.append(f"未知的职称级别“{level}”（可用：{'、'.join(TITLE_LEVELS)}）")
            elif not _is_number(value, 0.01):
                errors.append(f"{level}要求学分必须是大于0且不超过1000的数字")
    win = params.get("window")
    if win is not None:
        if not isinstance(win, dict) or set(win) != {"start", "end"}:
            errors.append("学分年度起止必须同时填写开始和结束（MM-DD）")
        else:
            for key, label in (("start", "开始"), ("end", "结束")):
                if not _month_day(win[key]):
                    errors.append(f"学分年度{label}日期“{win[key]}”不是有效的月-日（如 11-01）")
    if not isinstance(params.get("class_split", False), bool):
        errors.append("Ⅰ/Ⅱ类分开必须是 true 或 false")
    limits = params.get("class_limits") or {}
    if not isinstance(limits, dict):
        errors.append("Ⅰ/Ⅱ类学分要求必须是 {Ⅰ类: {min, max}, Ⅱ类: {min, max}} 的形式")
        limits = {}
    for cls, lim in limits.items():
        if cls not in POLICY_CLASSES:
            errors.append(f"未知的学分类别“{cls}”（只能是Ⅰ类或Ⅱ类）")
            continue
        if not isinstance(lim, dict) or any(k not in ("min", "max") for k in lim):
            errors.append(f"{cls}学分要求只能设置最少（min）和最多（max）")
            continue
        for key, label in (("min", "最少"), ("max", "最多")):
            if lim.get(key) is not None and not _is_number(lim[key]):
                errors.append(f"{cls}{label}学分必须是0到1000之间的数字")
        if _is_number(lim.get("min")) and _is_number(lim.get("max")) and lim["min"] > lim["max"]:
            errors.append(f"{cls}最少学分不能大于最多学分")
    if params.get("class_split") is True and any(c not in limits for c in POLICY_CLASSES):
        errors.append("Ⅰ/Ⅱ类分开时必须同时设置Ⅰ类和Ⅱ类的学分要求")
    cats = params.get("category_limits") or []
    seen: set[str] = set()
    if not isinstance(cats, list):
        errors.append("各类别最少/上限必须是列表")
        cats = []
    for item in cats:
        if not isinstance(item, dict) or "category" not in item or not set(item) - {"category"} \
                or not set(item) <= {"category", "min", "max"} or not isinstance(item["category"], str) \
                or not item["category"].strip():
            errors.append("每条类别限制必须有类别名称和最少学分或上限学分")
            continue
        name = item["category"]
        bad = [label for key, label in (("min", "最少"), ("max", "上限")) if key in item and not _is_number(item[key])]
        for label in bad:
            errors.append(f"“{name}”的{label}学分必须是0到1000之间的数字")
        if not bad and "min" in item and "max" in item and item["min"] > item["max"]:
            errors.append(f"“{name}”的最少学分不能大于上限学分")
        if name in seen:
            errors.append(f"类别“{name}”重复设置（最少和上限写在同一条里）")
        seen.add(name)
    rules = params.get("full_year") or []
    if not isinstance(rules, list):
        errors.append("视为完成当年学分的规定必须是列表")
        rules = []
    for n, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or any(k not in ("categories", "min_months", "label") for k in rule):
            errors.append(f"第{n}条“视为完成当年学分”规定只能设置类别、月数和说明")
            continue
        categories = rule.get("categories")
        if not isinstance(categories, list) or not categories or not all(
                isinstance(c, str) and c.strip() for c in categories):
            errors.append(f"第{n}条“视为完成当年学分”规定必须至少有一个学分类别")
        if not _is_number(rule.get("min_months", 0), 0, 12):
            errors.append(f"第{n}条“视为完成当年学分”规定的月数必须是0到12之间的数字")
        if rule.get("label") is not None and not isinstance(rule["label"], str):
            errors.append(f"第{n}条“视为完成当年学分”规定的说明必须是文字")
    errors += counting.validate(params)
    if errors:
        raise PolicyError(errors)
    return params
