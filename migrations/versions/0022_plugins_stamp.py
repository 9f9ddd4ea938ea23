"""tenants: plugins_stamp (each process keeps a tenant's enabled plugins under it)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("plugins_stamp", sa.String(32), nullable=True))
    bind = op.get_bind()
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants")).all():
        bind.execute(sa.text("UPDATE tenants SET plugins_stamp = :s WHERE id = :i"),
                     {"s": uuid.uuid4().hex, "i": tenant_id})


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("plugins_stamp")
