"""证明验证 (AUD-8): public, no login — checks a certificate's verification code (reached by its QR)."""
from __future__ import annotations

from flask import redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from app.extensions import db
from app.models import Person
from app.services import audit_review as R
from app.services.idcard import mask
from app.views.audit.auditor import org_name
from app.views.widgets import number


class AuditVerifyView(BaseView):
    """证明验证: public (no login), reached by the certificate's QR code."""

    route_base = "/audit-verify"
    default_view = "form"

    @expose("/")
    def form(self):
        code = (request.args.get("code") or "").strip()
        if code:
            return redirect(url_for("AuditVerifyView.check", code=code[:32]))
        return self.render_template("audit_review/verify.html", cert=None, code="", searched=False,
                                    title=_("审验证明验证"))

    @expose("/<string:code>")
    def check(self, code):
        cert = R.verify(db.session, code)
        person = db.session.get(Person, cert.person_id) if cert else None
        return self.render_template("audit_review/verify.html", cert=cert, code=code[:32], searched=True,
                                    person=person, mask=mask,
                                    unit=org_name(person.institution_id) if person else "", number=number,
                                    title=_("审验证明验证"))

