"""credit_municipal: the FICP check's states are the plugin's (core 0.2)

Until core 0.1 the states ``ficp_pending`` and ``ficp_registered`` were the core's and
every tenant's intake sent cases there, whether the lender plugin was enabled or not.
From 0.2 they belong to this plugin: a tenant with cases in them keeps the lender
enabled, so that its cases keep their place in the workflow and nothing is lost (the
rows themselves are unchanged: the state codes are the same). Also joins the branch's
two heads.

Revision ID: cm_0004
Revises: cm_0002, cm_0003
Create Date: 2026-12-04
"""

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "cm_0004"
down_revision = ("cm_0002", "cm_0003")
branch_labels = None
depends_on = "0014"

STATES = ("ficp_pending", "ficp_registered")
NAME = "credit_municipal"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # the owner is subject to the tenant policies too: read and write every tenant
        bind.execute(sa.text("SELECT set_config('ccas.cross', 'on', true)"))
    tenants = [row[0] for row in bind.execute(
        sa.text("SELECT DISTINCT tenant_id FROM cases WHERE state IN :states")
        .bindparams(sa.bindparam("states", expanding=True)), {"states": list(STATES)})]
    now = datetime.now(UTC)
    for tenant_id in tenants:
        found = bind.execute(
            sa.text("SELECT id FROM plugin_states WHERE tenant_id = :t AND plugin_name = :n"),
            {"t": tenant_id, "n": NAME}).first()
        if found is None:
            bind.execute(
                sa.text("INSERT INTO plugin_states (tenant_id, id, plugin_name, enabled, "
                        "settings, updated_at) VALUES (:t, :id, :n, :on, :s, :at)"),
                {"t": tenant_id, "id": uuid.uuid4().hex if bind.dialect.name == "sqlite"
                 else uuid.uuid4(), "n": NAME, "on": True, "s": json.dumps({}),
                 "at": now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now})
        else:
            bind.execute(
                sa.text("UPDATE plugin_states SET enabled = :on WHERE tenant_id = :t "
                        "AND plugin_name = :n"), {"on": True, "t": tenant_id, "n": NAME})


def downgrade() -> None:
    """Enablement stays as it is: disabling the lender would strand the cases again."""
