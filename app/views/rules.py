"""Rule sets, credit standards and compliance policies in the admin (ICME-2, ICME-10), what-if.

City admins edit; district and institution admins read. Rules stay data: a standard's params are
checked by credit_rules.validate_params, a policy by compliance.validate_policy; every action
(copy, publish, archive, what-if) is a service call.
"""
from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from app.extensions import db
from app.models import CompliancePolicy, Credit, CreditStandard, Org, RuleSet
from app.models.org import INSTITUTION_LEVELS, INSTITUTION_TYPES
from app.models.people import TITLE_LEVELS
from app.oplog import record
from app.services import rule_sets as rs_service
from app.services.compliance import PolicyError, validate_policy
from app.services.credit_rules import (
    KIND_LABELS,
    UNIT_LABELS,
    RuleError,
    compute_standard,
    validate_params,
)
from app.services.rule_sets import ACTIVITY_TYPES, RULE_SET_STATUSES, RuleSetError
from app.services.scope import Scope
from app.views.base import current_scope
from app.views.submit import once

MODULE = "授分规则"
CLASS_CHOICES = [("", _l("不区分")), ("Ⅰ类", "Ⅰ类"), ("Ⅱ类", "Ⅱ类")]
# A new rule set starts with the national minimum; the admin edits it on the policy page.
DEFAULT_POLICY = {"required_total": 25, "required_by_title_level": {}, "window": {"start": "01-01", "end": "12-31"},
                  "class_split": False, "category_limits": [], "full_year": []}


def rolls_back(method):
    """FAB flashes an error raised by pre_add / pre_update / pre_delete but leaves the session dirty:
    roll back, so the refused change is never flushed later in the request nor holds a row lock."""
    @functools.wraps(method)
    def inner(self, item):
        try:
            return method(self, item)
        except Exception:
            db.session.rollback()
            raise
    return inner


# ----------------------------------------------------------------------------------- standards
class JSONTextAreaField(TextAreaField):
    """A JSON object edited as text; invalid JSON is a form error, not a 500."""

    raw: str | None = None

    def _value(self) -> str:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.data if self.data is not None else {}, ensure_ascii=False, indent=2)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw = valuelist[0]
        try:
            self.data = json.loads(self.raw.strip() or "{}")
        except json.JSONDecodeError as exc:
            self.data = None
            raise ValueError(_("参数不是有效的JSON（第%(line)s行第%(col)s列）：%(msg)s",
                               line=exc.lineno, col=exc.colno, msg=exc.msg)) from None


def _params_validator(form, field) -> None:
    if field.process_errors:  # already reported: not JSON
        return
    try:
        field.data = validate_params(form.kind.data, field.data)
    except RuleError as exc:
        raise ValidationError(str(exc)) from None


def _params_html(params: Any) -> Markup:
    return Markup("<pre class=\"cme-json\">%s</pre>") % escape(json.dumps(params or {}, ensure_ascii=False, indent=2))


STANDARD_LABELS = {
    "rule_set": _l("规则集"), "seq": _l("序号"), "name": _l("名称"), "rule_text": _l("授分规则"),
    "category": _l("学分类别"), "activity_form": _l("活动形式"), "remark": _l("备注"),
    "activity_type": _l("学分大类"), "credit_class": _l("Ⅰ/Ⅱ类"), "kind": _l("计分方式"),
    "params": _l("参数（JSON）"), "active": _l("启用"),
}


def _standard_fields() -> dict:
    return {
        "activity_type": SelectField(_l("学分大类"), choices=[(t, t) for t in ACTIVITY_TYPES],
                                     validators=[InputRequired()]),
        "kind": SelectField(_l("计分方式"), choices=list(KIND_LABELS.items()), validators=[InputRequired()]),
        "credit_class": SelectField(_l("Ⅰ/Ⅱ类"), choices=CLASS_CHOICES, validators=[Optional()]),
        "params": JSONTextAreaField(_l("参数（JSON）"), validators=[_params_validator],
                                    description=_l("按计分方式填写，例如每3小时1分上限10分："
                                                   "{\"unit\": \"hours\", \"per\": 3, \"rate\": 1, \"cap\": 10}"),
                                    render_kw={"rows": 8, "class": "form-control cme-json"}),
    }


