"""The navbar's menu is rendered once per role set and language (issue 18.4) and follows a change of
a role's permissions at its commit."""
from flask_appbuilder.security.sqla.models import Role

from app.extensions import db
from app.views import menu_cache


def _menu_renders(monkeypatch):
    calls = []
    real = menu_cache.render_template

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(menu_cache, "render_template", counting)
    return calls


def test_the_menu_is_rendered_once_per_role_set_and_language(app, world, login, monkeypatch):
    calls = _menu_renders(monkeypatch)
    city, hospital = login("city"), login("inst_a")
    first = city.get("/").get_data(as_text=True)
    city.get("/credits/list/")
    assert calls.count("appbuilder/navbar_menu.html") == 1
    assert "学分记录" in first and "用户权限" in first
    page = hospital.get("/").get_data(as_text=True)
    assert calls.count("appbuilder/navbar_menu.html") == 2  # another role set, its own menu
    assert "用户权限" not in page.split('class="nav navbar-nav navbar-right"')[0]
    city.get("/?_l_=en")  # English: its own rendering
    assert calls.count("appbuilder/navbar_menu.html") == 3


def test_a_role_change_empties_the_cache_at_its_commit(app, world, login):
    """A custom role edited in the role editor (built-in roles take their permissions from the code)."""
    login("inst_a").get("/")
    assert menu_cache._cache
    with app.app_context():
        role = Role(name="临时角色")
        db.session.add(role)
        db.session.flush()
        assert menu_cache._cache  # a rolled-back change must not matter: only the commit empties it
        db.session.commit()
        assert not menu_cache._cache
        login("inst_a").get("/")
        assert menu_cache._cache
        db.session.delete(db.session.get(Role, role.id))
        db.session.commit()
        assert not menu_cache._cache
