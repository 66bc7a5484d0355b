from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T04:33:36:784265"
VERSION = "1.38.0"
DESCRIPTION = "capacity check and one active booking per person"

# The same index SQL works on SQLite and PostgreSQL. The partial unique index backs the rule
# also checked by the booking service, so a race can never leave two active bookings.
COMMON = [
    "CREATE UNIQUE INDEX booking_one_active_per_person ON booking (event, person) "
    "WHERE status IN ('confirmed', 'waitlisted', 'offered')",
    "CREATE INDEX booking_event_status ON booking (event, status)",
    "CREATE INDEX event_starts_at ON event (starts_at)",
]

# SQLite cannot add a CHECK to an existing table, so there the same rule is two triggers.
POSTGRES = [
    "ALTER TABLE event ADD CONSTRAINT places_within_capacity "
    "CHECK (places_taken >= 0 AND places_taken <= capacity)",
]
SQLITE = [
    f"CREATE TRIGGER places_within_capacity_{op} BEFORE {op.upper()} ON event "
    "WHEN NEW.places_taken < 0 OR NEW.places_taken > NEW.capacity "
    "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: places_within_capacity'); END"
    for op in ("insert", "update")
]

DROP_COMMON = [
    "DROP INDEX booking_one_active_per_person",
    "DROP INDEX booking_event_status",
    "DROP INDEX event_starts_at",
]
DROP_POSTGRES = ["ALTER TABLE event DROP CONSTRAINT places_within_capacity"]
DROP_SQLITE = [
    "DROP TRIGGER places_within_capacity_insert",
    "DROP TRIGGER places_within_capacity_update",
]


async def _run(statements_for_engine):
    engine = engine_finder()
    for statement in statements_for_engine(engine.engine_type):
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    async def run():
        await _run(lambda kind: COMMON + (SQLITE if kind == "sqlite" else POSTGRES))

    async def run_backwards():
        await _run(lambda kind: DROP_COMMON + (DROP_SQLITE if kind == "sqlite" else DROP_POSTGRES))

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)

    return manager
