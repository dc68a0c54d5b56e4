"""What the 学分审验 administration screens share: the module name of their log lines, the form-box
style, org names, the city-only cycle, the draw job shown on a list, small inline POST forms, and
``ComputedInterface`` — the datamodel that gives a list or show page its computed columns (a cycle's
time range, a standard's ops…) from functions of the view, not from properties patched onto models.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import abort, request
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from app.extensions import db
from app.models import Org
from app.models.audit import AuditCycle
from app.views.base import current_scope
from app.views.submit import submit_token

MODULE = "学分审验"
BOX = {"class": "form-control"}
PAGE_SIZE = 200

# A computed column: the rows of a page → one value per row (a count per page is one query).
Computed = Callable[[Sequence[Any]], list[Any]]


def per_row(fn: Callable[[Any], Any]) -> Computed:
    """A computed column from a function of one row."""
    return lambda rows: [fn(r) for r in rows]


class ComputedInterface(SQLAInterface):
    """SQLAInterface whose named columns are computed by the view's functions (see ``Computed``)."""

    def __init__(self, obj, computed: dict[str, Computed], session=None):
        super().__init__(obj, session)
        self.computed = computed

    def get_values(self, lst, list_columns):
        rows = list(lst)
        extra = {c: self.computed[c](rows) for c in list_columns if c in self.computed}
        for i, item in enumerate(rows):
            yield {c: extra[c][i] if c in extra else self._get_attr_value(item, c) for c in list_columns}

    def get_values_item(self, item, show_columns):
        return [self.computed[c]([item])[0] if c in self.computed else self._get_attr_value(item, c)
                for c in show_columns]


def org_names(ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Org.id, Org.name).where(Org.id.in_(ids))).all()) if ids else {}


def post_button(action: str, label: str, confirm: str = "", css: str = "btn-link", **fields: Any) -> Markup:
    """A one-button POST form (CSRF, submit token and ``fields`` as hidden inputs), with a confirm()
    question when given."""
    from flask_wtf.csrf import generate_csrf

    onsubmit = Markup(' onsubmit="return confirm({});"').format(Markup("&quot;") + confirm + Markup("&quot;")) if confirm else ""
    hidden = Markup("").join(Markup('<input type="hidden" name="{}" value="{}">').format(k, v) for k, v in fields.items())
    return Markup('<form method="post" action="{}" style="display:inline"{}><input type="hidden" name="csrf_token" '
                  'value="{}">{}{}<button type="submit" class="btn btn-xs {}">{}</button></form>').format(
        action, onsubmit, generate_csrf(), submit_token(), hidden, css, label)


def link_button(href: str, label: str) -> Markup:
    return Markup('<a class="btn btn-xs btn-link" href="{}">{}</a>').format(href, label)


def city_cycle(cycle_id: int) -> AuditCycle:
    """A cycle for the city-only pages (final list, allocation, replies); 404 for anyone else."""
    if not current_scope().is_all:
        abort(404)
    return db.session.get(AuditCycle, cycle_id) or abort(404)


def job_of(kind: str):
    from app.models import Job

    job_id = request.args.get("job")
    if not job_id:
        return None
    job = db.session.get(Job, job_id)
    return job if job is not None and job.user_id == current_user.id and job.kind == kind else None


class DrawJobList:
    """A list page (audit/_draw_job_list.html) that shows the progress of the draw job just started (?job=)."""

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["job"] = job_of("audit_draw")
        return super().render_template(template, **kwargs)
