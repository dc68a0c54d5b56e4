"""Issue 15.4: after the site manager's session ends, the phone's login page keeps the login code, says the
login timed out and offers a new SMS with a resend countdown."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.supervision import SmsOutbox
from tests.supervision.helpers import PHONE, add_filing, add_manager

FIXED = "AB12"


@pytest.fixture
def fixed_captcha(app):
    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)
    yield FIXED
    app.config.pop("SUP_CAPTCHA_FIXED", None)
    app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def _sms(app) -> str:
    with app.app_context():
        text = db.session.scalar(select(SmsOutbox.text).where(SmsOutbox.phone == PHONE).order_by(SmsOutbox.id.desc()))
    return re.search(r"验证码(\d{6})", text).group(1)


def _login(app, c, code):
    c.get("/m/captcha.png")
    assert c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED}).status_code == 200
    return c.post("/m/login", data={"code": code, "phone": PHONE, "captcha": FIXED, "sms_code": _sms(app)})


def _code_field(page: str) -> str:
    return re.search(r'<input type="text" name="code" id="code" value="([^"]*)"', page).group(1)


def test_an_ended_phone_session_keeps_the_code_and_offers_a_new_sms(app, world, fixed_captcha):
    with app.app_context():
        code = add_manager(add_filing(world.a, status="approved")).login_code
        db.session.commit()
    phone = app.test_client()
    r = _login(app, phone, code)
    assert r.status_code == 302 and r.location.endswith("/m/")
    assert phone.get_cookie("cme_sup_code").value == code

    # The session cookie expired (the phone keeps its long-lived cookies): the next page goes to the login page.
    later = app.test_client()
    later.set_cookie("cme_sup_code", phone.get_cookie("cme_sup_code").value)
    r = later.get("/m/")
    assert r.status_code == 302 and r.location.endswith("/m/login")
    page = later.get("/m/login").get_data(as_text=True)
    assert "登录已超时，请重新登录" in page
    assert _code_field(page) == code  # no rescanning of the QR code
    assert 'id="send-sms"' in page and "countdown(SMS_INTERVAL)" in page

    # A new SMS with the remembered code signs in again.
    r = _login(app, later, _code_field(page))
    assert r.status_code == 302 and r.location.endswith("/m/")


def test_the_resend_countdown_is_the_configured_interval(app, world, fixed_captcha):
    app.config["SUP_SMS_INTERVAL_SECONDS"] = 75
    page = app.test_client().get("/m/login").get_data(as_text=True)
    assert "var SMS_INTERVAL = 75;" in page and "75 秒内不能重发" in page
    assert "登录已超时" not in page and _code_field(page) == ""  # a phone that never signed in


def test_a_remembered_code_since_regenerated_is_not_filled_in(app, world, fixed_captcha):
    c = app.test_client()
    c.set_cookie("cme_sup_code", "NOTACODE")
    page = c.get("/m/login").get_data(as_text=True)
    assert _code_field(page) == ""
    # A code from the QR link wins over the remembered one.
    page = c.get("/m/login?code=qr123").get_data(as_text=True)
    assert _code_field(page) == "QR123"
