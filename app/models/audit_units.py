"""The units' part of the credit audit (seed 001): their own audit before the city's sampling and the
sampled units' reply (回执).

* ``AuditUnitCheck`` — 单位审验 (四(二)1, 五): "三级医疗卫生机构负责本单位人员的学分审验"; "区卫健委负责辖区内
  除三级医疗卫生机构以外人员的学分审验 … 护理专业人员 … 由各区卫健委负责", inside the cycle's unit-audit
  window ("11 月 1 日—11 月 5 日：各区卫健委和三级医疗卫生机构学分审验"). One verdict per person and cycle,
  the responsible unit (the 三级 institution or the district) recorded with it.
* ``AuditReply`` — 回执 (七(三)): "各相关单位将本单位被抽查人员名单、科室、职称、IC卡编号和学分审验工作联系人
  回执于11月7日前…": a sampled institution confirms its sampled persons and names its contact person.
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint

UNIT_VERDICTS = {"passed": "合格", "failed": "不合格"}


class AuditUnitCheck(Model):
    __tablename__ = "audit_unit_check"
    __module_label__ = "单位审验"
    __no_oplog__ = True  # logged per action by the view
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "person_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False, index=True)
    # The unit answering for this person's audit: a 三级 institution (its own staff) or a district.
    auditor_org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer)
    verdict = Column(String(8), nullable=False)  # passed / failed
    reason = Column(Text)  # required when failed
    decided_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    decided_at = Column(DateTime, default=datetime.datetime.now, nullable=False)
    version = Column(Integer, default=1, nullable=False)

    __table_args__ = (UniqueConstraint("cycle_id", "person_id", name="uq_audit_unit_check_cycle_person"),)


class AuditReply(Model):
    __tablename__ = "audit_reply"
    __module_label__ = "审验回执"
    __no_oplog__ = True  # logged per action by the view
    __scope_columns__ = {"district": "district_id", "institution": "institution_id"}

    id = Column(Integer, primary_key=True)
    cycle_id = Column(Integer, ForeignKey("audit_cycle.id"), nullable=False)
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    district_id = Column(Integer, index=True)
    contact_name = Column(String(64), nullable=False)  # 学分审验工作联系人
    contact_phone = Column(String(32), nullable=False)
    confirmed = Column(Boolean, default=False, nullable=False)  # 被抽查人员名单 checked by the unit
    persons = Column(Integer, default=0, nullable=False)  # how many sampled persons it confirmed
    remark = Column(Text)
    replied_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    replied_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    __table_args__ = (UniqueConstraint("cycle_id", "institution_id", name="uq_audit_reply_cycle_inst"),)
