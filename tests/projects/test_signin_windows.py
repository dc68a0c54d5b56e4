"""Sign-in windows besides the topic's own (issue 16 item 10).

Seed 003 首页 → 继续医学教育项目: "继教项目 继教项目管理 项目微信签到时间设置 / 添加继教项目 继教项目学分录入" and
实践活动: "教学活动策划 教学活动策划审核 添加继教实践活动 / 课程微信签到时间设置 有组织的继教实践活动学分录入".
The QR sign-in is refused on the server outside the window (the clock of these tests is fixed).
"""
from __future__ import annotations

import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Person
from app.models.projects import CheckIn, PracticeActivity, PracticeCheckIn
from tests.projects.helpers import add_topic, make_project

H = datetime.timedelta(hours=1)


def _fmt(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


def _signer(app, world) -> dict:
    with app.app_context():
        person = db.session.get(Person, world.pa)
        return {"card_no": person.card_no, "name": person.name, "id_last4": person.id_number[-4:]}


def test_project_sign_in_time_applies_to_its_topics_without_their_own(app, world, login, client, clock):
    """项目微信签到时间设置: one window for the project; a topic's own window (课程微信签到时间设置) wins."""
    now = clock.at()
    with app.app_context():
        project = make_project(world.a, starts=now.date(), ends=now.date())
        plain = add_topic(project, "101", now.replace(hour=0, minute=0, second=0))
        own = add_topic(project, "102", now.replace(hour=0, minute=0, second=0) + 4 * H,
                        window=(now + 2 * H, now + 3 * H))
        db.session.commit()
        pk, plain_token, own_token = project.id, plain.qr_token, own.qr_token
    signer = _signer(app, world)
    r = client.get(f"/signin/{plain_token}")
    assert r.status_code == 403 and "本课题未设置签到时间" in r.get_data(as_text=True)

    unit = login("inst_a")
    assert "项目微信签到时间设置" in unit.get("/project-signin-window/").get_data(as_text=True)
    r = unit.post(f"/project-signin-window/{pk}", data={"signin_from": _fmt(now - H), "signin_to": _fmt(now)},
                  follow_redirects=True)
    assert "签到结束时间必须晚于签到开始时间" not in r.get_data(as_text=True)
    r = unit.post(f"/project-signin-window/{pk}", data={"signin_from": _fmt(now + H), "signin_to": _fmt(now - H)},
                  follow_redirects=True)
    assert "签到结束时间必须晚于签到开始时间" in r.get_data(as_text=True)
    r = unit.post(f"/project-signin-window/{pk}", data={"signin_from": _fmt(now - H), "signin_to": _fmt(now + H)},
                  follow_redirects=True)
    assert "项目微信签到时间已保存" in r.get_data(as_text=True)

    r = client.post(f"/signin/{plain_token}", data=signer)
    assert r.status_code == 200 and "签到成功" in r.get_data(as_text=True)
    # The topic with its own window (later today) is still closed: the project's window does not open it.
    r = client.post(f"/signin/{own_token}", data=signer)
    assert r.status_code == 403 and "不在签到时间内" in r.get_data(as_text=True)
    # Two hours later the project's window is over: refused on the server.
    clock.at(now + 2 * H + datetime.timedelta(minutes=1))
    assert client.post(f"/signin/{plain_token}", data=signer).status_code == 403
    assert client.post(f"/signin/{own_token}", data=signer).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckIn.id))) == 2


def test_another_unit_cannot_set_a_project_window(app, world, login, clock):
    now = clock.at()
    with app.app_context():
        pk = make_project(world.a, starts=now.date(), ends=now.date()).id
        db.session.commit()
    other = login("inst_b")
    assert other.get(f"/project-signin-window/{pk}").status_code == 404
    r = other.post(f"/project-signin-window/{pk}", data={"signin_from": _fmt(now), "signin_to": _fmt(now + H)})
    assert r.status_code == 404
    assert other.get("/project-signin-window/").get_data(as_text=True).count("data-id=") == 0


