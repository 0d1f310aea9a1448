"""Every table of the store, as SQLAlchemy Core metadata: the one description the repositories
query. The Alembic migrations (``migrations/versions``) create and change the tables themselves;
these definitions follow the newest of them. Times are naive UTC (see ``planner._time``)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

wards_table = Table(
    "wards", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("code", String(50)),
    Column("geometry_wkt", Text, nullable=False),
    Column("meeting_point_name", String(200)),
    Column("meeting_point_lat", Float),
    Column("meeting_point_lon", Float),
    Column("updated_at", DateTime, nullable=False),
    Column("rep_lat", Float),
    Column("rep_lon", Float),
)

import_batches = Table(
    "import_batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("imported_at", DateTime, nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("read", Integer, nullable=False),
    Column("imported", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("rejects_file", String(1000)),
    Column("kind", String(20), nullable=False, server_default="signals"),
    Column("updated", Integer, nullable=False, server_default="0"),
)

incidents_table = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True),
    Column("content_key", String(64), nullable=False, unique=True),
    Column("external_id", String(200)),
    Column("occurred_from", DateTime, nullable=False, index=True),
    Column("occurred_to", DateTime, nullable=False),
    Column("category", String(40), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("on_patrol", Boolean, nullable=False, default=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("description", Text),
    Column("reporter", Text),
    Column("status", String(20), nullable=False),
    Column("reported_at", DateTime),
    Column("ward_id", Integer, ForeignKey("wards.id"), index=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id")),
    Column("created_at", DateTime, nullable=False),
    Column("anonymised_at", DateTime),
)

outcomes_table = Table(
    "outcomes", metadata,
    Column("id", Integer, primary_key=True),
    Column("area", String(200), nullable=False),
    Column("ward_id", Integer, ForeignKey("wards.id"), index=True),
    Column("period_start", Date, nullable=False, index=True),
    Column("period", String(10), nullable=False),
    Column("category", String(200), nullable=False, server_default="total"),
    Column("count", Integer, nullable=False),
    Column("source", String(20), nullable=False),
    Column("batch_id", Integer, ForeignKey("import_batches.id"), nullable=False),
    UniqueConstraint("area", "period_start", "period", "category", "source", name="uq_outcomes_key"),
)

rejected_rows = Table(
    "rejected_rows", metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id"), nullable=False, index=True),
    Column("row_number", Integer, nullable=False),
    Column("row_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
)

patrols_table = Table(
    "patrols", metadata,
    Column("id", Integer, primary_key=True),
    Column("ward_id", Integer, ForeignKey("wards.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("planned_start", DateTime),
    Column("planned_end", DateTime),
    Column("actual_start", DateTime),
    Column("actual_end", DateTime),
    Column("team_size", Integer, nullable=False),
    Column("route_geojson", Text),
    Column("notes", Text),
    Column("created_at", DateTime, nullable=False),
    Column("planned_night", Date),
    Index("ux_patrols_ward_night", "ward_id", "planned_night", unique=True),
)
"""``planned_night``: the night (local date) of a ``plan-all`` plan, one per ward and night
(schema version 7); NULL for patrols planned or logged otherwise."""

patrol_walks_table = Table(
    "patrol_walks", metadata,
    Column("patrol_id", Integer, ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("path_wkt", Text),
    Column("edges_json", Text, nullable=False),
    Column("length_m", Float, nullable=False),
    Column("stops_json", Text, nullable=False),
    Column("track_points", Integer),
    Column("matched_share", Float),
    Column("recorded_at", DateTime, nullable=False),
)
"""What a walked patrol covered (schema version 3, migration ``0003_coverage``)."""

patrol_visits_table = Table(
    "patrol_visits", metadata,
    Column("patrol_id", Integer, ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True),
    Column("team", Integer, primary_key=True),
    Column("stop", Integer, primary_key=True),
    Column("visited_at", DateTime, nullable=False),
)
"""Stops of a patrol's plan marked visited on the phone (schema version 8): team and stop number
as in the plan's route, the time in naive UTC."""

patrol_members_table = Table(
    "patrol_members", metadata,
    Column("id", Integer, primary_key=True),
    Column("patrol_id", Integer, ForeignKey("patrols.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
)
"""Names of the people on a patrol: optional and private, never in reports or exports."""

users_table = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

audit_table = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("user_name", String(100), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("what", Text, nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("format", String(20)),
    Column("via", String(120)),
    Column("prev_hash", String(64)),
    Column("entry_hash", String(64)),
)

calibrations_table = Table(
    "calibrations", metadata,
    Column("id", Integer, primary_key=True),
    Column("fitted_at", DateTime, nullable=False),
    Column("fingerprint", String(200), nullable=False, index=True),
    Column("choice_json", Text, nullable=False),
)

agreements_table = Table(
    "agreements", metadata,
    Column("id", Integer, primary_key=True),
    Column("ward_id", Integer, ForeignKey("wards.id"), nullable=False, index=True),
    Column("what", Text, nullable=False),
    Column("role", String(100), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("hotspot", String(50)),
    Column("lat", Float),
    Column("lon", Float),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
"""Schema version 3 (migration ``0003_coverage``)."""
