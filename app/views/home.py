"""Home page per role (SYS-7, issue 15): counts, every to-do of the role linked to its filtered list, the
role's own picture (the student's progress, the compliance of the people in scope, the expert's audit) and
notices; the notice reading page."""
import datetime

from flask import abort, redirect, request, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import gettext
from flask_login import current_user

from app.extensions import db
from app.jobs.reaper import reap, workers_running
from app.models import Notice
from app.services import credit_records
from app.services.dashboard import (
    audit_dashboard,
    compliance_by_institution,
    compliance_share,
    home_counts,
    home_todos,
    student_progress,
)
from app.services.review_todos import audit_todos, review_todos, site_todos
from app.services.roles import SITE_MANAGER
from app.views.base import current_scope, role_names
from app.views.notices import notices_for, visible_notices

NOTICE_PAGE = 20


class HomeView(IndexView):
    route_base = ""
    default_view = "index"
    index_template = "home.html"

    def _login_redirect(self):
        return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))

    @expose("/")
    def index(self):
        if not getattr(current_user, "is_authenticated", False):
            return self._login_redirect()
        counts = [(label, number, url_for(endpoint)) for label, number, endpoint in
                  home_counts(db.session, current_scope()) if self._may_open(endpoint)]
        reap(user_id=current_user.id)  # a job whose worker died is counted as failed, not running
        todos = [(label, url_for(endpoint, **args)) for label, endpoint, args in
                 home_todos(db.session, current_user.id, workers_running=workers_running)]
        scope = current_scope()
        may = self.appbuilder.sm.has_access
        auditor, cycle = self._audit()
        waiting = (review_todos(db.session, current_user, scope, may)
                   + audit_todos(db.session, auditor, cycle, may))
        if SITE_MANAGER in role_names():
            waiting += site_todos(db.session, current_user.id, datetime.datetime.now())
        todos += [(gettext(t.label, n=t.count), url_for(t.endpoint, **t.args)) for t in waiting]
        if self.appbuilder.sm.has_access("can_publish", "RuleSetView"):
            missing = credit_records.rule_set_missing(db.session)
            if missing:
                todos.insert(0, (gettext(credit_records.RULE_SET_MISSING, **missing), url_for("RuleSetView.list")))
        from app.services.supervision import published_results

        return self.render_template(self.index_template, counts=counts, roles=sorted(role_names()),
                                    notices=notices_for(current_user), user=current_user, todos=todos,
                                    sup_results=published_results(db.session, scope),
                                    **self._picture(scope, auditor, cycle))

    def _audit(self):
        """The auditor and the cycle the audit pages open by default (None, None without audit access)."""
        if not self.appbuilder.sm.has_access("can_read", "AuditReviewView") and not \
                self.appbuilder.sm.has_access("can_decide", "AuditAppealView"):
            return None, None
        from app.services.audit_review import pick_cycle
        from app.views.audit.auditor import current_auditor

        auditor = current_auditor()
        if auditor.kind not in ("city", "expert"):
            return auditor, None
        return auditor, pick_cycle(db.session, auditor, None)

    def _picture(self, scope, auditor, cycle) -> dict:
        """The role's own picture of this credit year: one query per box."""
        year = (credit_records.default_year(db.session, credit_records.region(db.session))
                or datetime.date.today().year)
        out: dict = {"year": year}
        person_id = getattr(current_user, "person_id", None)
        if scope.level == "person" and person_id:
            out["progress"] = student_progress(db.session, person_id, year)
            out["has_progress"] = True
        elif scope.level in ("all", "district", "institution", "department"):
            out["share"] = compliance_share(db.session, scope, year)
            if scope.level in ("all", "district"):
                out["by_institution"] = compliance_by_institution(db.session, scope, year)
        if auditor is not None and auditor.kind == "expert" and cycle is not None:
            out["audit"] = audit_dashboard(db.session, auditor, cycle)
            out["audit_cycle"] = cycle
        return out

    @expose("/notice/")
    def notice_list(self):
        """All notices addressed to the user, newest first, a page at a time."""
        if not getattr(current_user, "is_authenticated", False):
            return self._login_redirect()
        try:
            page = max(1, int(request.args.get("page", 1)))
        except ValueError:
            page = 1
        rows = (visible_notices(current_user).order_by(Notice.created_at.desc(), Notice.id.desc())
                .offset((page - 1) * NOTICE_PAGE).limit(NOTICE_PAGE + 1).all())
        return self.render_template("notices/board.html", notices=rows[:NOTICE_PAGE], page=page,
                                    more=len(rows) > NOTICE_PAGE)

    @expose("/notice/<int:pk>")
    def notice(self, pk):
        """Every user reads the notices addressed to it here (the notice admin is for publishers)."""
        if not getattr(current_user, "is_authenticated", False):
            return self._login_redirect()
        notice = visible_notices(current_user).filter(Notice.id == pk).first()
        if notice is None:
            abort(404)
        return self.render_template("notices/read.html", notice=notice)

    def _may_open(self, endpoint: str) -> bool:
        view = endpoint.split(".")[0]
        return self.appbuilder.sm.has_access("can_list", view)
