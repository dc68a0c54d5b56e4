"""Security manager: our user model, login log, account lock, role sync (SYS-1, SYS-5), and the
request-wide protections of issue 17: per-IP login rate limits, sessions ended on the server at logout
and password change, security headers on every response."""
from __future__ import annotations

import datetime
import secrets

from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template_string,
    request,
    session,
)
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from user_agents import parse as parse_ua
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import CmeUser, LoginLog
from app.oplog import client_ip
from app.services.roles import ROLE_PERMISSIONS
from app.views.profile import CmeUserInfoEditView
from app.views.role_editor import CmeRoleModelView


class CmeUserDBModelView(UserDBModelView):
    """User admin with the organization / person anchor of each user."""

    list_columns = ["username", "display_name", "roles", "org", "active", "last_login"]
    add_columns = ["username", "last_name", "first_name", "email", "roles", "org", "person",
                   "active", "password", "conf_password"]
    edit_columns = ["username", "last_name", "first_name", "email", "roles", "org", "person",
                    "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "org", "person", "login_count"]}),
        (_l("Personal Info"), {"fields": ["display_name", "email"], "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"],
                            "expanded": False}),
    ]
    show_columns = ["username", "display_name", "active", "roles", "org", "person", "email", "login_count",
                    "last_login", "fail_login_count", "created_on", "changed_on", "last_name", "first_name"]
    # 个人资料: one 名称 (an organization account has no 名/姓; issue 15.6).
    user_show_fieldsets = [
        (_l("账号信息"), {"fields": ["username", "display_name", "roles", "org", "person", "email", "active",
                                  "login_count", "last_login"]}),
    ]
    search_columns = ["username", "last_name", "first_name", "email", "active", "roles"]
    label_columns = dict(UserDBModelView.label_columns, org=_l("所属机构"), person=_l("对应学员"),
                         last_name=_l("姓"), first_name=_l("名"), display_name=_l("名称"),
                         must_change_password=_l("须修改初始密码"))
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Persons are a big table: pick them by AJAX, never a <select> of every row.
        from app.views.pickers import person_ajax_field

        self.add_form_extra_fields = dict(self.add_form_extra_fields, person=person_ajax_field())
        self.edit_form_extra_fields = dict(person=person_ajax_field())

    @action("unlock", _l("解锁"), _l("确定解除所选账号的登录锁定吗？"), "fa-unlock", single=False)
    def unlock(self, items):
        """An administrator lifts the lock of accounts locked by failed logins (issue 17.2)."""
        from app.oplog import record

        items = items if isinstance(items, list) else [items]
        for user in items:
            user.fail_login_count = 0
        db.session.commit()
        record("用户管理", "解锁", "、".join(u.username for u in items))
        flash(_("已解锁 %(n)s 个账号", n=len(items)), "success")
        return redirect(self.get_redirect())


LOGOUT_CONFIRM = """{% extends appbuilder.base_template %}{% block content %}
<div class="well" style="max-width:420px;margin:40px auto">
<p>{{ _("确定退出登录吗？") }}</p>
<form method="post" action="{{ url_for('CmeAuthDBView.logout') }}" id="logout-confirm">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button type="submit" class="btn btn-primary">{{ _("退出登录") }}</button>
<a class="btn btn-default" href="{{ appbuilder.get_url_for_index }}">{{ _("取消") }}</a>
</form></div>{% endblock %}"""


class CmeAuthDBView(AuthDBView):
    """Login page whose refusal message says why: wrong password, locked or disabled account.
    Logout is a POST with the CSRF token (a GET shows a confirmation), so another site's image or
    link cannot sign a user out."""

    @property
    def invalid_login_message(self):
        return g.get("cme_login_message") or _l("Invalid login. Please try again.")

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method != "POST":
            if self._get_authenticated_user() is None:
                return redirect(self.appbuilder.get_url_for_index)
            return render_template_string(LOGOUT_CONFIRM, appbuilder=self.appbuilder)
        return super().logout()


