"""Technicians' accounts from the personnel list (issue 16 item 8).

Seed 002 附件一2: "2.登录网址 http://icme.haoyisheng.com，输入用户名/IC 卡号及登录密码，初始登录密码为 000000。"
— the login name is the IC card number, the initial password a city parameter (seeded 000000) that
must be changed at the first login; the unit resets it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD

NEW_PASSWORD = "Xz-first-2026"


def _user(app, username):
    from app.extensions import db
    from app.models import CmeUser

    with app.app_context():
        user = db.session.scalar(select(CmeUser).where(CmeUser.username == username))
        if user is None:
            return None
        data = {"id": user.id, "person_id": user.person_id, "roles": [r.name for r in user.roles],
                "must_change": user.must_change_password, "active": user.active}
        db.session.remove()
        return data


def _action(client, name, *pks):
    return client.post("/persons/action_post", data={"action": name, "rowid": [str(pk) for pk in pks]})


def _web_login(app, username, password):
    c = app.test_client()
    r = c.post("/login/", data={"username": username, "password": password})
    return c, r


def test_unit_opens_accounts_login_by_card_with_initial_password_changed_first(app, world, login):
    """附件一2: 用户名/IC 卡号 + 初始登录密码 000000; the first login must change it before anything else."""
    from app.services import roles as R

    r = _action(login("inst_a"), "open_accounts", world.pa2)
    assert r.status_code == 302
    user = _user(app, "A0000002")
    assert user["person_id"] == world.pa2 and user["roles"] == [R.TECHNICIAN] and user["must_change"]

    c, r = _web_login(app, "A0000002", "000000")
    assert r.status_code == 302
    for path in ("/", "/transcript/me", "/persons/list/"):
        r = c.get(path)
        assert r.status_code == 302 and "/resetmypassword/form" in r.headers["Location"], path
    assert c.get("/resetmypassword/form").status_code == 200
    r = c.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert r.status_code == 302
    assert _user(app, "A0000002")["must_change"] is False
    assert c.get("/transcript/me").status_code == 200  # every page opens again
    # The initial password no longer opens the account.
    c2, _ = _web_login(app, "A0000002", "000000")
    assert c2.get("/transcript/me").status_code != 200


def test_initial_password_is_the_city_parameter(app, world, login):
    from app.extensions import db
    from app.models import Parameter

    with app.app_context():
        row = db.session.scalar(select(Parameter).where(Parameter.key == "initial_password"))
        if row is None:
            db.session.add(Parameter(key="initial_password", name="学员初始登录密码", value="135790"))
        else:
            row.value = "135790"
        db.session.commit()
    _action(login("inst_a"), "open_accounts", world.pa2)
    c, _ = _web_login(app, "A0000002", "135790")
    assert "/resetmypassword/form" in c.get("/").headers["Location"]


def test_opening_twice_creates_nothing_more_and_keeps_existing_accounts(app, world, login):
    from app.extensions import db
    from app.models import CmeUser

    c = login("inst_a")
    _action(c, "open_accounts", world.pa, world.pa2)
    with app.app_context():
        before = db.session.scalar(select(db.func.count(CmeUser.id)))
    r = _action(c, "open_accounts", world.pa, world.pa2)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count(CmeUser.id))) == before
    # 张三 had an account (tech_a): no second one under the card number.
    assert _user(app, "A0000001") is None and _user(app, "tech_a")["must_change"] is False


def test_a_card_number_taken_by_another_login_is_reported_not_overwritten(app, world, login):
    from app.extensions import db
    from app.models import CmeUser

    with app.app_context():
        db.session.get(CmeUser, _user(app, "site")["id"]).username = "A0000002"
        db.session.commit()
    c = login("inst_a")
    r = c.post("/persons/action_post", data={"action": "open_accounts", "rowid": [str(world.pa2)]},
               follow_redirects=True)
    assert "已被其他账号占用" in r.get_data(as_text=True) and "A0000002" in r.get_data(as_text=True)
    assert _user(app, "A0000002")["person_id"] is None  # still the site manager's login, untouched


def test_open_all_opens_the_scoped_filtered_list_only(app, world, login):
    c = login("inst_a")
    page = c.get("/persons/list/").get_data(as_text=True)
    assert 'id="open-all-accounts"' in page
    import re

    form = re.search(r'<form[^>]*id="open-all-accounts".*?</form>', page, re.S).group(0)
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    r = c.post("/persons/accounts/", data=data)
    assert r.status_code == 302
    assert _user(app, "A0000002") is not None
    assert _user(app, "B0000001") is None and _user(app, "B0000002") is None and _user(app, "C0000001") is None


def test_district_opens_its_district_only(app, world, login):
    login("district1").post("/persons/accounts/")
    assert _user(app, "A0000002") is not None and _user(app, "C0000001") is not None
    assert _user(app, "B0000002") is None


@pytest.mark.parametrize("username", ["sec_a", "tech_a", "expert"])
def test_roles_without_the_permission_cannot_open_or_reset(app, world, login, username):
    c = login(username)
    assert c.post("/persons/accounts/").status_code in (302, 403)
    _action(c, "open_accounts", world.pa2)
    assert _user(app, "A0000002") is None


def test_unit_cannot_open_or_reset_another_units_people_by_guessed_ids(app, world, login):
    c = login("inst_a")
    assert _action(c, "open_accounts", world.pb2).status_code == 404
    assert _action(c, "open_accounts", world.pa2, world.pb2).status_code == 404  # one outside refuses all
    assert _user(app, "B0000002") is None and _user(app, "A0000002") is None
    # tech_b (王五's account) cannot be reset by institution A.
    assert _action(c, "reset_passwords", world.pb).status_code == 404
    c_b, r = _web_login(app, "tech_b", PASSWORD)
    assert c_b.get("/transcript/me").status_code == 200


def test_unit_resets_to_the_initial_password_which_must_be_changed_again(app, world, login):
    c_tech, _ = _web_login(app, "tech_a", PASSWORD)
    assert c_tech.get("/transcript/me").status_code == 200
    r = _action(login("inst_a"), "reset_passwords", world.pa)
    assert r.status_code == 302
    assert _user(app, "tech_a")["must_change"] is True
    # The session opened with the old password has ended; the old password is refused.
    assert c_tech.get("/transcript/me").status_code != 200
    c, _ = _web_login(app, "tech_a", PASSWORD)
    assert c.get("/transcript/me").status_code != 200
    c, _ = _web_login(app, "tech_a", "000000")
    assert "/resetmypassword/form" in c.get("/transcript/me").headers["Location"]


def test_reset_of_a_person_without_account_is_refused(app, world, login):
    r = _action(login("inst_a"), "reset_passwords", world.pa2)
    assert r.status_code == 302
    assert _user(app, "A0000002") is None


def test_api_refuses_an_account_on_its_initial_password(app, world, login):
    _action(login("inst_a"), "open_accounts", world.pa2)
    r = app.test_client().post("/api/v1/security/login", json={"username": "A0000002", "password": "000000",
                                                                 "provider": "db"})
    token = r.get_json()["access_token"]
    r = app.test_client().get("/api/v1/credit/", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_open_accounts_service_is_idempotent_and_counts(app, world):
    from app.extensions import db
    from app.models import Person
    from app.services import users

    with app.app_context():
        persons = db.session.scalars(select(Person).where(Person.id.in_([world.pa, world.pa2, world.pb]))).all()
        first = users.open_technician_accounts(db.session, persons)
        db.session.commit()
        # 张三 has tech_a, 王五 has tech_b: only 李四 gets one.
        assert first.created == ["A0000002"] and sorted(first.existing) == ["A0000001", "B0000001"]
        second = users.open_technician_accounts(db.session, persons)
        db.session.commit()
        assert second.created == [] and len(second.existing) == 3
        db.session.remove()


def test_the_import_page_offers_to_open_the_imported_persons_accounts(app, world, login):
    import re

    page = login("inst_a").get("/persons/import/").get_data(as_text=True)
    form = re.search(r'<div class="panel panel-default" id="import-accounts">.*?</form>', page, re.S).group(0)
    assert "/persons/accounts/" in form
    assert 'id="import-accounts"' not in login("sec_a").get("/persons/import/").get_data(as_text=True)


def test_list_offers_the_account_actions_to_units_only(app, world, login):
    html = login("inst_a").get("/persons/list/").get_data(as_text=True)
    assert "批量开通账号" in html and "重置密码" in html
    html = login("sec_a").get("/persons/list/").get_data(as_text=True)
    assert "批量开通账号" not in html and "open-all-accounts" not in html


def test_an_account_unlinked_from_its_person_is_not_a_500_on_reopening(app, world, login):
    """The account opened for 李四 was renamed and unlinked by an administrator: opening again reports
    the card as taken (its e-mail is the card's) instead of failing on the unique e-mail."""
    from app.extensions import db
    from app.models import CmeUser

    c = login("inst_a")
    _action(c, "open_accounts", world.pa2)
    with app.app_context():
        user = db.session.scalar(select(CmeUser).where(CmeUser.username == "A0000002"))
        user.username, user.person_id = "renamed", None
        db.session.commit()
    r = c.post("/persons/action_post", data={"action": "open_accounts", "rowid": [str(world.pa2)]},
               follow_redirects=True)
    assert r.status_code == 200 and "已被其他账号占用" in r.get_data(as_text=True)
    assert _user(app, "A0000002") is None
