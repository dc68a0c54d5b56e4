"""Lockout keyed on the account, per-address login rate limits, an administrator's 解锁, sessions ended on
the server at logout and password change, logout by POST (issue 17 points 2 and 5)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD

BAD = "bad-Pass-1"


def _web(client, username, password, ip="10.1.2.3"):
    return client.post("/login/", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def _api(client, username, password, ip="10.1.2.3"):
    return client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                         "provider": "db"}, environ_base={"REMOTE_ADDR": ip})


def _signed_in(client) -> bool:
    return client.get("/transcript/me", follow_redirects=False).status_code == 200 or \
        client.get("/", follow_redirects=False).status_code == 200


def _set_email(app, username, email):
    from app.extensions import db

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        user.email = email
        db.session.commit()


@pytest.mark.parametrize("spelling", ["inst_a", "INST_A", "Inst_A", "inst_a@cme.test"])
def test_failures_in_any_spelling_lock_every_spelling_and_the_api(app, world, spelling):
    _set_email(app, "inst_a", "inst_a@cme.test")
    c = app.test_client()
    # 5 failures spread over the spellings lock the one account …
    for typed in ["inst_a", "INST_A", "inst_a@cme.test", "Inst_A", "inst_A"]:
        _web(c, typed, BAD)
    # … for every spelling, the e-mail and the JSON API, even with the right password.
    assert _web(c, spelling, PASSWORD).status_code == 302 and not _signed_in(c)
    assert _api(app.test_client(), spelling.upper() if "@" not in spelling else spelling, PASSWORD).status_code == 401
    # Another account is not affected.
    assert _api(app.test_client(), "INST_B", PASSWORD).status_code == 200


def test_api_failures_count_too(app, world):
    for _ in range(5):
        assert _api(app.test_client(), "Inst_A", BAD).status_code == 401
    c = app.test_client()
    _web(c, "inst_a", PASSWORD)
    assert not _signed_in(c)


def test_administrator_unlocks_a_locked_account(app, world, login):
    from app.extensions import db
    from app.models import CmeUser, OperationLog

    for _ in range(5):
        _web(app.test_client(), "inst_a", BAD)
    c = app.test_client()
    _web(c, "inst_a", PASSWORD)
    assert not _signed_in(c)
    with app.app_context():
        uid = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "inst_a"))
    admin = login("city")
    assert "解锁" in admin.get("/users/list/").get_data(as_text=True)
    # A district admin has no user admin at all.
    assert login("district1").post("/users/action_post", data={"action": "unlock", "rowid": [uid]}).status_code in (
        302, 403, 404)
    assert not _signed_in(_web_client(app, "inst_a", PASSWORD))
    r = admin.post("/users/action_post", data={"action": "unlock", "rowid": [uid]})
    assert r.status_code == 302
    assert _signed_in(_web_client(app, "inst_a", PASSWORD))
    with app.app_context():
        assert db.session.scalar(select(OperationLog.action).where(OperationLog.action == "解锁")) == "解锁"


def _web_client(app, username, password):
    c = app.test_client()
    _web(c, username, password)
    return c


@pytest.fixture
def rate_limited(app):
    limiter = app.appbuilder.sm.limiter
    saved = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        yield
    finally:
        app.config["LOGIN_RATE_LIMIT"] = saved
        limiter.reset()


@pytest.mark.parametrize("endpoint", ["web", "api", "sms", "phone"])
def test_every_login_endpoint_is_rate_limited_per_address(app, world, rate_limited, endpoint):
    def hit(ip, i):
        c = app.test_client()
        env = {"REMOTE_ADDR": ip}
        if endpoint == "web":
            return c.post("/login/", data={"username": f"nobody{i}", "password": BAD}, environ_base=env)
        if endpoint == "api":
            return c.post("/api/v1/security/login", json={"username": f"nobody{i}", "password": BAD,
                                                          "provider": "db"}, environ_base=env)
        if endpoint == "sms":
            return c.post("/m/sms", data={"code": "X", "phone": "13800000000", "captcha": "X"}, environ_base=env)
        return c.post("/m/login", data={"code": "X", "phone": "13800000000", "sms_code": "1"}, environ_base=env)

    codes = [hit("10.7.7.7", i).status_code for i in range(3)]
    assert 429 not in codes
    r = hit("10.7.7.7", 4)
    assert r.status_code == 429
    assert "过于频繁" in (r.get_json()["message"] if r.is_json else r.get_data(as_text=True))
    # Another address is not held back.
    assert hit("10.7.7.8", 5).status_code != 429


def test_logout_is_a_post_and_a_copied_cookie_dies_with_it(app, world, login):
    c = login("tech_a")
    assert c.get("/transcript/me").status_code == 200
    cookie = c.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/transcript/me").status_code == 200
    # GET /logout/ only asks; the navbar holds a POST form with the token.
    page = c.get("/logout/").get_data(as_text=True)
    assert 'method="post"' in page and "确定退出登录吗" in page
    assert c.get("/transcript/me").status_code == 200
    assert 'id="logout-form"' in c.get("/transcript/me").get_data(as_text=True)
    c.post("/logout/")
    assert c.get("/transcript/me", follow_redirects=False).status_code != 200
    # The copy of the cookie taken before logout no longer opens the page.
    assert copy.get("/transcript/me", follow_redirects=False).status_code != 200


def test_password_change_ends_other_sessions_but_not_ones_own(app, world, login):
    c = login("inst_a")
    other = login("inst_a")
    assert other.get("/persons/list/").status_code == 200
    r = c.post("/resetmypassword/form", data={"password": "Mine#2026ok", "conf_password": "Mine#2026ok"})
    assert r.status_code == 302
    assert c.get("/persons/list/").status_code == 200
    assert other.get("/persons/list/", follow_redirects=False).status_code != 200
    # An administrator's reset ends the user's sessions too.
    fresh = login("inst_a", "Mine#2026ok")
    with app.app_context():
        uid = app.appbuilder.sm.find_user(username="inst_a").id
    login("city").post(f"/resetpassword/form?pk={uid}", data={"password": "New#Pass2027", "conf_password": "New#Pass2027"})
    assert fresh.get("/persons/list/", follow_redirects=False).status_code != 200


def test_phone_logout_ends_copied_sessions(app, world):
    from app.extensions import db
    from tests.security.test_captcha import FIXED
    from tests.supervision.helpers import PHONE, add_filing, add_manager

    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)
    try:
        with app.app_context():
            code = add_manager(add_filing(world.a, status="approved")).login_code
            db.session.commit()
        c = app.test_client()
        c.get("/m/captcha.png")
        assert c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED}).status_code == 200
        from app.models.supervision import SmsOutbox

        with app.app_context():
            sms = re.search(r"验证码(\d{6})", db.session.scalar(select(SmsOutbox.text))).group(1)
        assert c.post("/m/login", data={"code": code, "phone": PHONE, "sms_code": sms}).status_code == 302
        copy = app.test_client()
        copy.set_cookie("session", c.get_cookie("session").value)
        assert copy.get("/m/letter").status_code == 200
        c.post("/m/logout")
        assert copy.get("/m/letter", follow_redirects=False).status_code == 302
    finally:
        app.config.pop("SUP_CAPTCHA_FIXED", None)
        app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_jwt_issued_before_logout_stops_working_after_it(app, world):
    """Issue 18: a token issued before the user's logout is refused after it (it carries the session
    nonce the logout replaces); a token issued after the logout works."""
    token = _api(app.test_client(), "inst_a", PASSWORD).get_json()["access_token"]
    c = app.test_client()
    assert c.get("/api/v1/person/", headers=_bearer(token)).status_code == 200
    login_c = _web_client(app, "inst_a", PASSWORD)
    assert c.get("/api/v1/person/", headers=_bearer(token)).status_code == 200  # a login ends nothing
    login_c.post("/logout/")
    assert c.get("/api/v1/person/", headers=_bearer(token)).status_code == 401
    fresh = _api(app.test_client(), "inst_a", PASSWORD).get_json()["access_token"]
    assert c.get("/api/v1/person/", headers=_bearer(fresh)).status_code == 200


def test_a_refresh_token_issued_before_a_password_change_is_refused(app, world):
    tokens = _api_refresh(app.test_client(), "inst_a", PASSWORD)
    c = app.test_client()
    assert c.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 200
    with app.app_context():
        sm = app.appbuilder.sm
        sm.reset_password(sm.find_user(username="inst_a").id, PASSWORD)
    assert c.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 401
    assert c.get("/api/v1/person/", headers=_bearer(tokens["access_token"])).status_code == 401


def _api_refresh(client, username, password):
    return client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                         "provider": "db", "refresh": True}).get_json()
