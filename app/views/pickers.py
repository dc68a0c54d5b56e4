"""Scoped JSON endpoints for the AJAX pickers (persons, dictionary items such as 学科)."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_

from app.extensions import db
from app.forms.fields import AjaxPickerField
from app.models import DictItem, DictType, Person
from app.views.base import current_scope
from app.views.widgets import page as _page

PAGE = 20


def person_query(q: str | None):
    query = current_scope().filter(db.session.query(Person), Person)
    if q:
        like = f"{q}%"
        query = query.filter(or_(Person.card_no.like(like), Person.name.like(like),
                                 Person.name_initials.like(q.lower() + "%")))
    return query


def resolve_person(pk):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return person_query(None).filter(Person.id == pk).first()


def person_ajax_field(label=_l("学员"), validators=None) -> AjaxPickerField:
    return AjaxPickerField(label, validators or [], resolve=resolve_person,
                           url=lambda: url_for("DictPickerApi.persons"))


class DictPickerApi(BaseView):
    """/pickers/...: JSON for Select2 (results + pagination.more)."""

    route_base = "/pickers"

    @expose("/persons")
    @has_access
    @permission_name("read")
    def persons(self):
        page = _page()
        rows = (person_query(request.args.get("q", "").strip())
                .order_by(Person.name, Person.id).offset((page - 1) * PAGE).limit(PAGE + 1).all())
        results = [{"id": p.id, "text": f"{p.name}（{p.card_no}，{p.institution.name if p.institution else ''}）"}
                   for p in rows[:PAGE]]
        return jsonify(results=results, pagination={"more": len(rows) > PAGE})

    @expose("/dict/<code>")
    @has_access
    @permission_name("read")
    def dict_items(self, code):
        page = _page()
        q = request.args.get("q", "").strip()
        query = (db.session.query(DictItem).join(DictType)
                 .filter(DictType.code == code, DictItem.active.is_(True)))
        if q:
            query = query.filter(or_(DictItem.label.like(f"%{q}%"), DictItem.code.like(f"{q}%"),
                                     DictItem.pinyin.like(f"{q.lower()}%")))
        rows = query.order_by(DictItem.sort, DictItem.id).offset((page - 1) * PAGE).limit(PAGE + 1).all()
        return jsonify(results=[{"id": i.label, "text": i.label, "code": i.code, "extra": i.extra}
                                for i in rows[:PAGE]], pagination={"more": len(rows) > PAGE})
