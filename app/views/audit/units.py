"""单位审验 (seed 001 四(二)1, 五; issue 16 item 1): before the city's sampling, a 三级 institution audits its
own staff (not its nurses) and a district the rest of its district and all its nurses, within the cycle's
unit-audit window — then the screen is locked (refused by the server after the window's end).

* ``/audit-unit/?cycle=`` — the unit's screen: its persons with 合格 / 不合格, filters, the completion
  figure and state (auditing units only: 三级 institution admins and district admins);
* ``/audit-unit/overview?cycle=`` — every auditing unit's completion (city all, district its own) + Excel.
A person outside the unit's responsibility (a guessed id) is refused; no other unit's rows are shown.
"""
from __future__ import annotations

import datetime

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditCycle
from app.models.audit_units import UNIT_VERDICTS
from app.oplog import record
from app.services import audit_units as U
from app.services.exports import stream_xlsx
from app.services.idcard import mask
from app.views.actions import act
from app.views.audit.common import MODULE
from app.views.base import current_scope
from app.views.submit import once

UNIT_MODULE = "单位审验"


def _cycles() -> list[AuditCycle]:
    return list(db.session.scalars(select(AuditCycle).order_by(AuditCycle.year.desc(), AuditCycle.id.desc())))


def _cycle(cycles: list[AuditCycle]) -> AuditCycle | None:
    """?cycle= (404 when unknown), else the open cycle of the latest year, else the latest."""
    asked = request.values.get("cycle", type=int)
    if asked:
        return db.session.get(AuditCycle, asked) or abort(404)
    return next((c for c in cycles if c.status == "open"), cycles[0] if cycles else None)


def _filters() -> U.UnitFilters:
    a = request.args
    return U.UnitFilters(name=(a.get("name") or "").strip()[:64], card=(a.get("card") or "").strip()[:32],
                         verdict=a.get("verdict", "") if a.get("verdict") in ("passed", "failed", "none") else "")


class AuditUnitReviewView(BaseView):
    route_base = "/audit-unit"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("read")
    def index(self):
        org = U.auditor_org(db.session, current_scope())
        if org is None:
            scope = current_scope()
            if scope.is_all:
                return redirect(url_for("AuditUnitReviewView.overview", **request.args))
            if scope.level != "institution":
                abort(404)
            # Seed 001 四(二)1(2): only 三级 institutions audit their own; the others' staff are the district's.
            flash(_("本单位人员的学分审验由所在区卫健委负责"), "info")
            return redirect("/")
        cycles = _cycles()
        cycle = _cycle(cycles)
        if cycle is None:
            flash(_("暂无审验"), "info")
            return redirect("/")
        f = _filters()
        page = max(request.args.get("page", 1, type=int), 1)
        query = U.persons_select(cycle, org, f)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = db.session.execute(query.offset((page - 1) * U.PAGE_SIZE).limit(U.PAGE_SIZE)).all()
        fig = U.figures(db.session, cycle, org)
        now = datetime.datetime.now()
        return self.render_template(
            "audit/unit_review.html", cycle=cycle, cycles=cycles, org=org, rows=rows, f=f, total=total, page=page,
            pages=max(1, -(-total // U.PAGE_SIZE)), fig=fig, state=U.state(cycle, fig, now),
            states=U.UNIT_STATES, open=U.window_state(cycle, now) == "open", verdicts=UNIT_VERDICTS, mask=mask,
            judge=self.appbuilder.sm.has_access("can_judge", "AuditUnitReviewView"), title=_("单位审验"))

    @expose("/verdict", methods=["POST"])
    @has_access
    @permission_name("judge")
    @once
    def verdict(self):
        org = U.auditor_org(db.session, current_scope())
        if org is None:
            abort(404)
        cycle = db.session.get(AuditCycle, request.form.get("cycle", type=int) or 0) or abort(404)
        only = request.form.get("only", type=int)
        ids = [only] if only else [int(x) for x in request.form.getlist("rowid") if x.isdigit()]
        decision, reason = request.form.get("decision", ""), request.form.get("reason", "")
        return act(lambda: U.set_verdicts(db.session, cycle, org, ids, decision, reason, user_id=current_user.id),
                   log=(UNIT_MODULE, "审验", lambda n: f"{cycle.name} {org.name}：{n}人审验为“{UNIT_VERDICTS[decision]}”"),
                   done=lambda n: _("已将%(n)s人审验为“%(v)s”", n=n, v=_(UNIT_VERDICTS[decision])),
                   then=url_for("AuditUnitReviewView.index", cycle=cycle.id))

    @expose("/overview")
    @has_access
    @permission_name("read")
    def overview(self):
        scope = current_scope()
        if not (scope.is_all or scope.level == "district" or U.auditor_org(db.session, scope) is not None):
            abort(404)
        cycles = _cycles()
        cycle = _cycle(cycles)
        rows = U.overview(db.session, cycle, scope) if cycle else []
        return self.render_template("audit/unit_overview.html", cycle=cycle, cycles=cycles, rows=rows,
                                    states=U.UNIT_STATES, title=_("单位审验进度"))

    @expose("/overview/export")
    @has_access
    @permission_name("read")
    def overview_export(self):
        scope = current_scope()
        if not (scope.is_all or scope.level == "district" or U.auditor_org(db.session, scope) is not None):
            abort(404)
        cycle = _cycle(_cycles()) or abort(404)
        rows = ([r["district"], r["org"].name, r["kind"], r["total"], r["judged"], r["passed"], r["failed"],
                 f"{r['percent']}%", U.UNIT_STATES[r["state"]]] for r in U.overview(db.session, cycle, scope))
        record(MODULE, "导出", f"{cycle.name} 单位审验进度")
        return stream_xlsx(f"单位审验进度-{cycle.year}.xlsx",
                           ["区", "审验单位", "类型", "应审人数", "已审人数", "合格", "不合格", "完成率", "状态"], rows)
