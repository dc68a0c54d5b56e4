"""Project supervision (项目督查, seed 003 part 02; SPEC SUP-1..7).

A unit files a project (Filing) with its venues; the supervising district or city reviews it; an
approved filing is split into half-day periods; each venue has a site manager (现场会务负责人) who logs in
on the phone with a login code from a QR code and files photos per period; the city / district scores
the project and publishes the result.
"""
import datetime
from typing import ClassVar

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

# Seed 003 项目报备 / 报备审核: 项目类型 国家级, 省/自治区/直辖市认可项目 …
PROJECT_TYPES = ["国家级", "省/自治区/直辖市认可项目", "区级", "其他"]
# 报备状态 (seed: 待审核 in the review list); one transition table in services/supervision.py.
FILING_STATUSES = {"draft": "未报备", "pending": "待审核", "approved": "审核通过", "rejected": "审核不通过",
                   "returned": "已退回"}
# Seed 003 督查评分: 合格 / 基本合格 / 不合格.
SCORES = ["合格", "基本合格", "不合格"]
HALVES = {"am": "上午", "pm": "下午"}
# Photo slots of a period (seed: 举办地点、现场日程背板、现场照片 one each; 主讲教师 one per lecturer).
PHOTO_SLOTS = {"venue": "举办地点", "backdrop": "现场日程背板", "scene": "现场照片", "lecturer": "主讲教师"}
FIXED_SLOTS = ("venue", "backdrop", "scene")


class Filing(Model):
    """项目报备: one CME project's filing by its unit."""

    __tablename__ = "sup_filing"
    __module_label__ = "项目报备"
    __scope_columns__: ClassVar[dict[str, str]] = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False, index=True)  # 年度
    project_no = Column(String(64), nullable=False, unique=True)  # 项目编号 (never filed twice)
    name = Column(String(200), nullable=False, index=True)  # 项目名称
    project_type = Column(String(32), nullable=False)  # 项目类型
    district_id = Column(Integer, index=True)  # the supervising district of the unit
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # 申报单位
    organizer = Column(String(200))  # 主办单位
    province = Column(String(32))  # 举办地点: 省
    city = Column(String(32))  # 市
    county = Column(String(32))  # 区县
    starts_at = Column(DateTime, nullable=False)  # 开始时间
    ends_at = Column(DateTime, nullable=False)  # 结束时间
    sessions = Column(Integer, default=1, nullable=False)  # 期数
    approver = Column(String(64))  # 项目审批人
    approval_method = Column(String(64))  # 项目审批方式
    approval_no = Column(String(64))  # 批准文号
    status = Column(String(16), default="draft", nullable=False, index=True)
    reason = Column(String(512))  # last review's reason
    submitted_at = Column(DateTime)
    reviewed_at = Column(DateTime)
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    # 督查评分 and 督查结果公布 (SUP-7)
    score = Column(String(8))
    score_comment = Column(String(512))
    scored_at = Column(DateTime)
    scored_by = Column(String(128))
    published = Column(Boolean, default=False, nullable=False)
    published_at = Column(DateTime)

    institution = relationship("Org", foreign_keys=[institution_id])
    venues = relationship("FilingVenue", back_populates="filing", order_by="FilingVenue.id",
                          cascade="all, delete-orphan")
    logs = relationship("FilingLog", back_populates="filing", order_by="FilingLog.id",
                        cascade="all, delete-orphan")
    periods = relationship("Period", back_populates="filing", order_by="Period.starts_at",
                           cascade="all, delete-orphan")

    __table_args__ = (Index("ix_sup_filing_inst_year", "institution_id", "year"),
                      Index("ix_sup_filing_district_status", "district_id", "status"))

    @property
    def status_label(self) -> str:
        return FILING_STATUSES.get(self.status, self.status)

    @property
    def place(self) -> str:
        return "".join(p for p in (self.province, self.city, self.county) if p)

    def __repr__(self) -> str:
        return f"{self.name}（{self.project_no}）"


