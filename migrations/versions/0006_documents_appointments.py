"""documents checklist and appointments

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-26 13:12:39.718157
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('social_worker_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('in_person', 'phone', name='appointmentmode', native_enum=False, length=12), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('intake', 'instruction', 'accompaniment', name='appointmentkind', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('planned', 'held', 'missed', 'moved', name='appointmentstatus', native_enum=False, length=10), nullable=False),
    sa.Column('outcome_note', sa.Text(), nullable=False),
    sa.Column('outcome_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('moved_to_id', sa.Uuid(), nullable=True),
    sa.Column('reminder_sent_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_label', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_appointments_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'moved_to_id'], ['appointments.tenant_id', 'appointments.id'], name=op.f('fk_appointments_tenant_id_moved_to_id_appointments')),
    sa.ForeignKeyConstraint(['tenant_id', 'social_worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_appointments_tenant_id_social_worker_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_appointments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_case', ['tenant_id', 'case_id'], unique=False)
        batch_op.create_index('ix_appointments_reminder', ['tenant_id', 'status', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_worker_start', ['tenant_id', 'social_worker_id', 'starts_at'], unique=False)

    op.create_table('case_documents',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'received', 'waived', name='documentstatus', native_enum=False, length=12), nullable=False),
    sa.Column('requested_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Uuid(), nullable=True),
    sa.Column('updated_by_label', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_case_documents_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'updated_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_case_documents_tenant_id_updated_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_documents_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_case_documents')),
    sa.UniqueConstraint('tenant_id', 'case_id', 'code', name=op.f('uq_case_documents_tenant_id_case_id_code'))
    )
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.create_index('ix_case_documents_case', ['tenant_id', 'case_id'], unique=False)
        batch_op.create_index('ix_case_documents_status', ['tenant_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_case_documents_status')
        batch_op.drop_index('ix_case_documents_case')

    op.drop_table('case_documents')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_worker_start')
        batch_op.drop_index('ix_appointments_reminder')
        batch_op.drop_index('ix_appointments_case')

    op.drop_table('appointments')
