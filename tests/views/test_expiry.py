"""Issue 15.4: expiry handled as expiry — the CSRF page and the timed-out login."""
from __future__ import annotations

import pytest

from tests import helpers


@pytest.fixture
def csrf_on(app):
    """``csrf_on()`` switches CSRF on (the testing config has it off) until the test ends."""
    def on():
        app.config["WTF_CSRF_ENABLED"] = True

    yield on
    app.config["WTF_CSRF_ENABLED"] = False


def test_a_form_with_an_expired_token_gets_the_styled_expiry_page(app, world, login, csrf_on):
    c = login("inst_a")  # logged in before CSRF is switched on (the test login form has no token)
    csrf_on()
    r = c.post("/persons/add", data={"card_no": "X1", "name": "周八", "csrf_token": "expired"},
               headers={"Referer": "http://localhost/persons/add"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "页面已过期，请刷新后重试" in page and "请求有误" not in page
    assert 'id="expired-back"' in page and "history.back()" in page  # 返回 keeps the browser's form state
    assert 'href="http://localhost/persons/add"' in page  # back to the page the form came from
    assert "navbar" in page  # inside the product's layout
    # Without any token at all: the same page.
    r = c.post("/persons/add", data={"card_no": "X1", "name": "周八"})
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)


def test_the_expiry_page_is_plain_for_a_visitor_not_logged_in(app, world, client, csrf_on):
    csrf_on()
    r = client.post("/login/", data={"username": "inst_a", "password": "x", "csrf_token": "bad"},
                    headers={"Referer": "https://evil.example/x"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "页面已过期，请刷新后重试" in page
    assert "navbar" not in page and "evil.example" not in page  # no link to another site


def test_an_ended_login_says_timed_out_not_access_denied(app, world, login):
    c = login("inst_a")
    assert c.get("/persons/list/").status_code == 200
    browser = app.test_client()  # the same browser's cookies, in a second tab that stayed open
    browser.set_cookie("session", c.get_cookie("session").value)
    browser.set_cookie("cme_seen", c.get_cookie("cme_seen").value)
    c.post("/logout/")  # the session ended on the server
    r = browser.get("/persons/list/")
    assert r.status_code == 302 and "/login/" in r.headers["Location"] and "next=" in r.headers["Location"]
    page = browser.get(r.headers["Location"]).get_data(as_text=True)
    assert "登录已超时，请重新登录" in page
    assert "没有权限访问该页面或数据" not in page


def test_an_expired_session_cookie_also_says_timed_out(app, world, login):
    c = login("inst_a")
    browser = app.test_client()  # the session cookie expired; the long-lived marker is still there
    browser.set_cookie("cme_seen", c.get_cookie("cme_seen").value)
    page = browser.get("/persons/list/", follow_redirects=True).get_data(as_text=True)
    assert "登录已超时，请重新登录" in page and "没有权限访问该页面或数据" not in page
    # Signing in again works and the message does not come back.
    r = browser.post("/login/?next=/persons/list/", data={"username": "inst_a", "password": helpers.PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/persons/list/")
    page = browser.get("/persons/list/").get_data(as_text=True)
    assert "登录已超时" not in page


def test_a_visitor_who_never_logged_in_and_one_who_logged_out_are_not_timed_out(app, world, client, login):
    page = client.get("/persons/list/", follow_redirects=True).get_data(as_text=True)
    assert "登录已超时" not in page
    c = login("inst_a")
    c.post("/logout/")
    page = c.get("/persons/list/", follow_redirects=True).get_data(as_text=True)
    assert "登录已超时" not in page


def test_a_logged_in_user_without_permission_still_gets_403(app, world, login):
    c = login("inst_a")
    r = c.get("/users/list/")
    assert r.status_code == 403 and "没有权限访问该页面或数据" in r.get_data(as_text=True)


def test_the_phone_pages_get_the_expiry_page_in_the_phone_layout(app, world, client, csrf_on):
    csrf_on()
    r = client.post("/m/login", data={"code": "X", "phone": "13900001234", "sms_code": "1"},
                    headers={"Referer": "http://localhost/m/login"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "页面已过期，请刷新后重试" in page
    assert "北京市继续医学教育项目督查管理系统" in page and 'href="http://localhost/m/login"' in page
