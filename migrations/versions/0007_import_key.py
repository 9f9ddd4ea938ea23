"""import key of cases brought by the legacy import

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-26 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_cases_tenant_id_import_key'), ['tenant_id', 'import_key']
        )


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_cases_tenant_id_import_key'), type_='unique')
        batch_op.drop_column('import_key')
