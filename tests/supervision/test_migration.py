"""The supervision migration (d5c0f11e0006) creates exactly the tables, columns and indexes of the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_supervision_tables_match_models(app_ctx):
    from flask_appbuilder import Model

    from app.extensions import db

    mine = {t for t in Model.metadata.tables if t.startswith("sup_")}
    assert {"sup_filing", "sup_venue", "sup_filing_log", "sup_period", "sup_site_manager", "sup_sms_code",
            "sup_sms_outbox", "sup_feedback", "sup_photo"} == mine

    def include(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in mine

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": False})
        diff = compare_metadata(ctx, Model.metadata)
    assert diff == []
