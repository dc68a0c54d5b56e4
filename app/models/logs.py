"""Login log and operation log (SYS-5). Append-only except the city admin's clear."""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, Integer, String, Text


def _now() -> datetime.datetime:
    return datetime.datetime.now()


class _Located:
    """登录地点 / 操作地点: the place of the row's IP address, from the offline database (issue 16.12)."""

    @property
    def location(self) -> str:
        from app.ip_region import location

        return location(self.ip)


class LoginLog(_Located, Model):
    __tablename__ = "login_log"
    __module_label__ = "登录日志"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    username = Column(String(128), index=True)
    user_id = Column(Integer, index=True)
    ip = Column(String(64))
    browser = Column(String(64))
    os = Column(String(64))
    success = Column(Boolean, nullable=False, index=True)
    message = Column(String(256))
    created_at = Column(DateTime, default=_now, index=True, nullable=False)


class OperationLog(_Located, Model):
    __tablename__ = "operation_log"
    __module_label__ = "操作日志"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    module = Column(String(64), index=True)
    action = Column(String(32), index=True)  # 新增 / 修改 / 删除 / 导入 / 导出 / 审核 / 清空 …
    operator = Column(String(128), index=True)
    user_id = Column(Integer, index=True)
    ip = Column(String(64))
    method = Column(String(8))
    url = Column(String(512))
    target = Column(String(128))  # table:id
    status = Column(Boolean, default=True, nullable=False, index=True)
    message = Column(String(512))
    changes = Column(Text)  # JSON: {field: [old, new]}
    duration_ms = Column(Integer)
    created_at = Column(DateTime, default=_now, index=True, nullable=False)
