"""Users anchored to an organization node (or a person record), SYS-1."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, false
from sqlalchemy.orm import relationship


class CmeUser(User):
    __tablename__ = "ab_user"
    __module_label__ = "用户管理"

    org_id = Column(Integer, ForeignKey("org.id"), index=True)
    person_id = Column(Integer, ForeignKey("person.id"), index=True)
    # Copied into the session cookie at login and checked on every request: a new value (logout,
    # password change) ends every session opened before it, copied cookies included (issue 17.5).
    session_nonce = Column(String(32))
    # An initial password (set by the city's parameter or a unit's 重置密码) must be changed at the
    # next login before any other page opens (seed 002 附件一2).
    must_change_password = Column(Boolean, nullable=False, default=False, server_default=false())

    org = relationship("Org", foreign_keys=[org_id])
    person = relationship("Person", foreign_keys=[person_id])

    @property
    def display_name(self) -> str:
        """名称 of an organization account, 姓名 of a person's: one field (个人资料, issue 15.6)."""
        return self.get_full_name()

    def get_full_name(self) -> str:
        # Chinese names are written family name first without a space.
        return f"{self.last_name or ''}{self.first_name or ''}"
