"""Planned self-study pages (有计划的自学, ICME-7; seed 003 part 01): 自学计划权限设置 (delegation),
提交自学计划 (the seven-section form), 有计划的自学列表 (the supervisor's list with 授分).

Rules live in services/selfstudy.py, states and the review log in services/workflow.py; every row is
loaded through the user's data scope.
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
from app.models import Person, SelfStudy
from app.models.org import Org
from app.models.selfstudy import DELEGATION_MODES
from app.services import attachments, selfstudy, workflow
from app.services.selfstudy import SelfStudyError
from app.views.actions import act
from app.views.base import current_scope
from app.views.files import send_attachment
from app.views.submit import once
from app.views.widgets import number, page, pages

PAGE_SIZE = 20
MODULE = "有计划的自学"


def _year() -> int:
    year = request.values.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else datetime.date.today().year


def _scoped(model, pk: int):
    item = db.session.scalar(current_scope().filter(select(model).where(model.id == pk), model))
    if item is None:
        abort(404)
    return item


def _grant_rule(year: int) -> dict | None:
    """What the 授分 form shows: the rule set's self-study standard (and its catalogue) or the cap."""
    try:
        rule_set, standard, cap = selfstudy.grant_rule(db.session, year)
    except SelfStudyError:
        return None
    params = (standard.params or {}) if standard is not None else {}
    return {"rule_set": rule_set.name, "standard": standard, "cap": cap, "allowed": params.get("allowed") or [],
            "allowed_label": params.get("allowed_label") or _("来源")}


