from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T05:45:48:972326"
VERSION = "1.38.0"
DESCRIPTION = "indexes for per-setting and per-person pages"

INDEXES = {
    "booking_setting": "booking (setting)",
    "booking_person": "booking (person)",
    "attendance_outcome": "attendance (outcome)",
    "audit_record_person": "audit_record (person)",
    "audit_record_event": "audit_record (event)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="bookings_service", description=DESCRIPTION)

    async def run():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE INDEX {name} ON {target}")

    async def run_backwards():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
