"""audit review: per-credit verdicts (optimistic lock), person results, appeals, certificates

Revision ID: b7a0d1c0a002
Revises: b7a0d1c0a001
Create Date: 2026-11-29 05:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7a0d1c0a002'
down_revision = 'b7a0d1c0a001'  # needs audit_cycle
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_verdict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('via_appeal', sa.Boolean(), nullable=False),
    sa.Column('decided_by_fk', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['decided_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'credit_id', name='uq_audit_verdict_cycle_credit')
    )
    op.create_index('ix_audit_verdict_credit_id', 'audit_verdict', ['credit_id'], unique=False)
    op.create_index('ix_audit_verdict_district_id', 'audit_verdict', ['district_id'], unique=False)
    op.create_index('ix_audit_verdict_institution_id', 'audit_verdict', ['institution_id'], unique=False)
    op.create_index('ix_audit_verdict_cycle_person', 'audit_verdict', ['cycle_id', 'person_id'], unique=False)
    op.create_index('ix_audit_verdict_cycle_inst', 'audit_verdict', ['cycle_id', 'institution_id', 'verdict'],
                    unique=False)
    op.create_table('audit_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('reviewed', sa.Boolean(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_fk', sa.Integer(), nullable=True),
    sa.Column('rule_set_id', sa.Integer(), nullable=True),
    sa.Column('met', sa.Boolean(), nullable=True),
    sa.Column('expert_met', sa.Boolean(), nullable=True),
    sa.Column('total', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('required', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('summary', sa.String(length=512), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=True),
    sa.Column('computed_by_fk', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['computed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['rule_set_id'], ['rule_set.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'person_id', name='uq_audit_result_cycle_person')
    )
    op.create_index('ix_audit_result_district_id', 'audit_result', ['district_id'], unique=False)
    op.create_index('ix_audit_result_institution_id', 'audit_result', ['institution_id'], unique=False)
    op.create_index('ix_audit_result_cycle_inst', 'audit_result', ['cycle_id', 'institution_id', 'met'], unique=False)
    op.create_table('audit_appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('verdict_id', sa.Integer(), nullable=False),
    sa.Column('credit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('failed_reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_fk', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['decided_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['verdict_id'], ['audit_verdict.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('verdict_id')
    )
    op.create_index('ix_audit_appeal_district_id', 'audit_appeal', ['district_id'], unique=False)
    op.create_index('ix_audit_appeal_institution_id', 'audit_appeal', ['institution_id'], unique=False)
    op.create_index('ix_audit_appeal_cycle_status', 'audit_appeal', ['cycle_id', 'status'], unique=False)
    op.create_table('audit_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('total', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('required', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('result_version', sa.Integer(), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('issued_by_fk', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['issued_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('ix_audit_certificate_district_id', 'audit_certificate', ['district_id'], unique=False)
    op.create_index('ix_audit_certificate_institution_id', 'audit_certificate', ['institution_id'], unique=False)
    op.create_index('ix_audit_certificate_cycle_person', 'audit_certificate', ['cycle_id', 'person_id'], unique=False)


def downgrade():
    op.drop_table('audit_certificate')
    op.drop_table('audit_appeal')
    op.drop_table('audit_result')
    op.drop_table('audit_verdict')
