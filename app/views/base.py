"""Scoped CRUD: every list, show, edit, delete, bulk action, export and API call of a scoped
model goes through ``current_scope()`` (SYS-1), closing Flask-AppBuilder's base_filters holes."""
from __future__ import annotations

import datetime
from typing import Any

from flask import abort, flash, g, redirect, request
from flask_appbuilder import ModelRestApi, ModelView, expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import Org
from app.services.errors import DomainError
from app.services.roles import ALL_ROLES
from app.services.scope import NO_SCOPE, Scope, scope_for_user  # noqa: F401 (re-exported: services/scope.py)
from app.views import scale
from app.views.actions import act, rollback_pending
from app.views.scale import CappedListApiMixin


class ScopeError(DomainError):
    status = 403
    """A row outside the user's data scope was named; message in Chinese (HTTP 403 on the API)."""


class InputError(DomainError):
    """Submitted data is invalid (bad ID number, department of another institution…); message in
    Chinese (HTTP 422 on the API, a flashed error on forms)."""


def acting_user() -> Any:
    """The request's user: the browser session's, or a REST client's signed in with a JWT
    (flask_login's current_user is anonymous there); None when nobody is signed in."""
    from flask import current_app, has_request_context

    if getattr(current_user, "is_authenticated", False):
        return current_user
    if not has_request_context() or current_user is None:
        return None
    user = current_app.appbuilder.sm.current_user
    return user if getattr(user, "is_authenticated", False) else None


def current_scope() -> Scope:
    """The request's scope, computed once per request."""
    if "cme_scope" not in g:
        g.cme_scope = scope_for_user(acting_user())
    return g.cme_scope


def role_names() -> set[str]:
    if "cme_roles" not in g:
        user = acting_user()
        g.cme_roles = {r.name for r in user.roles} if user is not None else set()
    return g.cme_roles


def viewer_key() -> tuple:
    """Who is asking, as a cache key: the user's roles and data scope (what kept list counts and search
    forms depend on besides the list itself)."""
    scope = current_scope()
    return (tuple(sorted(role_names())), scope.level, scope.org_id, scope.person_id)


scale.set_viewer(viewer_key)  # a capped list count is remembered per roles and scope


class ScopeFilter(BaseFilter):
    """base_filters entry: limits any query to the user's scope."""

    name = "scope"

    def apply(self, query, value):
        return current_scope().filter(query, self.model)


def scoped_orgs(kind: str):
    """Query factory for related-org dropdowns (institution / department pickers)."""
    def factory():
        query = db.session.query(Org).filter(Org.kind == kind, Org.active.is_(True))
        return current_scope().filter(query, Org).order_by(Org.sort, Org.name)
    return factory


def place_under(item: Any, org: Org | None) -> None:
    """Copy the ancestor ids of ``org`` onto ``item`` after checking it is in scope."""
    scope = current_scope()
    if org is None:
        raise ScopeError(_("请选择所属机构"))
    if not scope.allows_org(org):
        raise ScopeError(_("无权在该机构下操作数据"))
    for level in ("district", "institution", "department"):
        if hasattr(item, f"{level}_id") and level != getattr(item, "__scope_self__", None):
            setattr(item, f"{level}_id", getattr(org, f"{level}_id"))


