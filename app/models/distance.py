"""Distance education (远程继续医学教育, issue 16 item 11; seed 002 一 4, 二 4, 三 4).

A distance-education institution (an Org with the role 远程教育机构) files its projects with the city
(备案: 待审核 → 已批准 / 不通过), uploads its learners' study records of an approved project as Excel
(one upload = one batch, validated all or nothing), and the city passes or rejects each batch; a passed
batch is granted through the credit engine ("经市级审核后，系统统一授予学分", 三 4). Scope: the
institution sees only its own rows (``institution_id``), the city all.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import relationship

DISTANCE_PROJECT_STATUSES = {"pending": "待审核", "approved": "已批准", "rejected": "不通过"}
DISTANCE_UPLOAD_STATUSES = {"pending": "待市级审核", "granted": "已审核授分", "rejected": "审核不通过"}


class DistanceProject(Model):
    __tablename__ = "distance_project"
    __module_label__ = "远程继续医学教育项目"
    __scope_columns__ = {"institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    code = Column(String(64), nullable=False)  # 项目编号
    name = Column(String(256), nullable=False)  # 项目名称
    year = Column(Integer, nullable=False)
    category = Column(String(64), nullable=False)  # 学分类别
    credits = Column(Numeric(7, 2), nullable=False)  # 项目学分
    hours = Column(Numeric(7, 2), nullable=False)  # 学时
    starts_on = Column(Date, nullable=False)
    ends_on = Column(Date, nullable=False)
    courses = Column(String(1024))  # 课程安排 (二 4 "提交远程继续医学教育项目课程安排")
    status = Column(String(16), nullable=False, default="pending", index=True)
    reason = Column(String(512))  # the city's reason of a rejection
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    reviewed_at = Column(DateTime)

    institution = relationship("Org", foreign_keys=[institution_id])

    __table_args__ = (UniqueConstraint("institution_id", "code", name="uq_distance_project_code"),)

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"


class DistanceUpload(Model):
    __tablename__ = "distance_upload"
    __module_label__ = "远程教育学习记录"
    __scope_columns__ = {"institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("distance_project.id"), nullable=False, index=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    filename = Column(String(256))
    rows = Column(Integer, nullable=False, default=0)
    status = Column(String(16), nullable=False, default="pending", index=True)
    reason = Column(String(512))
    credited = Column(Integer, nullable=False, default=0)  # credits written when granted
    uploaded_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    uploaded_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    reviewed_by = Column(String(128))
    reviewed_at = Column(DateTime)

    project = relationship("DistanceProject")
    records = relationship("DistanceRecord", back_populates="upload", order_by="DistanceRecord.row",
                           cascade="all, delete-orphan")


class DistanceRecord(Model):
    __tablename__ = "distance_record"
    __module_label__ = "远程教育学员学习记录"
    __no_oplog__ = True  # written in bulk by the upload job, which is logged itself

    id = Column(Integer, primary_key=True)
    upload_id = Column(Integer, ForeignKey("distance_upload.id", ondelete="CASCADE"), nullable=False)
    row = Column(Integer, nullable=False)  # Excel row number
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    hours = Column(Numeric(7, 2), nullable=False)  # 学习学时
    completed_on = Column(Date, nullable=False)  # 完成日期
    result = Column(String(8), nullable=False)  # 考核结果: 合格 / 不合格 (only 合格 is credited)
    credit_id = Column(Integer, ForeignKey("credit.id", ondelete="SET NULL"))

    upload = relationship("DistanceUpload", back_populates="records")
    person = relationship("Person")

    __table_args__ = (Index("ix_distance_record_upload", "upload_id", "row"),
                      Index("ix_distance_record_person", "person_id"))
