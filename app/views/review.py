"""Manual entry of non-project credits and the review work list (ICME-8, issue 4 points 3 and 6).

Views translate: request → services/manual_credits.py (rules) and services/workflow.py (states and
review log) → flash / redirect. Every row is loaded through the user's data scope; evidence files are
served inline only after their credit was found inside that scope.
"""
from __future__ import annotations

import datetime

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Credit, ManualCredit, Person
from app.models.credits import CREDIT_STATUSES
from app.services import attachments, manual_credits, workflow
from app.services.manual_credits import Filters
from app.views.actions import act
from app.views.base import current_scope
from app.views.files import send_attachment
from app.views.submit import once
from app.views.widgets import number, page, pages

PAGE_SIZE = 20
MODULE = "手工录入学分"


def _created_message(credit) -> str:
    if credit.status == "submitted":
        return _("学分已提交审核")
    if credit.status == "draft":
        return _("学分已保存，请在列表中检查无误后点击“授分”提交审核")
    return _("学分已录入，等待市级审核")


def _scoped_credit(credit_id: int) -> Credit:
    """A manual credit inside the user's scope, or 404 (a guessed id of another unit)."""
    query = current_scope().filter(select(Credit).join(ManualCredit, ManualCredit.credit_id == Credit.id)
                                   .where(Credit.id == credit_id), Credit)
    credit = db.session.scalar(query)
    if credit is None:
        abort(404)
    return credit


def _form_values(credit: Credit | None) -> dict:
    if request.method == "POST":
        return request.form.to_dict()
    if credit is None:
        return {}
    return {"content": credit.content, "category": credit.category, "project_no": credit.project_no or "",
            "certificate_no": credit.certificate_no or "", "organizer": credit.grantor_name or "",
            "credits": number(credit.credits), "hours": number(credit.hours),
            "granted_on": credit.granted_on.isoformat() if credit.granted_on else "",
            "standard_id": str(credit.standard_id or ""),
            "amount": number(credit.amount)}


def _standard_options(standards) -> list[dict]:
    """The manual-entry standards with what the form needs to ask for their inputs (data-* attributes)."""
    from app.services.credit_rules import UNIT_LABELS

    out = []
    for s in standards:
        p = s.params or {}
        unit = manual_credits.standard_unit(s)
        out.append({"id": s.id, "label": f"{s.seq}. {s.name}（{s.rule_text}）", "category": s.category,
                    "unit": UNIT_LABELS.get(unit, "") if unit else "", "unit_code": unit or "", "kind": s.kind,
                    "rows": list(p.get("table", {})) if s.kind == "table" else [],
                    "cols": list(p.get("cols", [])) if s.kind == "table" else [],
                    "row_label": p.get("row_label") or _("类别"), "col_label": p.get("col_label") or _("排序"),
                    "allowed": list(p.get("allowed") or []), "allowed_label": p.get("allowed_label") or _("来源")})
    return out


