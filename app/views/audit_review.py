"""专家审验, 审验结果, 复审, 证明 (AUD-6, AUD-7, AUD-8 results/verdicts exports).

* ``AuditReviewView`` (/audit-review): the expert's home (全部学员 / 已审验 / 待审验), the allocated persons,
  and 学分明细审核 of one person: filters, 通过 / 不通过 per credit and in bulk, 已审 / 未审, inline evidence
  preview, 达标计算. A person not allocated to the expert answers 403.
* ``AuditReviewApi`` (/api/v1/audit_review): the same person detail and verdicts as JSON (403 likewise,
  409 on a verdict conflict).
* ``AuditResultView`` (/audit-results): 审验结果 (单位, 科室, 达标状态, 证明), the per-person detail, the PDF
  certificate, Excel exports of results and per-credit verdicts; city all, district its district,
  institution its own, expert the allocated persons. Rows outside answer 404.
* ``AuditAppealView`` (/audit-appeals): the units' unqualified materials and 复审 until the deadline with
  new evidence; the city office decides.
* ``AuditVerifyView`` (/audit-verify): public, no login — checks a certificate's verification code.

Views are thin: services/audit_review.py holds the rules.
"""
from __future__ import annotations

import datetime
import math

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Credit, Org, Person
from app.models.audit import AuditCycle
from app.models.audit_review import (
    APPEAL_STATUSES,
    VERDICT_FILTER,
    VERDICTS,
    AuditAppeal,
    AuditVerdict,
)
from app.models.credits import CREDIT_SOURCES
from app.oplog import record
from app.services import attachments
from app.services import audit_review as R
from app.services.exports import stream_xlsx
from app.services.idcard import mask
from app.services.roles import EXPERT
from app.services.uploads import UploadError
from app.views.base import acting_user, current_scope, role_names
from app.views.credits import BrowserCsrfMixin, number
from app.views.files import stored_path
from app.views.submit import once

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


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None


def _cycle_or_404(auditor: R.Auditor) -> AuditCycle:
    cycle = R.pick_cycle(db.session, auditor, request.values.get("cycle", type=int))
    if cycle is None:
        abort(404)
    return cycle


def _person_filters() -> R.PersonFilters:
    a = request.args
    return R.PersonFilters(name=(a.get("name") or "").strip()[:64], card=(a.get("card") or "").strip()[:32],
                           unit=(a.get("unit") or "").strip()[:64], dept=(a.get("dept") or "").strip()[:64],
                           reviewed=a.get("reviewed", "") if a.get("reviewed") in ("0", "1") else "",
                           met=a.get("met", "") if a.get("met") in ("0", "1", "none") else "")


def _credit_filters() -> R.CreditFilters:
    a = request.args
    return R.CreditFilters(project_no=(a.get("project_no") or "").strip()[:64],
                           content=(a.get("content") or "").strip()[:128], start=_date(a.get("start")),
                           end=_date(a.get("end")), source=a.get("source", "") if a.get("source") in CREDIT_SOURCES else "",
                           verdict=a.get("verdict", "") if a.get("verdict") in VERDICT_FILTER else "")


def _org_name(org_id) -> str:
    return db.session.scalar(select(Org.name).where(Org.id == org_id)) or "" if org_id else ""


def _pages(total: int, size: int = R.PAGE_SIZE) -> int:
    return max(1, math.ceil(total / size))


def _auditor_cycle_person(person_id: int, allowed, status: int) -> tuple[R.Auditor, AuditCycle, Person]:
    """The auditor, the cycle asked for (404 if none) and the person when ``allowed`` (R.may_audit, R.may_see)
    lets the auditor at them; else abort with ``status``."""
    auditor = current_auditor()
    cycle = _cycle_or_404(auditor)
    person = db.session.get(Person, person_id)
    if person is None or not allowed(db.session, auditor, cycle, person_id):
        abort(status)
    return auditor, cycle, person


def _auditor_cycles() -> tuple[R.Auditor, list[AuditCycle], AuditCycle | None]:
    """The auditor, their cycles and the one the page shows (?cycle=, else the current one; None if none)."""
    auditor = current_auditor()
    return (auditor, R.cycles_for(db.session, auditor),
            R.pick_cycle(db.session, auditor, request.args.get("cycle", type=int)))


def _page(query) -> dict:
    """One page (?page=) of a list query as template arguments; no query (no cycle) is an empty list."""
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = R.page_of(db.session, query, page) if query is not None else ([], 0)
    return {"rows": rows, "total": total, "page": page, "pages": _pages(total)}


