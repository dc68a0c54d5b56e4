"""The credit wizard's drafts (ICME-3): 可授学分的继续医学教育活动 → choose a standard → pick people →
fill the details → save (draft) or save and submit (one credit per person, in one transaction).

A draft belongs to the user who started it; its grant list (授予名单) is kept on the server so it
survives going back and forth between steps, and its evidence files wait as attachments of owner
"grant_draft". Submitting consumes the draft (status open → submitted in the same transaction as the
credits), so a second click or a browser back + resubmit never creates the credits twice.
"""
import datetime
import uuid

from flask_appbuilder import Model
from sqlalchemy import (
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
)
from sqlalchemy.orm import relationship

DRAFT_STATUSES = {"open": "草稿", "submitted": "已提交"}


class GrantDraft(Model):
    __tablename__ = "grant_draft"
    __module_label__ = "学分录入草稿"
    __no_oplog__ = True  # drafts change on every step; submission is logged with the credits

    id = Column(Integer, primary_key=True)
    token = Column(String(32), unique=True, nullable=False, default=lambda: uuid.uuid4().hex)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    activity_type = Column(String(64), nullable=False)
    standard_id = Column(Integer, ForeignKey("credit_standard.id"))
    status = Column(String(16), nullable=False, default="open")
    # Step 3 (第三步：请填写相关信息).
    amount = Column(Numeric(9, 2))  # 实际完成 (hours / months / years … by the standard)
    session_hours = Column(Numeric(7, 2))  # 单次学时 (per-session standards)
    sessions = Column(Integer)  # 次数
    project_credits = Column(Numeric(7, 2))  # 项目学分 (lecturer cap, imported projects)
    table_row = Column(String(64))
    table_col = Column(Integer)
    entered_credits = Column(Numeric(7, 2))
    allowed_value = Column(String(128))
    hours = Column(Numeric(7, 2))  # 学时
    activity_form = Column(String(64))  # 活动形式
    subject = Column(String(64))  # 所属学科
    activity_date = Column(Date)  # 活动日期
    content = Column(String(256))  # 活动内容
    practice_plan_id = Column(Integer, ForeignKey("practice_plan.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    updated_at = Column(DateTime, default=datetime.datetime.now, onupdate=datetime.datetime.now)
    submitted_at = Column(DateTime)
    credit_count = Column(Integer)

    standard = relationship("CreditStandard")
    practice_plan = relationship("PracticePlan")

    __table_args__ = (Index("ix_grant_draft_user_status", "user_id", "status"),)


class GrantDraftPerson(Model):
    """One person of a draft's grant list (授予名单)."""

    __tablename__ = "grant_draft_person"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    draft_id = Column(Integer, ForeignKey("grant_draft.id", ondelete="CASCADE"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)

    __table_args__ = (UniqueConstraint("draft_id", "person_id"),)


class ActivityGrant(Model):
    """What the wizard knew of a credit beyond the credit row: its draft, activity form and practice plan."""

    __tablename__ = "activity_grant"
    __no_oplog__ = True

    credit_id = Column(Integer, ForeignKey("credit.id", ondelete="CASCADE"), primary_key=True)
    draft_id = Column(Integer, ForeignKey("grant_draft.id"), nullable=False, index=True)
    activity_form = Column(String(64))
    practice_plan_id = Column(Integer, ForeignKey("practice_plan.id"), index=True)
    note = Column(Text)
