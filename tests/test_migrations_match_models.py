"""The migrations (``flask cme init`` upgrades to their heads) create exactly the tables, columns and
indexes of the models — every table, so an index added to a model without a migration fails here."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_every_table_matches_its_model(app_ctx):
    from flask_appbuilder import Model

    from app.extensions import db

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Model.metadata)
    assert [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")] == []
