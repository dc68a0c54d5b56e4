"""Operation log and login log (SYS-5): every CRUD path writes a row with old → new values;
lists filter and export to Excel; only the city admin clears, and the clear is logged."""
import datetime
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from app.services import idcard


def _start(app) -> int:
    """Id of the newest log row, so a test reads only what it caused."""
    from app.extensions import db
    from app.models import OperationLog

    with app.app_context():
        return db.session.scalar(select(db.func.max(OperationLog.id))) or 0


def _ops(app, start, **where):
    from app.extensions import db
    from app.models import OperationLog

    with app.app_context():
        query = select(OperationLog).where(OperationLog.id > start).order_by(OperationLog.id)
        for key, value in where.items():
            query = query.where(getattr(OperationLog, key) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def _count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(db.func.count(model.id)))


def _person(app, pk):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        p = db.session.get(Person, pk)
        db.session.expunge(p)
        return p


NEW_ID = idcard.make("110101", datetime.date(1985, 3, 4), 123)


def _person_form(world, **over):
    data = {"card_no": "N0000001", "name": "周八", "id_number": NEW_ID, "institution": str(world.a),
            "department": str(world.a_dept), "title": "主治医师", "title_level": "中级", "specialty": "内科",
            "phone": "13800000000", "active": "y"}
    data.update(over)
    return data


# ---------------------------------------------------------------- CRUD through the ModelView
def test_modelview_add_edit_delete_are_logged_with_changes(app, world, login):
    from app.extensions import db
    from app.models import Person

    c = login("inst_a")
    start = _start(app)
    r = c.post("/persons/add", data=_person_form(world), environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert r.status_code == 302
    with app.app_context():
        pk = db.session.scalar(select(Person.id).where(Person.card_no == "N0000001"))
    (add,) = _ops(app, start)
    assert (add.module, add.action, add.operator, add.ip, add.status) == ("人员管理", "新增", "inst_a",
                                                                          "10.0.0.8", True)
    assert add.duration_ms is not None and add.duration_ms >= 0 and add.target == f"person:{pk}"
    changes = json.loads(add.changes)
    assert changes["name"] == [None, "周八"] and changes["id_number"] == [None, "***"]
    assert changes["institution_id"] == [None, world.a] and changes["department_id"] == [None, world.a_dept]
    assert NEW_ID not in add.changes

    # Edit two fields: exactly those two appear, old → new.
    start = _start(app)
    r = c.post(f"/persons/edit/{pk}", data=_person_form(world, phone="13900000000", specialty="外科"))
    assert r.status_code == 302
    (edit,) = _ops(app, start)
    assert (edit.module, edit.action, edit.operator) == ("人员管理", "修改", "inst_a")
    assert json.loads(edit.changes) == {"phone": ["13800000000", "13900000000"], "specialty": ["内科", "外科"]}

    # Move to another department: the link is logged by name (its id column is not repeated).
    start = _start(app)
    c.post(f"/persons/edit/{pk}", data=_person_form(world, department=str(world.a_dept2), phone="13900000000",
                                                    specialty="外科"))
    (move,) = _ops(app, start)
    changes = json.loads(move.changes)
    assert changes["department"] == ["心内科", "骨科"]
    assert set(changes) == {"department"}

    # Saving an unchanged form writes nothing.
    start = _start(app)
    c.post(f"/persons/edit/{pk}", data=_person_form(world, department=str(world.a_dept2), phone="13900000000",
                                                    specialty="外科"))
    assert _ops(app, start) == []

    start = _start(app)
    r = c.post(f"/persons/delete/{pk}")
    assert r.status_code == 302 and _ops(app, start) and _person_gone(app, pk)
    (delete,) = _ops(app, start)
    assert (delete.action, delete.operator) == ("删除", "inst_a")
    changes = json.loads(delete.changes)
    assert changes["name"] == ["周八", None] and changes["id_number"] == ["***", None]


def _person_gone(app, pk) -> bool:
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        return db.session.get(Person, pk) is None


def test_bulk_delete_writes_one_row_per_person(app, world, login):
    c = login("district1")  # pa is linked to user tech_a: leave it out
    start = _start(app)
    r = c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(world.pa2), str(world.pc)]})
    assert r.status_code == 302
    rows = _ops(app, start)
    assert sorted((r.module, r.action, r.target, r.operator) for r in rows) == sorted([
        ("人员管理", "删除", f"person:{world.pa2}", "district1"),
        ("人员管理", "删除", f"person:{world.pc}", "district1")])
    assert {json.loads(r.changes)["name"][0] for r in rows} == {"李四", "赵六"}
    assert _person_gone(app, world.pa2) and _person_gone(app, world.pc)


