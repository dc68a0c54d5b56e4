"""授分标准 in the admin (ICME-2): the credit standards of a rule set, their params checked by
credit_rules.validate_params, and the 试算 box that runs the engine on typed amounts (nothing stored).
City admins edit; district and institution admins read.
"""
from __future__ import annotations

import json
from typing import Any

from flask import abort, request
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from app.extensions import db
from app.models import Credit, CreditStandard
from app.models.org import INSTITUTION_LEVELS, INSTITUTION_TYPES
from app.services.credit_rules import (
    KIND_LABELS,
    UNIT_LABELS,
    RuleError,
    compute_standard,
    validate_params,
)
from app.services.rule_sets import ACTIVITY_TYPES
from app.views.actions import refusing

CLASS_CHOICES = [("", _l("不区分")), ("Ⅰ类", "Ⅰ类"), ("Ⅱ类", "Ⅱ类")]


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

    @refusing
    def pre_add(self, item):
        self._clean(item)

    @refusing
    def pre_update(self, item):
        self._clean(item)

    @refusing
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