class ExportMixin:
    """Excel export of the list as the user filtered it (inside base_filters), streamed."""

    export_columns: list[str] = []
    export_name = "export"

    # ------------------------------------------------------------ Excel export
    def export_query(self):
        """The list's rows as the user filtered them, inside the scope, as a Query."""
        from flask_appbuilder.urltools import get_filter_args

        get_filter_args(self._filters)
        joined = self._filters.get_joined_filters(self._base_filters)
        query = self.datamodel.session.query(self.datamodel.obj)
        return self.datamodel.apply_all(query, joined) if hasattr(self.datamodel, "apply_all") else query

    def export_sheet(self) -> tuple[str, list[str], Any, Any]:
        """(file name, column titles, the query, rows) of the export as the request filters it —
        used by the streamed response and, for big exports, by the export job (app.jobs.exports),
        which replays the user's request so scope and filters are the list's own."""
        labels = [str(self.label_columns.get(c, c)) for c in self.export_columns]
        query = self.export_query()
        formatters = getattr(self, "export_formatters", {})

        def rows():
            for item in query.yield_per(1000):
                yield [formatters[c](item) if c in formatters else _cell(getattr(item, c, ""))
                       for c in self.export_columns]

        return f"{self.export_name}-{datetime.date.today():%Y%m%d}.xlsx", labels, query, rows()

    @expose("/export/")
    @has_access
    @permission_name("export")
    def export(self):
        from flask import current_app

        from app.jobs import enqueue
        from app.oplog import record
        from app.services.exports import more_than, stream_xlsx

        if not self.export_columns:
            abort(404)
        name, labels, query, rows = self.export_sheet()
        record(getattr(self.datamodel.obj, "__module_label__", self.export_name), "导出")
        inline_max = current_app.config["EXPORT_INLINE_MAX"]
        if not more_than(self.datamodel.session, query, inline_max):
            return stream_xlsx(name, labels, rows)
        job = enqueue("export", "app.jobs.exports:export_list", user_id=acting_user().id,
                      title=_("导出%(name)s", name=self.export_name), view=type(self).__name__,
                      args=[[k, v] for k, v in request.args.items(multi=True)])
        return self.render_template("jobs/export.html", job=job, inline_max=inline_max,
                                    back=request.referrer or self.get_redirect())


class ScopedModelView(ExportMixin, ModelView):
    """ModelView whose every path is limited to the user's data scope.

    Subclasses name ``scope_org_attr``: the attribute holding the organization a row belongs to
    (e.g. ``department`` falling back to ``institution``); it is checked on add and edit.
    """

    base_filters = [["id", ScopeFilter, lambda: None]]
    scope_org_attrs: tuple[str, ...] = ()
    page_size = 20

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            checkbox_may_stay_unticked(form)

    def _row_org(self, item: Any) -> Org | None:
        for attr in self.scope_org_attrs:
            org = getattr(item, attr, None)
            if org is not None:
                return org
        return None

    def pre_add(self, item: Any) -> None:
        if self.scope_org_attrs:
            place_under(item, self._row_org(item))

    def pre_update(self, item: Any) -> None:
        if self.scope_org_attrs:
            place_under(item, self._row_org(item))

    # FAB flashes an error raised by pre_add / pre_update / pre_delete but leaves the session as
    # populate_obj left it: roll back (actions.rollback_pending), so a refused change is never
    # flushed later in the request.
    def _add(self):
        try:
            return super()._add()
        finally:
            rollback_pending()

    def _edit(self, pk):
        try:
            return super()._edit(pk)
        finally:
            rollback_pending()

    def _delete(self, pk):
        # FAB's, with the references checked first and a Chinese message for a refused delete (its
        # own flashes the driver's exception: empty or English).
        from flask_appbuilder.exceptions import DatabaseException

        try:
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                abort(404)
            try:
                self.pre_delete(item)
                refuse_if_referenced([item])
            except Exception as exc:  # noqa: BLE001 - refusals carry a Chinese message
                flash(str(exc), "danger")
                return
            try:
                self.datamodel.delete(item)
                self.post_delete(item)
                flash(self.delete_row_message, "success")
            except DatabaseException:
                flash(_("删除失败：该记录已被其他数据引用，不能删除"), "danger")
            self.update_redirect()
        finally:
            rollback_pending()

    # FAB's /download/<filename> serves any file of UPLOAD_FOLDER to whoever may "download" on the
    # view, whatever row it belongs to. Scoped models keep no FileColumn: files (evidence, job
    # results) go through their own scoped views, so the route answers 404.
    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    def _scoped_get(self, pk: Any) -> Any:
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    def _check_action(self, name: str) -> None:
        """FAB's action routes are not behind @has_access: an unknown action would be a 500 and a
        forbidden one a redirect. Answer 404 / 403 (login page for anonymous) like other pages."""
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name):
            if not getattr(current_user, "is_authenticated", False):
                abort(redirect(self.appbuilder.get_url_for_login_with(request.url)))
            abort(403)

    # Bulk and single actions fetch rows without base_filters in FAB: re-check scope here,
    # for every row before any is touched (one row outside the scope refuses the whole batch).
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        self._check_action(name)
        self._scoped_get(self._deserialize_pk_if_composite(pk))
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        self._check_action(request.form.get("action", ""))
        pks = request.form.getlist("rowid")
        for pk in pks:
            self._scoped_get(self._deserialize_pk_if_composite(pk))
        return super().action_post()

    @fab_action("muldelete", _l("删除"), _l("确定删除选中的记录吗？"), "fa-trash", single=False)
    def muldelete(self, items):
        # All or nothing: every row is checked before any is deleted, and one commit (actions.act) ends it.
        def delete_all() -> int:
            try:
                for item in items:
                    self.pre_delete(item)
                refuse_if_referenced(items)
            except Exception as exc:  # noqa: BLE001 - refusals carry a Chinese message, like FAB's _delete
                raise InputError("%(reason)s；未删除任何记录", reason=str(exc).rstrip("。")) from None
            try:
                for item in items:
                    db.session.delete(item)
                db.session.flush()
            except Exception:  # noqa: BLE001 - e.g. a row still referenced elsewhere
                raise InputError("删除失败：所选记录仍被其他数据引用，未删除任何记录") from None
            return len(items)

        self.update_redirect()
        return act(delete_all, done=lambda n: _("已删除 %(n)s 条记录", n=n), then=self.get_redirect())


