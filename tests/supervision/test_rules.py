"""Supervision rules (seed 003 part 02), services only.

Seed: “机构单位在进行项目督查时系统自动根据项目举办周期，按照每半天一次进行反馈的规则进行分期。”
Seed: “项目每半天填写一次督查内容，已过期的督查时间段不能补报。”
Seed: “点击“退回”可对未上传督查信息的项目进行退回。已退回的项目不可再进行删除操作。”
Seed: “如登录码遗失可以重新生成登录码，则前一登录码自动失效。”
"""
from __future__ import annotations

import datetime

import pytest

from app.extensions import db
from app.models import CmeUser
from app.services import photos
from app.services import supervision as sup
from tests.supervision.helpers import PHONE, add_filing, add_manager, jpeg

DT = datetime.datetime
HOURS = {"am": (datetime.time(8, 0), datetime.time(12, 0)), "pm": (datetime.time(13, 30), datetime.time(17, 30))}


def labels(slots):
    return [f"{s.day:%m-%d}{'上午' if s.half == 'am' else '下午'}" for s in slots]


def test_one_day_project_has_two_half_day_periods():
    slots = sup.split(DT(2025, 4, 22, 0, 0), DT(2025, 4, 22, 23, 59, 59), HOURS)
    assert labels(slots) == ["04-22上午", "04-22下午"]
    assert (slots[0].starts_at, slots[0].ends_at) == (DT(2025, 4, 22, 8, 0), DT(2025, 4, 22, 12, 0))
    assert (slots[1].starts_at, slots[1].ends_at) == (DT(2025, 4, 22, 13, 30), DT(2025, 4, 22, 17, 30))


def test_three_day_project_has_six_periods():
    slots = sup.split(DT(2025, 6, 21), DT(2025, 6, 23, 23, 59, 59), HOURS)
    assert labels(slots) == ["06-21上午", "06-21下午", "06-22上午", "06-22下午", "06-23上午", "06-23下午"]


def test_overnight_project_keeps_only_the_half_days_it_touches():
    # From the afternoon of one day to the next morning: 22日下午 and 23日上午 only.
    slots = sup.split(DT(2025, 4, 22, 14, 0), DT(2025, 4, 23, 11, 0), HOURS)
    assert labels(slots) == ["04-22下午", "04-23上午"]
    # An evening-to-early-morning session touches no half day's hours of the parameters.
    assert sup.split(DT(2025, 4, 22, 19, 0), DT(2025, 4, 23, 7, 0), HOURS) == []


def test_half_day_hours_are_parameters(app_ctx):
    from tests.supervision.helpers import all_day_hours

    assert sup.half_day_hours(db.session) == HOURS  # seeded 08:00-12:00 / 13:30-17:30
    all_day_hours()
    hours = sup.half_day_hours(db.session)
    assert hours["am"] == (datetime.time(0, 0), datetime.time(12, 0))
    assert hours["pm"][1] == datetime.time(23, 59, 59)  # "24:00" is the end of the day
    db.session.rollback()


def test_period_status():
    period = sup.Slot(datetime.date(2025, 4, 22), "am", DT(2025, 4, 22, 8), DT(2025, 4, 22, 12))
    assert sup.period_status(period, DT(2025, 4, 22, 7), False) == "未开始"
    assert sup.period_status(period, DT(2025, 4, 22, 9), False) == "进行中"
    assert sup.period_status(period, DT(2025, 4, 22, 13), False) == "已过期"
    assert sup.period_status(period, DT(2025, 4, 22, 13), True) == "已提交"
    with pytest.raises(sup.SupervisionError, match="已过期的督查时间段不能补报"):
        sup.check_open(period, DT(2025, 4, 22, 12, 0, 1))


def test_returned_filing_can_no_longer_be_deleted(app, world):
    with app.app_context():
        user = db.session.query(CmeUser).filter_by(username="district1").one()
        filing = add_filing(world.a, status="pending")
        assert sup.can_delete(db.session, filing, reviewer=True) is None
        with pytest.raises(sup.SupervisionError, match="请填写原因"):
            sup.apply(db.session, filing, "return", user, "")
        sup.apply(db.session, filing, "return", user, "会场信息不完整")
        assert filing.status == "returned"
        assert sup.can_delete(db.session, filing, reviewer=True) == "已退回的项目不能删除"
        assert sup.can_delete(db.session, filing, reviewer=False) == "已退回的项目不能删除"
        assert [entry.action for entry in filing.logs] == ["退回"]
        db.session.rollback()


