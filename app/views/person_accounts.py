"""Technicians' accounts from the personnel list (seed 002 附件一2: "输入用户名/IC 卡号及登录密码，初始登录
密码为 000000"): 批量开通账号 for the selected persons or for every person the list shows (its filters,
inside the user's scope), 重置密码 back to the city's initial password. Scope: the actions go through
ScopedModelView.action_post (every selected id is checked against the scope); the bulk route opens
accounts for the scoped, filtered list only."""
from __future__ import annotations

from flask import request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.services import users
from app.views.actions import act
from app.views.submit import once

MODULE = "人员管理"


def _opened_message(result: users.AccountResult) -> str:
    text = _("已开通 %(n)s 个账号（登录名为IC卡号，初始密码见参数设置，首次登录须修改密码）", n=len(result.created))
    if result.existing:
        text += _("；%(n)s 人已有账号，未改动", n=len(result.existing))
    if result.taken:
        text += _("；%(n)s 个卡号已被其他账号占用：%(cards)s", n=len(result.taken),
                  cards="、".join(result.taken[:10]))
    if result.no_card:
        text += _("；%(n)s 人没有IC卡号", n=result.no_card)
    return text


def _opened_log(result: users.AccountResult) -> str:
    return f"开通{len(result.created)}个：{'、'.join(result.created[:50])}" if result.created else "无新开通"


class PersonAccountsMixin:
    """Mixed into PersonView: the actions and the bulk route share the permission ``can_accounts``."""

    method_permission_name = {"open_accounts": "accounts", "reset_passwords": "accounts",
                              "open_all_accounts": "accounts"}

    def _back(self) -> str:
        return request.referrer or url_for("PersonView.list")

    @action("open_accounts", _l("批量开通账号"),
            _l("为所选人员开通学员账号吗？登录名为IC卡号，密码为初始密码，首次登录须修改。"), "fa-user-plus",
            single=False)
    def open_accounts(self, items):
        items = items if isinstance(items, list) else [items]
        return act(lambda: users.open_technician_accounts(db.session, items),
                   log=(MODULE, "开通账号", _opened_log), done=_opened_message, then=self._back())

    @action("reset_passwords", _l("重置密码"),
            _l("将所选人员的账号密码重置为初始密码吗？其本人须在下次登录时修改。"), "fa-key", single=False)
    def reset_passwords(self, items):
        items = items if isinstance(items, list) else [items]

        def done(result):
            reset, missing = result
            text = _("已将 %(n)s 个账号的密码重置为初始密码，首次登录须修改", n=len(reset))
            if missing:
                text += _("；%(n)s 人尚未开通账号", n=len(missing))
            return text

        return act(lambda: users.reset_to_initial(db.session, items),
                   log=(MODULE, "重置密码", lambda r: "重置：" + "、".join(r[0][:50])), done=done,
                   then=self._back())

    @expose("/accounts/", methods=["POST"])
    @has_access
    @permission_name("accounts")
    @once
    def open_all_accounts(self):
        """批量开通账号 for every person of the list as filtered (the filters ride along in the query
        string), inside the user's scope."""
        from app.models import Person

        rows = self.export_query().with_entities(Person.id, Person.card_no, Person.name)
        return act(lambda: users.open_technician_accounts(db.session, rows.all()),
                   log=(MODULE, "开通账号", _opened_log), done=_opened_message,
                   then=url_for("PersonView.list", **request.args))