def _person_credits(cycle: AuditCycle, person: Person) -> dict:
    """学分明细 of a person (the request's credit filters) with verdicts, appeals and result, as template arguments."""
    f = R.clamp(cycle, _credit_filters())
    rows = R.person_credits(db.session, cycle, person.id, f)
    return {"cycle": cycle, "person": person, "rows": rows, "f": f,
            "appeals": R.appeals_by_verdict(db.session, [v.id for _c, v in rows if v is not None]),
            "result": R.result_of(db.session, cycle.id, person.id), "sources": CREDIT_SOURCES,
            "late": R.late_credits(db.session, cycle, person.id), "late_reason": R.LATE_UPLOAD,
            "verdict_filter": VERDICT_FILTER, "verdicts": VERDICTS, "number": number}


def _safe_file(att: Attachment):
    response = send_file(stored_path(att), mimetype=att.mimetype, as_attachment=False, download_name=att.name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# =========================================================================== 专家审验 (AUD-6)
class AuditReviewView(BaseView):
    route_base = "/audit-review"
    default_view = "home"

    def _allocated(self, person_id: int) -> tuple[R.Auditor, AuditCycle, Person]:
        """A person allocated to the auditor (403 for any other), with the auditor and the cycle."""
        return _auditor_cycle_person(person_id, R.may_audit, 403)

    @expose("/")
    @has_access
    @permission_name("read")
    def home(self):
        auditor, cycles, cycle = _auditor_cycles()
        stats = R.counts(db.session, auditor, cycle) if cycle else {"total": 0, "reviewed": 0, "pending": 0}
        return self.render_template("audit_review/home.html", cycle=cycle, cycles=cycles, stats=stats,
                                    title=_("专家审验"))

    @expose("/persons")
    @has_access
    @permission_name("read")
    def persons(self):
        auditor = current_auditor()
        if not request.values.get("cycle") and R.pick_cycle(db.session, auditor, None) is None:
            flash(_("暂无审验周期或尚未分配学员"), "info")  # the menu item on an empty system: not a 404
            return redirect(url_for(f"{type(self).__name__}.home"))
        cycle = _cycle_or_404(auditor)
        f = _person_filters()
        listing = _page(R.persons_select(auditor, cycle, f))
        return self.render_template("audit_review/persons.html", cycle=cycle, cycles=R.cycles_for(db.session, auditor),
                                    f=f, mask=mask, offset=(listing["page"] - 1) * R.PAGE_SIZE, title=_("学分审验"),
                                    **listing)

    @expose("/person/<int:person_id>")
    @has_access
    @permission_name("read")
    def person(self, person_id):
        _auditor, cycle, person = self._allocated(person_id)
        detail = _person_credits(cycle, person)
        return self.render_template("audit_review/person.html",
                                    files=attachments.of_many("credit", [c.id for c, _v in detail["rows"]]),
                                    stale=R.result_is_stale(db.session, detail["result"]),
                                    judge=self.appbuilder.sm.has_access("can_judge", "AuditReviewView"),
                                    title=_("学分明细审核"), **detail)

    def _back(self, cycle: AuditCycle, person_id: int):
        target = request.form.get("next") or ""
        if not target.startswith("/audit-review/person/"):
            target = url_for("AuditReviewView.person", person_id=person_id, cycle=cycle.id)
        return redirect(target)

    def _refused(self, cycle: AuditCycle, person_id: int, exc: R.ReviewError):
        """A judging action the service refused: roll back, show why, back to the person."""
        db.session.rollback()
        flash(str(exc), "danger")
        return self._back(cycle, person_id)

    @expose("/person/<int:person_id>/verdict", methods=["POST"])
    @has_access
    @permission_name("judge")
    def verdict(self, person_id):
        auditor, cycle, _person = self._allocated(person_id)
        decision = request.form.get("decision", "")
        only = request.form.get("only", type=int)
        ids = [only] if only else [int(x) for x in request.form.getlist("rowid") if x.isdigit()]
        seen = {cid: request.form.get(f"version_{cid}", 0, type=int) for cid in ids}
        reason = request.form.get("reason", "")
        try:
            n = R.set_verdicts(db.session, auditor, cycle, person_id, seen, decision, reason)
            db.session.commit()
        except R.ReviewError as exc:
            back = self._refused(cycle, person_id, exc)
            record(VERDICT_MODULE, "修改", f"失败：{exc}", False)
            return back
        record(VERDICT_MODULE, "修改", f"{cycle.name} 学员#{person_id} {n}条学分审核为“{VERDICTS[decision]}”"
               + (f"，原因：{reason.strip()}" if decision == "failed" else ""))
        flash(_("已将%(n)s条学分审核为“%(v)s”", n=n, v=_(VERDICTS[decision])), "success")
        return self._back(cycle, person_id)

    @expose("/person/<int:person_id>/mark", methods=["POST"])
    @has_access
    @permission_name("judge")
    def mark(self, person_id):
        auditor, cycle, _person = self._allocated(person_id)
        reviewed = request.form.get("reviewed") == "1"
        try:
            R.set_reviewed(db.session, auditor, cycle, person_id, reviewed)
            db.session.commit()
        except R.ReviewError as exc:
            return self._refused(cycle, person_id, exc)
        record(MODULE, "修改", f"{cycle.name} 学员#{person_id} 标记为{'已审' if reviewed else '未审'}")
        flash(_("已标记为已审") if reviewed else _("已标记为未审"), "success")
        return self._back(cycle, person_id)

    @expose("/person/<int:person_id>/compute", methods=["POST"])
    @has_access
    @permission_name("judge")
    def compute(self, person_id):
        auditor, cycle, _person = self._allocated(person_id)
        try:
            result = R.compute(db.session, auditor, cycle, person_id)
            summary = result.summary
            db.session.commit()
        except R.ReviewError as exc:
            return self._refused(cycle, person_id, exc)
        record(MODULE, "达标计算", f"{cycle.name} 学员#{person_id}：{summary}")
        flash(_("达标计算完成：%(s)s", s=summary), "success")
        return self._back(cycle, person_id)

    @expose("/file/<int:attachment_id>")
    @has_access
    @permission_name("read")
    def file(self, attachment_id):
        """Inline preview of a credit's evidence — only when the credit's person may be audited."""
        auditor = current_auditor()
        cycle = _cycle_or_404(auditor)
        att = db.session.get(Attachment, attachment_id)
        if att is None or att.owner_type != "credit" or att.owner_id is None:
            abort(404)
        person_id = db.session.scalar(select(Credit.person_id).where(Credit.id == att.owner_id))
        if person_id is None or not R.may_audit(db.session, auditor, cycle, person_id):
            abort(403)
        return _safe_file(att)


# =========================================================================== REST
class AuditReviewApi(BrowserCsrfMixin, BaseApi):
    """学分明细审核 as JSON: an expert reads and judges only the persons allocated to them."""

    resource_name = "audit_review"
    allow_browser_login = True
    openapi_spec_tag = "Audit review"

    @expose("/<int:cycle_id>/person/<int:person_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get(self, cycle_id, person_id):
        """One person's audited credits with verdicts and versions.
        ---
        get:
          summary: 学员的审验学分及审核结论（含版本号）
          parameters:
          - {in: path, name: cycle_id, required: true, schema: {type: integer}}
          - {in: path, name: person_id, required: true, schema: {type: integer}}
          responses:
            200: {description: 学分与审核结论}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        auditor = current_auditor()
        cycle = R.pick_cycle(db.session, auditor, cycle_id)
        if cycle is None:
            return self.response_404()
        person = db.session.get(Person, person_id)
        if person is None or not R.may_audit(db.session, auditor, cycle, person_id):
            return self.response(403, message=_("该学员未分配给您，无权查看"))
        rows = R.person_credits(db.session, cycle, person_id)
        result = R.result_of(db.session, cycle.id, person_id)
        return self.response(200, person={"id": person.id, "name": person.name, "card_no": person.card_no},
                             cycle={"id": cycle.id, "name": cycle.name},
                             result=None if result is None else {"met": result.met, "reviewed": result.reviewed,
                                                                 "summary": result.summary},
                             credits=[{"id": c.id, "content": c.content, "granted_on": c.granted_on.isoformat(),
                                       "credits": float(c.credits), "category": c.category,
                                       "verdict": v.verdict if v else None, "reason": v.reason if v else None,
                                       "version": v.version if v else 0} for c, v in rows])

    @expose("/<int:cycle_id>/person/<int:person_id>/verdict", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def post(self, cycle_id, person_id):
        """通过 / 不通过 for credits, each with the version the client saw (0 = none).
        ---
        post:
          summary: 审核学分（乐观锁：版本不一致时返回409）
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    verdict: {type: string, enum: [passed, failed]}
                    reason: {type: string}
                    credits:
                      type: array
                      items: {type: object, properties: {id: {type: integer}, version: {type: integer}}}
          responses:
            200: {description: 已保存}
            403: {$ref: '#/components/responses/403'}
            409: {description: 审核冲突}
            422: {$ref: '#/components/responses/422'}
        """
        auditor = current_auditor()
        cycle = R.pick_cycle(db.session, auditor, cycle_id)
        if cycle is None:
            return self.response_404()
        if db.session.get(Person, person_id) is None or not R.may_audit(db.session, auditor, cycle, person_id):
            return self.response(403, message=_("该学员未分配给您，无权审核"))
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("credits"), list):
            return self.response_400(message=_("请求内容必须是JSON对象，并包含学分列表"))
        try:
            seen = {int(x["id"]): int(x.get("version") or 0) for x in body["credits"]}
        except (TypeError, ValueError, KeyError):
            return self.response_400(message=_("学分列表格式不正确"))
        try:
            n = R.set_verdicts(db.session, auditor, cycle, person_id, seen, str(body.get("verdict", "")),
                               body.get("reason"))
            db.session.commit()
        except R.ConflictError as exc:
            db.session.rollback()
            return self.response(409, message=str(exc))
        except R.ReviewError as exc:
            db.session.rollback()
            return self.response_422(message=str(exc))
        record(VERDICT_MODULE, "修改", f"{cycle.name} 学员#{person_id} {n}条学分审核为“{VERDICTS[body['verdict']]}”（接口）")
        return self.response(200, count=n)


# =========================================================================== 审验结果 (AUD-7, AUD-8)
class AuditResultView(BaseView):
    route_base = "/audit-results"
    default_view = "list"

    def _visible(self, person_id: int) -> tuple[R.Auditor, AuditCycle, Person]:
        """A person inside the auditor's scope (404 for any other), with the auditor and the cycle; 404 too
        while the cycle's results are not published (通报) to a unit or district."""
        auditor, cycle, person = _auditor_cycle_person(person_id, R.may_see, 404)
        if not R.results_visible(auditor, cycle):
            abort(404)
        return auditor, cycle, person

    @expose("/")
    @has_access
    @permission_name("read")
    def list(self):
        auditor, cycles, cycle = _auditor_cycles()
        f = _person_filters()
        sm = self.appbuilder.sm
        visible = cycle is not None and R.results_visible(auditor, cycle)
        return self.render_template("audit_review/results.html", cycle=cycle, cycles=cycles, f=f, mask=mask,
                                    can_cert=sm.has_access("can_certificate", "AuditResultView"),
                                    can_export=sm.has_access("can_export", "AuditResultView") and visible,
                                    unpublished=cycle is not None and not visible,
                                    can_publish=auditor.is_city and cycle is not None and not cycle.results_published,
                                    title=_("审验结果"), **_page(R.persons_select(auditor, cycle, f) if visible else None))

    @expose("/publish", methods=["POST"])
    @has_access
    @permission_name("read")
    def publish(self):
        """通报: the city publishes the cycle's results (seed 001 六); refused in Chinese otherwise."""
        auditor = current_auditor()
        cycle = _cycle_or_404(auditor)
        try:
            R.publish_results(db.session, auditor, cycle)
            db.session.commit()
        except R.ReviewError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("AuditResultView.list", cycle=cycle.id))
        record(MODULE, "通报", f"{cycle.name} 审验结果已通报")
        flash(_("审验结果已通报，各单位和区可查看"), "success")
        return redirect(url_for("AuditResultView.list", cycle=cycle.id))

    @expose("/person/<int:person_id>")
    @has_access
    @permission_name("read")
    def person(self, person_id):
        _auditor, cycle, person = self._visible(person_id)
        return self.render_template("audit_review/result_person.html", unit=_org_name(person.institution_id),
                                    can_cert=self.appbuilder.sm.has_access("can_certificate", "AuditResultView"),
                                    title=_("审验结果明细"), **_person_credits(cycle, person))

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
        pdf = render_pdf(cert=cert, cycle=cycle, person=person, unit=_org_name(person.institution_id),
                         department=_org_name(person.department_id), verify_url=verify_url)
        record(MODULE, "打印证明", f"{cycle.name} {person.name}（{person.card_no}）证明编号 {cert.code}")
        from urllib.parse import quote

        name = f"审验证明-{person.name}-{cycle.year}.pdf"
        disposition = "inline" if request.args.get("inline") else "attachment"
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "X-Certificate-Code": cert.code, "Cache-Control": "private, no-store"})

    def _export(self, what: str, header: list[str], rows):
        """``what``-<year>.xlsx of the cycle asked for; ``rows(auditor, cycle)`` yields its lines."""
        auditor = current_auditor()
        cycle = _cycle_or_404(auditor)
        if not R.results_visible(auditor, cycle):
            abort(404)
        record(MODULE, "导出", f"{cycle.name} {what}")
        return stream_xlsx(f"{what}-{cycle.year}.xlsx", header, rows(auditor, cycle))

    @expose("/export")
    @has_access
    @permission_name("export")
    def export(self):
        return self._export("审验结果", R.RESULT_HEADER,
                            lambda auditor, cycle: R.result_rows(db.session, auditor, cycle, _person_filters()))

    @expose("/export-verdicts")
    @has_access
    @permission_name("export")
    def export_verdicts(self):
        return self._export("学分审核结论", R.VERDICT_HEADER,
                            lambda auditor, cycle: R.verdict_rows(db.session, auditor, cycle))


