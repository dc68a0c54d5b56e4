"""复审 (AUD-7): the units' unqualified materials, 申请复审 until the deadline with new evidence, and the
city office's decision; evidence served inline inside the user's scope only."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.models import Attachment, Person
from app.models.audit import AuditCycle
from app.models.audit_review import APPEAL_STATUSES, AuditAppeal, AuditVerdict
from app.services import attachments
from app.services import audit_review as R
from app.views.actions import act
from app.views.audit.auditor import MODULE, auditor_cycles, current_auditor, page_of, safe_file
from app.views.submit import once
from app.views.widgets import number


class AuditAppealView(BaseView):
    route_base = "/audit-appeals"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("read")
    def list(self):
        auditor, cycles, cycle = auditor_cycles()
        status = request.args.get("status", "")
        status = status if status in APPEAL_STATUSES or status == "none" else ""
        q = (request.args.get("q") or "").strip()[:64]
        listing = page_of(R.failed_select(auditor, cycle, status, q) if cycle else None)
        files = attachments.of_many("audit_appeal", [a.id for *_x, a in listing["rows"] if a is not None])
        sm = self.appbuilder.sm
        return self.render_template("audit_review/appeals.html", cycle=cycle, cycles=cycles, status=status, q=q,
                                    files=files, statuses=APPEAL_STATUSES, number=number,
                                    open=cycle is not None and R.appeal_open(cycle),
                                    can_appeal=sm.has_access("can_appeal", "AuditAppealView"),
                                    can_decide=sm.has_access("can_decide", "AuditAppealView") and auditor.is_city,
                                    title=_("审验复审"), **listing)

    def _verdict_or_404(self, auditor: R.Auditor, verdict_id: int) -> AuditVerdict:
        verdict = db.session.get(AuditVerdict, verdict_id)
        if verdict is None:
            abort(404)
        cycle = db.session.get(AuditCycle, verdict.cycle_id)
        if not R.may_see(db.session, auditor, cycle, verdict.person_id):
            abort(404)
        return verdict

    @expose("/new/<int:verdict_id>", methods=["GET", "POST"])
    @has_access
    @permission_name("appeal")
    @once
    def new(self, verdict_id):
        auditor = current_auditor()
        verdict = self._verdict_or_404(auditor, verdict_id)
        cycle = db.session.get(AuditCycle, verdict.cycle_id)
        if request.method == "POST":
            def create():
                files = [f for f in request.files.getlist("files") if f and f.filename]
                if not files:
                    raise R.ReviewError("请上传新的证明材料")
                checked = [(attachments.check(f), f.filename) for f in files]  # every file before any is stored
                appeal = R.file_appeal(db.session, auditor, verdict, request.form.get("reason", ""),
                                       user_id=auditor.user_id)
                for (data, kind), name in checked:
                    attachments.store_bytes(data, kind, name, "audit_appeal", appeal.id, user_id=auditor.user_id)
                return appeal

            filed = act(create, log=(MODULE, "申请复审", f"{cycle.name} 学分#{verdict.credit_id}"),
                        done=_("已提交复审申请，请等待市继教办复审"),
                        then=url_for("AuditAppealView.list", cycle=cycle.id),
                        failed=lambda exc: flash(str(exc), "danger"))  # the form again
            if filed is not None:
                return filed
        return self.render_template("audit_review/appeal_form.html", verdict=verdict, cycle=cycle,
                                    credit=verdict.credit, person=db.session.get(Person, verdict.person_id),
                                    open=R.appeal_open(cycle), number=number, title=_("申请复审"))

    @expose("/decide/<int:appeal_id>", methods=["POST"])
    @has_access
    @permission_name("decide")
    def decide(self, appeal_id):
        auditor = current_auditor()
        appeal = db.session.get(AuditAppeal, appeal_id)
        if appeal is None:
            abort(404)
        accept = request.form.get("decision") == "accept"
        return act(lambda: R.decide_appeal(db.session, auditor, appeal, accept, request.form.get("reason", "")),
                   log=(MODULE, "复审", f"复审#{appeal_id}：{'通过' if accept else '不通过'}"),
                   done=_("复审结论已保存"), then=url_for("AuditAppealView.list", cycle=appeal.cycle_id))

    @expose("/file/<int:attachment_id>")
    @has_access
    @permission_name("read")
    def file(self, attachment_id):
        """An appeal's new evidence, inline, only inside the user's scope."""
        auditor = current_auditor()
        att = db.session.get(Attachment, attachment_id)
        if att is None or att.owner_type != "audit_appeal" or att.owner_id is None:
            abort(404)
        appeal = db.session.get(AuditAppeal, att.owner_id)
        if appeal is None or not R.may_see(db.session, auditor, db.session.get(AuditCycle, appeal.cycle_id),
                                           appeal.person_id):
            abort(404)
        return safe_file(att)