def refuse_if_referenced(items: list[Any]) -> None:
    """Raise InputError naming the rows still referred to by other data, and by what."""
    from app.services.references import blockers

    found = blockers(db.session, items)
    if not found:
        return
    names: list[str] = []
    for rows in found.values():
        names.extend(str(r) for r in rows if str(r) not in names)
    other = _("其他数据")
    what = "、".join(label or other for label in found)
    rows = "、".join(f"“{n}”" for n in names[:5]) + (_("等") if len(names) > 5 else "")
    raise InputError(_("%(rows)s已被其他数据引用（%(what)s），不能删除", rows=rows, what=what))


def checkbox_may_stay_unticked(form_class: Any) -> None:
    """FAB gives a NOT NULL Boolean column's checkbox an InputRequired validator, so an unticked box
    (an inactive person or unit) fails as "required": take it off, unticked saves False."""
    from wtforms import BooleanField
    from wtforms.fields.core import UnboundField
    from wtforms.validators import InputRequired

    if form_class is None:
        return
    for name in dir(form_class):
        field = getattr(form_class, name, None)
        if isinstance(field, UnboundField) and issubclass(field.field_class, BooleanField):
            validators = field.kwargs.get("validators") or []
            field.kwargs["validators"] = [v for v in validators if not isinstance(v, InputRequired)]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, str, datetime.date, datetime.datetime)):
        return value
    return str(value)


def csrf_for_browser_sessions():
    """FAB exempts every API blueprint from CSRFProtect so JWT clients can write; a write riding on
    the browser's session cookie must still carry the page's token (X-CSRFToken header, read by
    page scripts from ``<meta name="csrf-token">``)."""
    from flask import current_app, jsonify
    from flask_wtf.csrf import CSRFError

    from app.extensions import csrf

    if request.method in ("GET", "HEAD", "OPTIONS") or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None  # a JWT is never sent by the browser on its own, so no cross-site forgery
    try:
        csrf.protect()
    except CSRFError:
        return jsonify(message=_("页面已过期或缺少安全令牌（CSRF），请刷新页面后重试")), 400
    return None


class BrowserCsrfMixin:
    """For FAB APIs (BaseApi / ModelRestApi): session-cookie writes need the CSRF token."""

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(csrf_for_browser_sessions)
        return blueprint


