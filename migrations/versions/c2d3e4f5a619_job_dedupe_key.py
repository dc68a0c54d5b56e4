"""job: one queued/running job per dedupe key (达标计算 of one scope and year started twice at once)

Two administrators of one scope (or one double click in two tabs) starting the same year's 达标计算
started two jobs that recomputed the same results side by side. ``job.dedupe_key`` names such work;
the partial unique index allows one queued/running job per key, so the second start finds the first.

Revision ID: c2d3e4f5a619
Revises: b7c8d9e0f118
Create Date: 2026-12-07 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2d3e4f5a619'
down_revision = 'b7c8d9e0f118'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('queued', 'running')"


def upgrade():
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(length=128), nullable=True))
    op.create_index("ux_job_active_key", "job", ["dedupe_key"], unique=True,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade():
    op.drop_index("ux_job_active_key", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("dedupe_key")
