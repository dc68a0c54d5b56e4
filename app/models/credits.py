"""Rule sets, credit standards, compliance policies, credits and compliance results (ICME-2/9/10).

Rules are rows: a rule set (region + year) holds standards (each a ``kind`` with JSON ``params``
interpreted by services/credit_rules.py) and one compliance policy (JSON ``params`` interpreted by
services/compliance.py). Nothing about a region's numbers lives in code.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

# Credit workflow states; transitions live in services/workflow.py (issue 4).
CREDIT_STATUSES = {
    "draft": "草稿", "submitted": "已提交", "unit_approved": "单位审核通过",
    "city_approved": "市级审核通过", "rejected": "审核不通过",
}
COUNTED_STATUSES = ("unit_approved", "city_approved")
CREDIT_SOURCES = {"project_import": "项目导入", "card": "刷卡", "qr": "扫码", "manual": "个人录入",
                  "unit": "单位录入", "self_study": "自学", "audit": "审验", "distance": "远程教育"}


class RuleSet(Model):
    __tablename__ = "rule_set"
    __module_label__ = "授分规则"

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(128), nullable=False)
    region = Column(String(64), nullable=False, index=True)
    year = Column(Integer, nullable=False, index=True)
    effective_from = Column(Date, nullable=False)
    effective_to = Column(Date, nullable=False)
    status = Column(String(16), default="draft", nullable=False)  # draft / published / archived
    remark = Column(Text)
    copied_from_id = Column(Integer, ForeignKey("rule_set.id"))

    standards = relationship("CreditStandard", back_populates="rule_set", order_by="CreditStandard.seq",
                             cascade="all, delete-orphan")
    policy = relationship("CompliancePolicy", back_populates="rule_set", uselist=False,
                          cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return self.name


class CreditStandard(Model):
    __tablename__ = "credit_standard"
    __module_label__ = "授分标准"

    id = Column(Integer, primary_key=True)
    rule_set_id = Column(Integer, ForeignKey("rule_set.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)  # 序号
    name = Column(String(128), nullable=False)  # 授分标准名称
    rule_text = Column(String(256), nullable=False)  # 授分规则 / 具体规则
    category = Column(String(64), nullable=False)  # 学分类别
    activity_form = Column(String(64))  # 活动形式
    remark = Column(String(256))  # 备注
    activity_type = Column(String(64), nullable=False, index=True)  # one of the seven of ICME-1
    credit_class = Column(String(8))  # Ⅰ类 / Ⅱ类 where the region splits classes
    kind = Column(String(16), nullable=False)  # per_unit / fixed / per_session / table / imported / entered
    params = Column(JSON, nullable=False, default=dict)
    active = Column(Boolean, default=True, nullable=False)

    rule_set = relationship("RuleSet", back_populates="standards")

    __table_args__ = (UniqueConstraint("rule_set_id", "seq"),)

    def __repr__(self) -> str:
        return f"{self.seq}. {self.name}"


class CompliancePolicy(Model):
    __tablename__ = "compliance_policy"
    __module_label__ = "达标规则"

    id = Column(Integer, primary_key=True)
    rule_set_id = Column(Integer, ForeignKey("rule_set.id"), nullable=False, unique=True)
    params = Column(JSON, nullable=False, default=dict)

    rule_set = relationship("RuleSet", back_populates="policy")


# Manual entries (sources "manual" / "unit" of services.manual_credits) waiting for a unit or the city.
REVIEW_PENDING = "status IN ('submitted', 'unit_approved') AND source IN ('manual', 'unit')"
# Sources of grants (not hand entries); a rule set's counting policy may hold them for the city's review.
GRANT_SOURCES = ("card", "qr", "project_import", "distance")
GRANTS_HELD = "status = 'unit_approved' AND source IN ({})".format(", ".join(f"'{s}'" for s in GRANT_SOURCES))


class Credit(Model):
    __tablename__ = "credit"
    __module_label__ = "学分记录"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    # The person's place when the credit was granted (scope is one indexed equality).
    district_id = Column(Integer)  # indexed with the list order below: (scope, granted_on, id)
    institution_id = Column(Integer)
    department_id = Column(Integer)
    rule_set_id = Column(Integer, ForeignKey("rule_set.id"))
    standard_id = Column(Integer, ForeignKey("credit_standard.id"))
    activity_type = Column(String(64), nullable=False)  # 学分大类
    project_no = Column(String(64), index=True)  # 项目编号
    content = Column(String(256), nullable=False)  # 活动内容
    granted_on = Column(Date, nullable=False)  # 授分时间
    category = Column(String(64), nullable=False)  # 学分类别
    credit_class = Column(String(8))  # Ⅰ类 / Ⅱ类
    subject = Column(String(64))  # 学科
    credits = Column(Numeric(7, 2), nullable=False)  # 学分
    hours = Column(Numeric(7, 2))  # 学时
    months = Column(Numeric(5, 2))  # for the "full year" rules (进修 ≥ 3 months …)
    amount = Column(Numeric(9, 2))  # the amount entered (hours / months / sessions / courses)
    remark = Column(String(256))  # 备注
    grantor_org_id = Column(Integer, ForeignKey("org.id"))
    grantor_name = Column(String(128))  # 授分单位
    uploaded_at = Column(DateTime, default=datetime.datetime.now, nullable=False)  # 上传时间
    source = Column(String(16), nullable=False, default="unit")  # 学分来源
    status = Column(String(16), nullable=False, default="unit_approved")
    certificate_no = Column(String(64))

    person = relationship("Person")
    standard = relationship("CreditStandard")
    rule_set = relationship("RuleSet")

    __table_args__ = (
        Index("ix_credit_person_granted", "person_id", "granted_on"),
        # each scope's list order (granted_on DESC, id DESC) as a backward scan; also the scope lookups
        Index("ix_credit_district_granted_id", "district_id", "granted_on", "id"),
        Index("ix_credit_inst_granted_id", "institution_id", "granted_on", "id"),
        Index("ix_credit_dept_granted_id", "department_id", "granted_on", "id"),
        Index("ix_credit_status_granted", "status", "granted_on"),
        # Credit lists at city scale (migration c3ed17b0e003, bench/bench_credits.py).
        Index("ix_credit_granted_id", "granted_on", "id"),
        Index("ix_credit_inst_status_granted", "institution_id", "status", "granted_on"),
        Index("ix_credit_district_status_granted", "district_id", "status", "granted_on"),
        # The 学分类别 choice filter (migration c7a2e9b1f010).
        Index("ix_credit_inst_category_granted", "institution_id", "category", "granted_on"),
        Index("ix_credit_district_category_granted", "district_id", "category", "granted_on"),
        Index("ix_credit_category_granted", "category", "granted_on"),
        # The home page's review to-dos: only manual entries still under review (issue 18).
        Index("ix_credit_review_pending", "status", "institution_id", "district_id", "id",
              postgresql_where=text(REVIEW_PENDING), sqlite_where=text(REVIEW_PENDING)),
        # The home page's 待市级审核的授分 (grants a rule set's counting policy holds back; services/grant_review).
        Index("ix_credit_grants_held", "rule_set_id", "source", "institution_id", "district_id",
              postgresql_where=text(GRANTS_HELD), sqlite_where=text(GRANTS_HELD)),
    )

    def __repr__(self) -> str:
        return f"{self.content}（{self.credits}分）"


class ComplianceResult(Model):
    __tablename__ = "compliance_result"
    __module_label__ = "达标结果"
    __no_oplog__ = True  # recomputed in bulk; the recompute job itself is logged
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    year = Column(Integer, nullable=False)
    rule_set_id = Column(Integer, ForeignKey("rule_set.id"), nullable=False)
    district_id = Column(Integer)
    institution_id = Column(Integer)
    department_id = Column(Integer)
    title_level = Column(String(8))
    total = Column(Numeric(8, 2), nullable=False)  # counted total after caps
    required = Column(Numeric(8, 2), nullable=False)
    class1 = Column(Numeric(8, 2))
    class2 = Column(Numeric(8, 2))
    full_year = Column(Boolean, default=False, nullable=False)
    met = Column(Boolean, nullable=False, index=True)
    computed_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    person = relationship("Person")

    __table_args__ = (
        UniqueConstraint("person_id", "year", "rule_set_id"),
        Index("ix_compliance_year_inst", "year", "institution_id"),
        # The list's default order (year DESC, id DESC) for the city and inside each scope (issue 18).
        Index("ix_compliance_year_id", "year", "id"),
        Index("ix_compliance_district_year_id", "district_id", "year", "id"),
        Index("ix_compliance_inst_year_id", "institution_id", "year", "id"),
        Index("ix_compliance_dept_year_id", "department_id", "year", "id"),
    )