class ScopedRestApi(BrowserCsrfMixin, CappedListApiMixin, ModelRestApi):
    """REST API over a scoped model: reads filtered, writes checked (guessed ids give 404);
    writes from a browser session need the CSRF token, JWT clients do not. Lists count up to a cap
    and take a keyset ``cursor`` for deep pages (app.views.scale, issue 18)."""

    base_filters = [["id", ScopeFilter, lambda: None]]
    scope_org_attrs: tuple[str, ...] = ()
    allow_browser_login = True

    def _place(self, item: Any) -> None:
        org = None
        for attr in self.scope_org_attrs:
            org = getattr(item, attr, None)
            if org is not None:
                break
        place_under(item, org)

    def pre_add(self, item: Any) -> None:
        if self.scope_org_attrs:
            self._place(item)

    def pre_update(self, item: Any) -> None:
        if self.scope_org_attrs:
            self._place(item)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        # gettext("") answers the catalogue header: an empty label / description stays empty.
        for key, source in (("label", self.label_columns), ("description", self.description_columns)):
            if not source.get(field.name):
                info[key] = ""
        return info

    def _refused(self, exc: Exception):
        db.session.rollback()
        return self.response(403 if isinstance(exc, ScopeError) else 422, message=str(exc))

    def post_headless(self):
        try:
            return super().post_headless()
        except (ScopeError, InputError) as exc:
            return self._refused(exc)

    def put_headless(self, pk):
        try:
            return super().put_headless(pk)
        except (ScopeError, InputError) as exc:
            return self._refused(exc)

    def delete_headless(self, pk):
        # FAB's, with the references checked first and a Chinese 422 instead of the driver's text.
        from flask_appbuilder.exceptions import DatabaseException

        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            return self.response_404()
        try:
            self.pre_delete(item)
            refuse_if_referenced([item])
            self.datamodel.delete(item)
            self.post_delete(item)
        except (ScopeError, InputError) as exc:
            return self._refused(exc)
        except DatabaseException:
            db.session.rollback()
            return self.response_422(message=_("删除失败：该记录已被其他数据引用，不能删除"))
        return self.response(200, message="OK")


__all__ = [
    "ALL_ROLES",
    "BrowserCsrfMixin",
    "InputError",
    "ScopeError",
    "ScopeFilter",
    "ScopedModelView",
    "ScopedRestApi",
    "current_scope",
    "place_under",
    "refuse_if_referenced",
    "role_names",
    "scope_for_user",
    "scoped_orgs",
]


def qr_png_response(url: str):
    """A QR code of ``url`` as an uncached PNG response (topic sign-in, site-manager login)."""
    import io

    import qrcode
    from flask import send_file

    out = io.BytesIO()
    qrcode.make(url, box_size=8, border=2).save(out, format="PNG")
    out.seek(0)
    response = send_file(out, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


def guard_list_args():
    """before_request: sort and filter only on declared columns, for every list of every view (issue 17.4).

    FAB sorts by any column named in ``_oc_<View>`` — a column hidden or masked on the page included
    (sorting persons by their masked ID number recovers it) — and fails on a filter index it does not
    have. Refuse (400) an order column outside the view's ``order_columns`` and a ``_flt_`` outside its
    ``search_columns`` (add/edit forms keep FAB's related-field prefill). The REST API checks its own
    ``order_column`` and ``filters`` (400)."""
    import re

    from flask import current_app

    keys = [k for k in request.args if k.startswith(("_oc_", "_od_", "_flt_"))]
    if not keys:
        return
    views = current_app.extensions.get("cme_views_by_name")
    if views is None:
        views = {type(v).__name__: v for v in current_app.appbuilder.baseviews}
        current_app.extensions["cme_views_by_name"] = views
    endpoint = request.endpoint or ""
    own = views.get(endpoint.split(".")[0])
    for key in keys:
        if key.startswith("_oc_"):
            view = views.get(key[4:])
            if view is None or request.args[key] not in (getattr(view, "order_columns", None) or []):
                abort(400)
        elif key.startswith("_od_"):
            if request.args[key] not in ("asc", "desc"):
                abort(400)
        elif endpoint.rsplit(".", 1)[-1] not in ("add", "edit"):
            match = re.fullmatch(r"_flt_(\d+)_(.+)", key)
            filters = getattr(own, "_filters", None)
            allowed = filters.get_search_filters() if filters is not None else {}
            if match is None or match.group(2) not in allowed or int(match.group(1)) >= len(allowed[match.group(2)]):
                abort(400)
