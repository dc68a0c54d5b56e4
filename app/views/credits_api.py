"""学分管理 REST API (ICME-9, ICME-10): credit computation for the wizard, a person's explained
compliance, and the scoped credit records (only the city admin corrects or deletes one)."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_appbuilder import expose
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from app.extensions import db
from app.models import Credit, CreditStandard, Org, Person
from app.services import credit_records
from app.services.credit_rules import RuleError, compute_standard
from app.services.roles import CITY_ADMIN
from app.views.base import BrowserCsrfMixin, ScopedRestApi, role_names
from app.views.credits import CREDIT_LABELS
from app.views.pickers import resolve_person


def _acting_user():
    return current_app.appbuilder.sm.current_user


class ComputeRequestSchema(Schema):
    standard_id = fields.Integer(required=True, metadata={"description": "授分标准 id"})
    amount = fields.Raw(metadata={"type": "number", "description": "实际学时 / 月数 / 次数 / 课程数（按标准的计量单位）"})
    hours = fields.Raw(metadata={"type": "number", "description": "单次学时（按次计分的标准）"})
    sessions = fields.Raw(metadata={"type": "integer", "description": "次数（按次计分的标准，默认1）"})
    row = fields.String(metadata={"description": "二维表的行（期刊类别、立项级别）"})
    col = fields.Raw(metadata={"type": "integer", "description": "二维表的列序号（作者 / 完成人排序，从1开始）"})
    project_credits = fields.Raw(metadata={"type": "number", "description": "项目学分（项目导入；主讲人不超过它）"})
    credits = fields.Raw(metadata={"type": "number", "description": "录入的学分（录入学分的标准）"})
    allowed_value = fields.String(metadata={"description": "认可目录中的来源（如杂志名称）"})
    person_id = fields.Integer(metadata={"description": "学员 id：其机构的级别和类型用于适用范围检查"})


class ComputeResponseSchema(Schema):
    credits = fields.Float(metadata={"description": "授予的学分"})
    grantable = fields.Boolean(metadata={"description": "是否可授分（学分大于0）"})
    explanation = fields.String(metadata={"description": "计算说明，如“7小时，每3小时1分，计2个完整单位，得2分”"})
    credit_class = fields.String(allow_none=True, metadata={"description": "Ⅰ类 / Ⅱ类"})
    capped_by = fields.String(allow_none=True, metadata={"description": "封顶原因（上限、主讲人不超过项目学分）"})
    hours = fields.Float(allow_none=True)
    months = fields.Float(allow_none=True)
    standard = fields.Dict(metadata={"description": "所用授分标准（id、序号、名称、授分规则）"})


class ComplianceResponseSchema(Schema):
    year = fields.Integer()
    window = fields.List(fields.String(), metadata={"description": "学分年度起止"})
    required = fields.Float()
    total = fields.Float()
    met = fields.Boolean()
    full_year = fields.String(allow_none=True)
    summary = fields.String(metadata={"description": "如“不达标：还差3学分（要求25学分，已获22学分）”"})
    missing = fields.List(fields.String())
    by_category = fields.Dict(keys=fields.String(), values=fields.Float())
    by_class = fields.Dict(keys=fields.String(), values=fields.Float())
    credits = fields.List(fields.Dict(), metadata={"description": "每条学分：计入学分与说明（计入、封顶、未计入的原因）"})
    person = fields.Dict()
    rule_set = fields.Dict()


INPUT_KEYS = ("amount", "hours", "sessions", "row", "col", "project_credits", "credits", "allowed_value")


class CreditRulesApi(BrowserCsrfMixin, BaseApi):
    """The credit rules engine as JSON (the wizard's live "故授予 X 学分")."""

    resource_name = "credit_rules"
    allow_browser_login = True
    openapi_spec_tag = "Credit rules"
    openapi_spec_component_schemas = (ComputeRequestSchema, ComputeResponseSchema)

    @expose("/compute", methods=["POST"])
    @protect()
    @safe
    @permission_name("compute")
    def compute(self):
        """Compute the credits of one grant with a credit standard.
        ---
        post:
          summary: 按授分标准计算学分（不保存）
          description: >-
            Interprets the standard (per full unit, fixed, per session, table, imported, entered) with
            its caps; a lecturer never gets more than the project's credits. Eligibility by institution
            level / type uses the person's institution (person_id, inside the caller's scope), else
            the caller's own institution.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ComputeRequestSchema'
          responses:
            200:
              description: 计算结果
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ComputeResponseSchema'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message=_("请求内容必须是JSON对象"))
        errors = ComputeRequestSchema().validate(body)
        if errors:
            field = next(iter(errors))
            label = {"standard_id": _("授分标准"), "person_id": _("学员")}.get(field, field)
            return self.response_422(message=_("%(field)s填写有误", field=label))
        standard = db.session.get(CreditStandard, int(body["standard_id"]))
        if standard is None or (standard.rule_set.status != "published" and CITY_ADMIN not in role_names()):
            return self.response(404, message=_("授分标准不存在"))
        inputs = {key: body[key] for key in INPUT_KEYS if key in body}
        institution = self._institution(body.get("person_id"))
        if institution is False:
            return self.response(404, message=_("学员不存在或不在您的管辖范围内"))
        if institution is not None:
            inputs.update(institution_level=institution.level, institution_type=institution.inst_type)
        try:
            result = compute_standard(standard, inputs)
        except RuleError as exc:
            return self.response_422(message=str(exc))
        out = result.as_dict()
        out["standard"] = {"id": standard.id, "seq": standard.seq, "name": standard.name,
                           "rule_text": standard.rule_text, "category": standard.category}
        return self.response(200, **out)

    @staticmethod
    def _institution(person_id: Any) -> Org | None | bool:
        """The institution whose level / type decides eligibility; False for a person out of scope."""
        if person_id is not None:
            person = resolve_person(person_id)
            return False if person is None else person.institution
        user = _acting_user()
        if getattr(user, "person_id", None):
            person = db.session.get(Person, user.person_id)
            return person.institution if person else None
        org = getattr(user, "org", None)
        if org is not None and org.institution_id:
            return db.session.get(Org, org.institution_id)
        return None


class ComplianceApi(BaseApi):
    """A person's compliance for a credit year, explained (the transcript as JSON)."""

    resource_name = "compliance"
    allow_browser_login = True
    openapi_spec_tag = "Compliance"
    openapi_spec_component_schemas = (ComplianceResponseSchema,)

    @expose("/<int:person_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get(self, person_id):
        """A person's explained compliance for a year.
        ---
        get:
          summary: 学员某年度的达标情况及说明
          parameters:
          - in: path
            name: person_id
            required: true
            schema:
              type: integer
          - in: query
            name: year
            required: false
            description: 学分年度（默认当前年度）
            schema:
              type: integer
          responses:
            200:
              description: 达标情况（计入、封顶、未计入的学分及原因，各类别合计，还差多少学分）
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ComplianceResponseSchema'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        person = resolve_person(person_id)
        if person is None:
            return self.response(404, message=_("学员不存在或不在您的管辖范围内"))
        region = credit_records.region(db.session)
        raw = request.args.get("year")
        if raw:
            try:
                year = int(raw)
            except ValueError:
                return self.response_400(message=_("年度必须是整数"))
        else:
            year = credit_records.default_year(db.session, region)
        data = credit_records.transcript(db.session, person, year, region) if year else None
        if data is None or data.evaluation is None:
            return self.response_422(message=_("%(region)s没有适用于%(year)s年度的已发布规则集", region=region,
                                               year=year or ""))
        out = data.evaluation.as_dict()
        out["person"] = {"id": person.id, "name": person.name, "card_no": person.card_no}
        out["rule_set"] = {"id": data.rule_set.id, "name": data.rule_set.name}
        return self.response(200, **out)


class CreditApi(ScopedRestApi):
    """Credit records, scoped; only the city admin may correct (PUT) or delete one."""

    resource_name = "credit"
    datamodel = SQLAInterface(Credit)
    include_route_methods = {"get", "get_list", "info", "put", "delete"}
    openapi_spec_tag = "Credits"
    list_columns = ["id", "person.id", "person.name", "person.card_no", "activity_type", "project_no", "content",
                    "granted_on", "category", "credit_class", "subject", "credits", "hours", "months", "remark",
                    "grantor_name", "uploaded_at", "source", "status", "standard_id", "rule_set_id"]
    show_columns = list_columns
    edit_columns = ["activity_type", "project_no", "content", "granted_on", "category", "credit_class", "subject",
                    "credits", "hours", "months", "remark", "grantor_name", "certificate_no"]
    search_columns = ["granted_on", "status", "source", "category", "project_no", "content", "activity_type",
                      "person"]
    order_columns = ["granted_on", "credits", "uploaded_at"]
    label_columns = {**CREDIT_LABELS, "id": "ID", "person.id": _l("学员ID"), "person.name": _l("姓名"),
                     "person.card_no": _l("IC卡号"), "standard_id": _l("授分标准ID"), "rule_set_id": _l("规则集ID")}
    list_title = _l("学分记录")
    show_title = _l("学分详情")
    edit_title = _l("修改学分记录")
    base_order = ("granted_on", "desc")
