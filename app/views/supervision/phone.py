"""The site managers' phone site (SUP-5): a plain Flask Blueprint of its own under /m, with its own login
(the login code of the QR sheet + the registered phone + an SMS code + an image captcha) and the
commitment letter. Its endpoints keep the name ``SiteMobileView.*`` (printed QR codes, links and tests
name them). The periods and photos pages are in phone_periods.py.

Only a 现场会务负责人 whose login code is still valid gets past :func:`mobile_page`; anyone else is sent to
the phone login page with a message that says why.
"""
from __future__ import annotations

import datetime
import functools
import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from sqlalchemy import select

from app.extensions import db
from app.models.supervision import SiteManager
from app.oplog import record
from app.services import supervision as sup
from app.services.roles import SITE_MANAGER
from app.views.actions import act
from app.views.base import acting_user
from app.views.supervision.common import MODULE

bp = Blueprint("SiteMobileView", __name__, url_prefix="/m")

SUP_CODE_COOKIE = "cme_sup_code"
SUP_CODE_MAX_AGE = 90 * 24 * 3600
LETTER = ("郑重承诺：本人作为项目负责人，对本次项目进行了详细规划和部署，并承诺在项目实施过程中，严格按照项目计划执行，"
          "确保项目质量和进度。如有任何变更，将及时与相关人员沟通，并做好记录和汇报。本人承诺遵守相关法律法规和行业标准，"
          "确保项目合法合规进行。如有任何违规行为，愿承担相应法律责任。")


def render(template: str, status: int = 200, **kwargs):
    return make_response(render_template(template, **kwargs), status)


# ------------------------------------------------------------------------------ who is on the phone
def _captcha_text() -> str:
    fixed = current_app.config.get("SUP_CAPTCHA_FIXED")
    if fixed and current_app.config.get("TESTING"):  # test-only: never honoured outside TESTING
        return fixed
    return "".join(secrets.choice("ACDEFHJKLMNPRTUVWXY34679") for _ in range(4))


def _check_captcha() -> None:
    """One try per image: the ticket in the cookie is used up on the server, right or wrong (the
    answer itself never leaves the server)."""
    from app.services import captcha

    ok = captcha.consume(db.session, session.pop("sup_captcha", None), request.form.get("captcha"),
                         datetime.datetime.now())
    db.session.commit()  # used up even when the SMS is refused below
    if not ok:
        raise sup.SupervisionError("图形验证码不正确，请点击图片换一张后重新输入")


def _limits() -> sup.SmsLimits:
    cfg = current_app.config
    return sup.SmsLimits(ttl_seconds=cfg.get("SUP_SMS_TTL_SECONDS", 300),
                         interval_seconds=cfg.get("SUP_SMS_INTERVAL_SECONDS", 60),
                         daily_max=cfg.get("SUP_SMS_DAILY_MAX", 10))


def _current_manager() -> SiteManager | None:
    user = acting_user()
    if user is None:
        return None
    manager = db.session.scalar(select(SiteManager).where(SiteManager.user_id == user.id))
    # A regenerated login code ends the sessions opened with the old one at once.
    if manager is None or session.get("sup_code") != manager.login_code or manager.filing.status != "approved":
        return None
    return manager


def _to_login():
    """Where a phone without a valid session goes, with the reason."""
    if acting_user() is not None and SITE_MANAGER in {r.name for r in acting_user().roles}:
        # Signed in with a password (no code in the session), or with a code since regenerated.
        expired = bool(session.get("sup_code"))
        logout_user()
        session.pop("sup_code", None)
        flash(_("登录码已失效，请重新扫码登录") if expired else
              _("现场会务负责人请扫描项目二维码，用手机号和短信验证码登录"), "warning")
    elif request.cookies.get(SUP_CODE_COOKIE):
        # The session ended (timed out or ended on the server): the login page has the code.
        flash(_("登录已超时，请重新登录：获取新的短信验证码即可"), "warning")
    if request.method == "POST":
        abort(403)
    return redirect(url_for("SiteMobileView.login"))


