"""Home page per role (SYS-7) and notices (SYS-6)."""
import re
import uuid

import pytest
from sqlalchemy import select

ALL_USERS = ["city", "district1", "district2", "inst_a", "inst_b", "sec_a", "sec_b", "tech_a", "tech_b",
             "expert", "site"]


def _notice_titles(html: str) -> list[str]:
    block = re.search(r'id="notice-list">(.*?)</ul>', html, re.DOTALL).group(1)
    return re.findall(r'<a href="[^"]*">([^<]*)</a>', block)


def _cards(html: str) -> dict[str, int]:
    return {label: int(number) for number, label in re.findall(
        r'class="cme-card-number">(\d+)</div><div class="cme-card-label">([^<]*)</div>', html)}


def _publish(login, username, title, published=True):
    data = {"title": title, "content": f"{title}的正文", **({"published": "y"} if published else {})}
    r = login(username).post("/notices/add", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def _notice_id(app, title):
    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        return db.session.scalar(select(Notice.id).where(Notice.title == title))


# ---------------------------------------------------------------- notices
def test_city_notice_reaches_every_role(app, world, login):
    _publish(login, "city", "关于2026年度学分审验的通知")
    for username in ALL_USERS:
        html = login(username).get("/").get_data(as_text=True)
        assert _notice_titles(html) == ["关于2026年度学分审验的通知"], username


def test_district_notice_reaches_its_district_only(app, world, login):
    _publish(login, "district1", "东城区继教工作安排")
    inside = ["district1", "inst_a", "sec_a", "tech_a", "site", "city"]
    outside = ["district2", "inst_b", "sec_b", "tech_b", "expert"]
    for username in inside[:-1]:
        assert "东城区继教工作安排" in _notice_titles(login(username).get("/").get_data(as_text=True)), username
    for username in outside:
        assert _notice_titles(login(username).get("/").get_data(as_text=True)) == [], username
    # The city admin sees it in the notice list (all notices), not on its home page.
    assert "东城区继教工作安排" in login("city").get("/notices/list/").get_data(as_text=True)


def test_unpublished_notice_is_not_shown(app, world, login):
    _publish(login, "city", "草稿通知", published=False)
    for username in ("city", "inst_a", "tech_a"):
        assert "草稿通知" not in login(username).get("/").get_data(as_text=True)


def test_every_reader_can_open_a_notice_from_the_home_page(app, world, login):
    _publish(login, "district1", "东城区通知")
    pk = _notice_id(app, "东城区通知")
    for username in ("tech_a", "inst_a", "sec_a", "site", "district1"):
        c = login(username)
        html = c.get("/").get_data(as_text=True)
        href = re.search(r'id="notice-list">.*?<a href="([^"]*)"', html, re.DOTALL).group(1)
        page = c.get(href)
        assert page.status_code == 200, username
        assert "东城区通知的正文" in page.get_data(as_text=True)
    # Outside the district the same link is not found.
    for username in ("tech_b", "inst_b", "district2"):
        assert login(username).get(f"/notice/{pk}").status_code == 404
    _publish(login, "city", "未发布", published=False)
    assert login("tech_a").get(f"/notice/{_notice_id(app, '未发布')}").status_code == 404


def test_district_admin_cannot_edit_or_delete_city_or_other_district_notice(app, world, login):
    from app.extensions import db
    from app.models import Notice

    _publish(login, "city", "市级通知")
    _publish(login, "district2", "西城区通知")
    c = login("district1")
    for title in ("市级通知", "西城区通知"):
        pk = _notice_id(app, title)
        assert c.get(f"/notices/edit/{pk}").status_code == 404
        c.post(f"/notices/edit/{pk}", data={"title": "改了", "content": "x", "published": "y"})
        c.post(f"/notices/delete/{pk}")
        c.post("/notices/action_post", data={"action": "muldelete", "rowid": [str(pk)]})
        with app.app_context():
            notice = db.session.get(Notice, pk)
            assert notice is not None and notice.title == title
    # Its own notice it may edit; the district stays its own.
    _publish(login, "district1", "东城区通知")
    pk = _notice_id(app, "东城区通知")
    assert c.post(f"/notices/edit/{pk}", data={"title": "东城区通知（更正）", "content": "x",
                                               "published": "y"}).status_code == 302
    with app.app_context():
        notice = db.session.get(Notice, pk)
        assert notice.title == "东城区通知（更正）" and notice.district_id == world.d1


@pytest.mark.parametrize("username", ["inst_a", "sec_a", "tech_a"])
def test_other_roles_cannot_publish(app, world, login, username):
    from app.extensions import db
    from app.models import Notice

    c = login(username)
    assert c.post("/notices/add", data={"title": "越权", "content": "x", "published": "y"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Notice.id))) == 0


def test_publishing_is_logged(app, world, login):
    from app.extensions import db
    from app.models import OperationLog

    _publish(login, "district1", "东城区通知")
    with app.app_context():
        row = db.session.scalar(select(OperationLog).where(OperationLog.module == "通知公告"))
        assert (row.action, row.operator) == ("新增", "district1")


# ---------------------------------------------------------------- home counts
def test_home_counts_are_within_scope(app, world, login):
    expected = {
        "city": {"医疗机构": 3, "科室": 4, "人员": 5},
        "district1": {"医疗机构": 2, "科室": 3, "人员": 3},
        "district2": {"医疗机构": 1, "科室": 1, "人员": 2},
        "inst_a": {"科室": 2, "人员": 2},
        "inst_b": {"科室": 1, "人员": 2},
        "sec_a": {"人员": 1},
        "sec_b": {"人员": 2},
    }
    for username, cards in expected.items():
        html = login(username).get("/").get_data(as_text=True)
        assert _cards(html) == cards, username


