"""Credit audit workspace, results and appeals (学分审验: AUD-6, AUD-7).

Seed 003 part 03 (专家审验, 学分明细审核, 审验结果) and seed 001 六、审验结果反馈 are the source:

* ``AuditVerdict`` — 审核结论 of one credit in one cycle: 通过 / 不通过 (with a reason). ``version``
  is an optimistic lock: a verdict is written only when the version the expert saw is still the stored
  one, so two experts never overwrite each other silently. No row = 未审核.
* ``AuditResult`` — one person in one cycle: 已审 / 未审 mark, and the compliance the expert computed
  (达标计算) from the PASSED credits inside the cycle's window, with its explanation. ``expert_met`` is
  the expert's judgement; ``met`` the current one, recomputed when an appeal changes a verdict
  (seed 001: "最终认定结果由市继教委办公室确定" — the final result is what counts).
* ``AuditAppeal`` — 复审: a unit's objection to one unqualified material (a failed verdict) with a reason
  and new evidence (attachments of owner_type "audit_appeal"), until the cycle's appeal deadline; the
  city office decides.
* ``AuditCertificate`` — 证明: a printable certificate of a person's final result with a verification
  code that a public page checks. A certificate whose result changed later is superseded.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

VERDICTS = {"passed": "通过", "failed": "不通过"}
VERDICT_FILTER = {"pending": "未审核", "passed": "通过", "failed": "不通过"}
APPEAL_STATUSES = {"pending": "待复审", "accepted": "复审通过", "rejected": "复审不通过"}
_SCOPE = {"district": "district_id", "institution": "institution_id", "department": "department_id",
          "person": "person_id"}


class AuditVerdict(Model):
    __tablename__ = "audit_verdict"
    __module_label__ = "审核学分"  # the seed's 操作日志 module name for verdicts
    __no_oplog__ = True  # written by compare-and-swap statements; the service logs each decision
    __scope_columns__ = _SCOPE

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    credit_id = Column(Integer, ForeignKey("credit.id", ondelete="CASCADE"), nullable=False, index=True)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer)
    verdict = Column(String(8), nullable=False)  # passed / failed
    reason = Column(Text)  # 不通过原因 (required when failed)
    via_appeal = Column(Boolean, default=False, nullable=False)  # set by a granted appeal
    decided_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    decided_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    version = Column(Integer, nullable=False, default=1)

    credit = relationship("Credit")
    decided_by = relationship("CmeUser", foreign_keys=[decided_by_fk])

    __table_args__ = (
        UniqueConstraint("cycle_id", "credit_id", name="uq_audit_verdict_cycle_credit"),
        Index("ix_audit_verdict_cycle_person", "cycle_id", "person_id"),
        Index("ix_audit_verdict_cycle_inst", "cycle_id", "institution_id", "verdict"),
    )

    @property
    def verdict_label(self) -> str:
        return VERDICTS.get(self.verdict, self.verdict)


class AuditResult(Model):
    __tablename__ = "audit_result"
    __module_label__ = "审验结果"
    __no_oplog__ = True  # recomputed by the service, which logs 达标计算 / 已审 itself
    __scope_columns__ = _SCOPE

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer)
    reviewed = Column(Boolean, default=False, nullable=False)  # 已审 / 未审
    reviewed_at = Column(DateTime)
    reviewed_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    rule_set_id = Column(Integer, ForeignKey("rule_set.id"))
    met = Column(Boolean)  # the final result (NULL = not computed yet)
    expert_met = Column(Boolean)  # as the expert's 达标计算 found it, before any appeal
    total = Column(Numeric(8, 2))
    required = Column(Numeric(8, 2))
    summary = Column(String(512))
    explanation = Column(JSON)  # compliance.Evaluation.as_dict() with the audit notes
    computed_at = Column(DateTime)
    computed_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    version = Column(Integer, nullable=False, default=1)

    person = relationship("Person")

    __table_args__ = (
        UniqueConstraint("cycle_id", "person_id", name="uq_audit_result_cycle_person"),
        Index("ix_audit_result_cycle_inst", "cycle_id", "institution_id", "met"),
    )

    @property
    def met_label(self) -> str:
        if self.met is None:
            return "未计算"
        return "达标" if self.met else "不达标"


class AuditAppeal(Model):
    __tablename__ = "audit_appeal"
    __module_label__ = "审验复审"
    __scope_columns__ = _SCOPE

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    verdict_id = Column(Integer, ForeignKey("audit_verdict.id", ondelete="CASCADE"), nullable=False, unique=True)
    credit_id = Column(Integer, ForeignKey("credit.id", ondelete="CASCADE"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer)
    reason = Column(Text, nullable=False)  # 复审理由
    failed_reason = Column(Text)  # the expert's 不通过原因 at the time of the appeal
    status = Column(String(12), default="pending", nullable=False)
    decision_reason = Column(Text)  # 复审意见
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    decided_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    decided_at = Column(DateTime)

    verdict = relationship("AuditVerdict")
    credit = relationship("Credit")
    person = relationship("Person")

    __table_args__ = (Index("ix_audit_appeal_cycle_status", "cycle_id", "status"),)

    def __repr__(self) -> str:
        return f"复审#{self.id}"

    @property
    def status_label(self) -> str:
        return APPEAL_STATUSES.get(self.status, self.status)


class AuditCertificate(Model):
    __tablename__ = "audit_certificate"
    __module_label__ = "审验证明"
    __scope_columns__ = _SCOPE

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer)
    code = Column(String(32), nullable=False, unique=True)  # 验证码 (public verification)
    met = Column(Boolean, nullable=False)  # the result certified
    total = Column(Numeric(8, 2))
    required = Column(Numeric(8, 2))
    result_version = Column(Integer, nullable=False)  # AuditResult.version certified
    superseded = Column(Boolean, default=False, nullable=False)
    issued_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    issued_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    person = relationship("Person")
    cycle = relationship("AuditCycle")

    __table_args__ = (Index("ix_audit_certificate_cycle_person", "cycle_id", "person_id"),)

    def __repr__(self) -> str:
        return self.code or ""