class CmeSecurityManager(SecurityManager):
    user_model = CmeUser
    userdbmodelview = CmeUserDBModelView
    authdbview = CmeAuthDBView
    userinfoeditview = CmeUserInfoEditView
    rolemodelview = CmeRoleModelView
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

    # ------------------------------------------------------------------ sessions
    def load_user(self, pk):
        """The session's user, unless its session was ended on the server: the nonce copied into the
        cookie at login must still be the user's (logout and password change draw a new one)."""
        user = super().load_user(pk)
        if user is not None and has_request_context() and user.session_nonce \
                and session.get(SESSION_NONCE_KEY) != user.session_nonce:
            return None
        return user

    def create_jwt_manager(self, app):
        """Every token carries the user's session nonce (JWT_NONCE_CLAIM): logout and password change
        draw a new one, so a token issued before them stops working (issue 18)."""
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self.jwt_claims)
        return jwt_manager

    def jwt_claims(self, identity) -> dict:
        try:
            user = db.session.get(self.user_model, int(identity))
        except (TypeError, ValueError):
            return {}
        if user is None:
            return {}
        if not user.session_nonce:
            self.end_sessions(user)
            db.session.commit()
        return {JWT_NONCE_CLAIM: user.session_nonce}

    def load_user_jwt(self, _jwt_header, jwt_data):
        # A JWT carries no cookie: it carries the nonce of the login that issued it instead.
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user and user.is_active and jwt_data.get(JWT_NONCE_CLAIM) == user.session_nonce \
                and not user.must_change_password:  # an initial password opens the 修改密码 page only
            g.user = user
            return user
        return None

    def end_sessions(self, user) -> str:
        """Draw a new session nonce for ``user``: every session opened before ends (caller commits)."""
        user.session_nonce = secrets.token_hex(16)
        return user.session_nonce

    def on_user_logout(self, user) -> None:
        fresh = db.session.get(self.user_model, user.id)
        if fresh is not None:
            self.end_sessions(fresh)
            db.session.commit()
        session.pop(SESSION_NONCE_KEY, None)

    def reset_password(self, userid, password):
        # A new password ends the user's other sessions (a stolen cookie stops working); one who
        # changes their own password stays signed in here.
        user = self.get_user_by_id(userid)
        nonce = self.end_sessions(user)
        super().reset_password(userid, password)
        actor = self.current_user if has_request_context() else None
        if actor is not None and getattr(actor, "id", None) == userid:
            session[SESSION_NONCE_KEY] = nonce
            if user.must_change_password:  # the initial password is changed: every page opens again
                user.must_change_password = False
                db.session.commit()

    # ------------------------------------------------------------------ login
    def find_login_account(self, username: str | None):
        """The account a typed login name opens, as FAB's auth_user_db finds it: the user name in any
        letter case, else the e-mail."""
        if not username:
            return None
        return self.find_user(username=username) or self.find_user(email=username)

    def auth_user_db(self, username, password):
        existing = self.find_login_account(username)
        user_id = existing.id if existing is not None else None
        if self.is_locked(existing):
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

    def is_locked(self, user) -> bool:
        """N failures of this account (whatever spelling, e-mail or endpoint was typed) within the
        window since its last success. FAB's fail_login_count (reset by a success, and by an
        administrator's 解锁) must agree, so an unlocked account is open at once."""
        if user is None:
            return False
        cfg = current_app.config
        attempts = cfg["LOGIN_LOCK_ATTEMPTS"]
        if (user.fail_login_count or 0) < attempts:
            return False
        since = datetime.datetime.now() - datetime.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
        last_ok = (db.session.query(db.func.max(LoginLog.created_at))
                   .filter(LoginLog.user_id == user.id, LoginLog.success.is_(True)).scalar())
        start = max(since, last_ok) if last_ok else since
        failures = (db.session.query(db.func.count(LoginLog.id))
                    .filter(LoginLog.user_id == user.id, LoginLog.success.is_(False),
                            LoginLog.created_at > start).scalar())
        return failures >= attempts

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


# ====================================================================== request-wide protections
SESSION_NONCE_KEY = "_cme_nonce"
JWT_NONCE_CLAIM = "cme_nonce"

# (endpoint, methods): every way in by password or SMS is limited per client address (issue 17.2).
LOGIN_ENDPOINTS = ["CmeAuthDBView.login", "SecurityApi.login", "SiteMobileView.login", "SiteMobileView.sms"]


