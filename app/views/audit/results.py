"""审验结果 (AUD-7, AUD-8): the results list (单位, 科室, 达标状态, 证明), 通报, the per-person detail, the
PDF certificate and the Excel exports of results and per-credit verdicts. City all, district its
district, institution its own (after 通报), expert the allocated persons; rows outside answer 404."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.models import Person
from app.models.audit import AuditCycle
from app.oplog import record
from app.services import audit_review as R
from app.services.exports import stream_xlsx
from app.services.idcard import mask
from app.views.actions import act
from app.views.audit.auditor import (
    MODULE,
    auditor_cycle_person,
    auditor_cycles,
    current_auditor,
    cycle_or_404,
    org_name,
    page_of,
    person_credits,
    person_filters,
)


class AuditResultView(BaseView):
    route_base = "/audit-results"
    default_view = "list"

    def _visible(self, person_id: int) -> tuple[R.Auditor, AuditCycle, Person]:
        """A person inside the auditor's scope (404 for any other), with the auditor and the cycle; 404 too
        while the cycle's results are not published (通报) to a unit or district."""
        auditor, cycle, person = auditor_cycle_person(person_id, R.may_see, 404)
        if not R.results_visible(auditor, cycle):
            abort(404)
        return auditor, cycle, person

    @expose("/")
    @has_access
    @permission_name("read")
    def list(self):
        auditor, cycles, cycle = auditor_cycles()
        f = person_filters()
        sm = self.appbuilder.sm
        visible = cycle is not None and R.results_visible(auditor, cycle)
        return self.render_template("audit_review/results.html", cycle=cycle, cycles=cycles, f=f, mask=mask,
                                    can_cert=sm.has_access("can_certificate", "AuditResultView"),
                                    can_export=sm.has_access("can_export", "AuditResultView") and visible,
                                    unpublished=cycle is not None and not visible,
                                    can_publish=auditor.is_city and cycle is not None and not cycle.results_published,
                                    title=_("审验结果"), **page_of(R.persons_select(auditor, cycle, f) if visible else None))

    @expose("/publish", methods=["POST"])
    @has_access
    @permission_name("read")
    def publish(self):
        """通报: the city publishes the cycle's results (seed 001 六); refused in Chinese otherwise."""
        auditor = current_auditor()
        cycle = cycle_or_404(auditor)
        return act(lambda: R.publish_results(db.session, auditor, cycle), log=(MODULE, "通报", f"{cycle.name} 审验结果已通报"),
                   done=_("审验结果已通报，各单位和区可查看"), then=url_for("AuditResultView.list", cycle=cycle.id))

    @expose("/person/<int:person_id>")
    @has_access
    @permission_name("read")
    def person(self, person_id):
        _auditor, cycle, person = self._visible(person_id)
        return self.render_template("audit_review/result_person.html", unit=org_name(person.institution_id),
                                    can_cert=self.appbuilder.sm.has_access("can_certificate", "AuditResultView"),
                                    title=_("审验结果明细"), **person_credits(cycle, person))

    @expose("/certificate/<int:person_id>")
    @has_access
    @permission_name("certificate")
    def certificate(self, person_id):
        """证明 (PDF) of the person's final result, with its verification code and QR."""
        from app.services.audit_certificate import render_pdf

        auditor, cycle, person = self._visible(person_id)
        result = R.result_of(db.session, cycle.id, person_id)
        if result is None or result.met is None:
            flash(_("尚未进行达标计算，不能出具证明"), "warning")
            return redirect(url_for("AuditResultView.list", cycle=cycle.id))
        cert = R.certificate_for(db.session, result, auditor.user_id)
        db.session.commit()
        base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")  # the address the public reaches
        verify_url = (base + url_for("AuditVerifyView.check", code=cert.code) if base
                      else url_for("AuditVerifyView.check", code=cert.code, _external=True))
        pdf = render_pdf(cert=cert, cycle=cycle, person=person, unit=org_name(person.institution_id),
                         department=org_name(person.department_id), verify_url=verify_url)
        record(MODULE, "打印证明", f"{cycle.name} {person.name}（{person.card_no}）证明编号 {cert.code}")

        name = f"审验证明-{person.name}-{cycle.year}.pdf"
        disposition = "inline" if request.args.get("inline") else "attachment"
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "X-Certificate-Code": cert.code, "Cache-Control": "private, no-store"})

    def _export(self, what: str, header: list[str], rows):
        """``what``-<year>.xlsx of the cycle asked for; ``rows(auditor, cycle)`` yields its lines."""
        auditor = current_auditor()
        cycle = cycle_or_404(auditor)
        if not R.results_visible(auditor, cycle):
            abort(404)
        record(MODULE, "导出", f"{cycle.name} {what}")
        return stream_xlsx(f"{what}-{cycle.year}.xlsx", header, rows(auditor, cycle))

    @expose("/export")
    @has_access
    @permission_name("export")
    def export(self):
        return self._export("审验结果", R.RESULT_HEADER,
                            lambda auditor, cycle: R.result_rows(db.session, auditor, cycle, person_filters()))

    @expose("/export-verdicts")
    @has_access
    @permission_name("export")
    def export_verdicts(self):
        return self._export("学分审核结论", R.VERDICT_HEADER,
                            lambda auditor, cycle: R.verdict_rows(db.session, auditor, cycle))

