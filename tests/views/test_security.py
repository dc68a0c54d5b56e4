"""Login log, account lock and password rules (SYS-5)."""
import json

from sqlalchemy import select

from tests.helpers import PASSWORD

CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.6099.130 Safari/537.36")
LOCK_MESSAGE = "连续登录失败次数过多，账号已锁定"


def _post_login(client, username, password, ua=CHROME_WIN, ip="10.1.2.3"):
    return client.post("/login/", data={"username": username, "password": password},
                       headers={"User-Agent": ua}, environ_base={"REMOTE_ADDR": ip})


def _login_rows(app, username=None):
    from app.extensions import db
    from app.models import LoginLog

    with app.app_context():
        query = select(LoginLog).order_by(LoginLog.id)
        if username:
            query = query.where(LoginLog.username == username)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def _logged_in(client) -> bool:
    r = client.get("/", follow_redirects=False)
    return r.status_code == 200


def test_success_and_failure_are_logged_with_ip_browser_and_os(app, world, client):
    assert _post_login(client, "inst_a", "wrong-Pass1!").status_code == 302
    assert not _logged_in(client)
    assert _post_login(client, "inst_a", PASSWORD, ip="10.9.8.7").status_code == 302
    assert _logged_in(client)
    failure, success = _login_rows(app, "inst_a")
    assert (failure.success, failure.message, failure.ip) == (False, "用户名或密码错误", "10.1.2.3")
    assert failure.user_id is not None and failure.created_at is not None
    assert success.success is True and success.message == "登录成功" and success.ip == "10.9.8.7"
    assert success.browser.startswith("Chrome 120") and success.os == "Windows 10"


def test_unknown_username_is_logged(app, world, client):
    _post_login(client, "nobody", "whatever-1A")
    (row,) = _login_rows(app, "nobody")
    assert row.success is False and row.user_id is None and row.message == "用户名或密码错误"


def test_login_does_not_write_operation_log(app, world, client):
    from app.extensions import db
    from app.models import OperationLog

    with app.app_context():
        before = db.session.scalar(select(db.func.count(OperationLog.id)))
    _post_login(client, "inst_a", "bad-Pass-1")
    _post_login(client, "inst_a", PASSWORD)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(OperationLog.id))) == before


def test_five_failures_lock_the_account_even_for_the_right_password(app, world, client):
    for _ in range(5):
        _post_login(client, "inst_a", "bad-Pass-1")
    client.get("/login/")  # shows (and consumes) the earlier refusals
    r = _post_login(client, "inst_a", PASSWORD)
    assert not _logged_in(client)
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert LOCK_MESSAGE in html and "用户名或密码错误" not in html
    rows = _login_rows(app, "inst_a")
    assert len(rows) == 6 and rows[-1].success is False and LOCK_MESSAGE in rows[-1].message
    # Another user is not affected.
    _post_login(client, "inst_b", PASSWORD)
    assert _logged_in(client)


def test_four_failures_do_not_lock_and_a_success_resets_the_counter(app, world, login, client):
    for _ in range(4):
        _post_login(client, "inst_a", "bad-Pass-1")
    _post_login(client, "inst_a", PASSWORD)
    assert _logged_in(client)
    other = app.test_client()
    for _ in range(4):
        _post_login(other, "inst_a", "bad-Pass-1")
    _post_login(other, "inst_a", PASSWORD)
    assert _logged_in(other)  # 4 + 4 failures, but a success lies between them


def test_old_failures_outside_the_window_do_not_count(app, world, client):
    import datetime

    from app.extensions import db
    from app.models import LoginLog

    with app.app_context():
        old = datetime.datetime.now() - datetime.timedelta(minutes=11)
        db.session.add_all([LoginLog(username="inst_a", success=False, message="x", created_at=old)
                            for _ in range(5)])
        db.session.commit()
    _post_login(client, "inst_a", PASSWORD)
    assert _logged_in(client)


def test_lock_count_and_window_come_from_config(app, world, client):
    app.config.update(LOGIN_LOCK_ATTEMPTS=2, LOGIN_LOCK_MINUTES=30)
    try:
        for _ in range(2):
            _post_login(client, "inst_a", "bad-Pass-1")
        r = _post_login(client, "inst_a", PASSWORD)
        assert not _logged_in(client)
        assert "请30分钟后再试" in client.get(r.headers["Location"]).get_data(as_text=True)
    finally:
        app.config.update(LOGIN_LOCK_ATTEMPTS=5, LOGIN_LOCK_MINUTES=10)