def test_practice_activity_has_its_own_qr_sign_in_window(app, world, login, client, clock):
    """添加继教实践活动 with 微信签到时间: inside it the scan signs in once; outside it is refused."""
    now = clock.at()
    unit = login("inst_a")
    form = {"name": "社区慢病随访实践", "place": "社区卫生服务中心", "lecturer": "李带教",
            "starts_at": (now - H).strftime("%Y-%m-%d %H:%M:%S"), "ends_at": (now + 2 * H).strftime("%Y-%m-%d %H:%M:%S"),
            "hours": "3", "planned_count": "20", "signin_from": (now - H).strftime("%Y-%m-%d %H:%M:%S"),
            "signin_to": (now + H).strftime("%Y-%m-%d %H:%M:%S")}
    r = unit.post("/practice-activities/add", data={**form, "signin_to": ""}, follow_redirects=True)
    assert "签到开始时间和结束时间须同时填写" in r.get_data(as_text=True)
    r = unit.post("/practice-activities/add", data=form, follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        activity = db.session.scalar(select(PracticeActivity))
        pk, token = activity.id, activity.qr_token
        assert activity.institution_id == world.a
    html = unit.get(f"/practice-activities/show/{pk}").get_data(as_text=True)
    assert "签到中" in html and f"/signin/practice/{token}" in html
    assert unit.get(f"/practice-activities/qr/{pk}.png").status_code == 200

    signer = _signer(app, world)
    r = client.post(f"/signin/practice/{token}", data=signer)
    assert r.status_code == 200 and "签到成功" in r.get_data(as_text=True)
    r = client.post(f"/signin/practice/{token}", data=signer)
    assert "您已签到过本活动" in r.get_data(as_text=True)
    clock.at(now + H + datetime.timedelta(minutes=1))
    r = client.post(f"/signin/practice/{token}", data=signer)
    assert r.status_code == 403 and "不在签到时间内" in r.get_data(as_text=True)
    assert client.get("/signin/practice/nonexistent").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(PracticeCheckIn.id))) == 1
        other_card = db.session.get(Person, world.pa2).card_no
    # The unit signs in someone without a phone by hand (no window needed), and exports the list.
    r = unit.post(f"/practice-activities/checkin/{pk}", data={"card_no": other_card}, follow_redirects=True)
    assert "已签到" in r.get_data(as_text=True)
    r = unit.post(f"/practice-activities/checkin/{pk}", data={"card_no": "NOSUCHCARD"}, follow_redirects=True)
    assert "不存在" in r.get_data(as_text=True)
    r = unit.get(f"/practice-activities/attendees/{pk}.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    with app.app_context():
        assert db.session.scalar(select(func.count(PracticeCheckIn.id))) == 2

    # Another institution cannot read it or its QR code by guessing the id.
    other = login("inst_b")
    assert other.get(f"/practice-activities/show/{pk}").status_code == 404
    assert other.get(f"/practice-activities/qr/{pk}.png").status_code == 404
    assert other.post(f"/practice-activities/edit/{pk}", data=form).status_code in (302, 404)
    assert other.post(f"/practice-activities/checkin/{pk}", data={"card_no": signer["card_no"]}).status_code == 404
    assert other.get(f"/practice-activities/attendees/{pk}.xlsx").status_code == 404
    with app.app_context():
        assert db.session.get(PracticeActivity, pk).institution_id == world.a


def test_unified_entry_links_the_project_pages(app, world, login):
    """The entries under 继续医学教育项目 and 实践活动 in the unified entry lead to their pages."""
    c = login("inst_a")
    html = c.get("/activities/").get_data(as_text=True)
    for href in ("/project-catalog/list/", "/projects/list/", "/topics/list/", "/project-signin-window/",
                 "/declarations/", "/practice-activities/list/"):
        assert f'href="{href}"' in html, href
        assert c.get(href).status_code == 200, href
