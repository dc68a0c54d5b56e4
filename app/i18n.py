"""Translations: compile the catalogues on start, and small Jinja helpers for the Chinese UI.

Our source strings are Chinese (``_l("区县")``); ``translations/en`` turns them into English.
``translations/zh`` only fills Flask-AppBuilder's own gaps: FAB's English strings that its
``zh`` catalogue leaves out or gets wrong. FAB merges our catalogue over its own.
"""
from __future__ import annotations

import datetime
import logging
import os
from glob import glob

from flask import Flask
from flask_babel import get_locale, gettext, lazy_gettext

TRANSLATIONS_DIR = os.path.join(os.path.dirname(__file__), "translations")
log = logging.getLogger(__name__)


def _mark(message: str) -> str:
    """Mark a string for extraction (pybabel ``-k _mark``) without translating it here."""
    return message


# Strings made outside a request (services stay Flask-free) and translated where they are shown
# (``{{ _(label) }}``): listed here so extraction keeps them in the catalogues.
RENDER_TIME_MESSAGES = [
    _mark("医疗机构"), _mark("科室"), _mark("人员"),  # services/dashboard.home_counts
]


def compile_catalogs(directory: str = TRANSLATIONS_DIR) -> list[str]:
    """Compile every ``*.po`` under ``directory`` whose ``.mo`` is missing or older.

    ``.mo`` files are not in git: a fresh clone, the run script and the tests all get them here.
    Returns the paths written. A read-only install with up-to-date ``.mo`` files writes nothing.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(glob(os.path.join(directory, "*", "LC_MESSAGES", "*.po"))):
        mo_path = po_path[:-3] + ".mo"
        if os.path.exists(mo_path) and os.path.getmtime(mo_path) >= os.path.getmtime(po_path):
            continue
        locale = os.path.basename(os.path.dirname(os.path.dirname(po_path)))
        with open(po_path, "rb") as fh:
            catalog = read_po(fh, locale=locale)
        # Write then rename: parallel processes (tests, workers) never read half a file.
        tmp_path = f"{mo_path}.{os.getpid()}.tmp"
        try:
            with open(tmp_path, "wb") as fh:
                write_mo(fh, catalog)
            os.replace(tmp_path, mo_path)
        except OSError as exc:  # read-only install: keep the old .mo and say so
            log.warning("cannot compile %s: %s", po_path, exc)
            continue
        written.append(mo_path)
    return written


def display_value(value):
    """Jinja ``finalize``: empty cells instead of "None", 是/否 instead of True/False, and every datetime
    as ``YYYY-MM-DD HH:MM`` (no microseconds in lists and details, issue 15.2)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if value is True:
        return gettext("是")
    if value is False:
        return gettext("否")
    return value


def translate_default_labels() -> None:
    """Route FAB's made-up column labels through gettext (before any view is built).

    FAB labels a column nobody labelled with its prettified English name ("Label", "Users",
    "Last Login"): a plain string no catalogue can reach, shown by its own security views
    (groups, roles, user statistics). Made lazy, the zh catalogue translates them.
    """
    from flask_appbuilder.baseviews import BaseModelView

    def _gen_labels_columns(self, list_columns):
        for col in list_columns:
            if not self.label_columns.get(col):
                self.label_columns[col] = lazy_gettext(self._prettify_column(col))

    BaseModelView._gen_labels_columns = _gen_labels_columns


def init_app(app: Flask) -> None:
    """Compile the catalogues and install the template helpers. Call before AppBuilder builds views."""
    compile_catalogs()
    translate_default_labels()
    wtforms_fallback()
    app.jinja_env.finalize = display_value
    app.jinja_env.globals["cme_locale"] = page_locale
    app.jinja_env.globals["cme_script_strings"] = script_strings


def page_locale() -> str:
    """The request's language code (``zh`` / ``en``), the default one outside a request."""
    from flask import current_app

    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_()`` with the request's catalogue looked up once per request and locale, not on every
    call (flask_babel's callables resolve domain, locale and catalogue again for each of the ~100 strings of a
    page). Call after Babel is set up on ``app``."""
    from flask_babel import _get_current_context as babel_context
    from flask_babel import get_translations

    def translations():
        ctx = babel_context()
        if ctx is None:
            return get_translations()
        locale = getattr(ctx, "babel_locale", None)
        kept = getattr(ctx, "cme_translations", None)
        if kept is not None and locale is not None and kept[0] is locale:
            return kept[1]
        found = get_translations()  # resolves (and records) the locale: force_locale changes it, and is seen
        ctx.cme_translations = (getattr(ctx, "babel_locale", None), found)
        return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


_SCRIPT_STRINGS: dict[str, object] = {}


def script_strings():
    """The JSON of the page's ``cme-i18n`` script block (the strings cme.js shows: Select2, pickers, job
    progress), made once per language: it is the same on every page."""
    from flask import current_app
    from jinja2.utils import htmlsafe_json_dumps
    from markupsafe import Markup

    locale = page_locale()
    kept = _SCRIPT_STRINGS.get(locale)
    if kept is None:
        _ = gettext
        kept = _SCRIPT_STRINGS[locale] = Markup(htmlsafe_json_dumps({
            "locale": locale,
            "fab": {"Select": _("Select"), "Select a State": _("Select a State"),
                    "No row selected": _("No row selected")},
            "select2": {"noResults": _("无匹配结果"), "searching": _("搜索中…"), "loadingMore": _("加载更多…"),
                        "errorLoading": _("无法载入结果"), "inputTooShort": _("请再输入至少{n}个字符"),
                        "inputTooLong": _("请删除{n}个字符"), "maximumSelected": _("最多只能选择{n}项"),
                        "removeAllItems": _("清除全部")},
            "picker": _("请输入姓名、卡号或拼音首字母搜索"),
            "layout": {"columns": _("显示列")},
            "job": {"queued": _("排队中…"), "running": _("执行中…"), "finished": _("已完成"), "failed": _("失败")},
        }, dumps=current_app.json.dumps))
    return kept


def wtforms_fallback() -> None:
    """WTForms' own zh catalogue leaves some messages fuzzy (not compiled), so a forged choice showed
    "'61' is not a valid choice for this field.": a message WTForms leaves untranslated is looked up in
    our catalogue (translations/zh fills it)."""
    from flask_babel import get_domain
    from flask_wtf import i18n as wtf_i18n

    cls = wtf_i18n.Translations
    if getattr(cls, "_cme_fallback", False):
        return
    own_gettext, own_ngettext = cls.gettext, cls.ngettext

    def gettext_(self, string):
        out = own_gettext(self, string)
        return get_domain().get_translations().ugettext(string) if out == string else out

    def ngettext_(self, singular, plural, n):
        out = own_ngettext(self, singular, plural, n)
        if out in (singular, plural):
            return get_domain().get_translations().ungettext(singular, plural, n)
        return out

    cls.gettext, cls.ngettext, cls._cme_fallback = gettext_, ngettext_, True
