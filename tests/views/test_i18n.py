"""The UI speaks Simplified Chinese by default, English on request (issue 2, point 1).

In Chinese, no English of Flask-AppBuilder's may show: every page a role can open from its menu
(plus an add form, a detail and an edit page behind each list, the profile and password pages)
is scanned for the English strings our zh catalogue translates. ``?_l_=en`` and ``/lang/en``
switch to English; flash messages follow the language.
"""
from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from app import i18n

ZH_PO = os.path.join(i18n.TRANSLATIONS_DIR, "zh", "LC_MESSAGES", "messages.po")
EN_PO = os.path.join(i18n.TRANSLATIONS_DIR, "en", "LC_MESSAGES", "messages.po")
ROLES = ["city", "district1", "inst_a", "sec_a", "tech_a", "expert", "site"]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _catalog(path):
    with open(path, "rb") as fh:
        return read_po(fh)


def _deny_list() -> list[str]:
    """FAB's English msgids that our zh catalogue translates, plus words FAB shows untranslated."""
    # A plural entry's id is (singular, plural): the singular stands for it.
    ids = ((m.id if isinstance(m.id, str) else m.id[0], m.string) for m in _catalog(ZH_PO))
    words = {i for i, string in ids if i and string and not CJK.search(i)}
    return sorted(words | {"List", "Refresh", "True", "False", "None"}, key=len, reverse=True)


DENY = _deny_list()
DENY_RE = re.compile(r"(?<![\w'])(" + "|".join(re.escape(w) for w in DENY) + r")(?![\w'])")
# Pages that list permission identifiers (view class names, "can_add on DistrictView"): data, not UI.
TECHNICAL = re.compile(r"^/(permissions|viewmenus|permissionviews)/|^/roles/(add|edit)")
NOT_PAGES = re.compile(r"^/(lang|logout|static|api|swagger)|/(delete|download|export|action)|template")


