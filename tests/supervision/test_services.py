"""The supervision actions the views call, directly: save_filing (项目报备 with venues and attachments) and
the site manager's feedback (add_photo, drop_photo, lecturers, submit_feedback), a good call and each refusal.

Seed: “照片中实时携带拍照时间和地点”; “项目每半天填写一次督查内容”.
"""
from __future__ import annotations

import datetime
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment, CmeUser, Org
from app.models.supervision import FeedbackPhoto, Filing, FilingVenue
from app.services import photos
from app.services import supervision as sup
from app.services.uploads import UploadError
from tests.supervision.helpers import (
    PHONE,
    add_filing,
    add_manager,
    all_day_hours,
    jpeg,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _values(**over) -> dict:
    venue = {"name": "第一会场", "address": "北京市海淀区西四环北路50号", "organizer": "三博脑科医院",
             "person": "刘会务", "phone": PHONE, "date": "2025-04-12"}
    values = {"year": "2025", "project_no": "2025-04-04-011", "name": "脊髓背柱应用研究与手术技术培训",
              "project_type": "国家级", "organizer": "首都医科大学", "province": "北京市", "city": "北京市",
              "county": "海淀区", "starts_at": "2025-04-12T08:00", "ends_at": "2025-04-18T17:30", "sessions": "1",
              "approver": "", "approval_method": "", "approval_no": "", "venues": [venue]}
    values.update(over)
    return values


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def _user(name: str = "inst_a") -> CmeUser:
    return db.session.scalar(select(CmeUser).where(CmeUser.username == name))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------------------------------ filings
def test_save_filing_adds_a_draft_with_venues_and_attachment_then_edits_it(app, world):
    with app.app_context():
        two = _values(venues=[_values()["venues"][0], {"name": "第二会场", "address": "地址二"}])
        filing = sup.save_filing(db.session, _user(), two, [_file(PDF, "批文.pdf"), _file(b"", "")],
                                 institution=db.session.get(Org, world.a))
        db.session.commit()
        assert (filing.status, filing.institution_id, filing.district_id) == ("draft", world.a, world.d1)
        assert [v.name for v in filing.venues] == ["第一会场", "第二会场"]
        assert [(a.owner_id, a.name) for a in db.session.scalars(select(Attachment))] == [(filing.id, "批文.pdf")]
        first = filing.venues[0].id
        # Edit: venues keep their ids by position, the missing second one goes.
        sup.save_filing(db.session, _user(), _values(name="改名后的项目"), [], filing)
        db.session.commit()
        assert filing.name == "改名后的项目"
        assert [v.id for v in filing.venues] == [first] and _count(FilingVenue) == 1


@pytest.mark.parametrize("over, files, inst, field, message", [
    ({"venues": []}, [], True, "会场信息", "请至少填写一个会场"),
    ({"project_no": "2025-14-03-020"}, [], True, "项目编号", "项目编号2025-14-03-020已报备，不能重复报备"),
    ({}, [("x", "说明.txt")], True, "附件", "类型不正确"),
    ({}, [], False, "申报单位", "只有医疗机构账号可以报备项目"),
    ({"name": ""}, [], True, "项目名称", "项目名称不能为空"),
])
def test_save_filing_refusals_list_each_problem_and_add_nothing(app, world, over, files, inst, field, message):
    with app.app_context():
        add_filing(world.b)  # holds 2025-14-03-020
        db.session.commit()
        with pytest.raises(sup.FilingInvalid) as refused:
            sup.save_filing(db.session, _user(), _values(**over), [_file(d.encode(), n) for d, n in files],
                            institution=db.session.get(Org, world.a) if inst else None)
        assert any(f == field and message in m for f, m in refused.value.errors), refused.value.errors
        assert message in str(refused.value)
        db.session.rollback()
        assert _count(Filing) == 1 and _count(Attachment) == 0


# ------------------------------------------------------------------------------------------ feedback
@pytest.fixture
def feedback(app, world, clock):
    now = clock.at()
    with app.app_context():
        all_day_hours()
        filing = add_filing(world.a, status="approved")
        manager = add_manager(filing)
        period = next(p for p in filing.periods if sup.is_open(p, now))
        fb = sup.feedback_for(db.session, period, manager, create=True)
        db.session.commit()
        yield period, fb, _user("site").id


def test_add_photo_stores_original_and_stamped_copy_and_replaces_the_slot(feedback):
    period, fb, uid = feedback
    taken = period.starts_at + datetime.timedelta(minutes=5)
    photo = sup.add_photo(db.session, period, fb, "venue", 0, _file(jpeg(taken), "场地.jpg"), max_bytes=10**6,
                          user_id=uid)
    db.session.commit()
    assert (photo.slot, photo.taken_at, photo.flags) == ("venue", taken, None)
    assert photo.exif_lat == pytest.approx(39.9087, abs=1e-4)
    original, stamped = db.session.get(Attachment, photo.original_id), db.session.get(Attachment, photo.stamped_id)
    assert (original.owner_type, original.owner_id, original.name) == ("sup_photo", photo.id, "场地.jpg")
    assert (stamped.owner_type, stamped.owner_id, stamped.name) == ("sup_photo_stamped", photo.id, "stamped-场地.jpg")
    # No EXIF: the browser's time and place count; a photo without a place is kept but flagged.
    again = sup.add_photo(db.session, period, fb, "venue", 0, _file(jpeg(None, None, None), "b.jpg"),
                          max_bytes=10**6, user_id=uid, browser_time=taken, browser_lat=None, browser_lon=None)
    db.session.commit()
    assert (again.taken_at, again.flags) == (taken, "无位置信息")
    assert _count(FeedbackPhoto) == 1 and _count(Attachment) == 2  # the slot's old photo and files are gone
    assert sup.photo_label("lecturer", 2) == "主讲教师2"


@pytest.mark.parametrize("slot, number, data, error, message", [
    ("lecturer", 2, None, sup.SupervisionError, "照片类别不正确"),
    ("nonsense", 0, None, sup.SupervisionError, "照片类别不正确"),
    ("venue", 0, PDF, UploadError, "类型不正确"),
    ("venue", 0, b"\xff\xd8\xffjunk", photos.PhotoError, "无法读取照片"),
])
def test_add_photo_refusals(feedback, slot, number, data, error, message):
    period, fb, uid = feedback
    with pytest.raises(error, match=message):
        sup.add_photo(db.session, period, fb, slot, number, _file(data or jpeg(), "p.jpg"), max_bytes=10**6,
                      user_id=uid)
    db.session.rollback()
    assert _count(FeedbackPhoto) == 0 and _count(Attachment) == 0


def test_lecturers_photos_and_submit(feedback):
    period, fb, uid = feedback
    with pytest.raises(sup.SupervisionError, match="至少保留一位主讲教师"):
        sup.remove_lecturer(db.session, fb)
    sup.add_lecturer(fb)
    photo = sup.add_photo(db.session, period, fb, "lecturer", 2, _file(jpeg(), "l2.jpg"), max_bytes=10**6,
                          user_id=uid)
    with pytest.raises(sup.SupervisionError, match="请先上传：") as refused:
        sup.submit_feedback(fb)
    assert "主讲教师1" in str(refused.value) and "主讲教师2" not in str(refused.value)
    sup.remove_lecturer(db.session, fb)  # the second lecturer goes with the photo
    assert fb.lecturers == 1 and photo not in fb.photos and _count(Attachment) == 0
    fb.lecturers = sup.MAX_LECTURERS
    with pytest.raises(sup.SupervisionError, match="主讲教师不能超过30位"):
        sup.add_lecturer(fb)
    fb.lecturers = 1
    for slot in (*sup.FIXED_SLOTS, "lecturer"):
        last = sup.add_photo(db.session, period, fb, slot, 1 if slot == "lecturer" else 0, _file(jpeg(), "p.jpg"),
                             max_bytes=10**6, user_id=uid)
    sup.drop_photo(db.session, fb, last)
    with pytest.raises(sup.SupervisionError, match="请先上传：主讲教师1"):
        sup.submit_feedback(fb)
    sup.add_photo(db.session, period, fb, "lecturer", 1, _file(jpeg(), "p.jpg"), max_bytes=10**6, user_id=uid)
    when = datetime.datetime(2025, 4, 22, 9, 0)
    sup.submit_feedback(fb, when)
    db.session.commit()
    assert fb.submitted_at == when
