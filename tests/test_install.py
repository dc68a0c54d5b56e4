"""First install (issue 12 item 1): `flask cme init` on an empty database creates the city and the first
市继教办 administrator; that admin adds a district and its administrator from the pages, who logs in.
Runs on a database of its own (SQLite file and a fresh PostgreSQL database), not the shared test app."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests import conftest

ADMIN_PASSWORD = "Region#2026ok"


def _fresh(backend, tmp_path):
    from app import create_app
    from app.extensions import db

    url = f"sqlite:///{tmp_path / 'fresh.db'}" if backend == "sqlite" else conftest._create_pg_database()
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=url, JOB_FILES_DIR=str(tmp_path / "jobs"),
                             JOBS_SYNC=True)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if backend == "postgresql":
        conftest._drop_pg_database(url)


@pytest.fixture
def fresh_app(backend, tmp_path):
    """An empty database of each backend (migrations only, as `flask cme init` leaves it)."""
    yield from _fresh(backend, tmp_path)


@pytest.fixture
def sqlite_app(tmp_path):
    """An empty SQLite database: the command's answers do not depend on the backend."""
    yield from _fresh("sqlite", tmp_path)


def _init(application, *args, env=None):
    return application.test_cli_runner().invoke(args=["cme", "init", *args], env=env or {})


def _post_login(client, username, password):
    return client.post("/login/", data={"username": username, "password": password})


