from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T05:09:01:439280"
VERSION = "1.38.0"
DESCRIPTION = "unique check-in tokens"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="bookings_service", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl("CREATE UNIQUE INDEX booking_checkin_token ON booking (checkin_token)")

    async def run_backwards():
        await engine_finder().run_ddl("DROP INDEX booking_checkin_token")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
