"""Shared test helpers: a two-district world with users of every role, resets, workbooks."""
from __future__ import annotations

import io
from types import SimpleNamespace

import openpyxl
from sqlalchemy import delete, func, select, text

from app.cli import add_user
from app.extensions import db
from app.models import CmeUser, Org, Person
from app.services import idcard
from app.services import roles as R
from app.services.pinyin import initials
from app.services.seed_data import seed_dictionaries

PASSWORD = "Test@2026pw"
_seq = iter(range(1, 10**7))


KEEP = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role",
        "ab_register_user", "ab_group", "ab_group_role", "alembic_version",
        # the rule sets installed by init_database stay, as before
        "rule_set", "credit_standard", "compliance_policy"}

# Per database (engine URL) of this process: the rows of a reset database (the seeded dictionaries)
# and the rows build_world adds to it, taken when each was first made by the ORM and written back by
# plain INSERTs afterwards (0.1–0.2 s less per test: no ORM flushes, pinyin, hashes or log hooks).
_snapshots: dict[str, dict] = {}


def _data_tables() -> list:
    from flask_appbuilder import Model

    return [t for t in Model.metadata.sorted_tables if t.name not in KEEP]


def _rows() -> dict[str, list[dict]]:
    out = {}
    for table in _data_tables():
        rows = [dict(r._mapping) for r in db.session.execute(select(table).order_by(*table.primary_key.columns))]
        if rows:
            out[table.name] = rows
    return out


def _insert(rows: dict[str, list[dict]]) -> None:
    for table in _data_tables():  # parents first; rows in key order (an org's parent comes first)
        if rows.get(table.name):
            db.session.execute(table.insert(), rows[table.name])


