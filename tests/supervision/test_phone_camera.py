"""Issue 15.7, the phone's camera tiles: a photo posted by the page's script (``X-Requested-With: fetch``) is
answered with JSON and the slot's refreshed tile, so the page does not reload; a flagged photo (EXIF time
outside the period, no place) is announced as a warning with its reason — in amber, never as a success —
with or without the script; refusals keep the server's checks and come back as JSON with their status.

Seed 003 项目督察: “照片中实时携带拍照时间和地点”.
"""
from __future__ import annotations

import datetime
import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.supervision import FeedbackPhoto, SiteManager, SmsOutbox
from tests.conftest import FIXED_NOW
from tests.supervision.helpers import PHONE, add_filing, add_manager, all_day_hours, jpeg

FIXED = "AB12"
FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}


@pytest.fixture
def phone(app, world, clock):
    """A signed-in site manager (letter accepted) and the ids of the current and yesterday's periods."""
    now = clock.at(datetime.datetime.combine(FIXED_NOW.date(), datetime.time(10, 30)))
    midnight = datetime.datetime.combine(now.date(), datetime.time())
    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)
    with app.app_context():
        all_day_hours()
        f = add_filing(world.a, status="approved", starts_at=midnight - datetime.timedelta(days=1),
                       ends_at=midnight + datetime.timedelta(days=1, seconds=-1))
        manager = add_manager(f)
        db.session.commit()
        code, mid = manager.login_code, manager.id
        current = next(p.id for p in f.periods if p.starts_at <= now <= p.ends_at)
        past = next(p.id for p in f.periods if p.ends_at < now)
    c = app.test_client()
    c.get("/m/captcha.png")
    assert c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED}).status_code == 200
    with app.app_context():
        text = db.session.scalar(select(SmsOutbox.text).order_by(SmsOutbox.id.desc()))
    sms = re.search(r"验证码(\d{6})", text).group(1)
    assert c.post("/m/login", data={"code": code, "phone": PHONE, "sms_code": sms}).status_code == 302
    with app.app_context():
        db.session.get(SiteManager, mid).letter_accepted_at = now
        db.session.commit()
    yield c, current, past, now.replace(microsecond=0)
    app.config.pop("SUP_CAPTCHA_FIXED", None)
    app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def _post(c, pid, slot, data, headers=None, n=0):
    return c.post(f"/m/period/{pid}/photo", headers=headers or {}, content_type="multipart/form-data",
                  data={"slot": slot, "lecturer_no": str(n), "photo": (io.BytesIO(data), f"{slot}.jpg")})


def test_a_photo_from_the_camera_tile_is_answered_with_its_tile(phone):
    c, current, _past, now = phone
    page = c.get(f"/m/period/{current}").get_data(as_text=True)
    assert page.count('capture="environment"') == 4 and "m_photos.js" in page
    r = _post(c, current, "venue", jpeg(now), FETCH)
    assert r.status_code == 200 and r.is_json, r.get_data(as_text=True)[:300]
    answer = r.json
    assert answer["ok"] and not answer["flagged"] and answer["message"] == "照片已上传：举办地点"
    assert 'data-slot="venue"' in answer["tile"] and 'class="photo-item"' in answer["tile"]
    # A fresh one-time form token in the new tile: the slot's next photo is not taken for a repeat.
    assert 'data-state="done"' in answer["tile"] and 'name="_submit_token"' in answer["tile"]
    assert answer["missing"] == "现场日程背板、现场照片、主讲教师1"


def test_a_flagged_photo_is_a_warning_with_its_reason(phone, app):
    c, current, _past, now = phone
    # With the script: flagged, the tile in amber (tile-flagged) with the reason.
    r = _post(c, current, "scene", jpeg(now - datetime.timedelta(days=2)), FETCH)
    assert r.json["ok"] and r.json["flagged"] and "拍摄时间不在督查时段内" in r.json["flags"]
    assert "tile-flagged" in r.json["tile"] and "需核实：拍摄时间不在督查时段内" in r.json["tile"]
    assert "msg-success" not in r.json["tile"]
    # Without the script (the form posts, the page reloads): a warning, not a success.
    r = _post(c, current, "backdrop", jpeg(now, None, None))
    assert r.status_code == 302
    page = c.get(r.location).get_data(as_text=True)
    assert re.search(r'class="msg msg-warning">照片已上传：现场日程背板，但需核实：无位置信息<', page), page[:2000]
    assert 'class="msg msg-success"' not in page
    with app.app_context():
        assert {p.slot: p.flags for p in db.session.scalars(select(FeedbackPhoto))} == {
            "scene": "拍摄时间不在督查时段内", "backdrop": "无位置信息"}


def test_refusals_come_back_as_json_with_their_status(phone):
    c, current, past, now = phone
    r = _post(c, past, "venue", jpeg(now), FETCH)  # a passed period stays closed
    assert r.status_code == 403 and r.json == {"ok": False, "message": "已过期的督查时间段不能补报或修改"}
    r = _post(c, current, "venue", b"not an image at all", FETCH)
    assert r.status_code == 422 and not r.json["ok"] and r.json["message"]
    r = _post(c, current, "lecturer", jpeg(now), FETCH, n=5)
    assert r.status_code == 422 and r.json["message"] == "照片类别不正确"


def test_the_sms_refusal_tells_the_page_how_long_to_wait(app, world):
    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=60)
    try:
        with app.app_context():
            code = add_manager(add_filing(world.a, status="approved")).login_code
            db.session.commit()
        c = app.test_client()
        for expected in (200, 422):
            c.get("/m/captcha.png")
            r = c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": FIXED})
            assert r.status_code == expected
        assert "发送过于频繁" in r.json["message"] and 0 < r.json["wait"] <= 60
    finally:
        app.config.pop("SUP_CAPTCHA_FIXED", None)
        app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)
