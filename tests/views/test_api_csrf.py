"""CSRF on the scoped REST APIs (issue 2 point 5, FAB-NOTES "Security"): FAB exempts API blueprints from
CSRFProtect, so a write riding on the browser's session cookie must carry the page's token (read from
``<meta name="csrf-token">``); a JWT client sends no cookie and needs none."""
from __future__ import annotations

import re

from tests import helpers


def _jwt(app, username: str) -> dict:
    r = app.test_client().post("/api/v1/security/login", json={
        "username": username, "password": helpers.PASSWORD, "provider": "db"})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def _person(app, pk):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        p = db.session.get(Person, pk)
        return None if p is None else (p.name, p.phone)


def test_session_writes_to_the_person_api_need_the_token(app, world, login):
    c = login("inst_a")  # logged in before CSRF is switched on (the test login form has no token)
    jwt = _jwt(app, "inst_a")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        # Cookie only: refused in Chinese, nothing written.
        r = c.put(f"/api/v1/person/{world.pa}", json={"phone": "010-61234561"})
        assert r.status_code == 400 and "CSRF" in r.get_json()["message"] and "刷新页面" in r.get_json()["message"]
        r = c.post("/api/v1/person/", json={"card_no": "N1", "name": "周八"})
        assert r.status_code == 400
        assert c.delete(f"/api/v1/person/{world.pa2}").status_code == 400
        assert _person(app, world.pa) == ("张三", None) and _person(app, world.pa2) is not None
        # Reads stay free.
        assert c.get(f"/api/v1/person/{world.pa}").status_code == 200

        # The token every page carries in its <meta> makes the same write pass.
        page = c.get("/persons/list/").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        r = c.put(f"/api/v1/person/{world.pa}", json={"phone": "010-61234562"}, headers={"X-CSRFToken": token})
        assert r.status_code == 200, r.get_json()
        assert _person(app, world.pa) == ("张三", "010-61234562")
        r = c.put(f"/api/v1/person/{world.pa}", json={"phone": "010-61234563"}, headers={"X-CSRFToken": "forged"})
        assert r.status_code == 400 and _person(app, world.pa) == ("张三", "010-61234562")

        # A JWT client (no cookie) needs no token.
        fresh = app.test_client()
        r = fresh.put(f"/api/v1/person/{world.pa}", json={"phone": "010-61234564"}, headers=jwt)
        assert r.status_code == 200 and _person(app, world.pa) == ("张三", "010-61234564")
        assert fresh.delete(f"/api/v1/person/{world.pa2}", headers=jwt).status_code == 200
        assert _person(app, world.pa2) is None
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_every_scoped_rest_api_checks_csrf(app):
    """No scoped REST API of any area escapes the check (it is in ScopedRestApi itself)."""
    from app.views.base import ScopedRestApi, csrf_for_browser_sessions

    apis = [api for api in app.appbuilder.baseviews if isinstance(api, ScopedRestApi)]
    assert {type(api).__name__ for api in apis} >= {"PersonApi", "CreditApi"}
    for api in apis:
        funcs = app.before_request_funcs.get(api.blueprint.name, [])
        assert csrf_for_browser_sessions in funcs, type(api).__name__


def test_pages_carry_the_token_and_the_helper(app, world, login):
    html = login("sec_a").get("/persons/list/").get_data(as_text=True)
    assert re.search(r'<meta name="csrf-token" content="[^"]{20,}"', html)
    js = app.test_client().get("/static/cme.js").get_data(as_text=True)
    assert "X-CSRFToken" in js and "csrfToken" in js
