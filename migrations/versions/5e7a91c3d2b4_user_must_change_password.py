"""ab_user.must_change_password: an initial password is changed at the first login (seed 002 附件一2)

Revision ID: 5e7a91c3d2b4
Revises: ab12cd34ef56
Create Date: 2026-12-06 23:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e7a91c3d2b4'
down_revision = 'ab12cd34ef56'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.drop_column("must_change_password")
