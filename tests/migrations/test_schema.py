"""The tables in `app/tables` and the migrations agree, and the migrations build exactly the
schema recorded in `tests/migrations/schema.<engine>.json`.

Two checks, because each side of the second comes from the migrations: Piccolo's own differ
(what `piccolo migrations new --auto` would write) finds nothing between the table classes and
the migrations; and the database the migrations build has the recorded tables, columns, defaults,
keys, indexes, checks and triggers on both engines (what the differ cannot see: raw SQL such as
the partial unique index and the SQLite trigger). A new migration updates the record in the same
commit: `python -m tests.schema URL > tests/migrations/schema.<engine>.json`.
"""

import json
from pathlib import Path

from piccolo.apps.migrations.commands.new import AutoMigrationManager

from app.piccolo_app import APP_CONFIG
from tests.schema import schema

HERE = Path(__file__).parent


def test_the_migrations_build_the_recorded_schema(database_url):
    engine = "sqlite" if database_url.startswith("sqlite") else "postgres"
    recorded = json.loads((HERE / f"schema.{engine}.json").read_text())
    built = json.loads(json.dumps(schema(database_url)))
    # Every table of the app, and nothing else (the record is not taken on trust).
    assert set(recorded["tables"]) == {t._meta.tablename for t in APP_CONFIG.table_classes}
    assert built["tables"].keys() == recorded["tables"].keys()
    for table in recorded["tables"]:
        assert built["tables"][table] == recorded["tables"][table], table
    assert built["indexes"] == recorded["indexes"]
    assert built["triggers"] == recorded["triggers"]


async def test_piccolo_would_write_no_migration_for_the_tables_as_they_are():
    """Fails when a column, table, index or default in app/tables has no migration yet (or a
    migration no longer matches the tables): make one with
    `piccolo migrations new bookings_service --auto`."""
    statements = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=APP_CONFIG)
    assert [line for group in statements for line in group.statements] == []


async def test_the_check_does_catch_a_column_without_a_migration(monkeypatch):
    from piccolo.columns import Varchar

    from app.tables.programme import Venue

    column = Varchar(length=20, default="")
    column._meta._name = "floor"
    column._meta._table = Venue
    monkeypatch.setattr(Venue._meta, "columns", [*Venue._meta.columns, column])
    monkeypatch.setattr(Venue._meta, "non_default_columns", [*Venue._meta.non_default_columns, column])
    statements = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=APP_CONFIG)
    assert any("floor" in line for group in statements for line in group.statements)
