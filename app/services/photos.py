"""Supervision photos (SUP-6): read the capture time and GPS from EXIF, stamp time and place onto a copy.

Pillow reads the image and its EXIF (piexif decodes the GPS block); the stamp is drawn with a CJK font
when one is installed (fonts-wqy-microhei / fonts-noto-cjk), else with Pillow's default font and the
place written in ASCII coordinates, so a missing font never refuses a photo.
"""
from __future__ import annotations

import datetime
import io
import os
from dataclasses import dataclass
from functools import lru_cache

import piexif
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from app.services.errors import DomainError

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
MAX_SIDE = 2048  # the stamped copy is scaled down to this; the original is kept as uploaded


class PhotoError(DomainError):
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


@lru_cache(maxsize=64)
def _font(size: int):
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            try:
                return ImageFont.truetype(path, size), True
            except OSError:
                continue
    try:
        return ImageFont.load_default(size), False  # Pillow ≥ 10.1 with FreeType: a sizeable font
    except TypeError:
        return ImageFont.load_default(), False


def place_text(lat: float | None, lon: float | None) -> str:
    if lat is None or lon is None:
        return "位置未知"
    return f"{'北纬' if lat >= 0 else '南纬'}{abs(lat):.5f} {'东经' if lon >= 0 else '西经'}{abs(lon):.5f}"


@dataclass
class StampLayout:
    """Where the stamp goes on an image: font, the dark band (x0, y0, x1, y1, inclusive) and each line."""

    font: object
    size: int
    lines: list[str]
    box: tuple[int, int, int, int]
    origins: list[tuple[int, int]]


BAND_MAX_HEIGHT = 0.5  # the band covers at most half of the photo's height


def _measure(draw: ImageDraw.ImageDraw, lines: list[str], font) -> list[tuple[int, int]]:
    boxes = [draw.textbbox((0, 0), line, font=font) for line in lines]
    return [(b[2], b[3]) for b in boxes]


def _fit(draw: ImageDraw.ImageDraw, text: str, font, room: int) -> str:
    """``text`` cut with … so it is at most ``room`` pixels wide."""
    if draw.textbbox((0, 0), text, font=font)[2] <= room:
        return text
    while text and draw.textbbox((0, 0), text + "…", font=font)[2] > room:
        text = text[:-1]
    return text + "…" if text else ""


def stamp_layout(width: int, height: int, lines: list[str], title: str = "") -> StampLayout:
    """The font size follows the image width (about 1/28 of it) and shrinks until the time and place lines
    fit inside the image with their padding, the band no higher than half the image; a title wider than
    that is cut with …, so it never makes the time and place smaller. Small photos get a small stamp, never
    a clipped one."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    size = max(6, width // 28)
    while True:
        font, _ = _font(size)
        pad = max(1, size // 3)
        extents = _measure(draw, lines + ([title] if title else []), font)
        text_w = max(w for w, _ in extents[:len(lines)])
        box_h = sum(h for _, h in extents) + pad * (len(extents) + 1)
        if (text_w + 2 * pad <= width and box_h <= max(1, int(height * BAND_MAX_HEIGHT))) or size == 1:
            break
        size = max(1, min(size - 1, int(size * 0.9)))
    shown = ([_fit(draw, title, font, width - 2 * pad)] if title else []) + lines
    extents = _measure(draw, shown, font)
    band_w = min(width, max(w for w, _ in extents) + 2 * pad)
    box_h = min(height, sum(h for _, h in extents) + pad * (len(extents) + 1))
    top = height - box_h
    origins, y = [], top + pad
    for _, h in extents:
        origins.append((pad, y))
        y += h + pad
    return StampLayout(font, size, shown, (0, top, band_w - 1, height - 1), origins)


def stamp(data: bytes, taken: datetime.datetime | None, lat: float | None, lon: float | None,
          title: str = "") -> bytes:
    """A JPEG copy of the photo, the same size (up to MAX_SIDE), with time and place drawn in its lower-left
    corner on a dark band scaled to the image width."""
    try:
        image = Image.open(io.BytesIO(data))
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise PhotoError("无法读取照片，请重新拍摄上传") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    cjk = _font(max(6, image.width // 28))[1]
    lines = [f"{taken:%Y-%m-%d %H:%M:%S}" if taken else "时间未知", place_text(lat, lon)]
    if not cjk:  # the default font has no Chinese glyphs: keep what it can draw
        lines = [f"{taken:%Y-%m-%d %H:%M:%S}" if taken else "time unknown",
                 f"{lat:.5f},{lon:.5f}" if lat is not None and lon is not None else "no location"]
        title = ""
    layout = stamp_layout(image.width, image.height, lines, title)
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rectangle(layout.box, fill=(0, 0, 0, 140))
    for line, origin in zip(layout.lines, layout.origins):
        draw.text(origin, line, font=layout.font, fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
