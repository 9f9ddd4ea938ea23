"""the worker: job runs claimed per (job, slot), worker heartbeats

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('slot', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('started_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tenants_ok', sa.Integer(), nullable=False),
    sa.Column('tenants_failed', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'slot', name=op.f('uq_job_runs_job_slot'))
    )
    op.create_table('worker_heartbeats',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('started_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('current_job', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_heartbeats')),
    sa.UniqueConstraint('worker', name=op.f('uq_worker_heartbeats_worker'))
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeats')
    op.drop_table('job_runs')
