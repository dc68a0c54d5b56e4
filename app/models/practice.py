"""Practice-activity plans (教学活动计划, ICME-6): an institution files its annual / quarterly / monthly
plan of organised practice activities; the supervising body (district or city) passes or fails it with a
reason. Credits of 有组织的继续医学教育实践活动 must point to an approved plan of the person's institution.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship

# Seed 003 计划上传: 计划类型 年度/季度/月度.
PLAN_TYPES = ["年度计划", "季度计划", "月度计划"]
# Seed 003 计划审核: 审核状态 待审核 / 已通过 / 不通过.
PLAN_STATUSES = {"pending": "待审核", "approved": "已通过", "rejected": "不通过"}


class PracticePlan(Model):
    __tablename__ = "practice_plan"
    __module_label__ = "教学活动计划"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    name = Column(String(128), nullable=False)  # 计划名称
    plan_type = Column(String(16), nullable=False)  # 计划类型
    activity_forms = Column(String(512), nullable=False)  # 活动形式, "、"-joined labels of the dictionary
    remark = Column(String(512))  # 备注
    status = Column(String(16), nullable=False, default="pending", index=True)
    reason = Column(String(512))  # the last review's reason
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    reviewed_at = Column(DateTime)
    # Bumped by every edit of the institution; the review form posts the version it showed, and a
    # review of an older version is refused (services/practice.review, issue 13).
    version = Column(Integer, nullable=False, default=1, server_default="1")

    institution = relationship("Org", foreign_keys=[institution_id])
    logs = relationship("PracticePlanLog", back_populates="plan", order_by="PracticePlanLog.id",
                        cascade="all, delete-orphan")

    __table_args__ = (Index("ix_practice_plan_inst_status", "institution_id", "status"),)

    @property
    def status_label(self) -> str:
        return PLAN_STATUSES.get(self.status, self.status)

    @property
    def forms(self) -> list[str]:
        return [f for f in (self.activity_forms or "").split("、") if f]

    def __repr__(self) -> str:
        return f"{self.name}（{self.plan_type}）"


class PracticePlanLog(Model):
    """审核日志 of a plan: each submission and each review, who, when, result, reason."""

    __tablename__ = "practice_plan_log"
    __no_oplog__ = True  # the review itself is logged by oplog.record

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("practice_plan.id", ondelete="CASCADE"), nullable=False, index=True)
    action = Column(String(16), nullable=False)  # 提交 / 重新提交 / 通过 / 不通过
    reason = Column(String(512))
    operator = Column(String(128))
    operator_org = Column(String(128))
    at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    plan = relationship("PracticePlan", back_populates="logs")
