"""The credit year (学分年度): the window a policy draws around a year. Both the compliance evaluators and
the counting policy read it, so it lives on its own below them."""
from __future__ import annotations

import datetime
from collections.abc import Mapping


def window(policy: Mapping, year: int) -> tuple[datetime.date, datetime.date]:
    """The credit year: seed 001 "2021 年 11 月 1 日至 2022 年 10 月 31 日" for 2022 (start 11-01, end 10-31)."""
    w = policy.get("window") or {"start": "01-01", "end": "12-31"}
    sm, sd = (int(x) for x in w["start"].split("-"))
    em, ed = (int(x) for x in w["end"].split("-"))
    start_year = year - 1 if (sm, sd) > (em, ed) else year
    return datetime.date(start_year, sm, sd), datetime.date(year, em, ed)


def compliance_year(policy: Mapping, on: datetime.date) -> int | None:
    """The credit year whose window contains ``on`` (seed 001: 2021-11-01 … 2022-10-31 is 2022), or
    None when the policy's window leaves the date out (a window shorter than a year)."""
    for year in (on.year, on.year + 1, on.year - 1):
        start, end = window(policy, year)
        if start <= on <= end:
            return year
    return None