def _role_id(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def _user_form(app, world, password, conf=None):
    from app.services import roles as R

    return {"username": "newadmin", "last_name": "新", "first_name": "管理员", "email": "n@cme.local",
            "roles": [str(_role_id(app, R.INSTITUTION_ADMIN))], "org": str(world.a), "active": "y",
            "password": password, "conf_password": conf or password}


def test_weak_password_refused_on_user_form_with_chinese_message(app, world, login):
    c = login("city")
    r = c.post("/users/add", data=_user_form(app, world, "abc12345"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "密码至少8位" in html
    with app.app_context():
        assert app.appbuilder.sm.find_user(username="newadmin") is None
    r = c.post("/users/add", data=_user_form(app, world, "Ab1!"))
    assert "密码至少8位" in r.get_data(as_text=True)


def test_strong_password_creates_user_and_log_never_holds_the_hash(app, world, login):
    from app.extensions import db
    from app.models import OperationLog

    c = login("city")
    with app.app_context():
        start = db.session.scalar(select(db.func.max(OperationLog.id)))
    r = c.post("/users/add", data=_user_form(app, world, "Good#Pass2026"))
    assert r.status_code == 302
    with app.app_context():
        user = app.appbuilder.sm.find_user(username="newadmin")
        assert user is not None and user.org_id == world.a
        uid, hashed = user.id, user.password
    assert _post_login(app.test_client(), "newadmin", "Good#Pass2026").status_code == 302
    # The city admin resets the password: complexity applies, and the log masks the hash.
    r = c.post(f"/resetpassword/form?pk={uid}", data={"password": "weakpass", "conf_password": "weakpass"})
    assert "密码至少8位" in r.get_data(as_text=True)
    r = c.post(f"/resetpassword/form?pk={uid}",
               data={"password": "New#Pass2027", "conf_password": "New#Pass2027"})
    assert r.status_code == 302
    # And edits the user's name through the admin form.
    c.post(f"/users/edit/{uid}", data={"username": "newadmin", "last_name": "旧", "first_name": "管理员",
                                        "email": "n@cme.local", "roles": [str(_role_id(app, "机构管理员"))],
                                        "org": str(world.a), "active": "y"})
    with app.app_context():
        rows = db.session.scalars(select(OperationLog).where(OperationLog.module == "用户管理",
                                                             OperationLog.id > start)
                                  .order_by(OperationLog.id)).all()
        new_hash = app.appbuilder.sm.find_user(username="newadmin").password
        assert [r.action for r in rows] == ["新增", "修改", "修改"]
        for row in rows:
            assert hashed not in (row.changes or "") and new_hash not in (row.changes or "")
            assert "pbkdf2" not in (row.changes or "") and "scrypt" not in (row.changes or "")
        assert json.loads(rows[0].changes)["password"] == [None, "***"]
        assert json.loads(rows[0].changes)["roles"] == [None, ["机构管理员"]]
        assert json.loads(rows[1].changes) == {"password": ["***", "***"]}
        assert json.loads(rows[2].changes) == {"last_name": ["新", "旧"]}
        assert rows[0].operator == "city"
    # A role change is logged by role name.
    c.post(f"/users/edit/{uid}", data={"username": "newadmin", "last_name": "旧", "first_name": "管理员",
                                        "email": "n@cme.local", "roles": [str(_role_id(app, "区卫健委"))],
                                        "org": str(world.d1), "active": "y"})
    with app.app_context():
        last = db.session.scalar(select(OperationLog).order_by(OperationLog.id.desc()).limit(1))
        assert json.loads(last.changes) == {"roles": [["机构管理员"], ["区卫健委"]], "org": ["甲医院", "东城区"]}


def test_user_changes_own_password_with_rules(app, world, login):
    c = login("inst_a")
    r = c.post("/resetmypassword/form", data={"password": "short", "conf_password": "short"})
    assert "密码至少8位" in r.get_data(as_text=True)
    r = c.post("/resetmypassword/form", data={"password": "Mine#2026ok", "conf_password": "Mine#2026ok"})
    assert r.status_code == 302
    assert _post_login(app.test_client(), "inst_a", "Mine#2026ok").status_code == 302
    rows = _login_rows(app, "inst_a")
    assert rows[-1].success is True


def test_forwarded_for_is_trusted_only_when_configured(app, world, client):
    client.post("/login/", data={"username": "nobody", "password": "x"}, environ_base={"REMOTE_ADDR": "10.0.0.1"},
                headers={"X-Forwarded-For": "1.2.3.4"})
    app.config["TRUST_X_FORWARDED_FOR"] = 1  # nginx in front: the last entry is the one it appended
    try:
        client.post("/login/", data={"username": "nobody", "password": "x"},
                    environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "6.6.6.6, 1.2.3.4"})
    finally:
        app.config["TRUST_X_FORWARDED_FOR"] = 0
    assert [r.ip for r in _login_rows(app, "nobody")] == ["10.0.0.1", "1.2.3.4"]


def test_refusal_says_why_in_chinese_without_revealing_accounts(app, world, client):
    from app.extensions import db
    from app.models import CmeUser

    with app.app_context():
        db.session.query(CmeUser).filter_by(username="inst_b").update({"active": False})
        db.session.commit()
    r = _post_login(client, "inst_b", "bad-Pass-1")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "用户名或密码错误" in html and "账号已停用" not in html
    r = _post_login(client, "inst_b", PASSWORD)
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "账号已停用" in html and not _logged_in(client)
    assert [row.message for row in _login_rows(app, "inst_b")] == ["用户名或密码错误", "账号已停用"]
