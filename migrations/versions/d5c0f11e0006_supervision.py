"""project supervision (督查, issue 6): filings, venues, logs, half-day periods, site managers, SMS codes,
feedback and photos

Revision ID: d5c0f11e0006
Revises: a1f0c0de0001
Create Date: 2026-11-29 05:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd5c0f11e0006'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sup_sms_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('text', sa.String(length=256), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sup_sms_outbox_phone'), 'sup_sms_outbox', ['phone'], unique=False)
    op.create_table('sup_filing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('project_no', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('project_type', sa.String(length=32), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('organizer', sa.String(length=200), nullable=True),
    sa.Column('province', sa.String(length=32), nullable=True),
    sa.Column('city', sa.String(length=32), nullable=True),
    sa.Column('county', sa.String(length=32), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('approver', sa.String(length=64), nullable=True),
    sa.Column('approval_method', sa.String(length=64), nullable=True),
    sa.Column('approval_no', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=512), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('score', sa.String(length=8), nullable=True),
    sa.Column('score_comment', sa.String(length=512), nullable=True),
    sa.Column('scored_at', sa.DateTime(), nullable=True),
    sa.Column('scored_by', sa.String(length=128), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['org.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_no')
    )
    op.create_index(op.f('ix_sup_filing_district_id'), 'sup_filing', ['district_id'], unique=False)
    op.create_index('ix_sup_filing_district_status', 'sup_filing', ['district_id', 'status'], unique=False)
    op.create_index('ix_sup_filing_inst_year', 'sup_filing', ['institution_id', 'year'], unique=False)
    op.create_index(op.f('ix_sup_filing_institution_id'), 'sup_filing', ['institution_id'], unique=False)
    op.create_index(op.f('ix_sup_filing_name'), 'sup_filing', ['name'], unique=False)
    op.create_index(op.f('ix_sup_filing_status'), 'sup_filing', ['status'], unique=False)
    op.create_index(op.f('ix_sup_filing_year'), 'sup_filing', ['year'], unique=False)
    op.create_table('sup_filing_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=512), nullable=True),
    sa.Column('operator', sa.String(length=128), nullable=True),
    sa.Column('operator_org', sa.String(length=128), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['filing_id'], ['sup_filing.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sup_filing_log_filing_id'), 'sup_filing_log', ['filing_id'], unique=False)
    op.create_table('sup_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('half', sa.String(length=2), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['filing_id'], ['sup_filing.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('filing_id', 'day', 'half')
    )
    op.create_index('ix_sup_period_filing_start', 'sup_period', ['filing_id', 'starts_at'], unique=False)
    op.create_table('sup_venue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('address', sa.String(length=256), nullable=False),
    sa.Column('organizer', sa.String(length=128), nullable=True),
    sa.Column('person', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['filing_id'], ['sup_filing.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sup_venue_filing_id'), 'sup_venue', ['filing_id'], unique=False)
    op.create_table('sup_site_manager',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('login_code', sa.String(length=16), nullable=False),
    sa.Column('code_issued_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('letter_accepted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['filing_id'], ['sup_filing.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['venue_id'], ['sup_venue.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login_code'),
    sa.UniqueConstraint('user_id'),
    sa.UniqueConstraint('venue_id')
    )
    op.create_index(op.f('ix_sup_site_manager_filing_id'), 'sup_site_manager', ['filing_id'], unique=False)
    op.create_table('sup_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('filing_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('lecturers', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['filing_id'], ['sup_filing.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['sup_site_manager.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['period_id'], ['sup_period.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_id', 'manager_id')
    )
    op.create_index(op.f('ix_sup_feedback_filing_id'), 'sup_feedback', ['filing_id'], unique=False)
    op.create_table('sup_sms_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=256), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['sup_site_manager.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sup_sms_phone_created', 'sup_sms_code', ['phone', 'created_at'], unique=False)
    op.create_table('sup_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=16), nullable=False),
    sa.Column('lecturer_no', sa.Integer(), nullable=False),
    sa.Column('original_id', sa.Integer(), nullable=False),
    sa.Column('stamped_id', sa.Integer(), nullable=False),
    sa.Column('exif_time', sa.DateTime(), nullable=True),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('browser_time', sa.DateTime(), nullable=True),
    sa.Column('browser_lat', sa.Float(), nullable=True),
    sa.Column('browser_lon', sa.Float(), nullable=True),
    sa.Column('taken_at', sa.DateTime(), nullable=True),
    sa.Column('flags', sa.Text(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['feedback_id'], ['sup_feedback.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['original_id'], ['attachment.id'], ),
    sa.ForeignKeyConstraint(['stamped_id'], ['attachment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sup_photo_feedback_id'), 'sup_photo', ['feedback_id'], unique=False)


def downgrade():
    op.drop_table('sup_photo')
    op.drop_table('sup_sms_code')
    op.drop_table('sup_feedback')
    op.drop_table('sup_site_manager')
    op.drop_table('sup_venue')
    op.drop_table('sup_period')
    op.drop_table('sup_filing_log')
    op.drop_table('sup_filing')
    op.drop_table('sup_sms_outbox')
