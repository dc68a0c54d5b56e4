"""继教项目申报 (the unit) and 项目申报审核 (district, city): seed 002 二 1–3.

Every row loads through the user's data scope (a unit sees only its own declarations, a district its
district's): a guessed id answers 404. State changes go through services/declarations.py, i.e. the
DECLARATION transition table of services/workflow (guarded, with the review log).
"""
from __future__ import annotations

import datetime
import math

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.projects import DECLARATION_LEVELS, DECLARATION_STATUSES, Declaration
from app.oplog import record
from app.services import declarations as decl
from app.services import workflow
from app.views.actions import act
from app.views.base import acting_user, current_scope
from app.views.projects.common import dict_choices, num
from app.views.submit import once
from app.views.widgets import page

PAGE_SIZE = 20
MODULE = "继教项目申报"
# What each reviewer has to decide: the district the submitted ones, the city those the district passed.


_page = page  # views/widgets.page


def _scoped(pk: int) -> Declaration:
    row = db.session.scalar(current_scope().filter(select(Declaration).where(Declaration.id == pk), Declaration))
    if row is None:
        abort(404)
    return row


def _filtered(waiting: bool):
    query = current_scope().filter(select(Declaration), Declaration)
    status, q = request.args.get("status", ""), (request.args.get("q") or "").strip()
    year = request.args.get("year", type=int)
    if waiting and not status:
        query = query.where(Declaration.status.in_(decl.WAITING.get(workflow.actor_of(acting_user()), ())))
    if status in DECLARATION_STATUSES:
        query = query.where(Declaration.status == status)
    if year:
        query = query.where(Declaration.year == year)
    if request.args.get("category") in DECLARATION_LEVELS:
        query = query.where(Declaration.category == request.args["category"])
    if q:
        query = query.where(or_(Declaration.name.like(f"%{q}%"), Declaration.approval_no.like(f"{q}%")))
    return query


