"""Rule sets in the admin (ICME-2, ICME-10): list, show, copy to the next year (年度结转), publish,
archive, the compliance policy form and the what-if before publishing. City admins edit; district and
institution admins read. Standards are in views/standards.py, the policy form in views/rule_policy.py;
every action (copy, publish, archive, what-if) is a service call run by views/actions.act.
"""
from __future__ import annotations

import datetime
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import CompliancePolicy, Org, RuleSet
from app.oplog import record
from app.services import rule_sets as rs_service
from app.services.compliance import PolicyError, validate_policy
from app.services.rule_sets import RULE_SET_STATUSES, RuleSetError
from app.services.scope import Scope
from app.views.actions import act, refusing
from app.views.base import current_scope
from app.views.rule_policy import (
    DEFAULT_POLICY,
    PolicyForm,
    counting_lines,
    multi_year_lines,
    policy_form_data,
    policy_from_form,
    policy_lines,
)
from app.views.standards import CreditStandardView
from app.views.submit import once

MODULE = "授分规则"


# ----------------------------------------------------------------------------------- rule sets
class RuleSetView(ModelView):
    datamodel = SQLAInterface(RuleSet)
    route_base = "/rulesets"
    list_title = _l("规则集")
    show_title = _l("规则集详情")
    add_title = _l("新增规则集")
    edit_title = _l("编辑规则集")
    label_columns = {"code": _l("编码"), "name": _l("名称"), "region": _l("地区"), "year": _l("年度"),
                     "effective_from": _l("生效日期"), "effective_to": _l("截止日期"), "status": _l("状态"),
                     "remark": _l("备注")}
    list_columns = ["name", "region", "year", "effective_from", "effective_to", "status"]
    show_columns = ["code", "name", "region", "year", "effective_from", "effective_to", "status", "remark"]
    add_columns = ["code", "name", "region", "year", "effective_from", "effective_to", "remark"]
    edit_columns = add_columns
    search_columns = ["name", "region", "year", "status"]
    order_columns = ["name", "region", "year", "effective_from"]
    base_order = ("year", "desc")
    formatters_columns = {"status": lambda v: RULE_SET_STATUSES.get(v, v)}
    related_views = [CreditStandardView]
    show_template = "rules/ruleset_show.html"

    @refusing
    def pre_add(self, item: RuleSet) -> None:
        item.status = "draft"
        self._check_dates(item)
        item.policy = CompliancePolicy(params=dict(DEFAULT_POLICY))

    @refusing
    def pre_update(self, item: RuleSet) -> None:
        self._check_dates(item)
        if item.status == "published":
            with db.session.no_autoflush:
                other = rs_service.overlapping_published(db.session, item)
            if other is not None:
                raise RuleSetError(_("与已发布的规则集“%(name)s”生效日期重叠", name=other.name))

    @staticmethod
    def _check_dates(item: RuleSet) -> None:
        if item.effective_from and item.effective_to and item.effective_from > item.effective_to:
            raise RuleSetError(_("生效日期不能晚于截止日期"))

    @refusing
    def pre_delete(self, item: RuleSet) -> None:
        rs_service.prepare_delete(db.session, item)

    def _get(self, pk: int) -> RuleSet:
        item = db.session.get(RuleSet, pk)
        if item is None:
            abort(404)
        return item

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._get(int(pk))
        widgets = self._show(int(pk))
        params = rs_service.policy_params(item)
        return self.render_template(self.show_template, pk=int(pk), title=self.show_title, widgets=widgets,
                                    related_views=self._related_views, item=item,
                                    policy=policy_lines(params) if item.policy is not None else None,
                                    counting=counting_lines(params), multi_year=multi_year_lines(params),
                                    status_label=RULE_SET_STATUSES.get(item.status, item.status))

    # ------------------------------------------------------------------ actions
    @expose("/copy/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("copy")
    @once
    def copy(self, pk):
        """复制到下一年: a draft copy for year + 1."""
        source = self._get(pk)
        name = source.name
        return act(lambda: copy_to_next_year(source), log=(MODULE, "复制", lambda new: f"{name} → {new.name}"),
                   done=lambda new: _("已复制为草稿“%(name)s”，请检查后发布", name=new.name),
                   then=lambda new: url_for("RuleSetView.show", pk=new.id if new is not None else pk))

    def _transition(self, pk: int, action: str, apply) -> Any:
        item = self._get(pk)
        name = item.name
        return act(lambda: apply(item), log=(MODULE, action, name),
                   done=_("“%(name)s”已%(action)s", name=name, action=action),
                   then=url_for("RuleSetView.show", pk=pk))

    @expose("/publish/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("publish")
    def publish(self, pk):
        return self._transition(pk, "发布", lambda item: rs_service.publish_rule_set(db.session, item))

    @expose("/archive/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("publish")
    def archive(self, pk):
        return self._transition(pk, "归档", rs_service.archive_rule_set)

    # ------------------------------------------------------------------ policy
    @expose("/policy/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def policy(self, pk):
        """达标规则: the policy's JSON edited as a form."""
        item = self._get(pk)
        params = rs_service.policy_params(item) or dict(DEFAULT_POLICY)
        form = PolicyForm(data=policy_form_data(params)) if request.method == "GET" else PolicyForm()
        errors: list[str] = []
        if request.method == "POST" and form.validate():
            new_params = policy_from_form(form)
            if new_params is not None:
                # The form does not edit the counting policy or multi-year rules (issue 16.6/16.7): keep them.
                new_params.update({k: params[k] for k in ("counting", "multi_year") if k in params})

                def save():
                    validate_policy(new_params)
                    if item.policy is None:
                        item.policy = CompliancePolicy(params=new_params)
                    else:
                        item.policy.params = new_params

                def refused(exc: PolicyError):
                    errors.extend(exc.errors)

                done = act(save, log=(MODULE, "达标规则", item.name), done=_("达标规则已保存"),
                           then=url_for("RuleSetView.show", pk=pk), failed=refused)
                if done is not None:
                    return done
        return self.render_template("rules/policy_edit.html", item=item, form=form, errors=errors,
                                    title=_("编辑达标规则"))

    # ------------------------------------------------------------------ what-if
    def _what_if(self, pk: int):
        from app.services.what_if import WhatIf, default_base

        draft = self._get(pk)
        published = list(db.session.scalars(db.select(RuleSet).where(
            RuleSet.status == "published", RuleSet.id != draft.id).order_by(RuleSet.year.desc(), RuleSet.id)))
        base_id = request.args.get("base", type=int)
        base = db.session.get(RuleSet, base_id) if base_id else default_base(db.session, draft)
        year = request.args.get("year", type=int) or draft.year
        scope, org = _chosen_scope(request.args.get("org", type=int))
        what_if = WhatIf(draft, base, year, scope) if base is not None else None
        return draft, base, published, year, org, what_if

    @expose("/whatif/<int:pk>")
    @has_access
    @permission_name("whatif")
    def what_if(self, pk):
        """发布前试算: how many people would change status under this rule set's policy."""
        from app.services.what_if import CHANGE_LABELS, WhatIfError

        page = max(1, request.args.get("page", 1, type=int))
        page_size = 50
        summary = rows = None
        try:
            draft, base, published, year, org, what_if = self._what_if(pk)
            if what_if is not None:
                summary = what_if.summary(db.session)
                rows = what_if.changes(db.session, page, page_size)
        except WhatIfError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("RuleSetView.show", pk=pk))
        pages = max(1, -(-summary.changed // page_size)) if summary else 1
        return self.render_template("rules/what_if.html", draft=draft, base=base, published=published, year=year,
                                    org=org, orgs=_scope_orgs(), summary=summary, rows=rows, page=page,
                                    pages=pages, labels=CHANGE_LABELS, title=_("发布前试算（达标变化）"))

    @expose("/whatif/<int:pk>/export")
    @has_access
    @permission_name("whatif")
    def what_if_export(self, pk):
        from app.services.exports import stream_xlsx
        from app.services.what_if import EXPORT_HEADER, WhatIfError

        try:
            draft, base, _p, year, _o, what_if = self._what_if(pk)
        except WhatIfError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("RuleSetView.show", pk=pk))
        if what_if is None:
            abort(404)
        record(MODULE, "导出", f"试算 {draft.name} 对比 {base.name}（{year}年）")
        return stream_xlsx(f"达标变化-{draft.code}-{year}-{datetime.date.today():%Y%m%d}.xlsx", EXPORT_HEADER,
                           what_if.export_rows(db.session))


def _scope_orgs() -> list[Org]:
    """Districts and institutions the user may narrow a what-if to."""
    query = db.session.query(Org).filter(Org.kind.in_(("district", "institution")), Org.active.is_(True))
    return current_scope().filter(query, Org).order_by(Org.district_id, Org.kind.desc(), Org.sort, Org.name).all()


def _chosen_scope(org_id: int | None) -> tuple[Scope, Org | None]:
    scope = current_scope()
    if not org_id:
        return scope, None
    org = db.session.get(Org, org_id)
    if org is None or org.kind not in ("district", "institution") or not scope.allows_org(org):
        abort(404)
    return Scope(org.kind, org_id=org.id), org


def copy_to_next_year(source: RuleSet) -> RuleSet:
    """复制到下一年 (年度结转) of ``source``, once: the source row is locked (``SELECT … FOR UPDATE``) so
    two admins clicking together copy one after the other, and the second finds the first's copy and
    is told so instead of a second draft or a unique-key error (issue 13)."""
    db.session.execute(select(RuleSet.id).where(RuleSet.id == source.id).with_for_update())
    year = source.year + 1
    done = db.session.scalar(select(RuleSet).where(RuleSet.copied_from_id == source.id, RuleSet.year == year)
                             .order_by(RuleSet.id).limit(1))
    if done is not None:
        raise RuleSetError("“%(name)s”已复制到%(year)s年（“%(copy)s”），未重复复制；请在列表中查看该草稿",
                           name=source.name, year=year, copy=done.name)
    try:
        return rs_service.copy_rule_set(db.session, source, year)
    except RuleSetError:
        raise
    except ValueError as exc:  # the code of the copy is taken by another rule set
        raise RuleSetError("无法复制：%(reason)s", reason=str(exc)) from None
