"""A list's search form rendered once per (list, roles, scope, language), not on every page (issue 18.4).

Flask-AppBuilder's ``SearchWidget`` renders every searchable column's form field on each list page (the
page's script adds the chosen ones to the filter row): its choices are read from the database and each
``<select>`` renders its options — about a quarter of a list page's Python time, and more for a city
with hundreds of institutions in a select. The fields depend only on the list, the user's roles and
scope (scoped choices) and the language; which filters are applied (``active_filters``) is read from
each request. A committed change of anything a choice may come from empties the cache in this process
(any table but the busy ones below); other worker processes see it within about a second with Redis, within
``TTL`` seconds without (services/ttl_cache.py).
"""
from __future__ import annotations

from flask_appbuilder._compat import as_unicode
from flask_appbuilder.widgets import RenderTemplateWidget, SearchWidget
from flask_babel import get_locale

from app.services.ttl_cache import TtlCache
from app.views.base import viewer_key

TTL = 30.0  # seconds another process may offer the choices from before a change
# Rows written all day that never feed a search form's choices: their writes leave the cache alone.
BUSY_TABLES = frozenset({
    "ab_user", "person", "credit", "compliance_result", "manual_credit", "self_study", "job", "notice",
    "review_log", "operation_log", "login_log", "captcha_ticket", "attachment", "form_submission",
    "grant_draft", "grant_draft_person", "activity_grant", "cme_checkin", "cme_practice_checkin",
    "cme_swipe_problem", "sup_sms_code", "sup_sms_outbox", "sup_photo", "sup_feedback", "sup_filing_log",
    "practice_plan_log", "audit_verdict", "audit_drawn_person", "audit_final_person", "distance_record",
})


def _touches_choices(classes: set[type]) -> bool:
    return any(getattr(cls, "__tablename__", None) not in BUSY_TABLES for cls in classes)


_cache = TtlCache("search_form", TTL, 2048, _touches_choices)


def clear() -> None:
    _cache.clear()


class CachedSearchWidget(SearchWidget):
    """FAB's SearchWidget with its per-column parts (labels, rendered fields, filter names) cached."""

    def _parts(self) -> tuple[dict, dict, dict]:
        form, columns = self.template_args["form"], self.template_args["include_cols"]
        dict_filters = self.filters.get_search_filters()
        labels = {col: as_unicode(form[col].label.text) for col in columns}
        fields = {col: form[col]() for col in columns}
        names = {col: [as_unicode(flt.name) for flt in dict_filters[col]] for col in columns}
        return labels, fields, names

    def __call__(self, **kwargs):
        key = (self.template_args.get("route_base"), tuple(self.template_args["include_cols"]), *viewer_key(),
               str(get_locale() or ""))
        parts = _cache.get(key)
        if parts is None:
            parts = self._parts()
            _cache.put(key, parts)
        kwargs["label_columns"], kwargs["form_fields"], kwargs["search_filters"] = parts
        kwargs["active_filters"] = self.filters.get_filters_values_tojson()
        return RenderTemplateWidget.__call__(self, **kwargs)


class _LazyForm:
    """The search form FAB builds for each list page (binding every field), built only when the cache
    misses and the widget renders its fields."""

    def __init__(self, build):
        self._build = build
        self._form = None

    def __getitem__(self, name: str):
        if self._form is None:
            self._form = self._build()
        return self._form[name]


class _LazySearchForm:
    """Stands in for a list's search form class: ``refresh()`` returns a form built on first use."""

    def __init__(self, form_class):
        self.form_class = form_class

    def refresh(self, obj=None) -> _LazyForm:
        return _LazyForm(lambda: self.form_class.refresh(obj))


def install() -> None:
    """Every FAB list (ours and FAB's own user and role lists) renders its search form through the cache
    and builds the form only when the cache misses."""
    from flask_appbuilder import ModelView

    from app.services import ttl_cache

    ModelView.search_widget = CachedSearchWidget
    if not getattr(ModelView._init_forms, "cme_lazy", False):
        fab_init_forms = ModelView._init_forms

        def _init_forms(self):
            fab_init_forms(self)
            if self.search_form is not None and not isinstance(self.search_form, _LazySearchForm):
                self.search_form = _LazySearchForm(self.search_form)

        _init_forms.cme_lazy = True
        ModelView._init_forms = _init_forms
    ttl_cache.install()
