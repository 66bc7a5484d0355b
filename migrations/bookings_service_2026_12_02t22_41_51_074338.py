from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class Event(Table, tablename="event"):
    pass

ID = "2026-12-02T22:41:51:074338"
VERSION = "1.38.0"
DESCRIPTION = "A venue's note becomes a note on its events (it concerns their dates, not the venue)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    async def notes_to_events() -> None:
        """Run before the column goes: each event at a venue with a note keeps the note as its own
        (organisers then clear it from the events it does not concern)."""
        await Event.raw("UPDATE event SET note = (SELECT v.note FROM venue v WHERE v.id = event.venue) "
                        "WHERE venue IS NOT NULL AND note = '' "
                        "AND EXISTS (SELECT 1 FROM venue v WHERE v.id = event.venue AND v.note <> '')")

    manager.add_raw(notes_to_events)

    manager.drop_column(
        table_class_name="Venue",
        tablename="venue",
        column_name="note",
        db_column_name="note",
        schema=None,
    )

    return manager