class FilingVenue(Model):
    """会场信息: 会场名称, 举办地点, 承办单位, 负责人姓名, 负责人联系电话, 日期."""

    __tablename__ = "sup_venue"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    filing_id = Column(Integer, ForeignKey("sup_filing.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(128), nullable=False)
    address = Column(String(256), nullable=False)
    organizer = Column(String(128))
    person = Column(String(64))
    phone = Column(String(32))
    date = Column(Date)

    filing = relationship("Filing", back_populates="venues")
    manager = relationship("SiteManager", back_populates="venue", uselist=False, cascade="all, delete-orphan")


class FilingLog(Model):
    """日志: every submission and review of a filing."""

    __tablename__ = "sup_filing_log"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    filing_id = Column(Integer, ForeignKey("sup_filing.id", ondelete="CASCADE"), nullable=False, index=True)
    action = Column(String(16), nullable=False)  # 提交 / 通过 / 不通过 / 退回
    reason = Column(String(512))
    operator = Column(String(128))
    operator_org = Column(String(128))
    at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    filing = relationship("Filing", back_populates="logs")


class Period(Model):
    """督查时段: one half-day of an approved filing (上午 / 下午), hours from the system parameters."""

    __tablename__ = "sup_period"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    filing_id = Column(Integer, ForeignKey("sup_filing.id", ondelete="CASCADE"), nullable=False)
    day = Column(Date, nullable=False)
    half = Column(String(2), nullable=False)  # am / pm
    starts_at = Column(DateTime, nullable=False)
    ends_at = Column(DateTime, nullable=False)

    filing = relationship("Filing", back_populates="periods")

    __table_args__ = (UniqueConstraint("filing_id", "day", "half"),
                      Index("ix_sup_period_filing_start", "filing_id", "starts_at"))

    @property
    def label(self) -> str:
        return f"{self.day:%Y-%m-%d}{HALVES[self.half]}"


class SiteManager(Model):
    """现场会务负责人 of one venue: name, phone, the unique login code of its QR code."""

    __tablename__ = "sup_site_manager"

    id = Column(Integer, primary_key=True)
    filing_id = Column(Integer, ForeignKey("sup_filing.id", ondelete="CASCADE"), nullable=False, index=True)
    venue_id = Column(Integer, ForeignKey("sup_venue.id", ondelete="CASCADE"), nullable=False, unique=True)
    name = Column(String(64), nullable=False)
    phone = Column(String(32), nullable=False)
    login_code = Column(String(16), nullable=False, unique=True)
    code_issued_at = Column(DateTime, nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), unique=True)  # the phone login's account
    letter_accepted_at = Column(DateTime)  # 承诺书 accepted (once)

    venue = relationship("FilingVenue", back_populates="manager")
    filing = relationship("Filing")


class SmsCode(Model):
    """One SMS verification code: expires, single-use; rows also count sends per phone (rate limit)."""

    __tablename__ = "sup_sms_code"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    phone = Column(String(32), nullable=False)
    manager_id = Column(Integer, ForeignKey("sup_site_manager.id", ondelete="CASCADE"))
    code_hash = Column(String(256), nullable=False)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)
    attempts = Column(Integer, default=0, nullable=False)

    __table_args__ = (Index("ix_sup_sms_phone_created", "phone", "created_at"),)


class SmsOutbox(Model):
    """What the development SMS sender "sent": shown on a page only the city admin opens."""

    __tablename__ = "sup_sms_outbox"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    phone = Column(String(32), nullable=False, index=True)
    text = Column(String(256), nullable=False)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)


class Feedback(Model):
    """督查反馈 of one period by one site manager."""

    __tablename__ = "sup_feedback"
    __no_oplog__ = True
    __scope_columns__: ClassVar[dict[str, str]] = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    period_id = Column(Integer, ForeignKey("sup_period.id", ondelete="CASCADE"), nullable=False)
    manager_id = Column(Integer, ForeignKey("sup_site_manager.id", ondelete="CASCADE"), nullable=False)
    filing_id = Column(Integer, ForeignKey("sup_filing.id", ondelete="CASCADE"), nullable=False, index=True)
    district_id = Column(Integer)
    institution_id = Column(Integer)
    lecturers = Column(Integer, default=1, nullable=False)  # 主讲教师 count (添加 / 删除)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    submitted_at = Column(DateTime)

    period = relationship("Period")
    manager = relationship("SiteManager")
    photos = relationship("FeedbackPhoto", back_populates="feedback", order_by="FeedbackPhoto.id",
                          cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("period_id", "manager_id"),)


class FeedbackPhoto(Model):
    """One photo of a period: the original and the stamped copy, with capture time and place."""

    __tablename__ = "sup_photo"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    feedback_id = Column(Integer, ForeignKey("sup_feedback.id", ondelete="CASCADE"), nullable=False, index=True)
    slot = Column(String(16), nullable=False)  # venue / backdrop / scene / lecturer
    lecturer_no = Column(Integer, default=0, nullable=False)
    original_id = Column(Integer, ForeignKey("attachment.id"), nullable=False)
    stamped_id = Column(Integer, ForeignKey("attachment.id"), nullable=False)
    exif_time = Column(DateTime)
    exif_lat = Column(Float)
    exif_lon = Column(Float)
    browser_time = Column(DateTime)
    browser_lat = Column(Float)
    browser_lon = Column(Float)
    taken_at = Column(DateTime)  # the time stamped: EXIF, else the browser's
    flags = Column(Text)  # "；"-joined Chinese reasons (outside the period, no location)
    uploaded_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    feedback = relationship("Feedback", back_populates="photos")

    @property
    def slot_label(self) -> str:
        label = PHOTO_SLOTS.get(self.slot, self.slot)
        return f"{label}{self.lecturer_no}" if self.slot == "lecturer" else label

    @property
    def lat(self):
        return self.exif_lat if self.exif_lat is not None else self.browser_lat

    @property
    def lon(self):
        return self.exif_lon if self.exif_lon is not None else self.browser_lon