class _Visible(HTMLParser):
    """Text a user sees: element text outside <script>/<style>, tooltips and placeholders."""

    SHOWN_ATTRS = ("title", "placeholder", "data-placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.hidden = 0
        self.texts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        self.texts += [v for k, v in attrs.items() if k in self.SHOWN_ATTRS and v]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.texts.append(data.strip())


def _parse(html: str) -> _Visible:
    parser = _Visible()
    parser.feed(html)
    return parser


def _english_leaks(html: str) -> list[str]:
    return [text for text in _parse(html).texts if DENY_RE.search(text)]


def _local(links: list[str]) -> list[str]:
    out = []
    for link in links:
        path = urlsplit(link).path
        if link.startswith("/") and not NOT_PAGES.search(path) and not TECHNICAL.search(path):
            out.append(link)
    return out


def _pages_of(client) -> dict[str, str]:
    """Home, every menu page, and the first add / show / edit page behind each list."""
    home = client.get("/")
    assert home.status_code == 200
    pages = {"/": home.get_data(as_text=True)}
    fixed = ["/users/userinfo/", "/resetmypassword/form", "/userinfoeditview/form", "/jobs/"]
    for link in fixed + _local(_parse(pages["/"]).links):
        if link in pages:
            continue
        r = client.get(link)
        if r.status_code != 200 or "html" not in r.content_type:
            continue
        pages[link] = r.get_data(as_text=True)
        seen_kinds = set()
        for inner in _local(_parse(pages[link]).links):
            kind = re.search(r"/(add|show|edit)(/|$)", urlsplit(inner).path)
            if kind and kind.group(1) not in seen_kinds and inner not in pages:
                seen_kinds.add(kind.group(1))
                r2 = client.get(inner)
                if r2.status_code == 200:
                    pages[inner] = r2.get_data(as_text=True)
    return pages


def _flashes(html: str) -> list[str]:
    blocks = re.findall(r'<div class="alert alert-[a-z]+">(.*?)</div>', html, re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>|&times;", " ", b).split()) for b in blocks]


# ------------------------------------------------------------------ Chinese by default
def test_deny_list_holds_the_usual_fab_words():
    for word in ("Search", "List", "Add", "Edit", "Delete", "Show", "Actions", "Record Count", "Logout",
                 "Profile", "Page size", "Select", "Cancel", "OK", "Start with", "Not In", "Security"):
        assert word in DENY


def test_login_page_is_chinese(client):
    html = client.get("/login/").get_data(as_text=True)
    assert _english_leaks(html) == []
    texts = _parse(html).texts
    assert "登录" in texts and "取消" in texts


@pytest.mark.parametrize("username", ROLES)
def test_no_english_on_any_page_of_the_role(app, world, login, username):
    pages = _pages_of(login(username))
    assert "/users/userinfo/" in pages and "/jobs/" in pages  # every role opens its profile
    if username == "city":
        for must in ("/users/list/", "/roles/list/", "/persons/import/", "/districtview/add"):
            assert must in pages, sorted(pages)
        assert any(p.startswith("/persons/show/") for p in pages)
        assert any(p.startswith("/departmentview/edit/") for p in pages)
    if username == "inst_a":
        assert "/persons/list/" in pages and "/persons/add" in pages and "/persons/import/" in pages
    leaks = {path: _english_leaks(html) for path, html in pages.items()}
    assert {path: found for path, found in leaks.items() if found} == {}


def test_list_page_shows_chinese_fab_labels(app, world, login):
    html = login("city").get("/persons/list/").get_data(as_text=True)
    texts = _parse(html).texts
    for word in ("搜索", "添加筛选条件", "新增", "查看", "编辑", "删除", "批量操作", "记录数:"):
        assert word in texts, word
    assert "是" in login("city").get(f"/persons/show/{world.pa}").get_data(as_text=True)  # 在职: True


def test_filter_names_are_chinese(app, world, login):
    # The search widget hands its filter names to ab_filters.js as JSON.
    html = login("city").get("/persons/list/").get_data(as_text=True)
    for english, _chinese in (("Starts with", "开头是"), ("Equal to", "等于"), ("Relation", "等于")):
        assert f'"{english}"' not in html
    assert '"\\u5f00\\u5934\\u662f"' in html or '"开头是"' in html


def test_pages_carry_chinese_strings_for_the_widgets(app, world, login):
    html = login("inst_a").get("/persons/add").get_data(as_text=True)
    assert "bootstrap-datepicker.zh-CN.js" in html
    import json

    data = json.loads(re.search(r'id="cme-i18n">(.*?)</script>', html, re.DOTALL).group(1))
    assert data["locale"] == "zh"
    assert data["fab"]["Select"] == "请选择" and data["fab"]["No row selected"] == "请先勾选记录"
    assert data["select2"]["noResults"] == "无匹配结果"
    path = os.path.join(os.path.dirname(i18n.__file__), "static", "bootstrap-datepicker.zh-CN.js")
    with open(path, encoding="utf-8") as fh:
        assert '"星期一"' in fh.read()


# ------------------------------------------------------------------ flash messages
def test_failed_login_message_is_chinese_and_english_on_request(app, world, client):
    r = client.post("/login/", data={"username": "inst_a", "password": "wrong"}, follow_redirects=True)
    assert "用户名或密码错误" in _flashes(r.get_data(as_text=True))
    assert _english_leaks(r.get_data(as_text=True)) == []
    r = client.post("/login/?_l_=en", data={"username": "inst_a", "password": "wrong"})
    r = client.get(r.headers["Location"] + "?_l_=en")
    assert "Wrong user name or password" in _flashes(r.get_data(as_text=True))
    from app.extensions import db
    from app.models import LoginLog

    with app.app_context():  # the log keeps the Chinese wording whatever the page language
        messages = {m for (m,) in db.session.query(LoginLog.message).filter(LoginLog.username == "inst_a")}
    assert messages == {"用户名或密码错误"}


def test_add_edit_delete_flashes_are_chinese(app, world, login):
    from app.extensions import db
    from app.models import Org

    c = login("inst_a")
    r = c.post("/departmentview/add", data={"parent": world.a, "name": "新科室", "code": "TAX", "sort": 1,
                                             "active": "y"}, follow_redirects=True)
    assert "新增成功" in _flashes(r.get_data(as_text=True))
    with app.app_context():
        pk = db.session.query(Org.id).filter(Org.code == "TAX").scalar()
    r = c.post(f"/departmentview/edit/{pk}", data={"name": "新科室二", "code": "TAX", "sort": 1, "active": "y"},
               follow_redirects=True)
    assert "修改成功" in _flashes(r.get_data(as_text=True))
    r = c.post(f"/departmentview/delete/{pk}", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "删除成功" in _flashes(html)
    assert _english_leaks(html) == []
    r = c.post("/departmentview/add", data={"parent": world.a, "name": "", "code": "TAY"})
    assert "该字段是必填字段" in r.get_data(as_text=True)  # WTForms' own zh catalogue
    with app.app_context():
        assert db.session.query(Org.id).filter(Org.code == "TAY").scalar() is None


# ------------------------------------------------------------------ English on request
def test_l_parameter_switches_one_page_to_english_and_back(app, world, login):
    c = login("inst_a")
    html = c.get("/?_l_=en").get_data(as_text=True)
    texts = _parse(html).texts
    assert {"Organizations", "Institutions", "Persons", "Logout", "Profile"} <= set(texts)
    assert "组织机构" not in texts and "退出登录" not in texts
    html = c.get("/persons/list/?_l_=en").get_data(as_text=True)
    texts = _parse(html).texts
    assert {"Search", "Record Count:", "IC card no.", "Name"} <= set(texts)
    assert '"locale": "en"' in html
    texts = _parse(c.get("/").get_data(as_text=True)).texts  # the session stays Chinese
    assert "组织机构" in texts and "Organizations" not in texts


def test_language_menu_switches_the_session(app, world, login):
    c = login("inst_a")
    c.get("/lang/en")
    r = c.post("/departmentview/add", data={"parent": world.a, "name": "英文科室", "code": "TAE", "sort": 1,
                                             "active": "y"}, follow_redirects=True)
    assert "Added Row" in _flashes(r.get_data(as_text=True))
    assert "Department" in _parse(r.get_data(as_text=True)).texts
    c.get("/lang/zh")
    texts = _parse(c.get("/").get_data(as_text=True)).texts
    assert "组织机构" in texts and "Organizations" not in texts


# ------------------------------------------------------------------ catalogues
def _extracted_messages() -> set[str]:
    """Our msgids as pybabel extracts them with babel.cfg (what scripts/compile_translations.sh runs)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = os.path.dirname(os.path.dirname(i18n.__file__))
    with open(os.path.join(root, "babel.cfg"), encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "_mark": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            root, method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_chinese_string_of_ours_has_english():
    english = {m.id: m.string for m in _catalog(EN_PO) if m.id}
    missing = sorted(m for m in _extracted_messages() if CJK.search(m) and not english.get(m))
    assert missing == [], ("untranslated: run scripts/compile_translations.sh extract, then fill the "
                           "empty msgstr in app/translations/en/LC_MESSAGES/messages.po")


def test_catalogues_keep_placeholders():
    for path in (ZH_PO, EN_PO):
        for m in _catalog(path):
            if m.id and m.string:
                # Plural entries: every form keeps the singular's placeholders.
                ids = [m.id] if isinstance(m.id, str) else list(m.id[:1])
                strings = [m.string] if isinstance(m.string, str) else list(m.string)
                for text_id in ids:
                    for string in strings:
                        assert set(re.findall(r"%\(\w+\)s|\{\w+\}", text_id)) == \
                            set(re.findall(r"%\(\w+\)s|\{\w+\}", string)), text_id


def test_compile_catalogs_writes_missing_and_stale_mo_only(tmp_path):
    target = tmp_path / "translations"
    shutil.copytree(i18n.TRANSLATIONS_DIR, target, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    written = i18n.compile_catalogs(str(target))
    assert sorted(os.path.relpath(p, target) for p in written) == [
        os.path.join("en", "LC_MESSAGES", "messages.mo"), os.path.join("zh", "LC_MESSAGES", "messages.mo")]
    assert i18n.compile_catalogs(str(target)) == []
    po = target / "zh" / "LC_MESSAGES" / "messages.po"
    mo = target / "zh" / "LC_MESSAGES" / "messages.mo"
    os.utime(po, (mo.stat().st_mtime + 10, mo.stat().st_mtime + 10))
    assert i18n.compile_catalogs(str(target)) == [str(mo)]
    from babel.support import Translations

    with open(mo, "rb") as fh:
        assert Translations(fh).gettext("Record Count") == "记录数"