# =========================================================================== 复审 (AUD-7)
class AuditAppealView(BaseView):
    route_base = "/audit-appeals"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("read")
    def list(self):
        auditor, cycles, cycle = _auditor_cycles()
        status = request.args.get("status", "")
        status = status if status in APPEAL_STATUSES or status == "none" else ""
        q = (request.args.get("q") or "").strip()[:64]
        listing = _page(R.failed_select(auditor, cycle, status, q) if cycle else None)
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
            try:
                files = [f for f in request.files.getlist("files") if f and f.filename]
                if not files:
                    raise R.ReviewError(_("请上传新的证明材料"))
                checked = [(attachments.check(f), f.filename) for f in files]  # every file before any is stored
                appeal = R.file_appeal(db.session, auditor, verdict, request.form.get("reason", ""),
                                       user_id=auditor.user_id)
                for (data, kind), name in checked:
                    attachments.store_bytes(data, kind, name, "audit_appeal", appeal.id, user_id=auditor.user_id)
                db.session.commit()
            except (R.ReviewError, UploadError) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                record(MODULE, "申请复审", f"{cycle.name} 学分#{verdict.credit_id}")
                flash(_("已提交复审申请，请等待市继教办复审"), "success")
                return redirect(url_for("AuditAppealView.list", cycle=cycle.id))
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
        try:
            R.decide_appeal(db.session, auditor, appeal, accept, request.form.get("reason", ""))
            cycle_id = appeal.cycle_id
            db.session.commit()
        except R.ReviewError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("AuditAppealView.list", cycle=appeal.cycle_id))
        record(MODULE, "复审", f"复审#{appeal_id}：{'通过' if accept else '不通过'}")
        flash(_("复审结论已保存"), "success")
        return redirect(url_for("AuditAppealView.list", cycle=cycle_id))

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
        return _safe_file(att)