def configure(app) -> None:
    """Defaults set before AppBuilder builds its limiter (it reads them once)."""
    from app.oplog import client_ip

    cfg = app.config
    cfg.setdefault("RATELIMIT_ENABLED", True)
    cfg.setdefault("RATELIMIT_STORAGE_URI", cfg.get("REDIS_URL") or "memory://")
    cfg.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # Redis down: logins still work
    cfg.setdefault("RATELIMIT_KEY_FUNC", client_ip)
    # Per client address, all login endpoints alike. A hospital's staff may share one NAT address, so
    # the limit is loose; each account's own lock (LOGIN_LOCK_ATTEMPTS) is the tight one. Tests raise
    # it (hundreds of logins from 127.0.0.1) and lower it where they test it.
    cfg.setdefault("LOGIN_RATE_LIMIT", "100000 per minute" if cfg.get("TESTING") else "30 per minute;300 per hour")
    cfg.setdefault("HSTS_SECONDS", 31536000)
    # FAB's internal permission / view-menu pages (raw permission identifiers) are not registered:
    # roles are edited in the role editor's matrix (issue 15.6).
    for key in ("FAB_ADD_SECURITY_PERMISSION_VIEW", "FAB_ADD_SECURITY_VIEW_MENU_VIEW",
                "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW"):
        cfg.setdefault(key, False)


def install(app) -> None:
    """After AppBuilder: rate limits on the login endpoints, the session nonce written at login,
    security headers on every response, a Chinese 429 page."""
    from flask_login import user_logged_in

    limiter = app.appbuilder.sm.limiter
    for endpoint in LOGIN_ENDPOINTS:
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(
                lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
                error_message=_l("登录尝试过于频繁，请稍后再试"))(view)

    @user_logged_in.connect_via(app)
    def _remember_nonce(sender, user, **extra):
        if not getattr(user, "session_nonce", None):
            user.session_nonce = secrets.token_hex(16)
            db.session.commit()
        session[SESSION_NONCE_KEY] = user.session_nonce

    from app.views.base import guard_list_args

    app.before_request(guard_list_args)  # sort / filter on declared columns only
    app.before_request(require_password_change)
    app.after_request(security_headers)

    def too_many(error):
        from flask import jsonify

        message = _("请求过于频繁，请稍后再试")
        if request.path.startswith(("/api/", "/m/sms")):
            return jsonify(ok=False, message=message), 429
        return render_template_string(
            "{% extends appbuilder.base_template %}{% block content %}"
            "<div class='alert alert-danger'>{{ message }}</div>{% endblock %}",
            appbuilder=app.appbuilder, message=message), 429

    app.register_error_handler(429, too_many)


# What a user whose password is an initial one may open before changing it (seed 002 附件一2).
PASSWORD_CHANGE_OPEN = {"ResetMyPasswordView.this_form_get", "ResetMyPasswordView.this_form_post",
                        "CmeAuthDBView.logout", "CmeAuthDBView.login", "LocaleView.index", "static",
                        "appbuilder.static", "healthz"}


def require_password_change():
    """An account still on its initial password (a technician's account opened in bulk, or reset by
    the unit) sees the 修改密码 page only, whatever it asks for, until the password is changed."""
    from flask_login import current_user

    endpoint = request.endpoint or ""
    if request.url_rule is None or endpoint in PASSWORD_CHANGE_OPEN or endpoint.endswith(".static"):
        return None  # no page there (a 404 that must not need the database) or one that stays open
    user = current_user
    if not getattr(user, "is_authenticated", False) or not getattr(user, "must_change_password", False):
        return None
    message = _("您使用的是初始密码，请先修改密码")
    if request.path.startswith("/api/"):
        from flask import jsonify

        return jsonify(message=message), 403
    flash(message, "warning")
    from flask import url_for

    return redirect(url_for("ResetMyPasswordView.this_form_get"))


# Downloads whose content type a browser may show inline (previews); everything else is an attachment.
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def security_headers(response):
    """One place for the headers of every response (issue 17.7)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE") and not current_app.debug:
        headers.setdefault("Strict-Transport-Security",
                           f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains")
    disposition = headers.get("Content-Disposition", "")
    if disposition.startswith("inline") and response.mimetype not in INLINE_TYPES:
        # Only images and PDFs are previewed; an HTML or SVG "document" is downloaded, never run.
        headers["Content-Disposition"] = "attachment" + disposition[len("inline"):]
    return response
