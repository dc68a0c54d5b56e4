"""CME projects, topics and check-in (继教项目, 课题, 签到; seed 003 继续医学教育项目, seed 002 二; ICME-4/5).

The city's catalogue of approved projects (ProjectCatalog) is read by every unit; a unit "adds" one as
its own Project (添加此项目) and completes the details, files the holding application (举办申请), adds
topics (课题) with their sign-in windows, collects check-ins (card-reader files, QR sign-in, manual) and
grants credits from them. Flags of seed 002 are stored on the project so the city's list filters on them.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import (
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
    false,
)
from sqlalchemy.orm import relationship

from app.i18n import _mark

# Seed 003 添加继教项目 list (学分类别 column) and issue 5.
PROJECT_CATEGORIES = ["国家级继续医学教育项目", "市级继续医学教育项目", "区级继续医学教育项目",
                      "外地国家级继续医学教育项目", "外地省市级继续医学教育项目", "北京市许可发证书项目", "重点监控项目"]
CHECKIN_SOURCES = {"card": "刷卡", "qr": "扫码", "manual": "手工"}


class ProjectCatalog(Model):
    """申报项目目录: a project approved by the city (审批编号 such as 2025-14-03-020 (京))."""

    __tablename__ = "cme_catalog"
    __module_label__ = "继教项目目录"

    id = Column(Integer, primary_key=True)
    approval_no = Column(String(64), nullable=False, unique=True)  # 审批编号
    name = Column(String(200), nullable=False, index=True)  # 项目名称
    category = Column(String(32), nullable=False, index=True)  # 学分类别
    subject = Column(String(64))  # 学科
    credits = Column(Numeric(6, 2), nullable=False)  # 总学分
    hours = Column(Numeric(6, 2), nullable=False)  # 总学时
    year = Column(Integer, nullable=False, index=True)  # 年度
    organizer = Column(String(200))  # 主办单位
    planned_count = Column(Integer, nullable=False)  # 计划人数
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    def __repr__(self) -> str:
        return f"{self.approval_no} {self.name}"


class Project(Model):
    """继教项目: a catalogue project a unit added as its own and holds."""

    __tablename__ = "cme_project"
    __module_label__ = "继教项目"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    catalog_id = Column(Integer, ForeignKey("cme_catalog.id"), nullable=False, index=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    district_id = Column(Integer, index=True)
    # Copied from the catalogue (seed 002: "不得随意更改项目编号、名称和学时").
    approval_no = Column(String(64), nullable=False, index=True)  # 原项目编号
    name = Column(String(200), nullable=False, index=True)  # 原项目名称
    category = Column(String(32), nullable=False)  # 学分类别
    subject = Column(String(64))
    credits = Column(Numeric(6, 2), nullable=False)  # 总学分
    hours = Column(Numeric(6, 2), nullable=False)  # 总学时
    year = Column(Integer, nullable=False, index=True)
    organizer = Column(String(200))  # 原主办单位
    planned_count = Column(Integer, nullable=False)
    # Completed by the unit (seed 003 第一步).
    starts_on = Column(Date)  # 讲授时间 (from)
    ends_on = Column(Date)  # 讲授时间 (to)
    major = Column(String(64))  # 项目专业
    assessment = Column(String(64))  # 考核方式
    activity_form = Column(String(64))  # 活动形式
    description = Column(Text)  # 描述
    applied_on = Column(Date)  # 举办申请日期
    # Flags (seed 002 二 2, 3), refreshed by services/projects.py.
    apply_late = Column(Boolean, default=False, nullable=False)
    count_out_of_range = Column(Boolean, default=False, nullable=False)
    upload_late = Column(Boolean, default=False, nullable=False)
    duplicate_count = Column(Integer, default=0, nullable=False)
    flagged = Column(Boolean, default=False, nullable=False, index=True)
    credited_count = Column(Integer, default=0, nullable=False)  # persons credited
    first_upload_at = Column(DateTime)
    last_upload_at = Column(DateTime)
    granted_at = Column(DateTime)
    # 项目微信签到时间设置 (seed 003): the window of every topic that has none of its own.
    signin_from = Column(DateTime)
    signin_to = Column(DateTime)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    catalog = relationship("ProjectCatalog")
    institution = relationship("Org", foreign_keys=[institution_id])
    topics = relationship("Topic", back_populates="project", order_by="Topic.starts_at",
                          cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("institution_id", "catalog_id", name="uq_cme_project_inst_catalog"),
                      Index("ix_cme_project_inst_year", "institution_id", "year"))

    def __repr__(self) -> str:
        return f"{self.approval_no} {self.name}"


class Topic(Model):
    """课题: one lecture of a project, with its time and the QR sign-in window."""

    __tablename__ = "cme_topic"
    __module_label__ = "课题"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("cme_project.id"), nullable=False, index=True)
    institution_id = Column(Integer, nullable=False, index=True)
    district_id = Column(Integer, index=True)
    code = Column(String(32), nullable=False)  # 课题ID
    name = Column(String(200), nullable=False)  # 名称
    lecturer = Column(String(64), nullable=False)  # 主讲教师
    lecturer_unit = Column(String(128))  # 主讲教师所在单位
    lecturer_title = Column(String(64))  # 技术职务
    lecturer_person_id = Column(Integer, ForeignKey("person.id"))  # to grant the lecturer's credit
    credits = Column(Numeric(6, 2), nullable=False)  # 学分
    hours = Column(Numeric(6, 2), nullable=False)  # 小时
    place = Column(String(200))  # 上课地点
    starts_at = Column(DateTime, nullable=False)  # 授课时间
    ends_at = Column(DateTime, nullable=False)
    signin_from = Column(DateTime)  # 课程微信签到时间设置
    signin_to = Column(DateTime)
    qr_token = Column(String(48), nullable=False, unique=True)
    description = Column(Text)
    lecturer_credited = Column(Boolean, default=False, nullable=False)

    project = relationship("Project", back_populates="topics")
    lecturer_person = relationship("Person")

    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_cme_topic_code"),)

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"


class AttendanceUpload(Model):
    """One card-reader file uploaded for a project, with its counts (listed on the project)."""

    __tablename__ = "cme_attendance_upload"
    __module_label__ = "刷卡数据上传"
    __no_oplog__ = True  # the upload action itself is logged
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("cme_project.id"), nullable=False, index=True)
    institution_id = Column(Integer, nullable=False, index=True)
    district_id = Column(Integer, index=True)
    filename = Column(String(256))
    uploaded_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    uploaded_by = Column(String(128))
    total = Column(Integer, default=0, nullable=False)
    matched = Column(Integer, default=0, nullable=False)
    duplicates = Column(Integer, default=0, nullable=False)
    unknown = Column(Integer, default=0, nullable=False)
    outside = Column(Integer, default=0, nullable=False)
    late = Column(Boolean, default=False, nullable=False)


class SwipeProblem(Model):
    """A swipe that did not become a check-in: unknown card or outside every topic (listed back)."""

    __tablename__ = "cme_swipe_problem"
    __module_label__ = "刷卡异常记录"  # names the rows in "still referred to" messages; not logged row by row
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    upload_id = Column(Integer, ForeignKey("cme_attendance_upload.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    project_id = Column(Integer, nullable=False, index=True)
    row = Column(Integer, nullable=False)
    card_no = Column(String(32))
    swiped_at = Column(DateTime)
    reader_id = Column(String(64))
    kind = Column(String(16), nullable=False)  # unknown / outside
    person_name = Column(String(64))


class CheckIn(Model):
    """签到: one person at one topic. The first is counted; repeats are kept as duplicates."""

    __tablename__ = "cme_checkin"
    __module_label__ = "签到记录"
    __no_oplog__ = True  # written in bulk by uploads and scans, which are logged as actions
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("cme_project.id"), nullable=False)
    topic_id = Column(Integer, ForeignKey("cme_topic.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False, index=True)
    institution_id = Column(Integer, nullable=False, index=True)  # the project's unit (scope)
    district_id = Column(Integer, index=True)
    source = Column(String(8), nullable=False)  # card / qr / manual
    checked_at = Column(DateTime, nullable=False)
    reader_id = Column(String(64))
    upload_id = Column(Integer, ForeignKey("cme_attendance_upload.id", ondelete="SET NULL"))
    duplicate = Column(Boolean, default=False, nullable=False)
    credited = Column(Boolean, default=False, nullable=False)
    credits = Column(Numeric(6, 2))  # what the grant gave for this check-in (0 for a repeat of an imported one)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    person = relationship("Person")
    topic = relationship("Topic")

    __table_args__ = (
        # One counted check-in per person and topic, whoever writes it (QR scans may race).
        Index("uq_cme_checkin_first", "topic_id", "person_id", unique=True,
              sqlite_where=duplicate == false(), postgresql_where=duplicate == false()),
        Index("ix_cme_checkin_project", "project_id", "duplicate", "credited"),
    )


class Holiday(Model):
    """法定节假日 / 调休: data for counting working days (举办申请 5 个工作日)."""

    __tablename__ = "cme_holiday"
    __module_label__ = "节假日设置"

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    name = Column(String(64), nullable=False)
    workday = Column(Boolean, default=False, nullable=False)  # 调休上班 (a weekend day that is worked)

    def __repr__(self) -> str:
        return f"{self.day} {self.name}"


# --------------------------------------------------------------------------- 项目申报 (seed 002 二 1–3)
# Levels a unit may declare in this system (national projects are declared to the national office).
DECLARATION_LEVELS = {"市级继续医学教育项目": "SJ", "区级继续医学教育项目": "QJ"}
DECLARATION_STATUSES = {"draft": _mark("未提交"), "submitted": _mark("待区级审核"),
                        "district_passed": _mark("待市级审批"), "returned": _mark("已退回"),
                        "rejected": _mark("不予批准"), "approved": _mark("已批准"), "fed_back": _mark("已反馈")}


class Declaration(Model):
    """项目申报: a unit declares a project; the district reviews, the city (the district for 区级 projects)
    approves, which gives the project number and puts it in the catalogue; 执行反馈 after it ends."""

    __tablename__ = "cme_declaration"
    __module_label__ = "继教项目申报"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # 申报单位
    district_id = Column(Integer, index=True)
    year = Column(Integer, nullable=False, index=True)  # 年度
    name = Column(String(200), nullable=False, index=True)  # 项目名称
    category = Column(String(32), nullable=False)  # 项目级别 (学分类别)
    subject = Column(String(64))  # 学科
    credits = Column(Numeric(6, 2), nullable=False)  # 拟授学分
    hours = Column(Numeric(6, 2), nullable=False)  # 总学时
    planned_count = Column(Integer, nullable=False)  # 计划人数
    starts_on = Column(Date, nullable=False)  # 举办开始日期
    ends_on = Column(Date, nullable=False)  # 举办结束日期
    place = Column(String(200))  # 举办地点
    leader = Column(String(64), nullable=False)  # 项目负责人
    phone = Column(String(32))  # 联系电话
    assessment = Column(String(64))  # 考核方式
    activity_form = Column(String(64))  # 活动形式
    description = Column(Text)  # 项目简介
    status = Column(String(16), nullable=False, default="draft", index=True)
    approval_no = Column(String(64), unique=True)  # 项目编号 (given at approval)
    catalog_id = Column(Integer, ForeignKey("cme_catalog.id"))
    submitted_at = Column(DateTime)
    approved_at = Column(DateTime)
    # 执行反馈
    actual_starts_on = Column(Date)
    actual_ends_on = Column(Date)
    actual_count = Column(Integer)  # 实际参加人数
    feedback = Column(Text)  # 执行情况
    feedback_at = Column(DateTime)
    created_by = Column(String(128))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    institution = relationship("Org", foreign_keys=[institution_id])

    def __repr__(self) -> str:
        return f"{self.approval_no or ''} {self.name}".strip()


class DeclarationNumber(Model):
    """The last project number given per year and level: one row, incremented under its row lock."""

    __tablename__ = "cme_declaration_number"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    level = Column(String(8), nullable=False)
    last = Column(Integer, nullable=False, default=0)

    __table_args__ = (UniqueConstraint("year", "level", name="uq_cme_declaration_number"),)


# --------------------------------------------------------------------------- 添加继教实践活动 (seed 003)
class PracticeActivity(Model):
    """有组织的继续医学教育实践活动 a unit holds, with its own QR sign-in window."""

    __tablename__ = "cme_practice_activity"
    __module_label__ = "继教实践活动"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    district_id = Column(Integer, index=True)
    name = Column(String(200), nullable=False, index=True)  # 活动名称
    form = Column(String(64))  # 活动形式
    place = Column(String(200))  # 活动地点
    lecturer = Column(String(64))  # 负责人 / 带教老师
    starts_at = Column(DateTime, nullable=False)  # 活动开始时间
    ends_at = Column(DateTime, nullable=False)
    hours = Column(Numeric(6, 2), nullable=False)  # 学时
    planned_count = Column(Integer)  # 计划人数
    signin_from = Column(DateTime)  # 微信签到时间
    signin_to = Column(DateTime)
    qr_token = Column(String(48), nullable=False, unique=True)
    description = Column(Text)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    institution = relationship("Org", foreign_keys=[institution_id])

    def __repr__(self) -> str:
        return self.name or ""


class PracticeCheckIn(Model):
    """One person signed in to one practice activity (once: a repeat scan writes nothing)."""

    __tablename__ = "cme_practice_checkin"
    __module_label__ = "实践活动签到"
    __no_oplog__ = True
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    activity_id = Column(Integer, ForeignKey("cme_practice_activity.id", ondelete="CASCADE"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False, index=True)
    institution_id = Column(Integer, nullable=False, index=True)
    district_id = Column(Integer, index=True)
    source = Column(String(8), nullable=False)  # qr / manual
    checked_at = Column(DateTime, nullable=False)

    person = relationship("Person")

    __table_args__ = (UniqueConstraint("activity_id", "person_id", name="uq_cme_practice_checkin"),)
