"""The region an installation serves: one city node at the root of the organization tree (SYS-2).

`flask cme init` creates it from the operator's answers and `flask cme demo` through the same function,
so a district, institution or department always has a city to hang under (adding a district looks for
its parent among the city nodes). The system parameter 所在地区 (which rule sets are in force) follows
the city's name when the city is created; it is never changed afterwards by these functions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Org, Parameter
from app.services.errors import DomainError

REGION_KEY = "region"
CODE_PATTERN = re.compile(r"^[0-9A-Za-z]{2,32}$")


class RegionError(DomainError):
    """The city's name or code is unusable; the message is Chinese."""


@dataclass
class CityResult:
    city: Org
    created: bool
    # Set when the caller asked for another name/code than the existing city's (nothing is changed).
    differs: bool = False


def city(session: Session) -> Org | None:
    """The installation's city node (the first one, there is one)."""
    return session.scalar(select(Org).where(Org.kind == "city").order_by(Org.id))


def check_city(name: str | None, code: str | None) -> tuple[str, str]:
    """Validate a city's name and code; returns them stripped or raises RegionError."""
    name, code = (name or "").strip(), (code or "").strip()
    if not name:
        raise RegionError("请填写市的名称（例如：北京市）")
    if len(name) > 128:
        raise RegionError("市的名称不能超过128个字符")
    if not CODE_PATTERN.match(code):
        raise RegionError("市的编码须为2至32位数字或字母（例如行政区划代码 1100）")
    return name, code


def ensure_city(session: Session, name: str | None, code: str | None) -> CityResult:
    """Create the city node (and set 所在地区 to its name) unless a city exists. Idempotent: an
    existing city is returned unchanged; ``differs`` tells the caller its answers were not applied."""
    existing = city(session)
    if existing is not None:
        differs = bool((name and name.strip() != existing.name) or (code and code.strip() != existing.code))
        return CityResult(existing, created=False, differs=differs)
    name, code = check_city(name, code)
    if session.scalar(select(Org.id).where(Org.code == code)) is not None:
        raise RegionError("编码“%(code)s”已被其他单位使用", code=code)
    node = Org(kind="city", name=name, code=code, active=True, sort=0)
    session.add(node)
    session.flush()
    parameter = session.scalar(select(Parameter).where(Parameter.key == REGION_KEY))
    if parameter is None:
        session.add(Parameter(key=REGION_KEY, name="所在地区", value=name,
                              remark="选择适用的授分规则集：取该地区已发布、在当日生效的规则集"))
    else:
        parameter.value = name
    return CityResult(node, created=True)
