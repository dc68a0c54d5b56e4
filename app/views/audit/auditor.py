"""Who audits (专家 / 市 / 区 / 单位) and what the audit workspace, results and appeals pages share:
the cycle asked for, list filters, one page of a list, a person's audited credits, inline evidence."""
from __future__ import annotations

import datetime
import math

from flask import abort, request, send_file
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Org, Person
from app.models.audit import AuditCycle
from app.models.audit_review import VERDICT_FILTER, VERDICTS
from app.models.credits import CREDIT_SOURCES
from app.services import audit_review as R
from app.services.roles import EXPERT
from app.views.base import acting_user, current_scope, role_names
from app.views.files import stored_path
from app.views.widgets import number

MODULE = "学分审验"
VERDICT_MODULE = "审核学分"  # seed 003 操作日志: 系统模块 "审核学分", 操作类型 "修改"


def current_auditor() -> R.Auditor:
    user = acting_user()
    if user is None:
        return R.Auditor(None, "none")
    scope = current_scope()
    if scope.is_all:
        return R.Auditor(user.id, "city")
    if EXPERT in role_names():
        return R.Auditor(user.id, "expert")
    if scope.level in ("district", "institution", "department"):
        return R.Auditor(user.id, "scope", scope)
    return R.Auditor(user.id, "none")


def date_arg(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None


def cycle_or_404(auditor: R.Auditor) -> AuditCycle:
    cycle = R.pick_cycle(db.session, auditor, request.values.get("cycle", type=int))
    if cycle is None:
        abort(404)
    return cycle


def person_filters() -> R.PersonFilters:
    a = request.args
    return R.PersonFilters(name=(a.get("name") or "").strip()[:64], card=(a.get("card") or "").strip()[:32],
                           unit=(a.get("unit") or "").strip()[:64], dept=(a.get("dept") or "").strip()[:64],
                           reviewed=a.get("reviewed", "") if a.get("reviewed") in ("0", "1") else "",
                           met=a.get("met", "") if a.get("met") in ("0", "1", "none") else "")


def credit_filters() -> R.CreditFilters:
    a = request.args
    return R.CreditFilters(project_no=(a.get("project_no") or "").strip()[:64],
                           content=(a.get("content") or "").strip()[:128], start=date_arg(a.get("start")),
                           end=date_arg(a.get("end")), source=a.get("source", "") if a.get("source") in CREDIT_SOURCES else "",
                           verdict=a.get("verdict", "") if a.get("verdict") in VERDICT_FILTER else "")


def org_name(org_id) -> str:
    return db.session.scalar(select(Org.name).where(Org.id == org_id)) or "" if org_id else ""


def pages(total: int, size: int = R.PAGE_SIZE) -> int:
    return max(1, math.ceil(total / size))


def auditor_cycle_person(person_id: int, allowed, status: int) -> tuple[R.Auditor, AuditCycle, Person]:
    """The auditor, the cycle asked for (404 if none) and the person when ``allowed`` (R.may_audit, R.may_see)
    lets the auditor at them; else abort with ``status``."""
    auditor = current_auditor()
    cycle = cycle_or_404(auditor)
    person = db.session.get(Person, person_id)
    if person is None or not allowed(db.session, auditor, cycle, person_id):
        abort(status)
    return auditor, cycle, person


def auditor_cycles() -> tuple[R.Auditor, list[AuditCycle], AuditCycle | None]:
    """The auditor, their cycles and the one the page shows (?cycle=, else the current one; None if none)."""
    auditor = current_auditor()
    return (auditor, R.cycles_for(db.session, auditor),
            R.pick_cycle(db.session, auditor, request.args.get("cycle", type=int)))


def page_of(query) -> dict:
    """One page (?page=) of a list query as template arguments; no query (no cycle) is an empty list."""
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = R.page_of(db.session, query, page) if query is not None else ([], 0)
    return {"rows": rows, "total": total, "page": page, "pages": pages(total)}


def person_credits(cycle: AuditCycle, person: Person) -> dict:
    """学分明细 of a person (the request's credit filters) with verdicts, appeals and result, as template arguments."""
    f = R.clamp(cycle, credit_filters())
    rows = R.person_credits(db.session, cycle, person.id, f)
    return {"cycle": cycle, "person": person, "rows": rows, "f": f,
            "appeals": R.appeals_by_verdict(db.session, [v.id for _c, v in rows if v is not None]),
            "result": R.result_of(db.session, cycle.id, person.id), "sources": CREDIT_SOURCES,
            "late": R.late_credits(db.session, cycle, person.id), "late_reason": R.LATE_UPLOAD,
            "verdict_filter": VERDICT_FILTER, "verdicts": VERDICTS, "number": number}


def safe_file(att: Attachment):
    response = send_file(stored_path(att), mimetype=att.mimetype, as_attachment=False, download_name=att.name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response

