"""A person's fields that are choices, not free text (issue 15.5): 职称 from the 职称 dictionary with
职称级别 derived from it, and the phone number checked. One place for the form, the Excel import and the
REST API. Flask-free.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DictItem, DictType
from app.models.people import TITLE_LEVELS
from app.services.errors import N_, DomainError

# Mainland mobile, or a landline: optional area code (0 + 2-3 digits, with or without a dash), 7-8 digits,
# optional extension.
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$")
# 专业 of a person (the audit screens filter by them; the demo city draws from them).
SPECIALTIES = ["临床医学", "护理学", "药学", "医学技术", "公共卫生", "中医学"]
PHONE_MESSAGE = N_("联系电话格式不正确")  # the form's field description gives the examples


class PersonFieldError(DomainError):
    """A Chinese message for the field named by ``column`` (a label: 职称, 职称级别, 联系电话)."""

    def __init__(self, column: str, message: str, **params):
        super().__init__(message, **params)
        self.column = column


def titles(session: Session) -> dict[str, str | None]:
    """Active 职称 items: label → 职称级别 (the item's extra)."""
    return dict(session.execute(
        select(DictItem.label, DictItem.extra).join(DictType, DictType.id == DictItem.type_id)
        .where(DictType.code == "title", DictItem.active.is_(True)).order_by(DictItem.sort, DictItem.id)).all())


def title_levels(session: Session) -> list[str]:
    """The 职称级别 dictionary's labels in order (the four seeded levels when it is empty)."""
    labels = list(session.scalars(
        select(DictItem.label).join(DictType, DictType.id == DictItem.type_id)
        .where(DictType.code == "title_level", DictItem.active.is_(True)).order_by(DictItem.sort, DictItem.id)))
    return labels or list(TITLE_LEVELS)


def clean_phone(value: str | None) -> str | None:
    """The phone number without spaces, or None when empty; PersonFieldError when not a phone number."""
    phone = re.sub(r"\s+", "", value or "")
    if not phone:
        return None
    if not (MOBILE_RE.match(phone) or LANDLINE_RE.match(phone)):
        raise PersonFieldError("联系电话", PHONE_MESSAGE)
    return phone


def check_title(known: dict[str, str | None], title: str | None,
                level: str | None = None) -> tuple[str | None, str | None]:
    """(title, title level) for a 职称 that must be in ``known`` (from :func:`titles`); the level is derived
    from the title. A level given along (the API) must be that derived level."""
    title = (title or "").strip() or None
    level = (level or "").strip() or None
    if title is None:
        if level is not None:
            raise PersonFieldError("职称级别", "职称级别由职称自动确定，请先选择职称")
        return None, None
    if title not in known:
        raise PersonFieldError("职称", "职称“%(title)s”不在字典中", title=title)
    derived = known[title] or None
    if level is not None and level != derived:
        raise PersonFieldError("职称级别", "职称级别由职称自动确定：“%(title)s”为“%(derived)s”，不能填写“%(level)s”",
                               title=title, derived=derived or "未定级", level=level)
    return title, derived
