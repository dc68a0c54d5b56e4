"""回执 (seed 001 七(三); issue 16 item 3): "各相关单位将本单位被抽查人员名单、科室、职称、IC卡编号和学分审验
工作联系人回执于11月7日前…".

* ``/audit-reply/?cycle=`` — a sampled institution's admin: its persons on the final list (name, 科室,
  职称, IC卡号) to confirm, and its contact person (name, phone); saved again to correct it. Only its
  own reply: the institution is the user's, never a form field.
* ``/audit-reply/replies?cycle=`` — the city (all) and a district (its own institutions): per sampled
  institution who has replied, with the contact, and the Excel export.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Org
from app.models.audit import AuditCycle
from app.oplog import record
from app.services import audit_units as U
from app.services.exports import stream_xlsx
from app.views.actions import act
from app.views.audit.common import MODULE
from app.views.base import current_scope
from app.views.submit import once


def _own_institution() -> Org:
    scope = current_scope()
    if scope.level != "institution":
        abort(404)
    return db.session.get(Org, scope.org_id) or abort(404)


def _overview_scope():
    scope = current_scope()
    if not (scope.is_all or scope.level == "district"):
        abort(404)
    return scope


def _cycle_of(cycles: list[AuditCycle]) -> AuditCycle | None:
    asked = request.values.get("cycle", type=int)
    if asked:
        cycle = next((c for c in cycles if c.id == asked), None)
        return cycle or abort(404)
    return cycles[0] if cycles else None


class AuditReplyView(BaseView):
    route_base = "/audit-reply"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    @has_access
    @permission_name("reply")
    @once
    def index(self):
        if current_scope().is_all or current_scope().level == "district":
            return redirect(url_for("AuditReplyView.replies", **request.args))
        institution = _own_institution()
        cycles = U.sampled_cycles(db.session, institution.id)  # only cycles that sampled this institution
        cycle = _cycle_of(cycles)
        if request.method == "POST" and cycle is not None:
            form = request.form
            saved = act(lambda: U.save_reply(db.session, cycle, institution, contact_name=form.get("contact_name", ""),
                                             contact_phone=form.get("contact_phone", ""),
                                             confirmed=form.get("confirmed") == "1", remark=form.get("remark"),
                                             user_id=current_user.id),
                        log=(MODULE, "回执", f"{cycle.name} {institution.name}"),
                        done=_("回执已提交，市继教办可查看"), then=url_for("AuditReplyView.index", cycle=cycle.id),
                        failed=lambda exc: flash(str(exc), "danger"))  # the form again with what was typed
            if saved is not None:
                return saved
        reply = U.reply_of(db.session, cycle.id, institution.id) if cycle else None
        values = request.form if request.method == "POST" else {
            "contact_name": reply.contact_name if reply else "", "contact_phone": reply.contact_phone if reply else "",
            "remark": (reply.remark or "") if reply else ""}
        return self.render_template(
            "audit/reply_form.html", institution=institution, cycle=cycle, cycles=cycles, reply=reply, values=values,
            persons=U.sampled_persons(db.session, cycle, institution.id) if cycle else [], title=_("审验回执"))

    @expose("/replies")
    @has_access
    @permission_name("replies")
    def replies(self):
        scope = _overview_scope()
        cycles = list(db.session.scalars(select(AuditCycle).order_by(AuditCycle.year.desc(), AuditCycle.id.desc())))
        cycle = _cycle_of(cycles)
        replied = request.args.get("replied", "") if request.args.get("replied") in ("0", "1") else ""
        rows = U.replies(db.session, cycle, scope, replied=replied) if cycle else []
        return self.render_template("audit/replies.html", cycle=cycle, cycles=cycles, rows=rows, replied=replied,
                                    done=sum(1 for r in rows if r["reply"]), title=_("回执情况"))

    @expose("/replies/export")
    @has_access
    @permission_name("replies")
    def replies_export(self):
        scope = _overview_scope()
        cycles = list(db.session.scalars(select(AuditCycle).order_by(AuditCycle.year.desc(), AuditCycle.id.desc())))
        cycle = _cycle_of(cycles) or abort(404)
        rows = ([r["district"], r["name"], r["level"], r["persons"], "已回执" if r["reply"] else "未回执",
                 r["reply"].contact_name if r["reply"] else "", r["reply"].contact_phone if r["reply"] else "",
                 r["reply"].replied_at if r["reply"] else "", "逾期" if r["late"] else "",
                 (r["reply"].remark or "") if r["reply"] else ""]
                for r in U.replies(db.session, cycle, scope))
        record(MODULE, "导出", f"{cycle.name} 回执情况")
        return stream_xlsx(f"审验回执-{cycle.year}.xlsx",
                           ["区", "单位", "级别", "被抽查人数", "回执", "联系人", "联系电话", "回执时间", "逾期", "备注"], rows)
