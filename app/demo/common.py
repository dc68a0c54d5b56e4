"""What every demo builder shares: the fixed seed and day, the demo logins, a PDF and a photo to upload."""
from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from typing import Any

SEED = 2026
# Above this many persons (the 300,000-person benchmark) the demo builds the city and the logins only.
ACTIVITY_LIMIT = 50_000
SITE_PHONE = "13900001234"
# The day the demo's story is told on: hand entries of 2026 are made as of this day (the services take a
# ``today``), so a demo built after the 2026 entry deadline (credit_year_closes, 12-31) still has them.
DEMO_DAY = datetime.date(2026, 11, 29)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class DemoUsers:
    admin: Any
    district: Any
    hospital: Any
    secretary: Any
    expert: Any
    site: Any
    student: Any
    distance: Any = None  # 远程教育机构 (issue 16.11)


@dataclass
class Summary:
    """What was built, for the command's output and the tests."""

    counts: dict[str, int] = field(default_factory=dict)
    site_code: str | None = None
    site_phone: str | None = None


class _Upload:
    """A file as the services take it from a form (``filename`` and ``stream``)."""

    def __init__(self, data: bytes, filename: str):
        self.filename = filename
        self.stream = io.BytesIO(data)


def pdf(name: str = "证明材料.pdf") -> _Upload:
    return _Upload(PDF, name)


def jpeg(taken: datetime.datetime, lat: float, lon: float, color: tuple[int, int, int]) -> bytes:
    """A small JPEG with the capture time and GPS position in its EXIF (what a phone sends)."""
    import piexif
    from PIL import Image

    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return ((d, 1), (m, 1), (s, 100))

    exif = {"0th": {}, "Exif": {piexif.ExifIFD.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S").encode()},
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: dms(lat),
                    piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: dms(lon)}, "1st": {}}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "JPEG", exif=piexif.dump(exif), quality=80)
    return out.getvalue()
