"""Supervision test data: a filing in a given state, a site manager, small JPEGs with EXIF."""
from __future__ import annotations

import datetime
import io

import piexif
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Org, Parameter
from app.models.supervision import Filing, FilingVenue, SiteManager
from app.services import supervision as sup

PHONE = "13800138000"


def all_day_hours() -> None:
    """Half days covering the whole day, so "the current period" exists whenever a test runs."""
    for key, value in (("half_day_morning", "00:00-12:00"), ("half_day_afternoon", "12:00-24:00")):
        db.session.scalar(select(Parameter).where(Parameter.key == key)).value = value
    db.session.flush()


def add_filing(institution_id: int, project_no: str = "2025-14-03-020", status: str = "draft",
               starts_at: datetime.datetime | None = None, ends_at: datetime.datetime | None = None,
               venues: int = 1, name: str = "科学安全及质量管理系列讲座") -> Filing:
    inst = db.session.get(Org, institution_id)
    today = datetime.date.today()
    starts_at = starts_at or datetime.datetime.combine(today, datetime.time())
    ends_at = ends_at or datetime.datetime.combine(today, datetime.time(23, 59, 59))
    filing = Filing(year=starts_at.year, project_no=project_no, name=name, project_type="国家级",
                    institution_id=inst.id, district_id=inst.district_id, province="北京市", city="北京市",
                    county="东城区", starts_at=starts_at, ends_at=ends_at, status="draft")
    for i in range(venues):
        filing.venues.append(FilingVenue(name=f"第{i + 1}会场", address="北京市东城区东单北大街1号", person="刘会务",
                                         phone=PHONE))
    db.session.add(filing)
    db.session.flush()
    if status != "draft":
        filing.status = "pending"
        if status == "approved":
            filing.status = "approved"
            sup.make_periods(db.session, filing, sup.half_day_hours(db.session))
        elif status != "pending":
            filing.status = status
    db.session.flush()
    return filing


def add_manager(filing: Filing, phone: str = PHONE) -> SiteManager:
    manager = sup.save_manager(db.session, filing.venues[0], "刘会务", phone)
    db.session.flush()
    return manager


def jpeg(taken: datetime.datetime | None = None, lat: float | None = 39.9087, lon: float | None = 116.3975,
         color=(40, 120, 200)) -> bytes:
    """A 64×48 JPEG whose EXIF holds the capture time and GPS position."""
    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return ((d, 1), (m, 1), (s, 100))

    exif = {"0th": {}, "Exif": {}, "GPS": {}, "1st": {}}
    if taken is not None:
        exif["Exif"][piexif.ExifIFD.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S").encode()
    if lat is not None and lon is not None:
        exif["GPS"] = {piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S", piexif.GPSIFD.GPSLatitude: dms(lat),
                       piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W", piexif.GPSIFD.GPSLongitude: dms(lon)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG", exif=piexif.dump(exif))
    return out.getvalue()
