"""Logs (issue 16 item 12). Seed 003 系统安全日志: "访问编号 用户名称 登录地址 登录地点 浏览器 操作系统 登录状态
操作信息 登录日期" and "日志编号 系统模块 操作类型 操作人员 操作地址 操作地点 …", with the buttons "清除, 清空, 导出":
the place is derived offline from the IP; 清除 deletes the selected rows (city admin only, logged)."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD


@pytest.mark.parametrize("ip, place", [
    ("58.218.0.1", "江苏省徐州市 电信"), ("202.106.0.20", "北京市 联通"), ("8.8.8.8", "美国 Level3"),
    ("127.0.0.1", "本机"), ("::1", "本机"), ("10.2.3.4", "内网"), ("192.168.1.10", "内网"), ("172.16.0.9", "内网"),
    ("::ffff:58.218.0.1", "江苏省徐州市 电信"), ("not-an-ip", "未知"), ("", ""), (None, ""),
])
def test_location_of_an_address_offline(ip, place):
    from app.ip_region import location

    assert location(ip) == place


def test_login_log_shows_the_login_place(app, world, login):
    c = app.test_client()
    c.post("/login/", data={"username": "inst_a", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "58.218.0.1"})
    html = login("city").get("/loginlog/list/").get_data(as_text=True)
    assert "登录地点" in html and "江苏省徐州市 电信" in html and "本机" in html


def test_operation_log_shows_and_exports_the_place(app, world, login):
    from app.extensions import db
    from app.models import OperationLog

    with app.app_context():
        db.session.add(OperationLog(module="人员管理", action="修改", operator="inst_a", ip="202.106.0.20",
                                    status=True))
        db.session.commit()
        pk = db.session.scalar(select(db.func.max(OperationLog.id)))
    city = login("city")
    assert "北京市 联通" in city.get("/oplog/list/").get_data(as_text=True)
    assert "北京市 联通" in city.get(f"/oplog/show/{pk}").get_data(as_text=True)
    ws = openpyxl.load_workbook(io.BytesIO(city.get("/oplog/export/").data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert "操作地点" in rows[0]
    col = rows[0].index("操作地点")
    assert "北京市 联通" in {r[col] for r in rows[1:]}


def _rows(app, model):
    from app.extensions import db

    with app.app_context():
        return sorted(db.session.scalars(select(model.id)))


@pytest.mark.parametrize("base, model_name", [("/oplog", "OperationLog"), ("/loginlog", "LoginLog")])
def test_city_admin_removes_selected_rows_and_the_removal_is_logged(app, world, login, base, model_name):
    import app.models as models

    model = getattr(models, model_name)
    login("inst_a")
    c = login("city")  # two login rows
    c.get("/persons/export/")  # and one more operation row
    ids = _rows(app, model)
    assert len(ids) >= 2
    page = c.get(f"{base}/list/").get_data(as_text=True)
    assert "清除" in page and 'name="rowid"' in page  # rows can be ticked
    r = c.post(f"{base}/action_post", data={"action": "remove", "rowid": [str(ids[0]), str(ids[1])]})
    assert r.status_code == 302
    left = _rows(app, model)
    assert ids[0] not in left and ids[1] not in left and set(ids[2:]) <= set(left)
    from app.extensions import db
    from app.models import OperationLog

    with app.app_context():
        row = db.session.scalars(select(OperationLog).order_by(OperationLog.id.desc())).first()
        assert (row.action, row.operator) == ("清除", "city") and str(ids[0]) in row.message


@pytest.mark.parametrize("username", ["district1", "inst_a", "sec_a", "tech_a", "expert"])
def test_other_roles_cannot_remove_log_rows(app, world, login, username):
    from app.models import LoginLog, OperationLog

    c = login(username)
    for base, model in (("/oplog", OperationLog), ("/loginlog", LoginLog)):
        ids = _rows(app, model)
        r = c.post(f"{base}/action_post", data={"action": "remove", "rowid": [str(i) for i in ids]})
        assert r.status_code == 403
        assert _rows(app, model) == ids


def test_unknown_action_and_single_row_route_are_404(app, world, login):
    c = login("city")
    assert c.post("/oplog/action_post", data={"action": "nope", "rowid": ["1"]}).status_code == 404
    assert c.post("/oplog/action/remove/1").status_code == 404
