"""Alembic environment: always runs on the connection ``store.migrate`` hands over, inside its
transaction (so a failed migration changes nothing, and concurrent upgrades queue on a lock)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
