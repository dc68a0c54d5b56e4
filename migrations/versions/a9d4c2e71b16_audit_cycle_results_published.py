"""audit_cycle: 通报 of the results (results_published_at / _by_fk) and the data upload cutoff (upload_cutoff)

Seed 001 六、"学分审验结果将于2023年4月上旬前通报": the city publishes a cycle's results; units and
districts see them only after. Seed 001 七(一)、"于11月5日24:00时前上传有关数据，逾期未上传的数据，将无法纳入
学分审验": credits uploaded after upload_cutoff are out of the cycle's audit.

Revision ID: a9d4c2e71b16
Revises: c7a2e9b1f010
Create Date: 2026-12-06 21:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a9d4c2e71b16'
down_revision = 'c7a2e9b1f010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_cycle") as batch:
        batch.add_column(sa.Column("upload_cutoff", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("results_published_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("results_published_by_fk", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_audit_cycle_results_published_by", "ab_user", ["results_published_by_fk"], ["id"])


def downgrade():
    with op.batch_alter_table("audit_cycle") as batch:
        batch.drop_constraint("fk_audit_cycle_results_published_by", type_="foreignkey")
        batch.drop_column("results_published_by_fk")
        batch.drop_column("results_published_at")
        batch.drop_column("upload_cutoff")
