"""Deleting rows still referred to by other data (issue 2, SYS-2/3): a Chinese message naming the rows
and what refers to them, the request rolled back, nothing deleted — single, bulk and REST, on SQLite
(foreign keys not enforced there) and PostgreSQL (where the driver's English error used to show)."""
from __future__ import annotations

import datetime
import html as htmllib
import re

from sqlalchemy import select

from tests import helpers
from tests.credit_helpers import credit


def _flashes(page: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>|\s+", " ", m)).strip()
                    for m in re.findall(r'<div class="alert[^"]*">(.*?)</div>', page, re.DOTALL))


def _alive(app, model, *pks) -> list:
    from app.extensions import db

    with app.app_context():
        return [pk for pk in pks if db.session.get(model, pk) is not None]


def test_bulk_delete_of_a_referred_person_deletes_nothing(app, world, login):
    from app.models import Person

    c = login("city")
    # 张三 is the account tech_a's person; 李四 is free: one referred row refuses the batch.
    r = c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(world.pa), str(world.pa2)]},
               follow_redirects=True)
    text = _flashes(r.get_data(as_text=True))
    assert "“张三（A0000001）”已被其他数据引用（用户管理），不能删除；未删除任何记录" in text, text
    assert "李四" not in text and "Error" not in text and "violat" not in text
    assert _alive(app, Person, world.pa, world.pa2) == [world.pa, world.pa2]
    # The free row alone goes.
    r = c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(world.pa2)]},
               follow_redirects=True)
    assert "已删除 1 条记录" in _flashes(r.get_data(as_text=True))
    assert _alive(app, Person, world.pa2) == []


def test_single_delete_of_a_person_with_credits_is_refused_in_chinese(app, world, login):
    from app.extensions import db
    from app.models import Credit, Person

    with app.app_context():
        kept = credit(world.pb2, 2, datetime.date(2025, 6, 1), content="孙七的活动").id
        db.session.commit()
    c = login("city")
    r = c.post(f"/persons/delete/{world.pb2}", follow_redirects=True)
    text = _flashes(r.get_data(as_text=True))
    # Named by what refers to it: the credit and the compliance result stored from it.
    assert re.search(r"“孙七（B0000002）”已被其他数据引用（[^）]*学分记录[^）]*），不能删除", text), text
    assert _alive(app, Person, world.pb2) == [world.pb2] and _alive(app, Credit, kept) == [kept]
    # The same through the REST API: 422 with the Chinese reason, nothing deleted.
    r = c.delete(f"/api/v1/person/{world.pb2}")
    assert r.status_code == 422 and "学分记录" in r.get_json()["message"]
    assert _alive(app, Person, world.pb2) == [world.pb2]
    # A JWT client gets the same answer.
    token = app.test_client().post("/api/v1/security/login", json={
        "username": "city", "password": helpers.PASSWORD, "provider": "db"}).get_json()["access_token"]
    r = app.test_client().delete(f"/api/v1/person/{world.pb2}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and "学分记录" in r.get_json()["message"]


def test_department_and_institution_anchoring_accounts(app, world, login):
    from app.cli import add_user
    from app.extensions import db
    from app.models import Org
    from app.services import roles as R

    with app.app_context():
        # No persons or sub-units left, but accounts are still anchored to them.
        eye = Org(kind="department", name="眼科", code="TA9", parent=db.session.get(Org, world.a))
        new = Org(kind="institution", name="丁医院", code="TD", level="一级", inst_type="医院",
                  parent=db.session.get(Org, world.d2))
        db.session.add_all([eye, new])
        db.session.flush()
        add_user("sec_eye", R.DEPARTMENT_SECRETARY, last_name="眼", first_name="", password=helpers.PASSWORD, org=eye)
        add_user("inst_d", R.INSTITUTION_ADMIN, last_name="丁", first_name="", password=helpers.PASSWORD, org=new)
        db.session.commit()
        eye_id, new_id = eye.id, new.id
    c = login("city")
    r = c.post(f"/departmentview/delete/{eye_id}", follow_redirects=True)
    assert "“眼科”已被其他数据引用（用户管理），不能删除" in _flashes(r.get_data(as_text=True))
    r = c.post("/institutionview/action_post", data={"action": "muldelete", "rowid": [str(new_id)]},
               follow_redirects=True)
    assert "“丁医院”已被其他数据引用（用户管理），不能删除；未删除任何记录" in _flashes(r.get_data(as_text=True))
    assert _alive(app, Org, eye_id, new_id) == [eye_id, new_id]


def test_a_free_department_is_deleted(app, world, login):
    from app.extensions import db
    from app.models import OperationLog, Org

    with app.app_context():
        free = Org(kind="department", name="口腔科", code="TA8", parent=db.session.get(Org, world.a))
        db.session.add(free)
        db.session.commit()
        free_id = free.id
    r = login("inst_a").post(f"/departmentview/delete/{free_id}", follow_redirects=True)
    assert "删除成功" in _flashes(r.get_data(as_text=True))
    assert _alive(app, Org, free_id) == []
    with app.app_context():
        assert db.session.scalar(select(OperationLog.operator).where(
            OperationLog.target == f"org:{free_id}", OperationLog.action == "删除")) == "inst_a"


def test_database_refusal_behind_the_check_is_still_chinese(app, world, login, monkeypatch):
    """Should a reference escape the check, the database's refusal is shown in Chinese, not as the
    driver's text (PostgreSQL; SQLite does not enforce the foreign key)."""
    from app.models import Person
    from app.services import references

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    monkeypatch.setattr(references, "blockers", lambda session, items: {})
    c = login("city")
    r = c.post(f"/persons/delete/{world.pa}", follow_redirects=True)
    assert "删除失败：该记录已被其他数据引用，不能删除" in _flashes(r.get_data(as_text=True))
    r = c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(world.pa)]},
               follow_redirects=True)
    assert "删除失败：所选记录仍被其他数据引用，未删除任何记录" in _flashes(r.get_data(as_text=True))
    r = c.delete(f"/api/v1/person/{world.pa}")
    assert r.status_code == 422 and r.get_json()["message"] == "删除失败：该记录已被其他数据引用，不能删除"
    assert _alive(app, Person, world.pa) == [world.pa]