def mobile_page(letter: bool = True):
    """The phone pages: a site manager whose code is still valid and (unless ``letter`` is False) who has
    accepted the commitment letter; anyone else goes to the phone login page. The page gets the manager."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            manager = _current_manager()
            if manager is None:
                return _to_login()
            if letter and manager.letter_accepted_at is None:
                if request.method == "POST":
                    abort(403)
                return redirect(url_for("SiteMobileView.letter"))
            return fn(manager, *args, **kwargs)
        return wrapper
    return decorate


# ------------------------------------------------------------------------------------------ login
@bp.route("/login", methods=["GET", "POST"])
def login():
    code = (request.values.get("code") or "").strip().upper()
    if request.method == "GET":
        if not code:  # the code this phone signed in with, while it is still valid
            remembered = (request.cookies.get(SUP_CODE_COOKIE) or "")[:16].upper()
            if remembered and sup.manager_by_code(db.session, remembered) is not None:
                code = remembered
        return render("supervision/m_login.html", code=code, phone="")
    phone = request.form.get("phone", "").strip()
    try:
        # No image captcha here: the SMS code, sent only after one was solved, is the proof.
        manager = sup.manager_by_code(db.session, code)
        if manager is None:
            raise sup.SupervisionError("登录码无效或已失效，请向项目单位索取新的二维码")
        if manager.phone != phone:
            raise sup.SupervisionError("手机号与该登录码登记的负责人手机号不一致")
        sup.verify_sms_code(db.session, manager, phone, request.form.get("sms_code", ""),
                            datetime.datetime.now(), _limits())
        user = sup.manager_account(db.session, manager)
    except sup.SupervisionError as exc:
        # Not act(): a wrong SMS code is refused but its attempt is counted, so this refusal commits.
        db.session.commit()
        record(MODULE, "现场负责人登录", f"{phone}：{exc}", False)
        flash(str(exc), "danger")
        return render("supervision/m_login.html", code=code, phone=phone)
    db.session.commit()
    login_user(user)
    session["sup_code"] = manager.login_code
    record(MODULE, "现场负责人登录", phone, True, operator=user.username)
    response = redirect(url_for("SiteMobileView.home"))
    # The phone remembers its login code: after the session ends only a new SMS is needed.
    response.set_cookie(SUP_CODE_COOKIE, manager.login_code, max_age=SUP_CODE_MAX_AGE, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


@bp.route("/captcha.png")
def captcha():
    from captcha.image import ImageCaptcha

    from app.services import captcha

    text = _captcha_text()
    session["sup_captcha"] = captcha.issue(db.session, text, datetime.datetime.now())
    db.session.commit()
    data = ImageCaptcha(width=160, height=60).generate(text).getvalue()
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sms", methods=["POST"])
def sms():
    """发送短信: needs the login code, the registered phone and the image captcha; answers JSON."""
    phone = request.form.get("phone", "").strip()

    def send():
        from app.services.sms import sender

        _check_captcha()
        manager = sup.manager_by_code(db.session, request.form.get("code", ""))
        if manager is None:
            raise sup.SupervisionError("登录码无效或已失效，请向项目单位索取新的二维码")
        code = sup.issue_sms_code(db.session, manager, phone, datetime.datetime.now(), _limits())
        sender(current_app.config).send(phone, f"【继续医学教育项目督查】验证码{code}，5分钟内有效，请勿泄露。",
                                        params={"code": code})  # a failed send is an SmsError
        return jsonify(ok=True, message=_("验证码已发送"), wait=_limits().interval_seconds)

    # "发送过于频繁，请N秒后再试" comes with the seconds: the page counts them down on its button.
    return act(send, failed=lambda exc: (jsonify(ok=False, message=str(exc), wait=exc.params.get("seconds")), 422))


@bp.route("/logout", methods=["POST"])
def logout():
    user = acting_user()
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user
    logout_user()
    if user is not None:
        current_app.appbuilder.sm.on_user_logout(user)  # ends copies of this session too (issue 17.5)
    session.pop("sup_code", None)
    return redirect(url_for("SiteMobileView.login"))


# ----------------------------------------------------------------------------------------- letter
@bp.route("/letter", methods=["GET", "POST"])
@mobile_page(letter=False)
def letter(manager):
    if manager.letter_accepted_at is not None:
        return redirect(url_for("SiteMobileView.home"))
    if request.method == "POST":
        if request.form.get("agree") != "1":
            flash(_("请勾选“我已阅读以上承诺内容并知晓”"), "danger")
        else:
            def accept():
                manager.letter_accepted_at = datetime.datetime.now()

            return act(accept, log=(MODULE, "签署承诺书", manager.filing.project_no),
                       then=url_for("SiteMobileView.home"))
    return render("supervision/m_letter.html", manager=manager, letter=LETTER)
