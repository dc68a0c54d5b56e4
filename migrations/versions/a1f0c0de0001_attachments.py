"""attachment: evidence files of any owner (credit, plan, self-study, appeal…)

Revision ID: a1f0c0de0001
Revises: e08adb8517b7
Create Date: 2026-11-29 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a1f0c0de0001'
down_revision = 'e08adb8517b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_type', sa.String(length=32), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=256), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('path', sa.String(length=512), nullable=False),
        sa.Column('uploaded_by_fk', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['uploaded_by_fk'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_attachment_owner', 'attachment', ['owner_type', 'owner_id'])


def downgrade():
    op.drop_index('ix_attachment_owner', table_name='attachment')
    op.drop_table('attachment')
