"""form_submission (idempotent forms) and job.upload_sha256 (the same import file twice is one job)

Revision ID: d1e5f0a2b013
Revises: c7a2e9b1f010
Create Date: 2026-12-06 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd1e5f0a2b013'
down_revision = 'c7a2e9b1f010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=128), nullable=True),
        sa.Column("result_url", sa.String(length=512), nullable=True),
        sa.Column("message", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index(op.f("ix_form_submission_user_id"), "form_submission", ["user_id"], unique=False)
    op.create_index(op.f("ix_form_submission_created_at"), "form_submission", ["created_at"], unique=False)
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("upload_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("job") as batch:
        batch.drop_column("upload_sha256")
    op.drop_index(op.f("ix_form_submission_created_at"), table_name="form_submission")
    op.drop_index(op.f("ix_form_submission_user_id"), table_name="form_submission")
    op.drop_table("form_submission")
