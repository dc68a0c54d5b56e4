"""Review chain records (ICME-8): the review log of every workflow transition, and the manual-entry
details of a non-project credit.

``ReviewLog`` is written only by services/workflow.py (one row per transition of a credit or a
self-study form): who, when, from → to, result, reason. It carries the owner's
scope columns so a scoped list of logs is one indexed equality, like every other scoped table.

``ManualCredit`` marks a credit entered by hand (seed 002 附件一 "手工录入非项目学分"): by the
technician for themself, or by the unit as a late entry (补录) with the unit's certificate. Such a
credit goes to the city after the unit passes it; credits of the wizard have no row here.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text


class ReviewLog(Model):
    __tablename__ = "review_log"
    __module_label__ = "审核日志"
    __no_oplog__ = True  # it is itself the log of the review actions
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    owner_type = Column(String(32), nullable=False)  # credit / self_study
    owner_id = Column(Integer, nullable=False)
    action = Column(String(32), nullable=False)  # the workflow action (submit, unit_pass …)
    from_status = Column(String(16))  # None on creation
    to_status = Column(String(16), nullable=False)
    result = Column(String(32), nullable=False)  # Chinese label of the action (通过 / 不通过 / 提交 …)
    reason = Column(Text)
    user_id = Column(Integer, ForeignKey("ab_user.id"))
    user_name = Column(String(128))  # who, as shown then (kept if the account is renamed)
    actor = Column(String(16))  # owner / unit / district / city
    person_id = Column(Integer)
    district_id = Column(Integer)
    institution_id = Column(Integer)
    department_id = Column(Integer)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    __table_args__ = (Index("ix_review_log_owner", "owner_type", "owner_id"),)

    def __repr__(self) -> str:
        return f"{self.result} {self.reason or ''}".strip()


class ManualCredit(Model):
    __tablename__ = "manual_credit"
    __module_label__ = "手工录入学分"

    id = Column(Integer, primary_key=True)
    credit_id = Column(Integer, ForeignKey("credit.id", ondelete="CASCADE"), nullable=False, unique=True)
    year = Column(Integer, nullable=False)  # the credit year it was entered for (granted_on.year)
    late = Column(Boolean, default=False, nullable=False)  # 补录: entered by the unit after the year closed
    entered_by = Column(String(16), nullable=False, default="person")  # person / unit
    needs_city = Column(Boolean, default=True, nullable=False)  # the city reviews after the unit
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    __table_args__ = (Index("ix_manual_credit_city", "needs_city", "credit_id"),)
