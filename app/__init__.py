"""Application factory (Flask tutorial style) on Flask-AppBuilder."""
from __future__ import annotations

import os
import time

from flask import Flask, g


def create_app(config: str | type | None = None, **overrides) -> Flask:
    """Build the app. ``config`` is a name from config.CONFIGS or a config class."""
    from app.extensions import csrf, db, migrate
    from config import CONFIGS, ProductionConfig

    if config is None:
        config = os.environ.get("CME_CONFIG", "development")
    config_class = CONFIGS[config] if isinstance(config, str) else config
    if issubclass(config_class, ProductionConfig):
        config_class.check()

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    app.config.update(overrides)
    from app.services.passwords import validate_password

    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = validate_password
    os.makedirs(app.instance_path, exist_ok=True)
    os.makedirs(app.config["JOB_FILES_DIR"], exist_ok=True)

    from flask_appbuilder import AppBuilder

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)  # before AppBuilder, or every API POST fails (FAB-NOTES)

    from app import oplog

    oplog.install()
    from app.services import ttl_cache

    # kept pages and counts cleared in every worker (and by the RQ worker's jobs) through Redis, when there is one
    ttl_cache.share_through(app.config.get("REDIS_URL"), app.config["RQ_QUEUE"])
    from app.services import credit_records

    credit_records.install()  # a person's compliance results follow their credits
    from app.services import filestore

    filestore.install()  # files written in a transaction that does not commit are deleted
    from app.services import submissions

    submissions.install()  # a form token claimed in a transaction is free again when it rolls back

    @app.before_request
    def _start_request():
        # An app context can outlive one request (pytest-flask pushes one per test, CLI
        # commands too): per-request caches must not leak from a previous request.
        for key in ("_login_user", "user", "cme_scope", "cme_roles", "_flask_babel", "_jwt_extended_jwt",
                    "_jwt_extended_jwt_header", "_jwt_extended_jwt_user", "cme_public_permissions"):
            g.pop(key, None)
        g._op_started = time.perf_counter()

    # Catalogues compiled, FAB's made-up labels translatable, empty cells blank, booleans 是/否.
    from app import i18n

    i18n.init_app(app)
    from flask_babel import gettext

    from app.services import errors

    errors.install_translator(gettext)  # a service's refusal reads in the user's language
    from app import security

    security.configure(app)  # login rate-limit defaults, read once by AppBuilder's limiter
    from app.views import search_cache

    search_cache.install()  # each list's search form rendered once per roles, scope and language (before the views)
    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        from app.views import register

        register(appbuilder)
    security.install(app)  # login rate limits, sessions ended at logout, security headers
    from app import role_labels

    role_labels.install(app)  # the role editor names permissions in Chinese
    from app.views import submit

    submit.init_app(app)  # {{ submit_token() }}: the one-time token of idempotent forms
    from app.views import assets, list_rows, menu_cache

    menu_cache.install(app)  # the navbar's menu rendered once per role set and language
    list_rows.install(app)  # a list's rows written in Python, not a Jinja loop per cell
    assets.install(app)  # static file URLs built once per process
    i18n.install_template_gettext(app)  # templates' _() look the catalogue up once per request
    from app.views import scale

    scale.install()  # REST arguments validated against schemas checked once, not on every request

    _register_error_pages(app)
    from app import expiry

    expiry.install(app)  # a CSRF expiry and an ended login say so (issue 15.4)
    from app import health, serving

    serving.install(app)  # X-Forwarded-* behind nginx (TRUST_X_FORWARDED_FOR hops)
    health.install(app)  # /healthz

    from app.cli import register_cli

    register_cli(app)
    return app


ERROR_MESSAGES = {
    400: "请求有误，请检查填写的内容后重试",
    403: "没有权限访问该页面或数据",
    404: "页面或数据不存在，或不在您的管辖范围内",
    413: "上传的文件过大",
    500: "系统内部错误，请稍后重试或联系管理员",
}


def _register_error_pages(app: Flask) -> None:
    """Chinese error pages (JSON for the API) instead of Werkzeug's English ones.

    An error page never needs the database: a 500 (the database may be what failed) is the
    standalone error_plain.html; a 4xx page has the site's menu when the user and menu can be
    loaded, else the standalone page too."""
    from flask import jsonify, render_template, request

    from app.extensions import db

    def _forget_failed_transaction() -> None:
        try:
            db.session.rollback()
        except Exception:  # a dead connection cannot even roll back
            app.logger.warning("rollback before the error page failed", exc_info=True)

    def handler(error):
        code = getattr(error, "code", 500) or 500
        # An error may carry its own Chinese text (views/files.StoredFileNotFound: the file is missing).
        message = getattr(error, "user_message", None) or ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(message=message), code
        if code < 500:
            try:
                return render_template("error.html", code=code, message=message, appbuilder=app.appbuilder,
                                       base_template=app.appbuilder.base_template), code
            except Exception:  # never fail while reporting a failure
                app.logger.warning("error page %s rendered without the site's layout", code, exc_info=True)
        _forget_failed_transaction()
        try:  # straight from the Jinja environment: render_template's context processors load the user
            page = app.jinja_env.get_template("error_plain.html")
            return page.render(code=code, message=message, config=app.config), code
        except Exception:
            app.logger.exception("error page %s failed", code)
            return message, code

    for code in ERROR_MESSAGES:
        app.register_error_handler(code, handler)