# ---------------------------------------------------------------- CRUD through the REST API
def test_rest_api_add_edit_delete_are_logged(app, world, login):
    c = login("inst_a")
    start = _start(app)
    r = c.post("/api/v1/person/", json={"card_no": "N0000002", "name": "吴九", "id_number": NEW_ID,
                                        "institution": world.a, "department": world.a_dept,
                                        "title": "住院医师", "title_level": "初级"})
    assert r.status_code == 201, r.get_data(as_text=True)
    pk = r.json["id"]
    (add,) = _ops(app, start)
    assert (add.module, add.action, add.operator, add.method, add.status) == ("人员管理", "新增", "inst_a",
                                                                              "POST", True)
    assert json.loads(add.changes)["name"] == [None, "吴九"] and NEW_ID not in add.changes

    start = _start(app)
    r = c.put(f"/api/v1/person/{pk}", json={"name": "吴久", "phone": "010-61231234"})
    assert r.status_code == 200, r.get_data(as_text=True)
    (edit,) = _ops(app, start)
    changes = json.loads(edit.changes)
    assert edit.action == "修改" and edit.method == "PUT"
    assert changes == {"name": ["吴九", "吴久"], "phone": [None, "010-61231234"]}

    start = _start(app)
    assert c.delete(f"/api/v1/person/{pk}").status_code == 200
    (delete,) = _ops(app, start)
    assert (delete.action, delete.target, delete.method) == ("删除", f"person:{pk}", "DELETE")


def test_jwt_writes_name_the_token_holder_as_operator(app, world, client):
    """A REST client signed in with a JWT (no session) is the operator of what it changes."""
    from tests import helpers

    r = client.post("/api/v1/security/login", json={"username": "inst_a", "password": helpers.PASSWORD,
                                                    "provider": "db"})
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    user_id = _user_id(app, "inst_a")
    start = _start(app)
    r = client.post("/api/v1/person/", headers=headers, json={
        "card_no": "N0000003", "name": "郑十", "id_number": NEW_ID, "institution": world.a,
        "department": world.a_dept, "title": "住院医师", "title_level": "初级"})
    assert r.status_code == 201, r.get_data(as_text=True)
    pk = r.json["id"]
    assert client.put(f"/api/v1/person/{pk}", headers=headers, json={"phone": "010-61237777"}).status_code == 200
    assert client.delete(f"/api/v1/person/{pk}", headers=headers).status_code == 200
    rows = _ops(app, start)
    assert [(r.action, r.operator, r.user_id, r.method) for r in rows] == [
        ("新增", "inst_a", user_id, "POST"), ("修改", "inst_a", user_id, "PUT"),
        ("删除", "inst_a", user_id, "DELETE")]
    # The next request without a token is nobody's: nothing of the JWT user lingers.
    assert client.get("/api/v1/person/").status_code == 401


def _user_id(app, username):
    from app.extensions import db
    from app.models import CmeUser

    with app.app_context():
        return db.session.scalar(select(CmeUser.id).where(CmeUser.username == username))


