"""Chinese resident ID numbers (身份证号, GB 11643-1999): checksum, gender, birth date, masking."""
from __future__ import annotations

import datetime

from app.models.people import mask_id_number as mask  # noqa: F401 (the pure mask lives with the column)
from app.services.errors import DomainError

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


class IdNumberError(DomainError):
    """A bad ID number; the message is Chinese and shown to the user."""


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def validate(number: str) -> str:
    """Return the normalised number (upper-case X) or raise IdNumberError."""
    number = (number or "").strip().upper()
    if len(number) != 18:
        raise IdNumberError("身份证号必须是18位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("身份证号格式不正确")
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期无效") from None
    if birth.year < 1900 or birth > datetime.date.today():
        raise IdNumberError("身份证号中的出生日期无效")
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("身份证号校验位错误")
    return number


def birth_date(number: str) -> datetime.date:
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender(number: str) -> str:
    """男 for an odd 17th digit, 女 for an even one."""
    return "男" if int(number[16]) % 2 else "女"


def make(area: str, birth: datetime.date, seq: int) -> str:
    """Build a valid number (demo data and tests): 6-digit area, birth date, 3-digit sequence."""
    first17 = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_digit(first17)
