"""accompaniment: follow-up plans, tasks, budget workshops, staff time

Revision ID: 0010
Revises: 0003
Create Date: 2026-11-26 15:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0010'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workshop_themes',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workshop_themes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_workshop_themes')),
    sa.UniqueConstraint('tenant_id', 'title', name=op.f('uq_workshop_themes_tenant_id_title'))
    )
    op.create_table('workshop_sessions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('theme_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('animator_id', sa.Uuid(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'animator_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_workshop_sessions_tenant_id_animator_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'theme_id'], ['workshop_themes.tenant_id', 'workshop_themes.id'], name=op.f('fk_workshop_sessions_tenant_id_theme_id_workshop_themes')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workshop_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_workshop_sessions'))
    )
    with op.batch_alter_table('workshop_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_workshop_sessions_start', ['tenant_id', 'starts_at'], unique=False)

    op.create_table('accompaniment_plans',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('loan_months', sa.Integer(), nullable=True),
    sa.Column('months', sa.JSON(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_accompaniment_plans_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_accompaniment_plans_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_accompaniment_plans')),
    sa.UniqueConstraint('tenant_id', 'case_id', name=op.f('uq_accompaniment_plans_tenant_id_case_id'))
    )
    op.create_table('accompaniment_tasks',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('late_instalment', 'bounced_payment', 'borrower_change', 'loan_default', 'other', name='taskkind', native_enum=False, length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('suggested_action', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', name='taskstatus', native_enum=False, length=8), nullable=False),
    sa.Column('assigned_to_id', sa.Uuid(), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_label', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'assigned_to_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_accompaniment_tasks_tenant_id_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_accompaniment_tasks_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_accompaniment_tasks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_accompaniment_tasks'))
    )
    with op.batch_alter_table('accompaniment_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_accompaniment_tasks_case', ['tenant_id', 'case_id'], unique=False)
        batch_op.create_index('ix_accompaniment_tasks_open', ['tenant_id', 'status', 'assigned_to_id'], unique=False)

    op.create_table('follow_ups',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('plan_month', sa.Integer(), nullable=True),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('channel', sa.Enum('phone', 'meeting', 'home_visit', 'email', name='channel', native_enum=False, length=12), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('shared_note', sa.Text(), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_follow_ups_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_follow_ups_tenant_id_worker_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_follow_ups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_follow_ups_case', ['tenant_id', 'case_id'], unique=False)
        batch_op.create_index('ix_follow_ups_due', ['tenant_id', 'done_on', 'planned_on'], unique=False)

    op.create_table('time_entries',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('activity', sa.Enum('interview', 'follow_up', 'phone_call', 'workshop', 'other', name='activity', native_enum=False, length=12), nullable=False),
    sa.Column('category', sa.Enum('intake', 'instruction', 'accompaniment', name='timecategory', native_enum=False, length=16), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_time_entries_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_time_entries_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_time_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_time_entries'))
    )
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.create_index('ix_time_entries_day', ['tenant_id', 'day'], unique=False)
        batch_op.create_index('ix_time_entries_user_day', ['tenant_id', 'user_id', 'day'], unique=False)

    op.create_table('workshop_invitations',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('invited', 'registered', 'attended', 'absent', name='invitationstatus', native_enum=False, length=12), nullable=False),
    sa.Column('invited_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registered_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_workshop_invitations_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['persons.tenant_id', 'persons.id'], name=op.f('fk_workshop_invitations_tenant_id_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'session_id'], ['workshop_sessions.tenant_id', 'workshop_sessions.id'], name=op.f('fk_workshop_invitations_tenant_id_session_id_workshop_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workshop_invitations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_workshop_invitations')),
    sa.UniqueConstraint('tenant_id', 'session_id', 'person_id', name=op.f('uq_workshop_invitations_tenant_id_session_id_person_id'))
    )
    with op.batch_alter_table('workshop_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_workshop_invitations_case', ['tenant_id', 'case_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('workshop_invitations', ['ix_workshop_invitations_case']),
        ('time_entries', ['ix_time_entries_user_day', 'ix_time_entries_day']),
        ('follow_ups', ['ix_follow_ups_due', 'ix_follow_ups_case']),
        ('accompaniment_tasks', ['ix_accompaniment_tasks_open', 'ix_accompaniment_tasks_case']),
        ('accompaniment_plans', []),
        ('workshop_sessions', ['ix_workshop_sessions_start']),
        ('workshop_themes', []),
    ):
        if indexes:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for index in indexes:
                    batch_op.drop_index(index)
        op.drop_table(table)
