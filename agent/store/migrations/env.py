"""Alembic environment: runs on the connection BlueprintData hands it (see agent/store/database.py)."""

from __future__ import annotations

from alembic import context

from agent.store.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