# The inputs the engine reads, per kind (name, label, choices or None); shown in the 试算 box.
def trial_fields(standard: CreditStandard) -> list[tuple[str, str, list | None]]:
    params = standard.params or {}
    kind = standard.kind
    fields: list[tuple[str, str, list | None]] = []
    if kind == "per_unit" or (kind == "fixed" and params.get("unit")):
        unit = params.get("unit", "hours")
        fields.append(("amount", _("实际%(unit)s数", unit=UNIT_LABELS.get(unit, "")), None))
    elif kind == "per_session":
        fields += [("hours", _("单次学时（小时）"), None), ("sessions", _("次数"), None)]
    elif kind == "table":
        fields += [("row", params.get("row_label", _("类别")), [(r, r) for r in params.get("table", {})]),
                   ("col", params.get("col_label", _("排序")),
                    [(str(i), c) for i, c in enumerate(params.get("cols", []), start=1)])]
    elif kind == "imported":
        fields.append(("project_credits", _("项目学分"), None))
    elif kind == "entered":
        fields.append(("credits", _("学分"), None))
        if params.get("allowed"):
            fields.append(("allowed_value", params.get("allowed_label", _("来源")),
                           [(a, a) for a in params["allowed"]]))
    if params.get("lecturer") and kind != "imported":
        fields.append(("project_credits", _("项目学分"), None))
    if params.get("eligible_levels") or params.get("eligible_types"):
        fields += [("institution_level", _("机构级别"), [(x, x) for x in INSTITUTION_LEVELS]),
                   ("institution_type", _("机构类型"), [(x, x) for x in INSTITUTION_TYPES])]
    return fields


