"""Planned self-study (有计划的自学, ICME-7; seed 003 part 01 "增加有计划的自学学分录入").

``SelfStudyDelegation`` — 自学计划权限设置 ("分级下放上传权限"): per institution or department, who
fills the self-study form: the institution (机构上传) or the technician (学员上传). A department's
row overrides its institution's; without a row the institution uploads.

``SelfStudy`` — one person's self-study form of a year (提交自学计划): the seven sections of the seed
kept as JSON (``data``: counts and text per field, and ``files``: attachment ids per slot; the section
layout is services/selfstudy.py SECTIONS), its status (services/workflow.py SELF_STUDY) and, once
granted (授分), the credit it produced.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import relationship

DELEGATION_MODES = {"institution": "机构上传", "person": "学员上传"}


class SelfStudyDelegation(Model):
    __tablename__ = "self_study_delegation"
    __module_label__ = "自学计划权限设置"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id"}

    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("org.id", ondelete="CASCADE"), nullable=False, unique=True)
    mode = Column(String(16), nullable=False, default="institution")
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer)
    updated_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    updated_at = Column(DateTime, default=datetime.datetime.now, onupdate=datetime.datetime.now, nullable=False)

    org = relationship("Org")


class SelfStudy(Model):
    __tablename__ = "self_study"
    __module_label__ = "有计划的自学"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    year = Column(Integer, nullable=False)
    district_id = Column(Integer)
    institution_id = Column(Integer)
    department_id = Column(Integer)
    status = Column(String(16), nullable=False, default="draft")
    data = Column(JSON, nullable=False, default=dict)
    submitted_by = Column(String(16))  # owner / unit: who filled it (机构上传 / 学员上传)
    submitted_at = Column(DateTime)
    credit_id = Column(Integer, ForeignKey("credit.id", ondelete="SET NULL"))
    credits = Column(Numeric(7, 2))  # granted
    granted_at = Column(DateTime)
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    updated_at = Column(DateTime, default=datetime.datetime.now, onupdate=datetime.datetime.now, nullable=False)

    person = relationship("Person")

    __table_args__ = (
        UniqueConstraint("person_id", "year"),
        Index("ix_self_study_inst_status", "institution_id", "status"),
        Index("ix_self_study_district_status", "district_id", "status"),
    )

    def __repr__(self) -> str:
        return f"{self.year}年自学计划"