class SelfStudyDelegationView(BaseView):
    """自学计划权限设置: per institution / department, 机构上传 or 学员上传."""

    route_base = "/selfstudy/delegation"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        q = (request.args.get("q") or "").strip()[:64]
        query = current_scope().filter(select(Org).where(Org.kind.in_(("institution", "department")),
                                                         Org.active.is_(True)), Org)
        if q:
            query = query.where(or_(Org.name.like(f"%{q}%"), Org.code.like(f"{q}%")))
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        current = page()
        rows = list(db.session.scalars(query.order_by(Org.institution_id, Org.department_id.is_not(None), Org.sort,
                                                      Org.id).offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return self.render_template("selfstudy/delegation.html", rows=rows, total=total, page=current, q=q,
                                    pages=pages(total, PAGE_SIZE), modes=DELEGATION_MODES,
                                    current=selfstudy.modes_of(db.session, [o.id for o in rows]),
                                    title=_("自学计划权限设置"))

    @expose("/set", methods=["POST"])
    @has_access
    @permission_name("set")
    def set(self):
        return act(lambda: selfstudy.set_mode(db.session, current_user, current_scope(),
                                              [x for x in request.form.getlist("rowid") if x.isdigit()],
                                              request.form.get("mode", "")),
                   log=(MODULE, "设置上传权限"),
                   done=lambda n: _("已设置 %(n)s 个机构或科室为“%(mode)s”", n=n,
                                    mode=_(DELEGATION_MODES[request.form["mode"]])),
                   then=url_for("SelfStudyDelegationView.list"))


class SelfStudyView(BaseView):
    """有计划的自学列表 (supervisor), 我的自学计划 (technician), the form and 授分."""

    route_base = "/selfstudy"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        q = (request.args.get("q") or "").strip()[:64]
        status = request.args.get("status", "")
        year = request.args.get("year", type=int)
        query = current_scope().filter(select(SelfStudy).join(Person, Person.id == SelfStudy.person_id), SelfStudy)
        if q:
            query = query.where(or_(Person.name.like(q + "%"), Person.card_no.like(q + "%")))
        if status in workflow.SELF_STUDY_STATUSES:
            query = query.where(SelfStudy.status == status)
        if year:
            query = query.where(SelfStudy.year == year)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        current = page()
        rows = list(db.session.scalars(query.options(selectinload(SelfStudy.person))
                                       .order_by(SelfStudy.updated_at.desc(), SelfStudy.id.desc())
                                       .offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return self.render_template(
            "selfstudy/list.html", rows=rows, total=total, page=current, pages=pages(total, PAGE_SIZE),
            q=q, status=status, year=year or "", statuses=workflow.SELF_STUDY_STATUSES,
            can_grant=workflow.actor_of(current_user) in (workflow.UNIT, workflow.DISTRICT, workflow.CITY),
            can_fill=workflow.actor_of(current_user) == workflow.UNIT, this_year=datetime.date.today().year,
            can_return=self.appbuilder.sm.has_access("can_return", self.class_permission_name),
            reasons=workflow.last_reasons("self_study", [s.id for s in rows]),
            title=_("有计划的自学列表"))

    @expose("/mine")
    @has_access
    @permission_name("mine")
    def mine(self):
        person = db.session.get(Person, current_user.person_id) if current_user.person_id else None
        if person is None:
            flash(_("您的账号未关联学员，没有个人自学计划"), "warning")
            return redirect(self.appbuilder.get_url_for_index)
        return redirect(url_for("SelfStudyView.form", person_id=person.id, year=_year()))

    @expose("/fill", methods=["POST"])
    @has_access
    @permission_name("form")
    def fill(self):
        card = (request.form.get("card_no") or "").strip()
        person = db.session.scalar(current_scope().filter(select(Person).where(Person.card_no == card), Person)) \
            if card else None
        if person is None:
            flash(_("在您的管理范围内没有该IC卡号的学员"), "danger")
            return redirect(url_for("SelfStudyView.list"))
        return redirect(url_for("SelfStudyView.form", person_id=person.id, year=_year()))

    @expose("/form/<int:person_id>", methods=["GET", "POST"])
    @has_access
    @permission_name("form")
    @once
    def form(self, person_id):
        person = _scoped(Person, person_id)
        year = _year()
        if request.method == "POST":
            files = {slot: request.files.getlist(slot) for slot in selfstudy.SLOTS}
            remove = [int(x) for x in request.form.getlist("remove") if x.isdigit()]
            submit = request.form.get("submit") == "1"
            return act(lambda: selfstudy.save(db.session, current_user, person, year, request.form, files,
                                              submit=submit, remove=remove),
                       log=(MODULE, "提交" if submit else "保存"),
                       done=lambda s: _("自学计划已提交") if s.status == "submitted" else _("自学计划已保存"),
                       then=url_for("SelfStudyView.form", person_id=person.id, year=year),
                       failed=lambda exc: self._form_page(person, year, str(exc)))
        return self._form_page(person, year, None)

    def _form_page(self, person: Person, year: int, error: str | None):
        ss = db.session.scalar(select(SelfStudy).where(SelfStudy.person_id == person.id, SelfStudy.year == year))
        data = (ss.data if ss else {}) or {}
        values = request.form.to_dict() if request.method == "POST" else data.get("fields", {})
        files = {a.id: a for a in attachments.of(selfstudy.OWNER_TYPE, ss.id)} if ss and ss.id else {}
        editable = selfstudy.may_fill(db.session, current_user, person) and (
            ss is None or ss.status in workflow.SELF_STUDY.editable)
        return self.render_template(
            "selfstudy/form.html", person=person, year=year, ss=ss, values=values, error=error,
            file_map=data.get("files", {}), files=files, sections=selfstudy.SECTIONS, editable=editable,
            mode=DELEGATION_MODES[selfstudy.mode_for(db.session, person)],
            logs=workflow.logs("self_study", ss.id) if ss and ss.id else [],
            statuses=workflow.SELF_STUDY_STATUSES, title=_("提交自学计划"),
            can_grant=self.appbuilder.sm.has_access("can_grant", self.class_permission_name),
            can_return=self.appbuilder.sm.has_access("can_return", self.class_permission_name),
            last_reason=workflow.last_reasons("self_study", [ss.id]).get(ss.id) if ss and ss.id else None,
            grant_rule=_grant_rule(year) if ss is not None and ss.status == "submitted" else None,
            ), (422 if error else 200)

    @expose("/<int:pk>")
    @has_access
    @permission_name("show")
    def show(self, pk):
        ss = _scoped(SelfStudy, pk)
        return redirect(url_for("SelfStudyView.form", person_id=ss.person_id, year=ss.year))

    @expose("/<int:pk>/grant", methods=["POST"])
    @has_access
    @permission_name("grant")
    def grant(self, pk):
        ss = _scoped(SelfStudy, pk)
        return act(lambda: selfstudy.grant(db.session, current_user, current_scope(), ss.id,
                                           request.form.get("credits"), request.form.get("allowed_value")),
                   log=(MODULE, "授分"), done=lambda credit: _("已授予 %(n)s 学分", n=number(credit.credits)),
                   then=url_for("SelfStudyView.form", person_id=ss.person_id, year=ss.year))

    @expose("/<int:pk>/return", methods=["POST"])
    @has_access
    @permission_name("return")
    def return_(self, pk):
        """退回 with a reason (required); the filler sees it in the review log and resubmits."""
        ss = _scoped(SelfStudy, pk)
        back = request.form.get("next") or ""
        if not (back.startswith("/selfstudy/") and "//" not in back):
            back = url_for("SelfStudyView.form", person_id=ss.person_id, year=ss.year)
        return act(lambda: selfstudy.return_form(db.session, current_user, current_scope(), ss.id,
                                                 request.form.get("reason")),
                   log=(MODULE, "退回"), done=_("自学计划已退回"), then=back)

    @expose("/file/<int:attachment_id>")
    @has_access
    @permission_name("file")
    def file(self, attachment_id):
        att = selfstudy.attachment_in_scope(db.session, current_scope(), attachment_id)
        if att is None:
            abort(404)
        return send_attachment(att)


def register(appbuilder) -> None:
    cat = "自学管理"  # not "有计划的自学": that name is the activity type's menu item (its own permission)
    appbuilder.add_view(SelfStudyView, "有计划的自学列表", label=_l("有计划的自学列表"), icon="fa-book-open-reader",
                        category=cat, category_label=_l("有计划的自学"), category_icon="fa-book")
    appbuilder.add_view(SelfStudyDelegationView, "自学计划权限设置", label=_l("自学计划权限设置"), icon="fa-user-lock",
                        category=cat)
    appbuilder.add_link("我的自学计划", href="/selfstudy/mine", label=_l("我的自学计划"), icon="fa-book",
                        category="学分管理")
