from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-08T01:31:00:336545"
VERSION = "1.38.0"
DESCRIPTION = "Areas are the council's seed file's, not an enum (no change to the tables)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Event",
        tablename="event",
        column_name="quadrant",
        db_column_name="quadrant",
        params={"choices": None},
        old_params={
            "choices": Enum(
                "Quadrant",
                {
                    "south": "south",
                    "west": "west",
                    "mid": "mid",
                    "north_east": "north_east",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Setting",
        tablename="setting",
        column_name="quadrant",
        db_column_name="quadrant",
        params={"choices": None},
        old_params={
            "choices": Enum(
                "Quadrant",
                {
                    "south": "south",
                    "west": "west",
                    "mid": "mid",
                    "north_east": "north_east",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="DatedNotice",
        tablename="dated_notice",
        column_name="quadrant",
        db_column_name="quadrant",
        params={"choices": None},
        old_params={
            "choices": Enum(
                "Quadrant",
                {
                    "south": "south",
                    "west": "west",
                    "mid": "mid",
                    "north_east": "north_east",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
