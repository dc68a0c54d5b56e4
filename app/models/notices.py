"""Notices (通知公告) shown on home pages, SYS-6."""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship


class Notice(Model):
    __tablename__ = "notice"
    __module_label__ = "通知公告"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id"}

    id = Column(Integer, primary_key=True)
    title = Column(String(128), nullable=False)
    content = Column(Text, nullable=False)
    published = Column(Boolean, default=True, nullable=False)
    # Issuing organization: a city notice reaches everyone, a district notice its district.
    org_id = Column(Integer, ForeignKey("org.id"), index=True)
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer, index=True)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False, index=True)

    org = relationship("Org")

    def __repr__(self) -> str:
        return self.title
