"""Expiry handled as expiry (issue 15.4).

- A form whose CSRF token is missing or expired gets a styled 400 page "页面已过期，请刷新后重试" (inside
  the site's layout for a signed-in user, standalone otherwise) with 返回 (history.back(), which keeps what
  the browser had typed into the form) and a link to the page the form came from. Nothing is stored.
- A browser that had signed in (marker cookie ``cme_seen``, set at login, removed at logout) and whose
  session ended is sent to the login page with "登录已超时，请重新登录" instead of FAB's
  "没有权限访问该页面或数据"; an anonymous visitor who never signed in keeps FAB's message.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
)
from flask_babel import gettext as _
from flask_login import current_user

SEEN_COOKIE = "cme_seen"
SEEN_MAX_AGE = 30 * 24 * 3600
LOGOUT_ENDPOINTS = {"CmeAuthDBView.logout", "SiteMobileView.logout"}


def _same_origin_referrer() -> str | None:
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.host:
        return None
    return ref


def csrf_expired(error):
    message = _("页面已过期，请刷新后重试")
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json" \
            or request.path.startswith("/m/sms"):
        return jsonify(ok=False, message=message), 400
    back = _same_origin_referrer()
    signed_in = False
    try:
        signed_in = bool(current_user.is_authenticated)
    except Exception:  # the user cannot be loaded: the standalone page
        current_app.logger.warning("CSRF page without the user", exc_info=True)
    appbuilder = current_app.appbuilder
    # The site manager's phone pages have their own layout.
    template = "supervision/m_expired.html" if request.path.startswith("/m/") else "csrf_expired.html"
    layout = appbuilder.base_template if signed_in else "csrf_expired_plain.html"
    return render_template(template, message=message, back=back, layout=layout,
                           appbuilder=appbuilder, base_template=appbuilder.base_template), 400


def _timed_out_flash(response):
    """After a redirect to the login page for an anonymous request, FAB has flashed 'Access is
    Denied'; a browser that had signed in gets the timed-out message instead."""
    if response.status_code not in (301, 302, 303, 307) or not request.cookies.get(SEEN_COOKIE):
        return
    location = response.headers.get("Location", "")
    if "/login/" not in urlsplit(location).path:
        return
    if current_user.is_authenticated:
        return
    from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED

    denied = {str(FLAMSG_ERR_SEC_ACCESS_DENIED), _(str(FLAMSG_ERR_SEC_ACCESS_DENIED))}
    flashes = session.get("_flashes", [])
    kept = [f for f in flashes if f[1] not in denied]
    session["_flashes"] = kept + [("warning", _("登录已超时，请重新登录"))]


def _after_request(response):
    if request.environ.get("cme.signed_in"):
        response.set_cookie(SEEN_COOKIE, "1", max_age=SEEN_MAX_AGE, httponly=True,
                            samesite=current_app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    elif request.endpoint in LOGOUT_ENDPOINTS and request.method == "POST":
        response.delete_cookie(SEEN_COOKIE)
    else:
        try:
            _timed_out_flash(response)
        except Exception:  # a message is never worth a failed response
            current_app.logger.warning("timed-out message not set", exc_info=True)
    return response


def install(app) -> None:
    from flask_login import user_logged_in
    from flask_wtf.csrf import CSRFError

    app.register_error_handler(CSRFError, csrf_expired)

    @user_logged_in.connect_via(app)
    def _mark_signed_in(sender, user, **extra):
        if has_request_context():  # per request (an app context, and its g, can outlive one)
            request.environ["cme.signed_in"] = True

    app.after_request(_after_request)
