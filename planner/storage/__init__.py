"""The store: every table (``schema``), the Alembic migrations, the ``Store`` over SQLite or
PostgreSQL + PostGIS (``store``) and the repositories of patrols, agreements and accounts. All SQL
lives here; the layers above call these functions and never the engine."""