def _added(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> dict[str, list[dict]] | None:
    """The rows of ``after`` not in ``before``, or None when a row of ``before`` changed or went."""
    added = {}
    for name, rows in after.items():
        old = before.get(name, [])
        if rows[:len(old)] != old:
            return None
        if rows[len(old):]:
            added[name] = rows[len(old):]
    return added if set(before) <= set(after) else None


def _is_reset() -> bool:
    return not any(db.session.scalar(select(func.count()).select_from(t))
                   for t in (Org.__table__, Person.__table__, CmeUser.__table__))


def reset_data() -> None:
    """Delete every data row; keep roles and permissions; re-seed dictionaries.

    Generic over the metadata, dependents first, so a new module's tables are emptied too. Rule sets
    stay (init installs them), but any a test added or unpublished are dropped or put back: with tests
    handed out one by one, a leftover BJ2026 copy would meet any later test of this worker."""
    from app.models import CompliancePolicy, CreditStandard, RuleSet
    from tests.rule_helpers import SHIPPED_CODES

    db.session.rollback()
    for table in reversed(_data_tables()):
        if table.name == "org":
            for kind in ("department", "institution", "district", "city"):
                db.session.execute(delete(Org).where(Org.kind == kind))
        elif table.name == "ab_user":
            db.session.execute(text("DELETE FROM ab_user_role"))
            db.session.execute(table.delete())
        elif table.name != "ab_user_role":
            db.session.execute(table.delete())
    if db.session.scalar(select(RuleSet.id).where(
            RuleSet.code.not_in(SHIPPED_CODES) | (RuleSet.status != "published")).limit(1)) is not None:
        added = select(RuleSet.id).where(RuleSet.code.not_in(SHIPPED_CODES)).scalar_subquery()
        db.session.execute(delete(CreditStandard).where(CreditStandard.rule_set_id.in_(added)))
        db.session.execute(delete(CompliancePolicy).where(CompliancePolicy.rule_set_id.in_(added)))
        db.session.execute(RuleSet.__table__.update().values(copied_from_id=None))
        db.session.execute(delete(RuleSet).where(RuleSet.code.not_in(SHIPPED_CODES)))
        db.session.execute(RuleSet.__table__.update().values(status="published"))
    snapshot = _snapshots.setdefault(str(db.engine.url), {})
    if "reset" in snapshot:
        _insert(snapshot["reset"])
    else:
        seed_dictionaries(db.session)
        db.session.flush()
        snapshot["reset"] = _rows()
    db.session.commit()
    db.session.remove()


def make_id_number(n: int | None = None) -> str:
    import datetime

    n = n if n is not None else next(_seq)
    birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=n % 12000)
    return idcard.make("110101", birth, (n // 12000) % 1000)


def add_person(inst: Org, dept: Org | None, name: str, card: str | None = None) -> Person:
    number = make_id_number()
    p = Person(card_no=card or f"C{next(_seq):07d}", name=name, id_number=number,
               gender=idcard.gender(number), birth_date=idcard.birth_date(number),
               institution_id=inst.id, department_id=dept.id if dept else None,
               district_id=inst.district_id, title="主治医师", title_level="中级", name_initials=initials(name))
    db.session.add(p)
    db.session.flush()
    return p


def build_world() -> SimpleNamespace:
    """City → districts D1, D2 → institutions A (D1), A2 (D1), B (D2) → departments; users.

    Built by the ORM once per database; on a reset database again, its rows are written back."""
    snapshot = _snapshots.get(str(db.engine.url), {})
    on_reset = "reset" in snapshot and _is_reset()
    if on_reset and "world" in snapshot:
        ids, rows = snapshot["world"]
        _insert(rows)
        db.session.commit()
        db.session.remove()
        return SimpleNamespace(**ids)
    ids = _build_world()
    if on_reset:
        added = _added(snapshot["reset"], _rows())
        if added is not None:
            snapshot["world"] = (vars(ids), added)
        db.session.remove()
    return ids


def _build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.city = Org(kind="city", name="测试市", code="T00")
    w.d1 = Org(kind="district", name="东城区", code="T01", parent=w.city)
    w.d2 = Org(kind="district", name="西城区", code="T02", parent=w.city)
    w.a = Org(kind="institution", name="甲医院", code="TA", level="三级", inst_type="医院", parent=w.d1)
    w.a2 = Org(kind="institution", name="丙社区卫生服务中心", code="TC", level="一级",
               inst_type="社区卫生服务中心", parent=w.d1)
    w.b = Org(kind="institution", name="乙医院", code="TB", level="二级", inst_type="医院", parent=w.d2)
    db.session.add_all([w.city, w.d1, w.d2, w.a, w.a2, w.b])
    db.session.flush()
    w.a_dept = Org(kind="department", name="心内科", code="TA1", parent=w.a)
    w.a_dept2 = Org(kind="department", name="骨科", code="TA2", parent=w.a)
    w.a2_dept = Org(kind="department", name="全科", code="TC1", parent=w.a2)
    w.b_dept = Org(kind="department", name="心内科", code="TB1", parent=w.b)
    db.session.add_all([w.a_dept, w.a_dept2, w.a2_dept, w.b_dept])
    db.session.flush()
    w.pa = add_person(w.a, w.a_dept, "张三", "A0000001")
    w.pa2 = add_person(w.a, w.a_dept2, "李四", "A0000002")
    w.pc = add_person(w.a2, w.a2_dept, "赵六", "C0000001")
    w.pb = add_person(w.b, w.b_dept, "王五", "B0000001")
    w.pb2 = add_person(w.b, w.b_dept, "孙七", "B0000002")
    users = {
        "city": (R.CITY_ADMIN, {"org": w.city}),
        "district1": (R.DISTRICT_ADMIN, {"org": w.d1}),
        "district2": (R.DISTRICT_ADMIN, {"org": w.d2}),
        "inst_a": (R.INSTITUTION_ADMIN, {"org": w.a}),
        "inst_b": (R.INSTITUTION_ADMIN, {"org": w.b}),
        "sec_a": (R.DEPARTMENT_SECRETARY, {"org": w.a_dept}),
        "sec_b": (R.DEPARTMENT_SECRETARY, {"org": w.b_dept}),
        "tech_a": (R.TECHNICIAN, {"person": w.pa}),
        "tech_b": (R.TECHNICIAN, {"person": w.pb}),
        "expert": (R.EXPERT, {"org": w.city}),
        "site": (R.SITE_MANAGER, {"org": w.a}),
    }
    for username, (role, kw) in users.items():
        add_user(username, role, last_name=username, first_name="", password=PASSWORD, **kw)
    db.session.commit()
    # Plain ids survive the session; tests use them to guess rows of the other side.
    ids = SimpleNamespace(**{k: v.id for k, v in vars(w).items()})
    db.session.remove()
    return ids


def xlsx_bytes(rows: list[list], header: list[str] | None = None) -> io.BytesIO:
    """A real .xlsx made by openpyxl (header row first)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def forget_rq_queue(queue) -> None:
    """Remove a test queue from Redis with everything RQ keeps for it: its registries (finished,
    failed, started… never expire), its jobs and their results and executions, its workers."""
    conn = queue.connection
    name = queue.name.encode()
    ids = {job_id.encode() for job_id in queue.job_ids}
    for key in conn.scan_iter(match="rq:job:*", count=1000):
        if key.count(b":") == 2 and conn.hget(key, "origin") == name:
            ids.add(key.split(b":", 2)[2])
    queue.delete(delete_jobs=True)
    # the workers that served it (a stopped worker's key lingers for a minute)
    keys = {key for key in conn.scan_iter(match="rq:worker:*", count=1000)
            if key.count(b":") == 2 and conn.hget(key, "queues") == name}
    keys.update(conn.scan_iter(match=b"rq:*:" + name, count=1000))
    keys.update(conn.scan_iter(match=b"rq:*:" + name + b":*", count=1000))
    for job_id in ids:
        keys.update(conn.scan_iter(match=b"rq:*" + job_id + b"*", count=1000))
    if keys:
        conn.delete(*keys)
