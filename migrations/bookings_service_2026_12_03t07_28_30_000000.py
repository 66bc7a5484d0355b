from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class Booking(Table, tablename="booking"):
    pass


ID = "2026-12-03T07:28:30:000000"
VERSION = "1.38.0"
DESCRIPTION = ("Bookings made before the form asked whether the booker is the setting's Lead Practitioner "
               "/ DSL keep what their role said (leads on record before keep counting as an organiser's)")


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    async def answers_from_roles() -> None:
        await Booking.raw("UPDATE booking SET lead = CASE role WHEN 'dsl' THEN 'dsl' "
                          "WHEN 'deputy_dsl' THEN 'deputy' ELSE 'neither' END")
        # A childminder is their own Lead Practitioner.
        await Booking.raw("UPDATE booking SET lead = 'dsl' WHERE setting IN "
                          "(SELECT id FROM setting WHERE setting_type = 'childminder')")

    manager.add_raw(answers_from_roles)
    return manager
