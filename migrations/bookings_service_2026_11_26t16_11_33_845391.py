from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from enum import Enum
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T16:11:33:845391"
VERSION = "1.38.0"
DESCRIPTION = "Organiser roles and password reset links"


class RolesMigration(MigrationManager):
    """Before roles, every organiser could manage accounts: they keep that (as administrators)
    until an administrator changes it. Runs after the columns exist (Piccolo runs raw steps first)."""

    async def run(self, backwards: bool = False) -> None:
        await super().run(backwards=backwards)
        if not backwards:
            await engine_finder().run_ddl("UPDATE organiser SET role = 'administrator'")


async def forwards():
    manager = RolesMigration(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Organiser",
        tablename="organiser",
        column_name="reset_expires_at",
        db_column_name="reset_expires_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Organiser",
        tablename="organiser",
        column_name="reset_token_hash",
        db_column_name="reset_token_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": True,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Organiser",
        tablename="organiser",
        column_name="role",
        db_column_name="role",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 20,
            "default": "organiser",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum(
                "OrganiserRole",
                {"administrator": "administrator", "organiser": "organiser"},
            ),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