def test_home_cards_link_to_pages_the_role_can_open(app, world, login):
    for username in ("city", "district1", "inst_a", "sec_a"):
        c = login(username)
        html = c.get("/").get_data(as_text=True)
        links = re.findall(r'<a class="cme-card" href="([^"]+)"', html)
        assert links, username
        for href in links:
            assert c.get(href).status_code == 200, (username, href)


def test_home_for_roles_without_scope_shows_no_counts(app, world, login):
    for username in ("tech_a", "expert", "site"):
        html = login(username).get("/").get_data(as_text=True)
        assert _cards(html) == {} and "欢迎" in html


def test_anonymous_is_sent_to_login(app, world, client):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def _add_job(app, username, status, days_ago=0):
    import datetime

    from app.extensions import db
    from app.models import Job

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        created = datetime.datetime.now() - datetime.timedelta(days=days_ago)
        db.session.add(Job(id=str(uuid.uuid4()), kind="person_import", title="人员导入", user_id=user.id,
                           status=status, created_at=created))
        db.session.commit()


def test_failed_and_running_jobs_are_todos_of_their_owner_only(app, world, login):
    c = login("inst_a")
    _add_job(app, "inst_a", "failed", days_ago=30)  # old failures are no longer to-dos
    _add_job(app, "inst_a", "finished")
    assert "暂无待办事项" in c.get("/").get_data(as_text=True)
    _add_job(app, "inst_a", "failed")
    _add_job(app, "inst_a", "running")
    html = c.get("/").get_data(as_text=True)
    todos = re.search(r'id="todo-list">(.*?)</ul>', html, re.DOTALL).group(1)
    assert "1 个后台任务失败" in todos and "1 个后台任务正在执行" in todos
    href = re.search(r'<a href="([^"]+)"', todos).group(1)
    assert c.get(href).status_code == 200
    assert "暂无待办事项" in login("inst_b").get("/").get_data(as_text=True)


def test_notice_board_lists_every_addressed_notice_by_page(app, world, login):
    import datetime

    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        start = datetime.datetime(2026, 1, 1)
        db.session.add_all([Notice(title=f"市级通知{i:02d}", content="x", published=True,
                                   created_at=start + datetime.timedelta(days=i)) for i in range(25)])
        db.session.add(Notice(title="西城区通知", content="x", published=True, district_id=world.d2,
                              created_at=start + datetime.timedelta(days=40)))
        db.session.commit()
    c = login("tech_a")
    home = c.get("/").get_data(as_text=True)
    assert len(_notice_titles(home)) == 8 and 'id="notice-more"' in home
    first = c.get("/notice/").get_data(as_text=True)
    titles = re.findall(r'<a href="/notice/\d+">([^<]*)</a>', first)
    assert titles[0] == "市级通知24" and len(titles) == 20 and "下一页" in first
    second = c.get("/notice/?page=2").get_data(as_text=True)
    titles2 = re.findall(r'<a href="/notice/\d+">([^<]*)</a>', second)
    assert titles2 == [f"市级通知{i:02d}" for i in range(4, -1, -1)] and "下一页" not in second
    assert "西城区通知" not in first + second
    assert "西城区通知" in login("tech_b").get("/notice/").get_data(as_text=True)


def test_city_admin_is_told_when_no_rule_set_is_in_force_today(app, world, login):
    """A fresh install ships Beijing 2025 (in force 2025-01-01 … 2025-12-31): once that year is over,
    the wizard and manual entry have no rule set to compute with — the publisher's home says so."""
    import datetime

    from app.extensions import db
    from app.services import credit_records

    with app.app_context():
        assert credit_records.rule_set_missing(db.session, datetime.date(2025, 6, 1)) is None
        assert credit_records.rule_set_missing(db.session, datetime.date(2026, 11, 29)) == {
            "region": "北京市", "day": "2026-11-29"}
        in_force = credit_records.rule_set_missing(db.session) is None
    c = login("city")
    html = c.get("/").get_data(as_text=True)
    todos = re.search(r'id="todo-list">(.*?)</ul>', html, re.DOTALL)
    if in_force:  # the tests run on a day Beijing 2025 is in force
        assert "没有在今天" not in html
    else:
        assert "北京市没有在今天" in todos.group(1) and "请在“授分规则”中复制上一年度的规则集" in todos.group(1)
        href = re.search(r'<a href="([^"]+)"[^>]*>\s*北京市没有在今天', todos.group(1)).group(1)
        assert href.startswith("/rulesets/list") and c.get(href).status_code == 200
    # only the publisher of rule sets is told
    assert "没有在今天" not in login("inst_a").get("/").get_data(as_text=True)


def test_flask_cme_init_warns_when_no_rule_set_is_in_force_today(app, world):
    """The installer hears it too: ``flask cme init`` ends with the warning on a day no published rule
    set is in force (Beijing 2025, the one shipped, is in force in 2025 only)."""
    from app.extensions import db
    from app.services import credit_records

    with app.app_context():
        missing = credit_records.rule_set_missing(db.session)
    output = app.test_cli_runner().invoke(args=["cme", "init"]).output
    assert "数据库已初始化" in output
    if missing:
        assert f"注意：北京市没有在今天（{missing['day']}）生效的已发布授分规则集" in output
    else:
        assert "注意" not in output
