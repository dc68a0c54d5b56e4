"""Distance education (远程继续医学教育, issue 16 item 11): projects, study-record uploads, records

Revision ID: 7d1e5a2b9c43
Revises: ab12cd34ef56
Create Date: 2026-12-06 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d1e5a2b9c43'
down_revision = 'ab12cd34ef56'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "distance_project",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("org.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("credits", sa.Numeric(7, 2), nullable=False),
        sa.Column("hours", sa.Numeric(7, 2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("courses", sa.String(1024)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(512)),
        sa.Column("created_by_fk", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime()),
        sa.UniqueConstraint("institution_id", "code", name="uq_distance_project_code"),
    )
    op.create_index("ix_distance_project_institution_id", "distance_project", ["institution_id"])
    op.create_index("ix_distance_project_status", "distance_project", ["status"])
    op.create_table(
        "distance_upload",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("distance_project.id"), nullable=False),
        sa.Column("institution_id", sa.Integer(), sa.ForeignKey("org.id"), nullable=False),
        sa.Column("filename", sa.String(256)),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(512)),
        sa.Column("credited", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_fk", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(128)),
        sa.Column("reviewed_at", sa.DateTime()),
    )
    op.create_index("ix_distance_upload_project_id", "distance_upload", ["project_id"])
    op.create_index("ix_distance_upload_institution_id", "distance_upload", ["institution_id"])
    op.create_index("ix_distance_upload_status", "distance_upload", ["status"])
    op.create_table(
        "distance_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("upload_id", sa.Integer(), sa.ForeignKey("distance_upload.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("hours", sa.Numeric(7, 2), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("credit_id", sa.Integer(), sa.ForeignKey("credit.id", ondelete="SET NULL")),
    )
    op.create_index("ix_distance_record_upload", "distance_record", ["upload_id", "row"])
    op.create_index("ix_distance_record_person", "distance_record", ["person_id"])


def downgrade():
    op.drop_table("distance_record")
    op.drop_table("distance_upload")
    op.drop_table("distance_project")