# =========================================================================== public verification
class AuditVerifyView(BaseView):
    """证明验证: public (no login), reached by the certificate's QR code."""

    route_base = "/audit-verify"
    default_view = "form"

    @expose("/")
    def form(self):
        code = (request.args.get("code") or "").strip()
        if code:
            return redirect(url_for("AuditVerifyView.check", code=code[:32]))
        return self.render_template("audit_review/verify.html", cert=None, code="", searched=False,
                                    title=_("审验证明验证"))

    @expose("/<string:code>")
    def check(self, code):
        cert = R.verify(db.session, code)
        person = db.session.get(Person, cert.person_id) if cert else None
        return self.render_template("audit_review/verify.html", cert=cert, code=code[:32], searched=True,
                                    person=person, mask=mask,
                                    unit=_org_name(person.institution_id) if person else "", number=number,
                                    title=_("审验证明验证"))


def register(appbuilder) -> None:
    cat = "学分审验"
    appbuilder.add_view(AuditReviewView, "专家审验", label=_l("专家审验"), icon="fa-user-check", category=cat,
                        category_label=_l("学分审验"), category_icon="fa-stamp")
    appbuilder.add_link("审验学员", href="/audit-review/persons", label=_l("审验学员"), icon="fa-list-check",
                        category=cat)
    appbuilder.add_view(AuditResultView, "审验结果", label=_l("审验结果"), icon="fa-clipboard-check", category=cat)
    appbuilder.add_view(AuditAppealView, "审验复审", label=_l("审验复审"), icon="fa-rotate-left", category=cat)
    appbuilder.add_view_no_menu(AuditVerifyView)
    appbuilder.add_api(AuditReviewApi)
