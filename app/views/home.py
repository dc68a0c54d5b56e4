"""Home page per role (SYS-7): counts, to-do links and notices."""
from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from app.services.dashboard import home_counts, home_todos
from app.views.base import current_scope, role_names
from app.views.notices import notices_for


class HomeView(IndexView):
    route_base = ""
    default_view = "index"
    index_template = "home.html"

    @expose("/")
    def index(self):
        if not getattr(current_user, "is_authenticated", False):
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        from app.extensions import db

        counts = home_counts(db.session, current_scope())
        todos = [(label, url_for(endpoint, **args)) for label, endpoint, args in
                 home_todos(db.session, current_user.id)]
        return self.render_template(self.index_template, counts=counts, roles=sorted(role_names()),
                                    notices=notices_for(current_user), user=current_user, todos=todos)
