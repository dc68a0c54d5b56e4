"""Application factory (Flask tutorial style) on Flask-AppBuilder."""
from __future__ import annotations

import os
import time

from flask import Flask, g


def create_app(config: str | type | None = None, **overrides) -> Flask:
    """Build the app. ``config`` is a name from config.CONFIGS or a config class."""
    from config import CONFIGS, ProductionConfig

    from app.extensions import csrf, db, migrate

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

    @app.before_request
    def _start_request():
        # An app context can outlive one request (pytest-flask pushes one per test, CLI
        # commands too): per-request caches must not leak from a previous request.
        for key in ("_login_user", "user", "cme_scope", "cme_roles"):
            g.pop(key, None)
        g._op_started = time.perf_counter()

    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        from app.views import register

        register(appbuilder)

    from app.cli import register_cli

    register_cli(app)
    return app
