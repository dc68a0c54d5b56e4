"""单位审验 and 回执 of the credit audit (issue 16 items 1 and 3, seed 001 四(二)1, 五, 七(三)): the
cycle's unit-audit window and reply deadline, the units' verdicts per person, the sampled units' replies

Revision ID: c4e8f2a61d97
Revises: ab12cd34ef56
Create Date: 2026-12-06 23:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e8f2a61d97'
down_revision = 'ab12cd34ef56'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_cycle") as batch:
        batch.add_column(sa.Column("unit_audit_start", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("unit_audit_end", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reply_deadline", sa.DateTime(), nullable=True))
    op.create_table(
        "audit_unit_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("audit_cycle.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("auditor_org_id", sa.Integer(), sa.ForeignKey("org.id"), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by_fk", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("cycle_id", "person_id", name="uq_audit_unit_check_cycle_person"),
    )
    op.create_index("ix_audit_unit_check_person_id", "audit_unit_check", ["person_id"])
    op.create_index("ix_audit_unit_check_auditor_org_id", "audit_unit_check", ["auditor_org_id"])
    op.create_index("ix_audit_unit_check_district_id", "audit_unit_check", ["district_id"])
    op.create_index("ix_audit_unit_check_institution_id", "audit_unit_check", ["institution_id"])
    op.create_table(
        "audit_reply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("audit_cycle.id"), nullable=False),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("org.id"), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(64), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("replied_by_fk", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("replied_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("cycle_id", "institution_id", name="uq_audit_reply_cycle_inst"),
    )
    op.create_index("ix_audit_reply_institution_id", "audit_reply", ["institution_id"])
    op.create_index("ix_audit_reply_district_id", "audit_reply", ["district_id"])


def downgrade():
    op.drop_table("audit_reply")
    op.drop_table("audit_unit_check")
    with op.batch_alter_table("audit_cycle") as batch:
        batch.drop_column("reply_deadline")
        batch.drop_column("unit_audit_end")
        batch.drop_column("unit_audit_start")
