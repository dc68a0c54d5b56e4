"""实践活动 → 教学活动计划上传 (institution) and 教学活动计划审核 (district / city), ICME-6.

Both lists are scoped (an institution sees its own plans, a district its district's); the plan file is
served inline only after loading the plan through that scope, so a guessed id answers 404.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import SelectField

from app.extensions import db
from app.models import Org
from app.models.practice import PLAN_STATUSES, PLAN_TYPES, PracticePlan
from app.services import attachments
from app.services.activities import evidence_max_bytes
from app.services.practice import PlanError, practice_forms, save_plan
from app.services.practice import review as review_plan
from app.views.actions import act, refusing
from app.views.base import ScopedModelView, acting_user
from app.views.files import send_attachment
from app.views.submit import once
from app.views.widgets import BOX, ChoiceFiltersMixin, FilterChoice, choices

MODULE = "教学活动计划"
PLAN_LABELS = {"name": _l("计划名称"), "plan_type": _l("计划类型"), "activity_forms": _l("活动形式"),
               "remark": _l("备注"), "status": _l("审核状态"),
               "institution": _l("机构"), "created_at": _l("上传时间"), "reason": _l("审核意见"),
               "reviewed_at": _l("审核时间"), "id": _l("操作")}


def _refused(exc, back: str):
    flash(str(exc), "danger")
    return redirect(back)


def _file(plan: PracticePlan):
    files = attachments.of("practice_plan", plan.id)
    return files[-1] if files else None


class _PlanBase(ChoiceFiltersMixin, ScopedModelView):
    datamodel = SQLAInterface(PracticePlan)
    label_columns = PLAN_LABELS
    search_columns = ["name", "plan_type", "status", "created_at"]
    custom_filters = {"status": [FilterChoice], "plan_type": [FilterChoice]}
    search_form_extra_fields = {
        "status": SelectField(_l("审核状态"), choices=choices(PLAN_STATUSES), render_kw=BOX),
        "plan_type": SelectField(_l("计划类型"), choices=choices({t: t for t in PLAN_TYPES}), render_kw=BOX),
    }
    base_order = ("id", "desc")
    show_template = "practice/show.html"
    can_review = False

    def _render_show(self, plan: PracticePlan):
        return self.render_template("practice/show.html", plan=plan, file=_file(plan), statuses=PLAN_STATUSES,
                                    file_url=url_for(f"{self.__class__.__name__}.plan_file", pk=plan.id),
                                    review_url=url_for("PracticePlanReviewView.review", pk=plan.id)
                                    if self.can_review else None,
                                    edit_url=url_for("PracticePlanView.edit", pk=plan.id)
                                    if not self.can_review and plan.status != "approved" else None,
                                    back_url=url_for(f"{self.__class__.__name__}.list"))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._render_show(self._scoped_get(pk))

    @expose("/file/<int:pk>")
    @has_access
    @permission_name("file")
    def plan_file(self, pk):
        plan = self._scoped_get(pk)
        att = _file(plan)
        if att is None:
            abort(404)
        return send_attachment(att, download=request.args.get("download") == "1")


class PracticePlanView(_PlanBase):
    """教学活动计划上传: the institution's own plans; add, edit (pending / rejected), delete (not approved)."""

    route_base = "/practiceplan"
    list_title = _l("教学活动计划上传")
    list_columns = ["name", "plan_type", "activity_forms", "status", "reason", "created_at"]
    can_review = False
    formatters_columns = {"status": lambda v: PLAN_STATUSES.get(v, v)}

    def _institution(self) -> Org | None:
        user = acting_user()
        org = getattr(user, "org", None)
        return db.session.get(Org, org.institution_id) if org is not None and org.institution_id else None

    def _form_page(self, plan: PracticePlan | None, values: dict):
        return self.render_template("practice/form.html", plan=plan, values=values, plan_types=PLAN_TYPES,
                                    forms=practice_forms(db.session), file=_file(plan) if plan else None,
                                    max_mb=evidence_max_bytes(db.session) // (1024 * 1024))

    def _values(self) -> dict:
        return {"name": request.form.get("name", ""), "plan_type": request.form.get("plan_type", ""),
                "forms": request.form.getlist("activity_forms"), "remark": request.form.get("remark", "")}

    def _save(self, plan: PracticePlan | None):
        values = self._values()

        def refused(exc):
            flash(str(exc), "danger")
            return self._form_page(plan if plan is not None and plan.id else None, values)

        return act(lambda: save_plan(db.session, acting_user(), values, request.files.get("plan_file"), plan,
                                     institution=self._institution() if plan is None else None),
                   log=(MODULE, "提交" if plan is None else "修改"), done=_("计划已提交，等待主管部门审核"),
                   then=url_for("PracticePlanView.list"), failed=refused)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @once
    def add(self):
        if request.method == "POST":
            return self._save(None)
        return self._form_page(None, {"name": "", "plan_type": "", "forms": [], "remark": ""})

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    @once
    def edit(self, pk):
        plan = self._scoped_get(pk)
        if plan.status == "approved":
            flash(_("已通过审核的计划不能修改"), "warning")
            return redirect(url_for("PracticePlanView.show", pk=plan.id))
        if request.method == "POST":
            return self._save(plan)
        return self._form_page(plan, {"name": plan.name, "plan_type": plan.plan_type, "forms": plan.forms,
                                      "remark": plan.remark or ""})

    @refusing
    def pre_delete(self, item: PracticePlan) -> None:
        if item.status == "approved":
            raise PlanError(_("已通过审核的计划不能删除"))
        for att in attachments.of("practice_plan", item.id):
            db.session.delete(att)


class PracticePlanReviewView(_PlanBase):
    """教学活动计划审核: plans of the supervised institutions, 通过 / 不通过 with a reason."""

    route_base = "/practiceplanreview"
    list_title = _l("教学活动计划审核")
    list_columns = ["name", "plan_type", "institution", "status", "created_at", "id"]
    search_columns = ["name", "plan_type", "status", "institution", "created_at"]
    base_permissions = ["can_list", "can_show", "can_review", "can_file"]
    can_review = True
    formatters_columns = {"status": lambda v: PLAN_STATUSES.get(v, v), "id": lambda pk: Markup('<a class="btn btn-xs btn-default" href="{}">{}</a>').format(
        url_for("PracticePlanReviewView.show", pk=pk), _("查看 / 审核日志"))}

    def __init__(self, **kwargs):
        from flask_appbuilder.models.sqla.filters import FilterEqual

        from app.views.base import ScopeFilter

        self.search_form_query_rel_fields = {"institution": [["kind", FilterEqual, "institution"],
                                                             ["id", ScopeFilter, None]]}
        super().__init__(**kwargs)

    @expose("/review/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("review")
    @once
    def review(self, pk):
        plan = self._scoped_get(pk)
        passed = request.form.get("result") == "pass"
        seen = request.form.get("version", type=int)  # the version the review page showed
        return act(lambda: review_plan(plan, passed, request.form.get("reason", ""), acting_user(),
                                       seen_version=seen),
                   log=(MODULE, "审核", f"{plan.name}：{'通过' if passed else '不通过'}"),
                   done=_("已审核：%(result)s", result=_("通过") if passed else _("不通过")),
                   then=url_for("PracticePlanReviewView.list"),
                   failed=lambda exc: _refused(exc, url_for("PracticePlanReviewView.show", pk=pk)))