class DeclarationView(BaseView):
    """继教项目申报: the unit declares, corrects a returned declaration, and files 执行反馈."""

    route_base = "/declarations"
    default_view = "list"
    title = "继教项目申报"
    waiting = False

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        query = _filtered(self.waiting)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page = _page()
        rows = list(db.session.scalars(query.options(selectinload(Declaration.institution))
                                       .order_by(Declaration.id.desc())
                                       .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        reasons = workflow.last_reasons(decl.DECLARATION.owner_type, [r.id for r in rows])
        return self.render_template(
            "projects/declaration_list.html", rows=rows, total=total, page=page,
            pages=max(math.ceil(total / PAGE_SIZE), 1), statuses=DECLARATION_STATUSES, levels=DECLARATION_LEVELS,
            args=request.args, reasons=reasons, waiting=self.waiting, endpoint=f"{type(self).__name__}",
            can_add=self.appbuilder.sm.has_access("can_add", "DeclarationView") and not self.waiting,
            title=_(self.title), fmt=num)

    @expose("/export.xlsx")
    @has_access
    @permission_name("list")
    def export(self):
        from app.services.exports import stream_xlsx

        header = [_("项目编号"), _("项目名称"), _("项目级别"), _("申报单位"), _("年度"), _("学科"), _("拟授学分"),
                  _("总学时"), _("计划人数"), _("举办开始日期"), _("举办结束日期"), _("举办地点"), _("项目负责人"),
                  _("状态"), _("实际参加人数")]
        query = _filtered(self.waiting).options(selectinload(Declaration.institution)).order_by(Declaration.id)

        def rows():
            for d in db.session.scalars(query.execution_options(yield_per=500)):
                yield [d.approval_no or "", d.name, d.category, d.institution.name if d.institution else "", d.year,
                       d.subject or "", float(d.credits), float(d.hours), d.planned_count, d.starts_on.isoformat(),
                       d.ends_on.isoformat(), d.place or "", d.leader, _(DECLARATION_STATUSES[d.status]),
                       d.actual_count if d.actual_count is not None else ""]

        record(MODULE, "导出", _(self.title))
        return stream_xlsx(f"{_(self.title)}-{datetime.date.today():%Y%m%d}.xlsx", header, rows())

    def _form(self, row: Declaration | None, error: str | None = None, status: int = 200):
        values = request.form.to_dict() if request.method == "POST" else (
            {k: ("" if getattr(row, k) is None else (num(getattr(row, k)) if k in ("credits", "hours")
                                                     else str(getattr(row, k)))) for k in decl.FIELDS}
            if row is not None else {"year": str(datetime.date.today().year)})
        return self.render_template(
            "projects/declaration_form.html", row=row, values=values, error=error, levels=DECLARATION_LEVELS,
            subjects=[v for v, _l in dict_choices("subject")() if v],
            forms=[v for v, _l in dict_choices("activity_form")() if v],
            assessments=[v for v, _l in dict_choices("assessment")() if v], title=_("继教项目申报")), status

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    @once
    def add(self):
        if request.method == "GET":
            return self._form(None)
        submit = request.form.get("submit") == "1"
        return act(lambda: decl.create(db.session, acting_user(), request.form, submit), log=(MODULE, "申报"),
                   done=_("已提交申报，等待区级审核") if submit else _("申报已保存，请检查无误后提交"),
                   then=lambda row: url_for("DeclarationView.show", pk=row.id),
                   failed=lambda exc: self._form(None, str(exc), 422))

    @expose("/edit/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    @once
    def edit(self, pk):
        row = _scoped(pk)
        if not workflow.editable(row, acting_user()):
            flash(_("该申报当前不能修改"), "warning")
            return redirect(url_for("DeclarationView.show", pk=pk))
        if request.method == "GET":
            return self._form(row)
        submit = request.form.get("submit") == "1"
        return act(lambda: decl.update_draft(db.session, acting_user(), row, request.form, submit),
                   log=(MODULE, "修改申报"), done=_("已提交申报，等待区级审核") if submit else _("修改已保存"),
                   then=url_for("DeclarationView.show", pk=pk),
                   failed=lambda exc: self._form(_scoped(pk), str(exc), 422))

    @expose("/show/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        row = _scoped(pk)
        user = acting_user()
        allowed = set(workflow.allowed(row, user))
        decisions = [d for d, actions in decl.REVIEW_ACTIONS.items() if allowed & set(actions)]
        return self.render_template(
            "projects/declaration_show.html", row=row, statuses=DECLARATION_STATUSES, fmt=num,
            logs=workflow.logs(decl.DECLARATION.owner_type, row.id), decisions=decisions,
            approve_label=_("批准") if allowed & set(decl.APPROVE) else _("审核通过，报市级审批"),
            can_edit=workflow.editable(row, user) and "submit" in allowed,
            can_feedback="feedback" in allowed, ended=decl._ended(db.session, row), title=_("继教项目申报详情"))

    @expose("/review/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("review")
    @once
    def review(self, pk):
        row = _scoped(pk)
        decision = request.form.get("decision", "")
        messages = {"pass": _("审核完成"), "return": _("已退回申报单位"), "reject": _("已不予批准")}
        return act(lambda: decl.review(db.session, acting_user(), row, decision, request.form.get("reason")),
                   log=(MODULE, "审核"),
                   done=lambda r: _("已批准，项目编号%(no)s，已进入继教项目目录", no=r.approval_no) if r.approval_no
                   else messages.get(decision),
                   then=url_for("DeclarationView.show", pk=pk))

    @expose("/feedback/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("submit")
    @once
    def feedback(self, pk):
        row = _scoped(pk)
        return act(lambda: decl.file_feedback(db.session, acting_user(), row, request.form),
                   log=(MODULE, "执行反馈"), done=_("执行反馈已提交"),
                   then=url_for("DeclarationView.show", pk=pk) + "#feedback")


class DeclarationReviewView(DeclarationView):
    """项目申报审核: the declarations waiting for this district's or the city's decision (all by filter)."""

    route_base = "/declaration-review"
    title = "项目申报审核"
    waiting = True
