"""Supervision loose ends: the site manager's password login is told how to open the phone pages, deleting a filing
removes its site managers' login accounts in the same transaction, the photo stamp fits small photos.

Seed 003: “会场负责人可通过二维码，进入登陆页面。输入手机号、验证码、图形验证码，进行登录。”
Seed 003: “系统将拍摄时间与地点信息标记在照片上” (SUP-6: stamps time and place onto the stored image).
"""
from __future__ import annotations

import datetime
import io
import re

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.cli import add_user
from app.extensions import db
from app.models import Attachment, CmeUser, OperationLog
from app.models.supervision import Filing, SiteManager, SmsOutbox
from app.services import photos
from app.services.roles import SITE_MANAGER
from tests.supervision.helpers import PHONE, add_filing, add_manager

FIXED = "AB12"


@pytest.fixture
def fixed_captcha(app):
    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)
    yield FIXED
    app.config.pop("SUP_CAPTCHA_FIXED", None)
    app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def _phone_login(app, code, phone=PHONE):
    c = app.test_client()
    c.get("/m/captcha.png")
    assert c.post("/m/sms", data={"code": code, "phone": phone, "captcha": FIXED}).status_code == 200
    with app.app_context():
        text = db.session.scalar(select(SmsOutbox.text).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc()))
    sms = re.search(r"验证码(\d{6})", text).group(1)
    r = c.post("/m/login", data={"code": code, "phone": phone, "captcha": FIXED, "sms_code": sms})
    assert r.status_code == 302 and r.location.endswith("/m/")
    return c


# ------------------------------------------------------------------ 1. password login and the phone pages
def test_password_signed_site_manager_is_told_how_to_open_the_phone_pages(app, world, login, fixed_captcha):
    site = login("site")  # the normal /login/ page with a password: no login code in the session
    r = site.get("/m/", follow_redirects=True)
    page = r.data.decode()
    assert r.request.path == "/m/login" and "请扫描项目二维码" in page and "登录码已失效" not in page
    # A manager signed in on the phone with the code stays signed in on the phone pages.
    with app.app_context():
        f = add_filing(world.a, status="approved")
        code = add_manager(f).login_code
        db.session.commit()
    phone = _phone_login(app, code)
    assert phone.get("/m/").location.endswith("/m/letter")


# ------------------------------------------------------------------ 2. accounts go with the filing
def _ops(action_module: str, action: str) -> list[OperationLog]:
    return list(db.session.scalars(select(OperationLog).where(OperationLog.module == action_module,
                                                              OperationLog.action == action)))