class CreditStandardView(ModelView):
    datamodel = SQLAInterface(CreditStandard)
    route_base = "/standards"
    list_title = _l("授分标准")
    show_title = _l("授分标准详情")
    add_title = _l("新增授分标准")
    edit_title = _l("编辑授分标准")
    label_columns = STANDARD_LABELS
    list_columns = ["seq", "name", "rule_text", "category", "activity_form", "remark", "kind", "rule_set"]
    show_columns = ["rule_set", "seq", "name", "rule_text", "category", "activity_form", "remark", "activity_type",
                    "credit_class", "kind", "params", "active"]
    add_columns = ["rule_set", "seq", "name", "rule_text", "category", "activity_form", "remark",
                   "activity_type", "credit_class", "kind", "params", "active"]
    edit_columns = add_columns
    search_columns = ["rule_set", "name", "category", "activity_type", "kind", "active"]
    order_columns = ["seq", "name", "category"]
    base_order = ("seq", "asc")
    page_size = 50
    formatters_columns = {"kind": lambda v: KIND_LABELS.get(v, v), "params": _params_html,
                          "active": lambda v: _("是") if v else _("否")}
    show_template = "rules/standard_show.html"

    def __init__(self, **kwargs):
        self.add_form_extra_fields = _standard_fields()
        self.edit_form_extra_fields = _standard_fields()
        super().__init__(**kwargs)

    def _clean(self, item: CreditStandard) -> None:
        item.credit_class = item.credit_class or None
        if item.rule_set is None:
            raise RuleError(_("请选择规则集"))
        validate_params(item.kind, item.params)  # the API of the model, not only this form
        with db.session.no_autoflush:
            taken = db.session.scalar(db.select(CreditStandard.id).where(
                CreditStandard.rule_set_id == item.rule_set.id, CreditStandard.seq == item.seq,
                CreditStandard.id != (item.id or 0)))
        if taken is not None:
            raise RuleError(_("“%(rs)s”中已有序号为%(seq)s的授分标准", rs=item.rule_set.name, seq=item.seq))

    @rolls_back
    def pre_add(self, item):
        self._clean(item)

    @rolls_back
    def pre_update(self, item):
        self._clean(item)

    @rolls_back
    def pre_delete(self, item):
        if db.session.scalar(db.select(Credit.id).where(Credit.standard_id == item.id).limit(1)) is not None:
            raise RuleError(_("授分标准“%(name)s”已有学分记录，不能删除（可停用）", name=item.name))

    def _render_show(self, pk: int, values: dict | None = None, result: Any = None, error: str | None = None):
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        widgets = self._show(pk)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._related_views, item=item,
                                    trial_fields=trial_fields(item), values=values or {}, result=result,
                                    error=error, kind_label=KIND_LABELS.get(item.kind, item.kind))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._render_show(int(pk))

    @expose("/try/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def trial(self, pk):
        """试算: run the engine on the amounts typed in (nothing is stored)."""
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        values = {name: request.form.get(name, "").strip() for name, _l_, _c in trial_fields(item)}
        inputs = {k: v for k, v in values.items() if v != ""}
        try:
            result = compute_standard(item, inputs)
        except RuleError as exc:
            return self._render_show(pk, values, error=str(exc))
        return self._render_show(pk, values, result=result)


# ----------------------------------------------------------------------------------- policy form
# Form field of each title level's requirement (TITLE_LEVELS order).
LEVEL_FIELDS = dict(zip(TITLE_LEVELS, ("req_junior", "req_middle", "req_vice", "req_senior")))


class PolicyForm(FlaskForm):
    required_total = DecimalField(_l("年度要求学分"), places=None, validators=[InputRequired(message=_l("请填写年度要求学分"))])
    req_junior = DecimalField(_l("初级"), places=None, validators=[Optional()])
    req_middle = DecimalField(_l("中级"), places=None, validators=[Optional()])
    req_vice = DecimalField(_l("副高"), places=None, validators=[Optional()])
    req_senior = DecimalField(_l("正高"), places=None, validators=[Optional()])
    window_start = StringField(_l("学分年度开始（MM-DD）"), validators=[InputRequired()])
    window_end = StringField(_l("学分年度结束（MM-DD）"), validators=[InputRequired()])
    class_split = BooleanField(_l("Ⅰ/Ⅱ类分开计算（不能互相替代）"))
    class1_min = DecimalField(_l("Ⅰ类最少"), places=None, validators=[Optional()])
    class1_max = DecimalField(_l("Ⅰ类最多"), places=None, validators=[Optional()])
    class2_min = DecimalField(_l("Ⅱ类最少"), places=None, validators=[Optional()])
    class2_max = DecimalField(_l("Ⅱ类最多"), places=None, validators=[Optional()])
    category_limits = TextAreaField(_l("各类别每年上限"), render_kw={"rows": 4},
                                    description=_l("每行一条：学分类别=上限学分，例如 有计划的自学=10"))
    category_minimums = TextAreaField(_l("各类别每年最少"), render_kw={"rows": 4},
                                      description=_l("每行一条：学分类别=最少学分，例如 国家级继续医学教育项目=5；"
                                                     "达到总学分但某类别不足最少学分的，不达标"))
    full_year = TextAreaField(_l("满N个月视为完成当年学分"), render_kw={"rows": 4},
                              description=_l("每行一条：月数 | 学分类别（多个用、分隔） | 说明，"
                                             "例如 3 | 进修学习、在职学历(学位)教育 | 进修满3个月"))


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def policy_form_data(params: dict) -> dict:
    """Policy params → PolicyForm data."""
    limits = params.get("class_limits") or {}
    data = {
        "required_total": params.get("required_total"),
        "window_start": (params.get("window") or {}).get("start", "01-01"),
        "window_end": (params.get("window") or {}).get("end", "12-31"),
        "class_split": bool(params.get("class_split")),
        "class1_min": limits.get("Ⅰ类", {}).get("min"), "class1_max": limits.get("Ⅰ类", {}).get("max"),
        "class2_min": limits.get("Ⅱ类", {}).get("min"), "class2_max": limits.get("Ⅱ类", {}).get("max"),
        "category_limits": "\n".join(f"{c['category']}={c['max']}" for c in params.get("category_limits") or []
                                     if c.get("max") is not None),
        "category_minimums": "\n".join(f"{c['category']}={c['min']}" for c in params.get("category_limits") or []
                                       if c.get("min") is not None),
        "full_year": "\n".join(f"{r.get('min_months', 0)} | {'、'.join(r['categories'])} | {r.get('label') or ''}"
                               for r in params.get("full_year") or []),
    }
    for level, name in LEVEL_FIELDS.items():
        data[name] = (params.get("required_by_title_level") or {}).get(level)
    return {k: (Decimal(str(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in data.items()}


def _category_lines(field, key: str, bad_line: Callable[[int], str], cats: dict[str, dict]) -> bool:
    """Parse "学分类别=学分" lines of ``field`` into ``cats[category][key]``; False on a bad or
    repeated line (a field error naming the line)."""
    ok = True
    for n, line in enumerate((field.data or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.replace("＝", "=").partition("=")
        name = name.strip()
        try:
            if not sep or not name:
                raise ValueError(line)
            number = _number(Decimal(value.strip()))
        except (ArithmeticError, ValueError):
            field.errors.append(bad_line(n))
            ok = False
            continue
        item = cats.setdefault(name, {"category": name})
        if key in item:
            field.errors.append(_("第%(n)s行：类别“%(name)s”重复填写", n=n, name=name))
            ok = False
        item[key] = number
    return ok


def policy_from_form(form: PolicyForm) -> dict | None:
    """PolicyForm → policy params; line-format problems become field errors (returns None then).
    The maximum and minimum boxes merge into one ``category_limits`` item per category."""
    by_category: dict[str, dict] = {}
    ok = _category_lines(form.category_limits, "max", lambda n: _("第%(n)s行应为“学分类别=上限学分”", n=n),
                         by_category)
    ok = _category_lines(form.category_minimums, "min", lambda n: _("第%(n)s行应为“学分类别=最少学分”", n=n),
                         by_category) and ok
    cats = list(by_category.values())
    rules = []
    for n, line in enumerate((form.full_year.data or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        try:
            months = _number(Decimal(parts[0]))
            categories = [c.strip() for c in parts[1].replace("，", "、").replace(",", "、").split("、") if c.strip()]
        except (ArithmeticError, ValueError, IndexError):
            form.full_year.errors.append(_("第%(n)s行应为“月数 | 学分类别 | 说明”", n=n))
            ok = False
            continue
        rule = {"categories": categories, "min_months": months}
        if len(parts) > 2 and parts[2]:
            rule["label"] = parts[2]
        rules.append(rule)
    if not ok:
        return None
    params: dict[str, Any] = {
        "required_total": _number(form.required_total.data),
        "required_by_title_level": {lvl: _number(getattr(form, name).data) for lvl, name in LEVEL_FIELDS.items()
                                    if getattr(form, name).data is not None},
        "window": {"start": (form.window_start.data or "").strip(), "end": (form.window_end.data or "").strip()},
        "class_split": bool(form.class_split.data),
        "category_limits": cats,
        "full_year": rules,
    }
    limits = {}
    for cls, low, high in (("Ⅰ类", form.class1_min, form.class1_max), ("Ⅱ类", form.class2_min, form.class2_max)):
        lim = {k: _number(f.data) for k, f in (("min", low), ("max", high)) if f.data is not None}
        if lim:
            limits[cls] = lim
    if limits or params["class_split"]:
        params["class_limits"] = limits
    return params


def policy_lines(params: dict) -> list[tuple[str, str]]:
    """The policy in words for the rule set's page."""
    window = params.get("window") or {"start": "01-01", "end": "12-31"}
    lines = [(_("年度要求学分"), f"{params.get('required_total', 25)}分")]
    by_level = params.get("required_by_title_level") or {}
    if by_level:
        lines.append((_("各职称级别要求"), "；".join(f"{k}{v}分" for k, v in by_level.items())))
    lines.append((_("学分年度"), f"{window['start']} 至 {window['end']}"))
    if params.get("class_split"):
        lim = params.get("class_limits") or {}
        lines.append((_("Ⅰ/Ⅱ类分开"), "；".join(
            f"{c}{v.get('min', 0)}–{v.get('max', '不限')}分" for c, v in lim.items()) + "，不能互相替代"))
    else:
        lines.append((_("Ⅰ/Ⅱ类分开"), _("否")))
    for c in params.get("category_limits") or []:
        if c.get("min") is not None:
            lines.append((_("类别最少"), f"{c['category']}每年至少{c['min']}分"))
        if c.get("max") is not None:
            lines.append((_("类别上限"), f"{c['category']}每年最多{c['max']}分"))
    for r in params.get("full_year") or []:
        months = r.get("min_months", 0)
        cond = f"满{months}个月" if months else "完成"
        lines.append((_("视为完成当年学分"), f"{'、'.join(r['categories'])}{cond}"
                      + (f"（{r['label']}）" if r.get("label") else "")))
    return lines


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

    @rolls_back
    def pre_add(self, item: RuleSet) -> None:
        item.status = "draft"
        self._check_dates(item)
        item.policy = CompliancePolicy(params=dict(DEFAULT_POLICY))

    @rolls_back
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

    @rolls_back
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
                                    status_label=RULE_SET_STATUSES.get(item.status, item.status))

    # ------------------------------------------------------------------ actions
    @expose("/copy/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("copy")
    @once
    def copy(self, pk):
        """复制到下一年: a draft copy for year + 1."""
        source = self._get(pk)
        try:
            new = rs_service.copy_rule_set(db.session, source, source.year + 1)
            db.session.commit()
        except ValueError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("RuleSetView.show", pk=pk))
        record(MODULE, "复制", f"{source.name} → {new.name}")
        flash(_("已复制为草稿“%(name)s”，请检查后发布", name=new.name), "success")
        return redirect(url_for("RuleSetView.show", pk=new.id))

    def _transition(self, pk: int, action: str, apply) -> Any:
        item = self._get(pk)
        try:
            apply(item)
            db.session.commit()
        except RuleSetError as exc:
            db.session.rollback()
            record(MODULE, action, f"{item.name}：{exc}", False)
            flash(str(exc), "danger")
        else:
            record(MODULE, action, item.name)
            flash(_("“%(name)s”已%(action)s", name=item.name, action=action), "success")
        return redirect(url_for("RuleSetView.show", pk=pk))

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
                try:
                    validate_policy(new_params)
                except PolicyError as exc:
                    errors = exc.errors
                else:
                    if item.policy is None:
                        item.policy = CompliancePolicy(params=new_params)
                    else:
                        item.policy.params = new_params
                    db.session.commit()
                    flash(_("达标规则已保存"), "success")
                    return redirect(url_for("RuleSetView.show", pk=pk))
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
