"""Lists over big tables at city scale (issue 18): counts that stop at a cap, offsets that stop at
the same cap, rows without their joins before the OFFSET, a keyset cursor for the REST API and the
organization names of a page loaded in one query.

PostgreSQL keeps no row count: ``count(*)`` of 10 million credits reads them all (~1 s). A list counts
at most ``COUNT_CAP + 1`` rows (a LIMITed index walk) and says "more than" past it; a page deeper
than the cap is not served by OFFSET (the browser list shows its last page with a "narrow the
filter" note, the API answers 400 and offers ``cursor``).
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flask import g, has_request_context, request
from flask_appbuilder.const import API_RESULT_RES_KEY, API_SELECT_COLUMNS_RIS_KEY
from flask_appbuilder.exceptions import (
    FABException,
    InvalidColumnArgsFABException,
    InvalidOrderByColumnFABException,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.services.ttl_cache import TtlCache

COUNT_CAP = 10_000


# "More than COUNT_CAP" stays true for a while: a list whose count reached the cap is not recounted for
# CAPPED_SECONDS (the same list, filters and user scope; each process keeps its own). A count under the
# cap is always counted afresh: a record added or removed shows at once.
CAPPED_SECONDS = 60.0
_capped = TtlCache("capped_counts", CAPPED_SECONDS, 4096, lambda classes: False)


def capped_count(session, query, id_column, cap: int, key: tuple | None = None) -> tuple[int, bool]:
    """(count, capped): the rows of ``query`` counted up to ``cap`` — ``SELECT count(*) FROM (SELECT id
    … LIMIT cap + 1)``; ``capped`` when there are more. With a ``key`` (what determines the query: the
    list, its filters, the user's roles and scope), a capped answer is remembered for CAPPED_SECONDS."""
    key = None if key is None else (*key, cap)
    if key is not None and _capped.get(key):
        return cap, True
    limited = query.with_entities(id_column).order_by(None).limit(cap + 1).subquery()
    count = session.query(func.count()).select_from(limited).scalar() or 0
    if key is not None and count > cap:
        _capped.put(key, True)
    return min(count, cap), count > cap


# Who is asking, as a key: the user's roles and data scope (views/base registers it; this module is
# below it). Without one, no count is remembered.
_viewer: Callable[[], tuple] | None = None


def set_viewer(viewer: Callable[[], tuple]) -> None:
    global _viewer
    _viewer = viewer


def list_key(*parts: Any) -> tuple | None:
    """What a list's count depends on besides its rows: the page, its filters (``parts``), the user's roles
    and scope. None outside a request (no memo)."""
    if not has_request_context() or _viewer is None:
        return None
    return (request.path, *parts, *_viewer())


class CappedInterface(SQLAInterface):
    """A list datamodel for big tables: the pager's count stops at ``cap()`` (``g.list_count_capped``
    tells the page), a page past the cap is clamped to the last page under it (``g.list_page_clamped``),
    and the relations named in ``load_after`` are loaded by a second ``IN`` query of the page's rows
    (selectin) instead of being joined to every row the OFFSET skips."""

    load_after: tuple[str, ...] = ()

    def cap(self) -> int:
        return COUNT_CAP

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        filtering = tuple(sorted((k, v) for k, v in request.args.items(multi=True)  # all but paging and order
                                 if not k.startswith(("page_", "psize_", "_oc_", "_od_")))) \
            if has_request_context() else ()
        count, capped = capped_count(self.session, inner, self.obj.id, self.cap(), list_key("list", filtering))
        g.list_count_capped, g.list_page_clamped = capped, False  # set on every list request
        return count

    def apply_pagination(self, query, page, page_size):
        if page and page_size and page * page_size >= self.cap():
            page = max(0, -(-self.cap() // page_size) - 1)  # the last page the capped pager offers
            g.list_page_clamped = True
        return super().apply_pagination(query, page, page_size)

    def get_related_interface(self, col_name: str):
        # FAB builds a related model's interface (search and form dropdowns) from the view's class: a
        # plain one there — the related lists are small, and load_after names this model's relations.
        return SQLAInterface(self.get_related_model(col_name), self.session)

    def apply_all(self, query, *args, **kwargs):
        query = super().apply_all(query, *args, **kwargs)
        for name in self.load_after:
            query = query.options(selectinload(getattr(self.obj, name)))
        return query


def prime_org_names(session, rows: list[Any], attrs: tuple[str, ...]) -> None:
    """Load the names of the organizations the ``attrs`` of ``rows`` name, in one query, into the
    request's cache read by ``org_name`` (a list page shows 20 rows: one query, not one per org)."""
    cache = org_cache()
    wanted = {getattr(row, attr, None) for row in rows for attr in attrs} - set(cache) - {None}
    if wanted:
        from app.models import Org

        cache.update(session.execute(select(Org.id, Org.name).where(Org.id.in_(wanted))).all())
        for org_id in wanted:
            cache.setdefault(org_id, "")


def org_cache() -> dict[int, str]:
    """Organization names by id for the current request (kept in the request's environ: ``g`` lives
    as long as the app context, which a test or a job may keep across requests); outside a request,
    a fresh dict."""
    if not has_request_context():
        return {}
    return request.environ.setdefault("cme.org_names", {})


class CappedListApiMixin:
    """``GET /api/v1/<resource>/`` at city scale (mixed into ScopedRestApi before ModelRestApi).

    - ``count`` is capped at COUNT_CAP and ``count_capped`` says whether there are more;
    - ``page`` × ``page_size`` past the cap answers 400 (a Chinese message pointing at ``cursor``);
    - ``?cursor=`` (empty: from the start) walks the filtered list newest id first by keyset
      (``WHERE id < cursor ORDER BY id DESC LIMIT page_size``), as deep as it goes, with no OFFSET;
      the answer's ``next_cursor`` is the cursor of the next page (null on the last page). A cursor
      takes the rison ``filters``, ``columns`` and ``page_size``, not ``order_column`` or ``page``.
    """

    def get_list_headless(self, **kwargs: Any):
        response: dict[str, Any] = {}
        args = kwargs.get("rison", {})
        try:
            select_columns, pruned_select_cols = self._handle_columns_args(
                args, self.list_select_columns, self.list_columns)
        except InvalidColumnArgsFABException as e:
            return self.response_400(message=str(e))
        self.set_response_key_mappings(response, self.get_list, args,
                                       **{API_SELECT_COLUMNS_RIS_KEY: pruned_select_cols})
        schema = (self.model2schemaconverter.convert(pruned_select_cols) if pruned_select_cols
                  else self.list_model_schema)
        try:
            joined_filters = self._handle_filters_args(args)
        except FABException as e:
            return self.response_400(message=str(e))
        cursor = request.args.get("cursor")
        if cursor is not None:
            if args.get("order_column") or args.get("page"):
                return self.response_400(message=_("使用 cursor 翻页时按 id 倒序排列，不能同时指定 order_column 或 page"))
            try:
                after = int(cursor) if cursor.strip() else None
            except ValueError:
                return self.response_400(message=_("cursor 参数无效，请使用上一页返回的 next_cursor"))
            order_column, order_direction, page_index = "id", "desc", None
            _page, page_size = self._handle_page_args(args)
        else:
            try:
                order_column, order_direction = self._handle_order_args(args)
            except InvalidOrderByColumnFABException as e:
                return self.response_400(message=str(e))
            page_index, page_size = self._handle_page_args(args)
            if page_index and page_index * page_size >= COUNT_CAP:
                return self.response_400(message=_(
                    "页码超出范围：分页最多翻到前%(n)s条记录，请缩小筛选范围，或使用 cursor 参数逐页读取全部记录", n=COUNT_CAP))
        model = self.datamodel.obj
        session = self.datamodel.session
        base = session.query(model)
        count, capped = capped_count(
            session, self.datamodel._apply_inner_all(base, joined_filters, aliases_mapping={}), model.id, COUNT_CAP,
            list_key("api", repr(args.get("filters"))))
        if cursor is not None and after is not None:
            base = base.filter(model.id < after)
        query = self.datamodel.apply_all(base, joined_filters, order_column, order_direction, page=page_index,
                                         page_size=page_size, select_columns=select_columns,
                                         outer_default_load=self.list_outer_default_load)
        rows = [getattr(r, model.__name__) if hasattr(r, model.__name__) else r for r in query.all()]
        pks = self.datamodel.get_keys(rows)
        response[API_RESULT_RES_KEY] = schema.dump(rows, many=True)
        response["ids"] = pks
        response["count"] = count
        response["count_capped"] = capped
        if cursor is not None:
            response["next_cursor"] = str(pks[-1]) if len(pks) == page_size and pks else None
        self.pre_get_list(response)
        return self.response(200, **response)


# ------------------------------------------------------------------------------ rison arguments
class _CheckedSchemas:
    """Stands in for the ``jsonschema`` module in ``flask_appbuilder.api``: its ``@rison(schema)``
    decorator calls ``jsonschema.validate`` on every REST request, which first checks the schema itself
    against the JSON-Schema meta-schema — two thirds of a ``GET /api/v1/<resource>/``'s Python time.
    Here each schema is checked once and its validator kept; the arguments are validated as before
    (the same best-matching error is raised)."""

    def __init__(self, module):
        self._module = module
        self._validators: dict[int, tuple[object, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)  # ValidationError and the rest, unchanged

    def validate(self, instance: Any, schema: dict, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            return self._module.validate(instance, schema, *args, **kwargs)
        kept = self._validators.get(id(schema))
        if kept is None or kept[0] is not schema:
            cls = self._module.validators.validator_for(schema)
            cls.check_schema(schema)
            kept = self._validators[id(schema)] = (schema, cls(schema))
        error = self._module.exceptions.best_match(kept[1].iter_errors(instance))
        if error is not None:
            raise error


# ------------------------------------------------------------------------------ filter conversion
_converted: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kept_filters(fab_get_filters):
    """FAB's ``Filters`` converts every column of the model to its filter classes each time one is made —
    three times a list request (the list, its count, the joined filters). The conversion depends only on
    the model and the converter: it is done once per (datamodel, converter, columns); each ``Filters`` gets
    its own lists (FAB appends a view's extra search filters to them)."""

    def _get_filters(self, cols):
        per_model = _converted.setdefault(self.datamodel, {})
        key = (self.filter_converter, tuple(cols))
        kept = per_model.get(key)
        if kept is None:
            kept = per_model[key] = fab_get_filters(self, cols)
        return {col: list(filters) for col, filters in kept.items()}

    _get_filters.cme_kept = True
    return _get_filters


def install() -> None:
    import flask_appbuilder.api as fab_api
    import jsonschema
    from flask_appbuilder.models.filters import Filters

    if not isinstance(fab_api.jsonschema, _CheckedSchemas):
        fab_api.jsonschema = _CheckedSchemas(jsonschema)
    if not getattr(Filters._get_filters, "cme_kept", False):
        Filters._get_filters = _kept_filters(Filters._get_filters)
