"""The phone login's image captcha lives on the server (issue 17.3): the cookie never holds the answer,
each image is good for one try, and /m/sms uses it up."""
from __future__ import annotations

import pytest

from app.extensions import db
from tests.supervision.helpers import PHONE, add_filing, add_manager

FIXED = "K7XP"


@pytest.fixture
def code(app, world):
    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)
    with app.app_context():
        manager = add_manager(add_filing(world.a, status="approved"))
        db.session.commit()
        login_code = manager.login_code
    yield login_code
    app.config.pop("SUP_CAPTCHA_FIXED", None)
    app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def _cookie_data(app, client) -> dict:
    value = client.get_cookie("session").value
    return app.session_interface.get_signing_serializer(app).loads(value)


def test_the_answer_is_not_in_the_cookie(app, code):
    c = app.test_client()
    assert c.get("/m/captcha.png").mimetype == "image/png"
    data = _cookie_data(app, c)
    assert "sup_captcha" in data and FIXED not in repr(data) and FIXED.lower() not in repr(data).lower()


def test_one_try_per_image(app, code):
    c = app.test_client()
    c.get("/m/captcha.png")
    r = c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": "ZZZZ"})
    assert r.status_code == 422 and "图形验证码不正确" in r.json["message"]
    # The right answer to the same image no longer works: it was used up by the wrong guess.
    r = c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED})
    assert r.status_code == 422 and "图形验证码不正确" in r.json["message"]
    # A replayed cookie holding the old ticket is refused too.
    c.get("/m/captcha.png")
    replay = c.get_cookie("session").value
    assert c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED}).status_code == 200
    other = app.test_client()
    other.set_cookie("session", replay)
    assert other.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED}).status_code == 422


def test_sms_uses_the_captcha_up_and_login_needs_the_sms_code(app, code):
    from sqlalchemy import select

    from app.models.supervision import SmsOutbox

    c = app.test_client()
    c.get("/m/captcha.png")
    assert c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED}).status_code == 200
    r = c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED})
    assert r.status_code == 422 and "图形验证码不正确" in r.json["message"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count(SmsOutbox.id))) == 1
        text = db.session.scalar(select(SmsOutbox.text))
    import re

    sms = re.search(r"验证码(\d{6})", text).group(1)
    r = c.post("/m/login", data={"code": code, "phone": PHONE, "sms_code": sms})
    assert r.status_code == 302 and r.location.endswith("/m/")
