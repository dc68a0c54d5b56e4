"""Evidence files (证明材料) attached to any record: credits, self-study forms, practice plans, appeals…

One table for every owner: ``owner_type`` names the owning table ("credit", "practice_plan", …) and
``owner_id`` its row. Access follows the owner: a view serves a file only after loading its owner
through that owner's own data scope (services/attachments.py stores and reads the bytes).
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String


class Attachment(Model):
    __tablename__ = "attachment"
    __module_label__ = "附件"

    id = Column(Integer, primary_key=True)
    owner_type = Column(String(32), nullable=False)
    owner_id = Column(Integer)  # NULL while it waits for its owner (a wizard draft's upload)
    name = Column(String(256), nullable=False)  # the file name the user uploaded
    kind = Column(String(8), nullable=False)  # pdf / png / jpg / xlsx — sniffed from the content
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    path = Column(String(512), nullable=False)  # under ATTACHMENT_DIR, never under static/
    uploaded_by_fk = Column(Integer, ForeignKey("ab_user.id"))
    uploaded_at = Column(DateTime, default=datetime.datetime.now, nullable=False)

    __table_args__ = (Index("ix_attachment_owner", "owner_type", "owner_id"),)

    @property
    def mimetype(self) -> str:
        return {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[self.kind]

    def __repr__(self) -> str:
        return self.name