class ManualCreditView(BaseView):
    """手工录入非项目学分: the technician's own entries (学分查询 / 编辑 / 授分) and the unit's entries."""

    route_base = "/manual-credits"
    default_view = "list"

    def _is_owner(self) -> bool:
        return workflow.actor_of(current_user) == workflow.OWNER

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        status = request.args.get("status", "")
        q = (request.args.get("q") or "").strip()
        query = current_scope().filter(select(Credit).join(ManualCredit, ManualCredit.credit_id == Credit.id)
                                       .join(Person, Person.id == Credit.person_id), Credit)
        if status in CREDIT_STATUSES:
            query = query.where(Credit.status == status)
        if q:
            query = query.where(or_(Person.name.like(q + "%"), Person.card_no.like(q + "%"),
                                    Credit.content.like("%" + q + "%")))
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        current = page()
        rows = list(db.session.scalars(query.options(selectinload(Credit.person))
                                       .order_by(Credit.uploaded_at.desc(), Credit.id.desc())
                                       .offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        reasons = workflow.last_reasons("credit", [c.id for c in rows])
        return self.render_template(
            "review/manual_list.html", rows=rows, total=total, page=current, pages=pages(total, PAGE_SIZE),
            statuses=CREDIT_STATUSES, status=status, q=q, reasons=reasons, owner=self._is_owner(),
            can_add=self.appbuilder.sm.has_access("can_add", self.class_permission_name),
            user=current_user, title=_("手工录入学分"))

    def _form(self, credit: Credit | None, error: str | None = None):
        files = attachments.of(manual_credits.EVIDENCE, credit.id) if credit is not None else []
        return self.render_template(
            "review/manual_form.html", credit=credit, values=_form_values(credit), error=error, files=files,
            categories=manual_credits.categories(db.session), owner=self._is_owner(),
            standards=_standard_options(manual_credits.manual_standards(db.session)),
            closes=manual_credits.closes_on(db.session, datetime.date.today().year),
            max_credits=manual_credits.max_credits(db.session), title=_("手工录入非项目学分"))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    @once
    def add(self):
        if request.method == "GET":
            return self._form(None)
        files = request.files.getlist("evidence")

        def create():
            if self._is_owner():
                return manual_credits.create_own(db.session, current_user, request.form, files,
                                                 submit=request.form.get("submit") == "1")
            return manual_credits.create_by_unit(db.session, current_user, current_scope(),
                                                 request.form.get("card_no", ""), request.form, files,
                                                 request.files.get("unit_certificate"))

        return act(create, log=(MODULE, "新增"), done=_created_message,
                   then=lambda credit: url_for("ManualCreditView.show", credit_id=credit.id),
                   failed=lambda exc: (self._form(None, str(exc)), 422))

    @expose("/<int:credit_id>")
    @has_access
    @permission_name("show")
    def show(self, credit_id):
        credit = _scoped_credit(credit_id)
        manual = db.session.scalar(select(ManualCredit).where(ManualCredit.credit_id == credit.id))
        return self.render_template(
            "review/manual_show.html", credit=credit, manual=manual, logs=workflow.logs("credit", credit.id),
            files=attachments.of(manual_credits.EVIDENCE, credit.id),
            certs=attachments.of(manual_credits.UNIT_CERT, credit.id), statuses=CREDIT_STATUSES,
            editable=self._is_owner() and workflow.editable(credit, current_user),
            grantor=manual_credits.unit_name(db.session, credit.grantor_org_id), title=_("学分详情"))

    @expose("/<int:credit_id>/edit", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    @once
    def edit(self, credit_id):
        credit = _scoped_credit(credit_id)
        if not (self._is_owner() and workflow.editable(credit, current_user)):
            flash(_("该学分当前不能修改；提交后发现错误请联系机构审核端处理"), "warning")
            return redirect(url_for("ManualCreditView.show", credit_id=credit.id))
        if request.method == "GET":
            return self._form(credit)
        remove = [int(x) for x in request.form.getlist("remove") if x.isdigit()]

        def update():
            manual_credits.update_own(db.session, current_user, credit, request.form,
                                      request.files.getlist("evidence"), remove=remove)
            if request.form.get("submit") == "1":
                db.session.flush()
                manual_credits.submit_own(db.session, current_user, credit)
            return credit

        return act(update, log=(MODULE, "修改"),
                   done=lambda c: _("学分已提交审核") if c.status == "submitted" else _("修改已保存"),
                   then=url_for("ManualCreditView.show", credit_id=credit_id),
                   failed=lambda exc: (self._form(_scoped_credit(credit_id), str(exc)), 422))

    @expose("/<int:credit_id>/submit", methods=["POST"])
    @has_access
    @permission_name("submit")
    def submit(self, credit_id):
        credit = _scoped_credit(credit_id)
        return act(lambda: manual_credits.submit_own(db.session, current_user, credit), log=(MODULE, "授分"),
                   done=_("学分已提交审核"), then=url_for("ManualCreditView.show", credit_id=credit_id))

    @expose("/file/<int:attachment_id>")
    @has_access
    @permission_name("file")
    def file(self, attachment_id):
        """Inline preview (PDF / image) of an evidence file, only after its credit is in scope."""
        att = manual_credits.attachment_in_scope(db.session, current_scope(), attachment_id)
        if att is None:
            abort(404)
        return send_attachment(att)


class CreditReviewView(BaseView):
    """学分审核: the unit's (submitted by own staff) and the city's (passed by the unit) work list."""

    route_base = "/credit-review"
    default_view = "list"

    def _filters(self) -> Filters:
        return Filters(q=(request.args.get("q") or "").strip()[:64], category=request.args.get("category", ""),
                       year=request.args.get("year", type=int), late=request.args.get("late", ""))

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        filters = self._filters()
        current = page()
        actor = workflow.actor_of(current_user)
        rows, total, files, manual = manual_credits.pending_page(db.session, current_scope(), actor, filters,
                                                                 current - 1, PAGE_SIZE)
        return self.render_template(
            "review/review_list.html", rows=rows, total=total, files=files, manual=manual, filters=filters,
            page=current, pages=pages(total, PAGE_SIZE), actor=actor,
            categories=manual_credits.categories(db.session), args=request.args,
            title=_("市级学分审核") if actor == workflow.CITY else _("单位学分审核"))

    @expose("/review", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self):
        ids = [x for x in request.form.getlist("rowid") if x.isdigit()]
        passed = request.form.get("decision") == "pass"
        back = (request.form.get("next") if (request.form.get("next") or "").startswith("/credit-review")
                else url_for("CreditReviewView.list"))
        return act(lambda: manual_credits.review(db.session, current_user, current_scope(), ids, passed,
                                                 request.form.get("reason")),
                   log=(MODULE, "审核通过" if passed else "审核不通过"),
                   done=lambda n: _("已审核通过 %(n)s 条学分", n=n) if passed else _("已审核不通过 %(n)s 条学分", n=n),
                   then=back)


def register(appbuilder) -> None:
    appbuilder.add_view(ManualCreditView, "手工录入学分", label=_l("手工录入学分"), icon="fa-pen-to-square",
                        category="学分管理", category_label=_l("学分管理"), category_icon="fa-graduation-cap")
    appbuilder.add_view(CreditReviewView, "学分审核", label=_l("学分审核"), icon="fa-clipboard-check",
                        category="学分管理")
