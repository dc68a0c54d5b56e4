"""Issue 17.8: a forged choice gets a Chinese message, well-known passwords are refused, the unit's manual
check-in does not tell the name of a card holder outside its scope."""
from __future__ import annotations

import pytest

from app.services.passwords import check_password


def test_forged_choice_message_is_chinese(app, world, login):
    c = login("district1")
    # 乙医院 (world.b) is in another district: not one of district 1's choices.
    r = c.post("/auditstandard/add", data={"name": "越界", "audit_scope": "综合", "status": "active",
                                           "per_department": "1", "f_units": str(world.b)})
    html = r.get_data(as_text=True)
    assert "is not a valid choice" not in html and "valid choices" not in html
    assert f"“{world.b}”不是有效的选项" in html


@pytest.mark.parametrize("password", ["P@ssw0rd", "PASSW0RD!", "Admin@123", "1qaz@WSX", "Huawei@123", "Cme@2026",
                                      "aa123456!"])
def test_common_passwords_are_refused(password):
    message = check_password(password)
    assert message and "过于常见" in message


def test_common_password_refused_on_the_own_password_form(app, world, login):
    r = login("inst_a").post("/resetmypassword/form", data={"password": "Admin@123", "conf_password": "Admin@123"})
    assert "过于常见" in r.get_data(as_text=True)


def test_manual_check_in_masks_names_outside_the_unit(app, world, login):
    from sqlalchemy import select

    from app.extensions import db
    from app.models.projects import Topic
    from tests.projects.helpers import standard_project

    with app.app_context():
        project = standard_project(world.a)
        pk = project.id
        topic_id = db.session.scalar(select(Topic.id).where(Topic.project_id == pk, Topic.code == "101"))
    c = login("inst_a")
    own = c.post(f"/projects/checkin/{pk}", data={"topic_id": topic_id, "card_no": "A0000002"},
                 follow_redirects=True).get_data(as_text=True)
    assert "李四已签到课题101" in own
    # 王五 of 乙医院 (another district): checked in, but shown as 王*（card number）.
    other = c.post(f"/projects/checkin/{pk}", data={"topic_id": topic_id, "card_no": "B0000001"},
                   follow_redirects=True).get_data(as_text=True)
    assert "王*（B0000001）已签到课题101" in other and "王五已签到" not in other
