"""practice_plan.version: a review of a plan edited after the reviewer opened it is refused (issue 13)

Revision ID: 7c41d9e2a8b3
Revises: ab12cd34ef56
Create Date: 2026-12-06 23:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c41d9e2a8b3'
down_revision = 'ab12cd34ef56'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("practice_plan") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("practice_plan") as batch:
        batch.drop_column("version")
