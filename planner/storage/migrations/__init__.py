"""Alembic migrations of the store, for SQLite and PostgreSQL + PostGIS (``was-planner db upgrade``).

Revision ``NNNN`` leaves the store at ``schema_version`` N; ``store.migrate`` runs them.
"""