def test_deleting_a_filing_deletes_its_site_managers_accounts(app, world, login, fixed_captcha):
    with app.app_context():
        f = add_filing(world.a, project_no="P-DEL-1", status="approved")
        code = add_manager(f).login_code
        db.session.commit()
        fid = f.id
    _phone_login(app, code)  # the phone login issues the account
    with app.app_context():
        uid = db.session.scalar(select(SiteManager.user_id))
        assert uid is not None and db.session.get(CmeUser, uid) is not None
    r = login("district1").post(f"/filingreview/delete/{fid}", follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        assert db.session.get(Filing, fid) is None
        assert db.session.scalar(select(SiteManager)) is None
        assert db.session.get(CmeUser, uid) is None
        # The operation log has the account's delete (session events) and the filing's with the count.
        assert any(o.target == f"ab_user:{uid}" for o in _ops("用户管理", "删除"))
        assert any("P-DEL-1" in o.message and "删除现场负责人账号1个" in o.message for o in _ops("项目督查", "删除"))


def _manager_with_account(world, project_no: str, phone: str, status: str = "draft") -> tuple[int, int]:
    f = add_filing(world.a, project_no=project_no, status=status)
    manager = add_manager(f, phone=phone)
    user = add_user(f"site_{project_no}", SITE_MANAGER, last_name="刘会务", first_name="", org=f.institution,
                    password="Secret-123")
    manager.user_id = user.id
    db.session.flush()
    return f.id, user.id


def test_an_account_still_referred_to_is_deactivated_and_a_refused_bulk_delete_keeps_all(app, world, login):
    with app.app_context():
        referred, referred_uid = _manager_with_account(world, "P-DEL-2", "13800138001")
        db.session.add(Attachment(owner_type="other", owner_id=1, name="x.pdf", kind="pdf", size=1, sha256="0" * 64,
                                  path="/nonexistent", uploaded_by_fk=referred_uid))
        clean, clean_uid = _manager_with_account(world, "P-DEL-3", "13800138002")
        returned, returned_uid = _manager_with_account(world, "P-DEL-4", "13800138003", status="returned")
        db.session.commit()
    inst = login("inst_a")
    # One returned filing in the batch: nothing deleted, no account touched (all or nothing).
    r = inst.post("/filing/action_post", data={"action": "muldelete", "rowid": [str(clean), str(returned)]},
                  follow_redirects=True)
    assert "已退回的项目不能删除" in r.data.decode()
    with app.app_context():
        assert db.session.get(Filing, clean) is not None
        user = db.session.get(CmeUser, clean_uid)
        assert user is not None and user.active
        assert db.session.scalar(select(SiteManager.user_id).where(SiteManager.filing_id == clean)) == clean_uid
    r = inst.post("/filing/action_post", data={"action": "muldelete", "rowid": [str(clean), str(referred)]},
                  follow_redirects=True)
    assert "已删除 2 条记录" in r.data.decode()
    with app.app_context():
        assert db.session.get(Filing, clean) is None and db.session.get(Filing, referred) is None
        assert db.session.get(CmeUser, clean_uid) is None
        kept = db.session.get(CmeUser, referred_uid)  # an attachment still names it as uploader
        assert kept is not None and kept.active is False
        assert db.session.get(CmeUser, returned_uid).active
    # The deactivated account cannot log in any more.
    c = app.test_client()
    c.post("/login/", data={"username": "site_P-DEL-2", "password": "Secret-123"})
    r = c.get("/")
    assert r.status_code == 302 and "/login" in r.location


# ------------------------------------------------------------------ 3. the stamp fits the photo
def _white_jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (255, 255, 255)).save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.mark.parametrize("width,height", [(64, 48), (200, 150), (1920, 1440)])
def test_stamp_fits_small_and_large_photos(app, width, height):
    taken = datetime.datetime(2025, 4, 22, 9, 30, 5)
    title = "科学安全及质量管理系列讲座 2025-04-22上午 举办地点"
    stamped = Image.open(io.BytesIO(photos.stamp(_white_jpeg(width, height), taken, 39.9087, 116.3975, title)))
    assert stamped.size == (width, height)
    lines = [f"{taken:%Y-%m-%d %H:%M:%S}", photos.place_text(39.9087, 116.3975)]
    layout = photos.stamp_layout(width, height, lines, title)
    x0, y0, x1, y1 = layout.box
    assert 0 <= x0 < x1 < width and 0 < y0 < y1 < height and (y1 - y0 + 1) <= height // 2
    # Every line is drawn inside the band, the time and place in full.
    probe = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(probe)
    for line, origin in zip(layout.lines, layout.origins):
        left, top, right, bottom = draw.textbbox(origin, line, font=layout.font)
        assert x0 <= left and right <= x1 + 1 and y0 <= top and bottom <= y1 + 1, line
    assert layout.lines[-2:] == lines
    # The band is on the stored image: dark in its lower-left corner, the top untouched.
    assert max(stamped.getpixel((x0 + 1, y1 - 1))) < 200
    assert min(stamped.getpixel((width // 2, 0))) > 240
    if width >= 1000:  # a large photo keeps a readable stamp: 1/28 of its width
        assert layout.size == width // 28 and layout.lines[0] == title
