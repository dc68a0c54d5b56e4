"""专家审验 (AUD-6): the expert's home (全部学员 / 已审验 / 待审验), the allocated persons, and 学分明细审核
of one person (filters, 通过 / 不通过 per credit and in bulk, 已审 / 未审, inline evidence preview,
达标计算); the same detail and verdicts as JSON (``AuditReviewApi``, 409 on a verdict conflict).
A person not allocated to the expert answers 403."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Credit, Person
from app.models.audit import AuditCycle
from app.models.audit_review import VERDICTS
from app.services import attachments
from app.services import audit_review as R
from app.services.idcard import mask
from app.views.actions import act
from app.views.audit.auditor import (
    MODULE,
    VERDICT_MODULE,
    auditor_cycle_person,
    auditor_cycles,
    current_auditor,
    cycle_or_404,
    page_of,
    person_credits,
    person_filters,
    safe_file,
)
from app.views.base import BrowserCsrfMixin


class AuditReviewView(BaseView):
    route_base = "/audit-review"
    default_view = "home"

    def _allocated(self, person_id: int) -> tuple[R.Auditor, AuditCycle, Person]:
        """A person allocated to the auditor (403 for any other), with the auditor and the cycle."""
        return auditor_cycle_person(person_id, R.may_audit, 403)

    @expose("/")
    @has_access
    @permission_name("read")
    def home(self):
        auditor, cycles, cycle = auditor_cycles()
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
        cycle = cycle_or_404(auditor)
        f = person_filters()
        listing = page_of(R.persons_select(auditor, cycle, f))
        return self.render_template("audit_review/persons.html", cycle=cycle, cycles=R.cycles_for(db.session, auditor),
                                    f=f, mask=mask, offset=(listing["page"] - 1) * R.PAGE_SIZE, title=_("学分审验"),
                                    **listing)

    @expose("/person/<int:person_id>")
    @has_access
    @permission_name("read")
    def person(self, person_id):
        _auditor, cycle, person = self._allocated(person_id)
        detail = person_credits(cycle, person)
        return self.render_template("audit_review/person.html",
                                    files=attachments.of_many("credit", [c.id for c, _v in detail["rows"]]),
                                    stale=R.result_is_stale(db.session, detail["result"]),
                                    judge=self.appbuilder.sm.has_access("can_judge", "AuditReviewView"),
                                    title=_("学分明细审核"), **detail)

    def _back(self, cycle: AuditCycle, person_id: int) -> str:
        target = request.form.get("next") or ""
        if not target.startswith("/audit-review/person/"):
            target = url_for("AuditReviewView.person", person_id=person_id, cycle=cycle.id)
        return target

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

        def detail(n: int) -> str:
            return (f"{cycle.name} 学员#{person_id} {n}条学分审核为“{VERDICTS[decision]}”"
                    + (f"，原因：{reason.strip()}" if decision == "failed" else ""))

        return act(lambda: R.set_verdicts(db.session, auditor, cycle, person_id, seen, decision, reason),
                   log=(VERDICT_MODULE, "修改", detail),
                   done=lambda n: _("已将%(n)s条学分审核为“%(v)s”", n=n, v=_(VERDICTS[decision])),
                   then=self._back(cycle, person_id))

    @expose("/person/<int:person_id>/mark", methods=["POST"])
    @has_access
    @permission_name("judge")
    def mark(self, person_id):
        auditor, cycle, _person = self._allocated(person_id)
        reviewed = request.form.get("reviewed") == "1"
        return act(lambda: R.set_reviewed(db.session, auditor, cycle, person_id, reviewed),
                   log=(MODULE, "修改", f"{cycle.name} 学员#{person_id} 标记为{'已审' if reviewed else '未审'}"),
                   done=_("已标记为已审") if reviewed else _("已标记为未审"), then=self._back(cycle, person_id))

    @expose("/person/<int:person_id>/compute", methods=["POST"])
    @has_access
    @permission_name("judge")
    def compute(self, person_id):
        auditor, cycle, _person = self._allocated(person_id)
        return act(lambda: R.compute(db.session, auditor, cycle, person_id).summary,
                   log=(MODULE, "达标计算", lambda summary: f"{cycle.name} 学员#{person_id}：{summary}"),
                   done=lambda summary: _("达标计算完成：%(s)s", s=summary), then=self._back(cycle, person_id))

    @expose("/file/<int:attachment_id>")
    @has_access
    @permission_name("read")
    def file(self, attachment_id):
        """Inline preview of a credit's evidence — only when the credit's person may be audited."""
        auditor = current_auditor()
        cycle = cycle_or_404(auditor)
        att = db.session.get(Attachment, attachment_id)
        if att is None or att.owner_type != "credit" or att.owner_id is None:
            abort(404)
        person_id = db.session.scalar(select(Credit.person_id).where(Credit.id == att.owner_id))
        if person_id is None or not R.may_audit(db.session, auditor, cycle, person_id):
            abort(403)
        return safe_file(att)


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
        verdict = str(body.get("verdict", ""))
        outcome = act(lambda: R.set_verdicts(db.session, auditor, cycle, person_id, seen, verdict, body.get("reason")),
                      log=(VERDICT_MODULE, "修改",
                           lambda n: f"{cycle.name} 学员#{person_id} {n}条学分审核为“{VERDICTS[verdict]}”（接口）"),
                      failed=lambda exc: self.response(409 if exc.status == 409 else 422, message=str(exc)))
        if not isinstance(outcome, int):
            return outcome  # the refusal: 409 on a verdict conflict, else 422
        n = outcome
        return self.response(200, count=n)


