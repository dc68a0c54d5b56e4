"""security (issue 17): ab_user.session_nonce (sessions ended at logout / password change) and
captcha_ticket (the phone login's image captcha kept on the server, one try per ticket)

Revision ID: e6a17c0de017
Revises: c7a2e9b1f010
Create Date: 2026-12-06 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e6a17c0de017'
down_revision = 'c7a2e9b1f010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.add_column(sa.Column("session_nonce", sa.String(length=32), nullable=True))
    op.create_table(
        "captcha_ticket",
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ticket"),
    )
    op.create_index(op.f("ix_captcha_ticket_created_at"), "captcha_ticket", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_captcha_ticket_created_at"), table_name="captcha_ticket")
    op.drop_table("captcha_ticket")
    with op.batch_alter_table("ab_user") as batch:
        batch.drop_column("session_nonce")