def test_api_edit_logs_exactly_the_changed_fields(app, world, login):
    c = login("inst_a")
    start = _start(app)
    r = c.put(f"/api/v1/person/{world.pa}", json={"phone": "010-61235555"})
    assert r.status_code == 200, r.get_data(as_text=True)
    (edit,) = _ops(app, start)
    assert json.loads(edit.changes) == {"phone": [None, "010-61235555"]}


def test_refused_write_leaves_no_log_row(app, world, login):
    c = login("inst_a")
    start = _start(app)
    r = c.put(f"/api/v1/person/{world.pb}", json={"phone": "1"})
    assert r.status_code == 404
    assert _ops(app, start) == []


# ---------------------------------------------------------------- custom actions
def test_export_writes_an_export_row(app, world, login):
    c = login("inst_a")
    start = _start(app)
    r = c.get("/persons/export/")
    assert r.status_code == 200
    (row,) = _ops(app, start)
    assert (row.module, row.action, row.operator, row.status) == ("人员管理", "导出", "inst_a", True)


def test_operation_decorator_logs_failure_and_duration(app):
    from app.oplog import operation

    @operation("测试模块", "审核")
    def ok():
        return 1

    @operation("测试模块", "审核")
    def boom():
        raise ValueError("坏了")

    start = _start(app)
    with app.test_request_context("/x"):
        assert ok() == 1
        with pytest.raises(ValueError):
            boom()
    good, bad = _ops(app, start)
    assert (good.module, good.action, good.status) == ("测试模块", "审核", True)
    assert bad.status is False and "坏了" in bad.message and bad.duration_ms is not None


# ---------------------------------------------------------------- clear, append-only
def test_city_admin_clears_operation_log_and_the_clear_is_logged(app, world, login):
    from app.models import OperationLog

    assert _count(app, OperationLog) > 0
    r = login("city").post("/oplog/clear/")
    assert r.status_code == 302
    (row,) = _ops(app, 0)
    assert (row.module, row.action, row.operator) == ("操作日志", "清空", "city")


def test_city_admin_clears_login_log_and_the_clear_is_logged(app, world, login):
    from app.models import LoginLog

    c = login("city")
    assert _count(app, LoginLog) >= 1
    start = _start(app)
    assert c.post("/loginlog/clear/").status_code == 302
    assert _count(app, LoginLog) == 0
    (row,) = _ops(app, start)
    assert (row.module, row.action, row.operator) == ("登录日志", "清空", "city")


@pytest.mark.parametrize("username", ["district1", "inst_a", "sec_a", "tech_a", "expert"])
def test_other_roles_cannot_clear_or_read_logs(app, world, login, username):
    from app.models import LoginLog, OperationLog

    c = login(username)
    ops, logins = _count(app, OperationLog), _count(app, LoginLog)
    for url in ("/oplog/clear/", "/loginlog/clear/"):
        assert c.post(url).status_code == 403
    for url in ("/oplog/list/", "/loginlog/list/", "/oplog/export/", "/loginlog/export/"):
        assert c.get(url).status_code == 403
    assert _count(app, OperationLog) == ops and _count(app, LoginLog) == logins


@pytest.mark.parametrize("username", ["city", "district1"])
def test_logs_are_append_only(app, world, login, username):
    from app.extensions import db
    from app.models import LoginLog, OperationLog

    c = login(username)
    with app.app_context():
        op = db.session.scalar(select(OperationLog.id).order_by(OperationLog.id))
        lg = db.session.scalar(select(LoginLog.id).order_by(LoginLog.id))
    ops, logins = _count(app, OperationLog), _count(app, LoginLog)
    for base, pk in (("/oplog", op), ("/loginlog", lg)):
        assert c.get(f"{base}/edit/{pk}").status_code in (403, 404)
        assert c.post(f"{base}/edit/{pk}", data={"module": "x", "username": "x"}).status_code in (403, 404)
        assert c.post(f"{base}/delete/{pk}").status_code in (403, 404)
        assert c.get(f"{base}/delete/{pk}").status_code in (403, 404)
        assert c.post(f"{base}/add", data={"module": "x", "username": "x"}).status_code in (403, 404)
        assert c.post(f"{base}/action_post", data={"action": "muldelete", "rowid": [str(pk)]}).status_code in (
            403, 404)
        assert c.post(f"{base}/action/muldelete/{pk}").status_code in (403, 404)
    assert _count(app, OperationLog) == ops and _count(app, LoginLog) == logins
    with app.app_context():
        assert db.session.get(OperationLog, op).module != "x"


