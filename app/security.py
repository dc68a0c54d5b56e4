"""Security manager: our user model, login log, account lock, role sync (SYS-1, SYS-5)."""
from __future__ import annotations

import datetime

from flask import current_app, flash, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from user_agents import parse as parse_ua

from app.extensions import db
from app.models import CmeUser, LoginLog
from app.services.roles import ROLE_PERMISSIONS


class CmeUserDBModelView(UserDBModelView):
    """User admin with the organization / person anchor of each user."""

    list_columns = ["username", "last_name", "first_name", "roles", "org", "active", "last_login"]
    add_columns = ["username", "last_name", "first_name", "email", "roles", "org", "person",
                   "active", "password", "conf_password"]
    edit_columns = ["username", "last_name", "first_name", "email", "roles", "org", "person",
                    "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "org", "person", "login_count"]}),
        (_l("Personal Info"), {"fields": ["last_name", "first_name", "email"], "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"],
                            "expanded": False}),
    ]
    search_columns = ["username", "last_name", "first_name", "email", "active", "roles"]
    label_columns = dict(UserDBModelView.label_columns, org=_l("所属机构"), person=_l("对应学员"),
                         last_name=_l("姓"), first_name=_l("名"))
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Persons are a big table: pick them by AJAX, never a <select> of every row.
        from app.views.pickers import person_ajax_field

        self.add_form_extra_fields = dict(self.add_form_extra_fields, person=person_ajax_field())
        self.edit_form_extra_fields = dict(person=person_ajax_field())


class CmeSecurityManager(SecurityManager):
    user_model = CmeUser
    userdbmodelview = CmeUserDBModelView

    # ------------------------------------------------------------------ roles
    @property
    def builtin_roles(self):
        return ROLE_PERMISSIONS

    # ------------------------------------------------------------------ login
    def auth_user_db(self, username, password):
        if self.is_locked(username):
            minutes = current_app.config["LOGIN_LOCK_MINUTES"]
            message = f"连续登录失败次数过多，账号已锁定，请{minutes}分钟后再试"
            self._log_login(username, None, False, message)
            flash(message, "danger")
            return None
        user = super().auth_user_db(username, password)
        if user is None:
            existing = self.find_user(username=username) if username else None
            if existing is not None and not existing.is_active:
                message = "账号已停用"
            else:
                message = "用户名或密码错误"
            self._log_login(username, existing.id if existing else None, False, message)
        else:
            self._log_login(username, user.id, True, "登录成功")
        return user

    def is_locked(self, username: str | None) -> bool:
        if not username:
            return False
        cfg = current_app.config
        since = datetime.datetime.now() - datetime.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
        # Failures since the last success inside the window.
        last_ok = (db.session.query(db.func.max(LoginLog.created_at))
                   .filter(LoginLog.username == username, LoginLog.success.is_(True)).scalar())
        start = max(since, last_ok) if last_ok else since
        failures = (db.session.query(db.func.count(LoginLog.id))
                    .filter(LoginLog.username == username, LoginLog.success.is_(False),
                            LoginLog.created_at > start).scalar())
        return failures >= cfg["LOGIN_LOCK_ATTEMPTS"]

    def _log_login(self, username, user_id, success: bool, message: str) -> None:
        ip = browser = os_name = None
        if has_request_context():
            ip = request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip()
            ua = parse_ua(request.headers.get("User-Agent", ""))
            browser = f"{ua.browser.family} {ua.browser.version_string}".strip()[:64]
            os_name = f"{ua.os.family} {ua.os.version_string}".strip()[:64]
        db.session.add(LoginLog(username=(username or "")[:128], user_id=user_id, ip=ip,
                                browser=browser, os=os_name, success=success, message=message))
        db.session.commit()
