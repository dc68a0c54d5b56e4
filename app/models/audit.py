"""Credit audit (学分审验, AUD-1..5): cycles, experts, sampling standards, draws, lists, allocation.

Seed 001 (京继委办发〔2022〕4号) and seed 003 part 03 (学分审验系统使用说明) are the source:

* ``AuditCycle`` — 审验时间设置: name, year, the credit window (三、审验内容 "2021 年 11 月 1 日至
  2022 年 10 月 31 日"), the audit period, the appeal deadline (六、"12月2日17时前申请复审"), open/closed,
  the institution quotas of 四(二)2(1) as parameters, and the allocation lock.
* ``AuditExpert`` — an expert account of one year: a CmeUser holding the 审验专家 role plus this row.
* ``AuditStandard`` — 审验标准设置 (抽取标准): what to draw and how many per department.
* ``AuditDraw`` — one random draw (institutions by quota, or persons by a standard) with its seed,
  parameters, operator and time, so a re-run with the same seed reproduces the list.
* ``AuditSampledInstitution`` — the institutions drawn for a cycle (抽审单位).
* ``AuditDrawnPerson`` — the persons a standard's draw produced (名单).
* ``AuditFinalPerson`` — the merged final list of a cycle (最终抽取名单), a person at most once.
* ``AuditAllocation`` — final-list person → expert (专家分配); the cycle's lock freezes it.

Verdicts, results and appeals live in the audit workspace's own module.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

CYCLE_STATUSES = {"open": "开启", "closed": "关闭"}
EXPERT_STATUSES = {"active": "正常", "disabled": "注销"}
STANDARD_STATUSES = {"active": "正常", "disabled": "停用"}
DRAW_KINDS = {"institution": "抽审单位", "person": "抽审人员"}
DRAW_STATUSES = {"queued": "排队中", "running": "抽取中", "done": "已完成", "failed": "失败",
                 "cleared": "已清空"}
# 审验归属 of the seed's 审验标准设置 table ("综合" in the screenshot).
AUDIT_SCOPES = {"综合": "综合", "医疗": "医疗", "护理": "护理", "医技": "医技", "药学": "药学",
                "公共卫生": "公共卫生"}
# Seed 001 四(二)2(1): "各三级医疗卫生机构均参加抽审。各区分别抽取二级医疗卫生机构 1 家，一级医疗卫生机构
# 2 家，社会办医疗卫生机构 2 家。" — the default quotas of a new cycle; "all" = every institution.
DEFAULT_QUOTAS = {"三级": "all", "二级": 1, "一级": 2, "社会办医": 2}


class AuditCycle(Model):
    __tablename__ = "audit_cycle"
    __module_label__ = "审验时间设置"

    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    year = Column(Integer, nullable=False, index=True)
    window_start = Column(Date, nullable=False)  # 时间范围: credits counted from …
    window_end = Column(Date, nullable=False)  # … to (inclusive)
    audit_start = Column(DateTime, nullable=False)  # 审验时间
    audit_end = Column(DateTime, nullable=False)
    appeal_deadline = Column(DateTime)  # 复审 requests accepted until (seed 001: 12月2日17时)
    # Seed 001 七(一): "于11月5日24:00时前上传有关数据，逾期未上传的数据，将无法纳入学分审验" — credits uploaded
    # (credit.uploaded_at) after it are out of this audit (services/audit_review._audited_credits); NULL = none.
    upload_cutoff = Column(DateTime)
    # Seed 001 五 "11 月 1 日—11 月 5 日：各区卫健委和三级医疗卫生机构学分审验" (the units' own audit, locked after
    # it ends) and 七(三) "回执于11月7日前" (the sampled units' reply); NULL = not set.
    unit_audit_start = Column(DateTime)
    unit_audit_end = Column(DateTime)
    reply_deadline = Column(DateTime)
    status = Column(String(8), default="open", nullable=False)  # open / closed
    quotas = Column(JSON, nullable=False, default=lambda: dict(DEFAULT_QUOTAS))
    remark = Column(Text)
    allocation_locked = Column(Boolean, default=False, nullable=False)
    locked_at = Column(DateTime)
    locked_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    # 通报 (seed 001 六: "学分审验结果将于2023年4月上旬前通报"): until the city publishes, units and districts
    # do not see the cycle's results (services/audit_review.results_visible).
    results_published_at = Column(DateTime)
    results_published_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)  # 设置时间
    updated_at = Column(DateTime, default=datetime.datetime.now, onupdate=datetime.datetime.now,
                        nullable=False)

    __table_args__ = (
        # Only one open cycle per year (AUD-1), enforced by the database as well as the form.
        Index("ux_audit_cycle_open_year", "year", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def status_label(self) -> str:
        return CYCLE_STATUSES.get(self.status, self.status)

    @property
    def results_published(self) -> bool:
        return self.results_published_at is not None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class AuditExpert(Model):
    """An expert of one audit year (审验专家账号): the login is ``user`` (role 审验专家)."""

    __tablename__ = "audit_expert"
    __module_label__ = "审验专家"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    year = Column(Integer, nullable=False, index=True)
    name = Column(String(64), nullable=False)  # 负责人 / 专家姓名
    contact = Column(String(64))  # 联系方式
    unit = Column(String(128))  # 专家单位
    status = Column(String(16), default="active", nullable=False)  # active / disabled (注销)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    user = relationship("CmeUser", foreign_keys=[user_id], lazy="joined")

    __table_args__ = (UniqueConstraint("user_id", "year", name="uq_audit_expert_user_year"),)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def status_label(self) -> str:
        return EXPERT_STATUSES.get(self.status, self.status)


class AuditStandard(Model):
    """抽取标准 (审验标准设置). ``district_id`` NULL = a city standard; else a district's own."""

    __tablename__ = "audit_standard"
    __module_label__ = "审验标准设置"
    __scope_columns__ = {"district": "district_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False, index=True)
    district_id = Column(Integer, ForeignKey("org.id"), index=True)
    name = Column(String(128), nullable=False)  # 标准名称
    year = Column(Integer, nullable=False, index=True)  # 适用年度
    unit_levels = Column(JSON, nullable=False, default=list)  # 适用单位级别 (empty = all)
    titles = Column(JSON, nullable=False, default=list)  # 适用职称 (empty = all)
    specialties = Column(JSON, nullable=False, default=list)  # 适用专业 (empty = 全部)
    audit_scope = Column(String(16), default="综合", nullable=False)  # 审验归属
    institution_ids = Column(JSON, nullable=False, default=list)  # 指定单位 (empty = the sampled ones)
    allow_repeat = Column(Boolean, default=True, nullable=False)  # 是否重复抽取
    per_department = Column(Integer, nullable=False, default=0)  # 抽取人数 per department
    status = Column(String(16), default="active", nullable=False)  # 适用状态
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    updated_at = Column(DateTime, default=datetime.datetime.now, onupdate=datetime.datetime.now,
                        nullable=False)

    cycle = relationship("AuditCycle", lazy="joined")
    district = relationship("Org", foreign_keys=[district_id])

    def __repr__(self) -> str:
        return self.name or ""


class AuditDraw(Model):
    """One random draw: its seed, parameters, operator and time make it reproducible."""

    __tablename__ = "audit_draw"
    __module_label__ = "审验抽取"
    __no_oplog__ = True  # the draw is logged once by its service with seed and counts
    __scope_columns__ = {"district": "district_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # institution / person
    standard_id = Column(Integer, ForeignKey("audit_standard.id", ondelete="SET NULL"), index=True)
    district_id = Column(Integer, ForeignKey("org.id"))  # the district scope it ran in (NULL = city)
    seed = Column(BigInteger, nullable=False)
    params = Column(JSON, nullable=False, default=dict)  # snapshot of quotas / standard + candidate digest
    status = Column(String(16), default="queued", nullable=False)
    drawn_count = Column(Integer, default=0, nullable=False)
    message = Column(Text)
    job_id = Column(String(36))
    rerun_of_id = Column(Integer, ForeignKey("audit_draw.id"))
    operator_fk = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    finished_at = Column(DateTime)

    cycle = relationship("AuditCycle")
    standard = relationship("AuditStandard")
    operator = relationship("CmeUser", foreign_keys=[operator_fk])

    __table_args__ = (Index("ix_audit_draw_cycle_kind", "cycle_id", "kind"),)

    @property
    def status_label(self) -> str:
        return DRAW_STATUSES.get(self.status, self.status)


class AuditSampledInstitution(Model):
    """An institution drawn for a cycle (抽审单位); ``reason`` = "all" (every tertiary) or "quota"."""

    __tablename__ = "audit_sampled_institution"
    __module_label__ = "抽审单位"
    __no_oplog__ = True
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    draw_id = Column(Integer, ForeignKey("audit_draw.id"), nullable=False, index=True)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    district_id = Column(Integer, ForeignKey("org.id"), index=True)
    level = Column(String(16), nullable=False)
    reason = Column(String(8), nullable=False)

    institution = relationship("Org", foreign_keys=[institution_id], lazy="joined")
    district = relationship("Org", foreign_keys=[district_id])

    __table_args__ = (UniqueConstraint("cycle_id", "institution_id", name="uq_audit_sampled_inst"),)


class AuditDrawnPerson(Model):
    """A person on a standard's drawn list (名单). Level/unit/department are copied at draw time."""

    __tablename__ = "audit_drawn_person"
    __module_label__ = "抽取名单"
    __no_oplog__ = True  # removals are logged by the service
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    draw_id = Column(Integer, ForeignKey("audit_draw.id"), nullable=False, index=True)
    standard_id = Column(Integer, ForeignKey("audit_standard.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False, index=True)
    district_id = Column(Integer, ForeignKey("org.id"))
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    department_id = Column(Integer, ForeignKey("org.id"))
    level = Column(String(16))

    person = relationship("Person")

    __table_args__ = (
        UniqueConstraint("standard_id", "person_id", name="uq_audit_drawn_std_person"),
        Index("ix_audit_drawn_cycle_person", "cycle_id", "person_id"),
        Index("ix_audit_drawn_std_group", "standard_id", "level", "institution_id", "department_id"),
    )


class AuditFinalPerson(Model):
    """The final list of a cycle (最终抽取名单): merged from drawn lists, each person at most once."""

    __tablename__ = "audit_final_person"
    __module_label__ = "最终抽取名单"
    __no_oplog__ = True
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False, index=True)
    source_standard_id = Column(Integer, ForeignKey("audit_standard.id", ondelete="SET NULL"))
    district_id = Column(Integer, ForeignKey("org.id"))
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    department_id = Column(Integer, ForeignKey("org.id"))
    level = Column(String(16))
    added_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    added_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    person = relationship("Person")

    __table_args__ = (
        UniqueConstraint("cycle_id", "person_id", name="uq_audit_final_cycle_person"),
        Index("ix_audit_final_cycle_inst", "cycle_id", "institution_id", "department_id"),
    )


class AuditAllocation(Model):
    """Final-list person → expert (专家分配). The cycle's ``allocation_locked`` freezes these rows."""

    __tablename__ = "audit_allocation"
    __module_label__ = "专家分配"
    __no_oplog__ = True  # allocations are logged per action by the service
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    final_person_id = Column(Integer, ForeignKey("audit_final_person.id", ondelete="CASCADE"),
                             nullable=False, unique=True)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False, index=True)
    expert_id = Column(Integer, ForeignKey("audit_expert.id"), nullable=False)
    district_id = Column(Integer, ForeignKey("org.id"))
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    department_id = Column(Integer, ForeignKey("org.id"))
    allocated_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    allocated_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    expert = relationship("AuditExpert")
    person = relationship("Person")

    __table_args__ = (
        Index("ix_audit_alloc_expert_person", "expert_id", "person_id"),
        Index("ix_audit_alloc_cycle_inst", "cycle_id", "institution_id"),
        UniqueConstraint("cycle_id", "person_id", name="uq_audit_alloc_cycle_person"),
    )
