"""Demo supervision: filings in several states, a site manager who logs in by phone, feedback photos."""
from __future__ import annotations

import datetime
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.common import SEED, SITE_PHONE, DemoUsers, Summary, jpeg
from app.models import Org


# ------------------------------------------------------------------------------------ supervision
def supervision(session: Session, users: DemoUsers, institution: Org, today: datetime.datetime) -> Summary:
    """Filings of the demo hospital: one waiting for review, one approved and under way (yesterday to
    tomorrow) with a site manager and yesterday's feedback photos, one returned with a reason."""
    from app.models.supervision import FeedbackPhoto, Filing, FilingVenue, SiteManager
    from app.services import attachments, photos
    from app.services import supervision as sup

    out = Summary()
    district = session.get(Org, institution.district_id)
    day = today.date()
    filings = {}
    specs = [
        ("pending", "2026-14-09-118", "医疗纠纷预防与处理专题培训", day + datetime.timedelta(days=12), 1),
        ("approved", "2026-01-04-072", "心血管介入诊疗技术规范化培训班", day - datetime.timedelta(days=1), 3),
        ("returned", "2026-14-02-056", "儿童常见病中西医结合诊疗进展", day + datetime.timedelta(days=20), 2),
    ]
    for state, number, name, start, days in specs:
        values, errors = sup.validate_filing({
            "project_no": number, "name": name, "project_type": "国家级" if "-01-" in number else "省/自治区/直辖市认可项目",
            "year": str(start.year), "organizer": institution.name, "province": "北京市", "city": "北京市",
            "county": district.name, "starts_at": f"{start} 08:00",
            "ends_at": f"{start + datetime.timedelta(days=days - 1)} 17:30", "sessions": "1",
            "approver": "北京市继续医学教育委员会", "approval_method": "网上审批", "approval_no": f"京继委{number[-3:]}号"})
        if errors:
            raise ValueError("；".join(m for _, m in errors))
        filing = Filing(institution_id=institution.id, district_id=institution.district_id, status="draft",
                        created_by_fk=users.hospital.id, **values)
        filing.venues.append(FilingVenue(name="主会场", address=f"北京市{district.name}帅府园一号 {institution.name}学术会堂",
                                         organizer=institution.name, person="刘会务", phone=SITE_PHONE, date=start))
        session.add(filing)
        session.flush()
        sup.apply(session, filing, "submit", users.hospital)
        if state == "approved":
            sup.apply(session, filing, "pass", users.district)
        elif state == "returned":
            sup.apply(session, filing, "return", users.district, "日程安排缺少授课教师信息，请补充后重新提交")
        filings[state] = filing
    session.flush()
    filing = filings["approved"]
    manager = sup.save_manager(session, filing.venues[0], "刘会务", SITE_PHONE)
    session.flush()
    # A fixed login code (the service draws a random one) so the README and run.sh can name it.
    rnd = random.Random(SEED)
    code = "".join(rnd.choice(sup.CODE_ALPHABET) for _ in range(10))
    if session.scalar(select(SiteManager.id).where(SiteManager.login_code == code, SiteManager.id != manager.id)) is None:
        manager.login_code = code
    # The phone login signs in as the demo 'site' account (the service would create one on first login).
    manager.user_id = users.site.id
    manager.letter_accepted_at = datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(7, 50))
    session.flush()
    out.site_code, out.site_phone = manager.login_code, manager.phone
    # Yesterday's half days: the photos the manager took then (EXIF time and place), stamped and submitted.
    colors = [(70, 110, 160), (160, 90, 60), (60, 140, 90), (120, 120, 120)]
    photos_made = 0
    for period in [p for p in filing.periods if p.ends_at < today][:2]:
        fb = sup.feedback_for(session, period, manager, create=True)
        for k, slot in enumerate(("venue", "backdrop", "scene", "lecturer")):
            taken = period.starts_at + datetime.timedelta(minutes=20 + 15 * k)
            data = jpeg(taken, 39.9127 + k * 0.0001, 116.4170, colors[k])
            exif_time, lat, lon = photos.read_exif(data)
            stamped = photos.stamp(data, exif_time, lat, lon, f"{filing.name} {period.label} {slot}")
            original = attachments.store_bytes(data, "jpg", f"{slot}.jpg", "sup_photo", None, user_id=users.site.id)
            copy = attachments.store_bytes(stamped, "jpg", f"stamped-{slot}.jpg", "sup_photo_stamped", None,
                                           user_id=users.site.id)
            session.flush()
            photo = FeedbackPhoto(slot=slot, lecturer_no=1 if slot == "lecturer" else 0, original_id=original.id,
                                  stamped_id=copy.id, exif_time=exif_time, exif_lat=lat, exif_lon=lon, taken_at=taken,
                                  flags="；".join(sup.photo_flags(period, taken, lat, lon)) or None)
            fb.photos.append(photo)
            session.flush()
            original.owner_id = copy.owner_id = photo.id
            photos_made += 1
        fb.submitted_at = period.ends_at - datetime.timedelta(minutes=10)
    session.flush()
    out.counts = {"filings": len(filings), "photos": photos_made}
    return out


def site_login(session: Session) -> tuple[str, str] | None:
    """(login code, phone) of the demo's site manager, when the demo built one."""
    from app.models.supervision import SiteManager

    row = session.execute(select(SiteManager.login_code, SiteManager.phone).where(SiteManager.phone == SITE_PHONE)
                          .order_by(SiteManager.id).limit(1)).first()
    return (row[0], row[1]) if row else None
