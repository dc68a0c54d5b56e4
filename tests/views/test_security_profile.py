"""Admin tooling (issue 15 item 6): 个人资料 with one 名称 field (an organization account has no 名/姓),
修改密码 one click from the user menu."""
from __future__ import annotations

import re

from sqlalchemy import select


def _user(app, username):
    from app.extensions import db
    from app.models import CmeUser

    with app.app_context():
        u = db.session.scalar(select(CmeUser).where(CmeUser.username == username))
        out = (u.last_name, u.first_name)
        db.session.remove()
        return out


def test_org_account_profile_has_one_name_field(app, world, login):
    c = login("inst_a")
    html = c.get("/userinfoeditview/form").get_data(as_text=True)
    assert 'name="full_name"' in html and "名称" in html
    assert 'name="first_name"' not in html and 'name="last_name"' not in html
    r = c.post("/userinfoeditview/form", data={"full_name": "甲医院继教办"})
    assert r.status_code == 302
    assert _user(app, "inst_a") == ("甲医院继教办", "")
    info = c.get("/users/userinfo/").get_data(as_text=True)
    assert "甲医院继教办" in info and ">名<" not in info and ">姓<" not in info


def test_person_account_profile_reads_name(app, world, login):
    c = login("tech_a")
    html = c.get("/userinfoeditview/form").get_data(as_text=True)
    assert "姓名" in html and 'name="full_name"' in html
    assert c.post("/userinfoeditview/form", data={"full_name": ""}).status_code == 200  # required
    assert _user(app, "tech_a") == ("tech_a", "")


def test_change_password_is_one_click_from_the_user_menu(app, world, login):
    html = login("sec_a").get("/").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" id="nav-change-password">', html)
    assert link and link.group(1) == "/resetmypassword/form"
    assert login("sec_a").get(link.group(1)).status_code == 200
