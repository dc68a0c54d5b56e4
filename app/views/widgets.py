"""The list toolbox every screen shares (issue 14): the one number formatter, time and organization-name
formatters, the search filters and the search-form boxes of FAB lists, and the one pager of the
hand-written lists.

Formatting::

    number(Decimal("2.00")) == "2"; excel_number(v) for a sheet cell; fmt_time(dt) "2026-03-01 10:00"

Lists: ``ChoiceFiltersMixin`` with ``custom_filters = {"status": [FilterChoice]}`` and
``search_form_extra_fields = {"status": SelectField(..., choices=choices(STATUSES), render_kw=BOX)}``;
a hand-written list reads ``page()`` and shows ``pages(total, PAGE_SIZE)``.
"""
from __future__ import annotations

import datetime
import math
import operator
from collections.abc import Callable
from typing import Any

from flask import g, request, url_for
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import or_, select, true

from app.extensions import db
from app.models import Org, Person
from app.services.numbers import plain
from app.views.scale import org_cache

# ------------------------------------------------------------------------------ formatting
number = plain  # the one number formatter (services/numbers): 2.00 → "2", 0.50 → "0.5", None → ""


def excel_number(value: Any) -> Any:
    """A number for an Excel cell (a float; an empty cell for None)."""
    return float(value) if value is not None else ""


def fmt_time(value: datetime.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def org_namer() -> Callable[[int | None], str]:
    """A name lookup for organization ids, caching each id once per request; a list page primes the
    cache with its rows' organizations in one query (scale.prime_org_names), so none is looked up alone."""
    cache = org_cache()

    def name(org_id: int | None) -> str:
        if org_id is None:
            return ""
        if org_id not in cache:
            cache[org_id] = db.session.scalar(select(Org.name).where(Org.id == org_id)) or ""
        return cache[org_id]
    return name


def transcript_prefix() -> str:
    """The address of a person's 学分档案 without the id ("/transcript/"), built once per request: a list
    appends each row's id instead of calling url_for per row."""
    prefix = getattr(g, "cme_transcript_url", None)
    if prefix is None:
        prefix = g.cme_transcript_url = url_for("TranscriptView.person", person_id=0)[:-1]
    return prefix


def transcript_link(person: Person | None, year: int | None = None) -> Markup | str:
    """A person's name linking to the person's 学分档案."""
    if person is None:
        return ""
    prefix = transcript_prefix()
    href = f"{prefix}{person.id}?year={int(year)}" if year else f"{prefix}{person.id}"
    return Markup(f'<a href="{escape(href)}">{escape(str(person))}</a>')  # (Markup.format: 3× slower, 20× a page)


# ------------------------------------------------------------------------------ pager
def page(name: str = "page") -> int:
    """The 1-based page number of a hand-written list (``?page=``); junk or < 1 is page 1."""
    value = request.args.get(name, 1, type=int)
    return max(value or 1, 1)


def pages(total: int, size: int) -> int:
    """How many pages ``total`` rows fill (at least one, so an empty list shows "1 / 1")."""
    return max(math.ceil((total or 0) / size), 1)


# ------------------------------------------------------------------------------ search filters
def _parse_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


class DateFilter(BaseFilter):
    compare: Callable[[Any, datetime.date], Any]

    def apply(self, query, value):
        day = _parse_date(value)
        return query if day is None else query.filter(type(self).compare(getattr(self.model, self.column_name), day))


class FilterOnOrAfter(DateFilter):
    name = _l("不早于")
    arg_name = "ge"
    compare = operator.ge


class FilterOnOrBefore(DateFilter):
    name = _l("不晚于")
    arg_name = "le"
    compare = operator.le


class TextFilter(BaseFilter):
    """A filter on a typed or chosen value: ``criterion(value)`` when one is given, no filter otherwise."""

    def criterion(self, value: str):
        raise NotImplementedError

    def apply(self, query, value):
        value = (value or "").strip()
        return query.filter(self.criterion(value)) if value else query


class FilterChoice(TextFilter):
    name = _l("等于")
    arg_name = "eq"

    def criterion(self, value):
        return getattr(self.model, self.column_name) == value


class FilterMet(TextFilter):
    name = _l("等于")
    arg_name = "eq"

    def criterion(self, value):
        return getattr(self.model, self.column_name).is_(value == "1") if value in ("0", "1") else true()


class FilterPerson(TextFilter):
    """The person link searched by name, IC card number or pinyin initials (no <select> of persons)."""

    name = _l("姓名/卡号/拼音首字母")
    arg_name = "person"

    def criterion(self, value):
        return self.model.person_id.in_(select(Person.id).where(or_(
            Person.name.like(f"{value}%"), Person.card_no.like(f"{value}%"),
            Person.name_initials.like(f"{value.lower()}%"))))


class FilterOrgName(TextFilter):
    name = _l("名称包含")
    arg_name = "org"

    def criterion(self, value):
        return getattr(self.model, self.column_name).in_(select(Org.id).where(Org.name.like(f"%{value}%")))


# The render_kw of a search-form box.
BOX = {"class": "form-control"}


def choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    """A search select's options: an empty "any" first, then the mapping's (value, label) pairs."""
    return [("", "")] + list(mapping.items())


class ChoiceFiltersMixin:
    """Replace FAB's generated filters of some columns (``custom_filters``: column → filter classes);
    the search form shows ``search_form_extra_fields`` for them (text boxes, short selects)."""

    custom_filters: dict[str, list[type[BaseFilter]]] = {}

    def _init_properties(self):
        super()._init_properties()
        for column, classes in self.custom_filters.items():
            instances = [cls(column, self.datamodel) for cls in classes]
            # FAB reads the operator list from one dict and the applied filter from the other.
            self._filters._search_filters[column] = instances
            self._filters._all_filters[column] = instances


def install(app) -> None:
    """Template helpers of the toolbox: ``{{ credit.credits|number }}`` (views.register calls it)."""
    app.jinja_env.filters["number"] = number