def test_pass_makes_periods_and_fail_needs_a_reason(app, world):
    with app.app_context():
        user = db.session.query(CmeUser).filter_by(username="district1").one()
        filing = add_filing(world.a, status="pending", starts_at=DT(2025, 6, 21), ends_at=DT(2025, 6, 23, 17))
        with pytest.raises(sup.SupervisionError, match="请填写原因"):
            sup.apply(db.session, filing, "fail", user)
        sup.apply(db.session, filing, "pass", user)
        assert filing.status == "approved" and len(filing.periods) == 6
        with pytest.raises(sup.SupervisionError, match="不能提交"):
            sup.apply(db.session, filing, "submit", user)
        db.session.rollback()


def test_regenerated_code_replaces_the_old_one(app, world):
    with app.app_context():
        filing = add_filing(world.a, status="approved")
        manager = add_manager(filing)
        old = manager.login_code
        assert sup.manager_by_code(db.session, old) is manager
        new = sup.regenerate_code(db.session, manager)
        db.session.flush()
        assert new != old
        assert sup.manager_by_code(db.session, old) is None
        assert sup.manager_by_code(db.session, new.lower()) is manager
        db.session.rollback()


def test_sms_codes_expire_are_single_use_and_rate_limited(app, world):
    limits = sup.SmsLimits(ttl_seconds=300, interval_seconds=60, daily_max=3, max_attempts=3)
    t0 = DT(2025, 4, 22, 9, 0)
    with app.app_context():
        manager = add_manager(add_filing(world.a, status="approved"))
        with pytest.raises(sup.SupervisionError, match="手机号与该登录码"):
            sup.issue_sms_code(db.session, manager, "13900000000", t0, limits)
        code = sup.issue_sms_code(db.session, manager, PHONE, t0, limits)
        db.session.flush()
        with pytest.raises(sup.SupervisionError, match="发送过于频繁"):
            sup.issue_sms_code(db.session, manager, PHONE, t0 + datetime.timedelta(seconds=30), limits)
        with pytest.raises(sup.SupervisionError, match="不正确"):
            sup.verify_sms_code(db.session, manager, PHONE, "000000" if code != "000000" else "111111", t0, limits)
        sup.verify_sms_code(db.session, manager, PHONE, code, t0 + datetime.timedelta(seconds=10), limits)
        with pytest.raises(sup.SupervisionError, match="请先获取"):  # single use
            sup.verify_sms_code(db.session, manager, PHONE, code, t0 + datetime.timedelta(seconds=20), limits)
        code2 = sup.issue_sms_code(db.session, manager, PHONE, t0 + datetime.timedelta(seconds=61), limits)
        db.session.flush()
        with pytest.raises(sup.SupervisionError, match="已失效"):  # expired
            sup.verify_sms_code(db.session, manager, PHONE, code2, t0 + datetime.timedelta(seconds=400), limits)
        sup.issue_sms_code(db.session, manager, PHONE, t0 + datetime.timedelta(seconds=130), limits)
        db.session.flush()
        with pytest.raises(sup.SupervisionError, match="今日获取验证码次数已达上限"):
            sup.issue_sms_code(db.session, manager, PHONE, t0 + datetime.timedelta(seconds=200), limits)
        db.session.rollback()


def test_exif_time_and_gps_are_read_and_stamped():
    taken = DT(2025, 4, 22, 9, 30, 5)
    data = jpeg(taken, 39.9087, 116.3975)
    when, lat, lon = photos.read_exif(data)
    assert when == taken
    assert lat == pytest.approx(39.9087, abs=1e-4) and lon == pytest.approx(116.3975, abs=1e-4)
    assert photos.read_exif(b"not an image") == (None, None, None)
    stamped = photos.stamp(data, when, lat, lon, "测试项目 2025-04-22上午 举办地点")
    assert stamped[:3] == b"\xff\xd8\xff" and stamped != data
    with pytest.raises(photos.PhotoError):
        photos.stamp(b"\xff\xd8\xffjunk", when, lat, lon)


def test_photo_flags():
    period = sup.Slot(datetime.date(2025, 4, 22), "am", DT(2025, 4, 22, 8), DT(2025, 4, 22, 12))
    assert sup.photo_flags(period, DT(2025, 4, 22, 9), 39.9, 116.4) == []
    assert sup.photo_flags(period, DT(2025, 4, 22, 14), 39.9, 116.4) == ["拍摄时间不在督查时段内"]
    assert sup.photo_flags(period, DT(2025, 4, 22, 9), None, None) == ["无位置信息"]
