"""Alembic environment for ccas-network (core models plus installed plugins' models).

After the migrations run on PostgreSQL, every tenant table (a table with ``tenant_id``)
gets its forced row-level-security policy (``core.rawsql.enable_rls``, idempotent), so a
table added by any migration, core or plugin, cannot be forgotten.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, inspect, pool

from core.migrate import render_item
from core.models import Base, tenant_tables
from core.plugins import PluginRegistry

# Plugins bring their own models: import every installed plugin so they register.
PluginRegistry().load_entry_points()

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "postgresql":
            from core import rawsql

            existing = set(inspect(connection).get_table_names())
            rawsql.install_wall(connection)  # what the policies call (idempotent)
            for table in tenant_tables():
                if table in existing:
                    rawsql.enable_rls(connection, table)
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
