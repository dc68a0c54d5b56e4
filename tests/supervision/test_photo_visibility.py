"""Supervision photos are shown in the back office only once the site manager submits the period
(issue 16 item 14).

Seed 003 项目督察: "项目督查节点中的，举办地点、现场日程背板、现场照片、主讲人讲课照片在现场会务负责人提交后可显示在
单位账号中。" and 督查管理: "督查反馈：点击督查反馈，可以查看单位、现场会议负责人上传项目督查相关内容，单位上报督查内容
后用户可以实时查看。" — before the submission the unit, the district and the city see no photo.
"""
from __future__ import annotations

import datetime

from app.extensions import db
from app.models.supervision import Feedback, FeedbackPhoto
from app.services import attachments
from app.services import supervision as sup
from tests.supervision.helpers import add_filing, add_manager, jpeg


def test_photos_hidden_until_the_site_manager_submits(app, world, login, clock):
    clock.at()
    with app.app_context():
        f = add_filing(world.a, status="approved", starts_at=datetime.datetime(2026, 3, 16),
                       ends_at=datetime.datetime(2026, 3, 16, 17, 30))
        manager = add_manager(f)
        period = f.periods[0]
        fb = sup.feedback_for(db.session, period, manager, create=True)
        data = jpeg(period.starts_at + datetime.timedelta(minutes=20))
        original = attachments.store_bytes(data, "jpg", "venue.jpg", "sup_photo", None)
        copy = attachments.store_bytes(data, "jpg", "stamped-venue.jpg", "sup_photo_stamped", None)
        db.session.flush()
        photo = FeedbackPhoto(slot="venue", lecturer_no=0, original_id=original.id, stamped_id=copy.id,
                              taken_at=period.starts_at + datetime.timedelta(minutes=20))
        fb.photos.append(photo)
        db.session.flush()
        original.owner_id = copy.owner_id = photo.id
        db.session.commit()
        pk, pid, photo_id, fb_id = f.id, period.id, photo.id, fb.id
    viewers = {"inst_a": login("inst_a"), "district1": login("district1"), "city": login("city")}
    for name, c in viewers.items():
        page = c.get(f"/supervision/period/{pid}").get_data(as_text=True)
        assert "照片在现场会务负责人提交后显示" in page, name
        assert f"/supervision/photo/{photo_id}" not in page, name
        assert c.get(f"/supervision/photo/{photo_id}").status_code == 404, name
        assert c.get(f"/supervision/photo/{photo_id}?original=1").status_code == 404, name
        row = c.get(f"/supervision/{pk}").get_data(as_text=True)
        assert "2026-03-16上午" in row
    # the site manager submits the period (提交; the other three photos are left out here): now they all see it
    with app.app_context():
        db.session.get(Feedback, fb_id).submitted_at = datetime.datetime(2026, 3, 16, 11, 50)
        db.session.commit()
    viewers = {name: login(name) for name in viewers}
    for name, c in viewers.items():
        page = c.get(f"/supervision/period/{pid}").get_data(as_text=True)
        assert f"/supervision/photo/{photo_id}" in page and "照片在现场会务负责人提交后显示" not in page, name
        assert c.get(f"/supervision/photo/{photo_id}").mimetype == "image/jpeg", name
    # another district still does not
    assert login("district2").get(f"/supervision/photo/{photo_id}").status_code == 404