def test_empty_database_to_a_district_admin_logging_in(fresh_app):
    from app.extensions import db
    from app.models import CmeUser, Org, Parameter
    from app.services import roles as R

    result = _init(fresh_app, "--city-name", "徐州市", "--city-code", "3203", "--admin-username", "cityadmin",
                   "--admin-password", ADMIN_PASSWORD)
    assert result.exit_code == 0, result.output
    assert "已创建市：徐州市" in result.output and "已创建市继教办管理员 cityadmin" in result.output
    with fresh_app.app_context():
        city = db.session.scalar(select(Org).where(Org.kind == "city"))
        assert (city.name, city.code, city.parent_id) == ("徐州市", "3203", None)
        admin = fresh_app.appbuilder.sm.find_user(username="cityadmin")
        assert admin.org_id == city.id and [r.name for r in admin.roles] == [R.CITY_ADMIN]
        assert db.session.scalar(select(Parameter.value).where(Parameter.key == "region")) == "徐州市"
        city_id = city.id
        district_role = fresh_app.appbuilder.sm.find_role(R.DISTRICT_ADMIN).id

    admin_client = fresh_app.test_client()
    assert _post_login(admin_client, "cityadmin", ADMIN_PASSWORD).status_code == 302
    # The add form offers the city as the district's parent (the only city there is).
    form = admin_client.get("/districtview/add").get_data(as_text=True)
    assert re.search(rf'<option[^>]*value="{city_id}"[^>]*>\s*徐州市', form), form[:3000]
    r = admin_client.post("/districtview/add", data={"parent": str(city_id), "name": "鼓楼区", "code": "320302",
                                                     "sort": "0", "active": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with fresh_app.app_context():
        district = db.session.scalar(select(Org).where(Org.kind == "district"))
        assert (district.name, district.parent_id, district.district_id) == ("鼓楼区", city_id, district.id)
        district_id = district.id
    r = admin_client.post("/users/add", data={
        "username": "gulou", "last_name": "鼓楼区", "first_name": "卫健委", "email": "gulou@cme.local",
        "roles": [str(district_role)], "org": str(district_id), "active": "y",
        "password": "Gulou#2026ok", "conf_password": "Gulou#2026ok"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]

    district_client = fresh_app.test_client()
    assert _post_login(district_client, "gulou", "Gulou#2026ok").status_code == 302
    home = district_client.get("/")
    assert home.status_code == 200
    assert "gulou" in home.get_data(as_text=True) or "鼓楼区" in home.get_data(as_text=True)
    # The district admin sees its own district and adds an institution under it.
    listing = district_client.get("/districtview/list/").get_data(as_text=True)
    assert "鼓楼区" in listing
    r = district_client.post("/institutionview/add", data={
        "parent": str(district_id), "name": "徐州市第一人民医院", "code": "320302001", "level": "三级",
        "inst_type": "医院", "sort": "0", "active": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with fresh_app.app_context():
        inst = db.session.scalar(select(Org).where(Org.kind == "institution"))
        assert (inst.parent_id, inst.district_id) == (district_id, district_id)
        assert db.session.scalar(select(CmeUser.org_id).where(CmeUser.username == "gulou")) == district_id

    # The rest of the region from the organization Excel import: a district under the city (上级编码 left
    # empty), its institution and department; the job runs at once here (JOBS_SYNC).
    from app.services.org_import import COLUMNS
    from tests.helpers import xlsx_bytes

    assert "/orgs/import/" in admin_client.get("/").get_data(as_text=True)  # in the 组织机构 menu
    book = xlsx_bytes([["区", "云龙区", "320303", "", "", "", "", "", ""],
                       ["机构", "云龙区人民医院", "320303001", "320303", "二级", "医院", "", "", ""],
                       ["科室", "内科", "32030300101", "320303001", "", "", "", "", ""]], header=COLUMNS)
    r = admin_client.post("/orgs/import/", data={"file": (book, "orgs.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 302 and "job=" in r.location
    with fresh_app.app_context():
        dept = db.session.scalar(select(Org).where(Org.code == "32030300101"))
        assert dept is not None and dept.parent.parent.parent_id == city_id


def test_init_refuses_bad_answers_then_changes_nothing_when_run_again(sqlite_app):
    from app.extensions import db
    from app.models import CmeUser, Org

    bare = _init(sqlite_app)  # not a terminal: nothing is asked, the output says what to pass
    assert bare.exit_code == 0 and "尚未设置所在市" in bare.output
    bad_code = _init(sqlite_app, "--city-name", "徐州市", "--city-code", "32 03")
    assert bad_code.exit_code != 0 and "市的编码须为2至32位数字或字母" in bad_code.output
    weak = _init(sqlite_app, "--city-name", "徐州市", "--city-code", "3203", "--admin-username", "cityadmin",
                 "--admin-password", "weakpass")
    assert weak.exit_code != 0 and "密码至少8位" in weak.output
    with sqlite_app.app_context():
        assert db.session.scalar(select(Org.name)) == "徐州市"  # the city went in before the refusal
        assert db.session.scalar(select(db.func.count()).select_from(CmeUser)) == 0
    fixed = _init(sqlite_app, "--admin-username", "cityadmin", "--admin-password", ADMIN_PASSWORD)
    assert fixed.exit_code == 0 and "已创建市继教办管理员 cityadmin，所属 徐州市" in fixed.output
    with sqlite_app.app_context():
        before = db.session.scalar(select(CmeUser.password).where(CmeUser.username == "cityadmin"))
    again = _init(sqlite_app, "--city-name", "南京市", "--city-code", "3201", "--admin-username", "cityadmin",
                  "--admin-password", "Other#2026pw")
    assert again.exit_code == 0, again.output
    assert "所在市已存在：徐州市" in again.output and "未应用" in again.output
    assert "用户 cityadmin 已存在，未修改" in again.output
    bare = _init(sqlite_app)  # an upgrade after a code update: no answers needed
    assert bare.exit_code == 0 and "市继教办管理员已存在：cityadmin" in bare.output
    with sqlite_app.app_context():
        assert [(o.name, o.code) for o in db.session.scalars(select(Org))] == [("徐州市", "3203")]
        assert db.session.scalar(select(CmeUser.password).where(CmeUser.username == "cityadmin")) == before
        assert db.session.scalar(select(db.func.count()).select_from(CmeUser)) == 1
    assert _post_login(sqlite_app.test_client(), "cityadmin", ADMIN_PASSWORD).status_code == 302


def test_init_prompts_in_a_terminal(sqlite_app, monkeypatch):
    from app import cli

    monkeypatch.setattr(cli, "_interactive", lambda: True)
    result = sqlite_app.test_cli_runner().invoke(
        args=["cme", "init"], input=f"徐州市\n3203\ncityadmin\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "已创建市：徐州市" in result.output and "已创建市继教办管理员 cityadmin" in result.output
    assert ADMIN_PASSWORD not in result.output  # the password prompt hides the input
    assert _post_login(sqlite_app.test_client(), "cityadmin", ADMIN_PASSWORD).status_code == 302


def test_demo_after_init_builds_under_the_installed_city(sqlite_app):
    from app.extensions import db
    from app.models import Org

    assert _init(sqlite_app, "--city-name", "北京市", "--city-code", "1100", "--admin-username", "cityadmin",
                 "--admin-password", ADMIN_PASSWORD).exit_code == 0
    with sqlite_app.app_context():
        from app.cli import build_demo

        build_demo(persons=20, institutions=None, activity=False)
        cities = list(db.session.scalars(select(Org).where(Org.kind == "city")))
        assert [(c.name, c.code) for c in cities] == [("北京市", "1100")]
        parents = set(db.session.scalars(select(Org.parent_id).where(Org.kind == "district")))
        assert parents == {cities[0].id}
        assert sqlite_app.appbuilder.sm.find_user(username="admin").org_id == cities[0].id
