"""The audit migration builds exactly the tables of app/models/audit.py (both backends)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_audit_tables_match_models(app_ctx):
    from flask_appbuilder import Model

    from app.extensions import db

    mine = {t for t in Model.metadata.tables if t.startswith("audit_")}
    assert {"audit_cycle", "audit_expert", "audit_standard", "audit_draw", "audit_sampled_institution",
            "audit_drawn_person", "audit_final_person", "audit_allocation"} <= mine

    def include(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in mine

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": False})
        diff = compare_metadata(ctx, Model.metadata)
    assert diff == []
