"""Supervision photos (SUP-6): read the capture time and GPS from EXIF, stamp time and place onto a copy.

Pillow reads the image and its EXIF (piexif decodes the GPS block); the stamp is drawn with a CJK font
when one is installed (fonts-wqy-microhei / fonts-noto-cjk), else with Pillow's default font and the
place written in ASCII coordinates, so a missing font never refuses a photo.
"""
from __future__ import annotations

import datetime
import io
import os
from functools import lru_cache

import piexif
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
MAX_SIDE = 2048  # the stamped copy is scaled down to this; the original is kept as uploaded


class PhotoError(ValueError):
    """The file is not a readable image; message in Chinese."""


def _ratio(value) -> float:
    num, den = value
    return num / den if den else 0.0


def _dms(values, ref: bytes | str | None) -> float | None:
    try:
        deg = _ratio(values[0]) + _ratio(values[1]) / 60 + _ratio(values[2]) / 3600
    except (TypeError, IndexError, ZeroDivisionError):
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    return -deg if ref in ("S", "W") else deg


def read_exif(data: bytes) -> tuple[datetime.datetime | None, float | None, float | None]:
    """(capture time, latitude, longitude) from the photo's EXIF; None where missing or unreadable."""
    try:
        exif = piexif.load(data)
    except Exception:  # noqa: BLE001 - no or broken EXIF is an ordinary case on the web
        return None, None, None
    taken = None
    raw = exif.get("Exif", {}).get(piexif.ExifIFD.DateTimeOriginal) or exif.get("0th", {}).get(
        piexif.ImageIFD.DateTime)
    if raw:
        try:
            taken = datetime.datetime.strptime(raw.decode("ascii", "ignore").strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken = None
    gps = exif.get("GPS", {}) or {}
    lat = lon = None
    if piexif.GPSIFD.GPSLatitude in gps and piexif.GPSIFD.GPSLongitude in gps:
        lat = _dms(gps[piexif.GPSIFD.GPSLatitude], gps.get(piexif.GPSIFD.GPSLatitudeRef))
        lon = _dms(gps[piexif.GPSIFD.GPSLongitude], gps.get(piexif.GPSIFD.GPSLongitudeRef))
    return taken, lat, lon


@lru_cache(maxsize=4)
def _font(size: int):
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            try:
                return ImageFont.truetype(path, size), True
            except OSError:
                continue
    return ImageFont.load_default(), False


def place_text(lat: float | None, lon: float | None) -> str:
    if lat is None or lon is None:
        return "位置未知"
    return f"{'北纬' if lat >= 0 else '南纬'}{abs(lat):.5f} {'东经' if lon >= 0 else '西经'}{abs(lon):.5f}"


def stamp(data: bytes, taken: datetime.datetime | None, lat: float | None, lon: float | None,
          title: str = "") -> bytes:
    """A JPEG copy of the photo with time and place drawn in its lower-left corner."""
    try:
        image = Image.open(io.BytesIO(data))
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise PhotoError("无法读取照片，请重新拍摄上传") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    size = max(14, image.width // 28)
    font, cjk = _font(size)
    lines = [f"{taken:%Y-%m-%d %H:%M:%S}" if taken else "时间未知", place_text(lat, lon)]
    if title:
        lines.insert(0, title)
    if not cjk:  # the default font has no Chinese glyphs: keep what it can draw
        lines = [f"{taken:%Y-%m-%d %H:%M:%S}" if taken else "time unknown",
                 f"{lat:.5f},{lon:.5f}" if lat is not None and lon is not None else "no location"]
    draw = ImageDraw.Draw(image, "RGBA")
    pad = max(4, size // 3)
    heights = [draw.textbbox((0, 0), line, font=font)[3] for line in lines]
    width = max(draw.textbbox((0, 0), line, font=font)[2] for line in lines)
    box_h = sum(heights) + pad * (len(lines) + 1)
    top = image.height - box_h
    draw.rectangle([0, top, min(image.width, width + 2 * pad), image.height], fill=(0, 0, 0, 140))
    y = top + pad
    for line, h in zip(lines, heights):
        draw.text((pad, y), line, font=font, fill=(255, 255, 255, 255))
        y += h + pad
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