def test_api_cannot_touch_logs(app, world, login):
    c = login("city")
    for url in ("/api/v1/operationlog/", "/api/v1/loginlog/"):
        assert c.get(url).status_code == 404


# ---------------------------------------------------------------- lists and Excel export
def _xlsx(response):
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_oplog_list_filters_and_export_honours_filters(app, world, login):
    c = login("inst_a")
    c.post(f"/persons/edit/{world.pa}", data=_person_form(world, card_no="A0000001", name="张三丰",
                                                            id_number=""))
    c.get("/persons/export/")
    city = login("city")
    html = city.get("/oplog/list/?_flt_0_module=人员管理").get_data(as_text=True)
    assert "人员管理" in html and "组织机构" not in html.split("<table")[-1]
    rows = _xlsx(city.get("/oplog/export/?_flt_0_module=人员管理"))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["日志编号", "系统模块", "操作类型", "操作人员"]
    assert body and {r[1] for r in body} == {"人员管理"}
    actions = {r[2] for r in body}
    assert {"修改", "导出"} <= actions
    # One edit, one row: the derived pinyin initials are written in the same flush as the name.
    (edit,) = [r for r in body if r[2] == "修改" and r[3] == "inst_a"]
    assert json.loads(edit[header.index("变更内容")])["name_initials"] == ["zs", "zsf"]
    assert json.loads(edit[header.index("变更内容")])["name"] == ["张三", "张三丰"]
    assert edit[header.index("操作状态")] == "成功"
    # Without a filter the export holds the other modules too.
    everything = _xlsx(city.get("/oplog/export/"))[1:]
    assert len(everything) > len(body) and "组织机构" in {r[1] for r in everything}
    # Filter on operator and action together.
    only = _xlsx(city.get("/oplog/export/?_flt_0_operator=inst_a&_flt_0_action=导出"))[1:]
    assert len(only) == 1 and only[0][2] == "导出"


def test_login_log_list_and_export_with_filters(app, world, login):
    anon = app.test_client()
    anon.post("/login/", data={"username": "inst_a", "password": "bad-Pass-1"})
    c = login("city")
    html = c.get("/loginlog/list/").get_data(as_text=True)
    assert "inst_a" in html and "用户名或密码错误" in html and "失败" in html
    rows = _xlsx(c.get("/loginlog/export/?_flt_0_username=inst_a"))
    header, body = rows[0], rows[1:]
    assert header == ["访问编号", "用户名称", "登录地址", "登录地点", "浏览器", "操作系统", "登录状态", "操作信息", "登录日期"]  # seed 003 系统安全日志
    assert len(body) == 1 and body[0][1] == "inst_a" and body[0][6] == "失败" and body[0][3] == "本机"
    assert body[0][7] == "用户名或密码错误"
    assert isinstance(body[0][8], datetime.datetime)
    ok = _xlsx(c.get("/loginlog/export/?_flt_0_success=y"))[1:]
    assert ok and {r[6] for r in ok} == {"成功"} and "city" in {r[1] for r in ok}


def test_show_page_of_an_operation(app, world, login):
    c = login("inst_a")
    start = _start(app)
    c.post(f"/persons/edit/{world.pa}", data=_person_form(world, card_no="A0000001", name="张三", id_number="",
                                                            phone="010-61230001"))
    (row,) = _ops(app, start)
    html = login("city").get(f"/oplog/show/{row.id}").get_data(as_text=True)
    assert "<td>联系电话</td><td></td><td>010-61230001</td>" in html
    assert "人员管理" in html and "inst_a" in html
