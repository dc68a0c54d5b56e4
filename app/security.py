"""Security manager: our user model, login log, account lock, role sync (SYS-1, SYS-5)."""
from __future__ import annotations

import datetime

from flask import current_app, g, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from user_agents import parse as parse_ua
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import CmeUser, LoginLog
from app.oplog import client_ip
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


class CmeAuthDBView(AuthDBView):
    """Login page whose refusal message says why: wrong password, locked or disabled account."""

    @property
    def invalid_login_message(self):
        return g.get("cme_login_message") or _l("Invalid login. Please try again.")


class CmeSecurityManager(SecurityManager):
    user_model = CmeUser
    userdbmodelview = CmeUserDBModelView
    authdbview = CmeAuthDBView
    # FAB's "User's Statistics" draws with Google Charts from the internet (blank on an intranet)
    # under English series names; the login log covers the same ground.
    userstatschartview = None

    # ------------------------------------------------------------------ roles
    @property
    def builtin_roles(self):
        return ROLE_PERMISSIONS

    # ------------------------------------------------------------------ per-request loading
    def get_user_by_id(self, pk):
        """The signed-in user with its roles, groups (and their roles) and organization in one query:
        every request loads it (session or JWT), and data scope reads roles and org at once."""
        from sqlalchemy.orm import joinedload

        user_model, group_model = self.user_model, self.group_model
        return (self.session.query(user_model)
                .options(joinedload(user_model.roles), joinedload(user_model.org),
                         joinedload(user_model.groups).joinedload(group_model.roles))
                .filter(user_model.id == pk).one_or_none())

    def get_public_permissions(self):
        # Asked on every API call (is_item_public): read once per request.
        if not has_request_context():
            return super().get_public_permissions()
        if "cme_public_permissions" not in g:
            g.cme_public_permissions = super().get_public_permissions()
        return g.cme_public_permissions

    # ------------------------------------------------------------------ login
    def auth_user_db(self, username, password):
        existing = self.find_user(username=username) if username else None
        user_id = existing.id if existing is not None else None
        if self.is_locked(username):
            # Refused before the password is checked: even the right one does not unlock.
            minutes = current_app.config["LOGIN_LOCK_MINUTES"]
            self._refuse(username, user_id, _l("连续登录失败次数过多，账号已锁定，请%(minutes)s分钟后再试",
                                                minutes=minutes))
            return None
        user = super().auth_user_db(username, password)
        if user is None:
            if (existing is not None and not existing.is_active and password
                    and check_password_hash(existing.password or "", password)):
                # Said only to who knows the password, so it does not reveal accounts.
                self._refuse(username, user_id, _l("账号已停用"))
            else:
                self._refuse(username, user_id, _l("用户名或密码错误"))
        else:
            self._log_login(username, user.id, True, "登录成功")
        return user

    def _refuse(self, username, user_id, message) -> None:
        # The log keeps the default (Chinese) wording; the login page shows the user's language.
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            logged = str(message)
        self._log_login(username, user_id, False, logged)
        if has_request_context():
            g.cme_login_message = message

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
            ip = client_ip()
            ua = parse_ua(request.headers.get("User-Agent", ""))
            browser = f"{ua.browser.family} {ua.browser.version_string}".strip()[:64]
            os_name = f"{ua.os.family} {ua.os.version_string}".strip()[:64]
        db.session.add(LoginLog(username=(username or "")[:128], user_id=user_id, ip=ip,
                                browser=browser, os=os_name, success=success, message=message))
        db.session.commit()
