"""Adds `setting.copies_to_contact` and the `copies_link` table, and replaces `sgb_take_booking`
(last written by 2026-12-03T14:10:00): its outbox statement now also queues a copy of the
confirmation to the setting's contact where the setting asked for copies. What the code's
statements are is checked against the newest migration that writes the function
(tests/migrations/test_booking_function.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T15:47:53:665741"
VERSION = "1.38.0"
DESCRIPTION = "A setting's contact may get copies (chosen through an emailed link); the booking function queues the copy with the confirmation"


#: Exactly what `app.bookings.one_call.function_sql()` gave when this migration was written.
FUNCTION_SQL = """CREATE OR REPLACE FUNCTION sgb_take_booking(p jsonb) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    v_now timestamptz := (p->>'now')::timestamptz;
    v_person integer;
    v_place integer;
    v_booking integer;
BEGIN
    INSERT INTO person (name, email, created_at, updated_at) VALUES ((p->>'name'), (p->>'email'), v_now, v_now) ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id INTO v_person;
    IF p ? 'urn' THEN
        INSERT INTO booking (event, person, setting, role, lead, name_given, status, reference, manage_token, calendar_uid, calendar_sequence, source, checkin_token, over_capacity, cancel_reason, created_at, updated_at) SELECT (p->>'event')::integer, v_person, COALESCE(s.merged_into, s.id), (p->>'role'), CASE WHEN s.setting_type = 'childminder' THEN 'dsl' ELSE (p->>'lead') END, (p->>'name'), (p->>'status'), (p->>'reference'), (p->>'manage_token'), (p->>'calendar_uid'), 0, (p->>'source'), (p->>'checkin_token'), (p->>'over_capacity')::boolean, '', v_now, v_now FROM setting s WHERE s.urn = (p->>'urn') AND (CAST((p->>'cap')::integer AS INTEGER) IS NULL OR (SELECT count(*) FROM booking b JOIN event e ON e.id = b.event WHERE b.person = v_person AND b.status IN ('confirmed', 'waitlisted', 'offered') AND e.ends_at > v_now) < CAST((p->>'cap')::integer AS INTEGER)) ORDER BY s.on_register DESC, s.id LIMIT 1 RETURNING id INTO v_booking;
    ELSE
        INSERT INTO booking (event, person, setting, role, lead, name_given, status, reference, manage_token, calendar_uid, calendar_sequence, source, checkin_token, over_capacity, cancel_reason, created_at, updated_at) SELECT (p->>'event')::integer, v_person, COALESCE(s.merged_into, s.id), (p->>'role'), CASE WHEN s.setting_type = 'childminder' THEN 'dsl' ELSE (p->>'lead') END, (p->>'name'), (p->>'status'), (p->>'reference'), (p->>'manage_token'), (p->>'calendar_uid'), 0, (p->>'source'), (p->>'checkin_token'), (p->>'over_capacity')::boolean, '', v_now, v_now FROM setting s WHERE s.name_key = (p->>'name_key') AND (CAST((p->>'cap')::integer AS INTEGER) IS NULL OR (SELECT count(*) FROM booking b JOIN event e ON e.id = b.event WHERE b.person = v_person AND b.status IN ('confirmed', 'waitlisted', 'offered') AND e.ends_at > v_now) < CAST((p->>'cap')::integer AS INTEGER)) ORDER BY s.on_register DESC, s.id LIMIT 1 RETURNING id INTO v_booking;
    END IF;
    IF v_booking IS NULL THEN
        RAISE EXCEPTION 'sgb:no_booking';
    END IF;
    INSERT INTO outbox_message (kind, recipient, subject, message_id, raw, booking, event, status, attempts, next_attempt_at, claimed_by, last_error, created_at) SELECT 'confirmation', (p->>'email'), '', (p->>'message_id'), '', v_booking, (p->>'event')::integer, 'pending', 0, v_now, '', '', v_now UNION ALL SELECT 'copy_confirmation', s.contact_email, '', (p->>'copy_message_id'), '', b.id, b.event, 'pending', 0, b.created_at, '', '', b.created_at FROM booking b JOIN setting s ON s.id = b.setting WHERE b.id = v_booking AND s.copies_to_contact = true AND s.contact_email <> '';
    INSERT INTO audit_record (action, actor, event, booking, person, detail, created_at) VALUES ((p->>'action'), (p->>'actor'), (p->>'event')::integer, v_booking, v_person, (p->>'detail')::json, v_now);
    UPDATE event SET places_taken = places_taken + 1, updated_at = v_now WHERE id = (p->>'event')::integer AND places_taken < capacity AND status = 'scheduled' AND starts_at > v_now AND (booking_opens_at IS NULL OR booking_opens_at <= v_now) AND (booking_closes_at IS NULL OR booking_closes_at > v_now) RETURNING id INTO v_place;
    IF v_place IS NULL THEN
        RAISE EXCEPTION 'sgb:no_place';
    END IF;
    RETURN v_booking;
END
$fn$"""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    manager.add_table(
        class_name="CopiesLink",
        tablename="copies_link",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="CopiesLink",
        tablename="copies_link",
        column_name="email",
        db_column_name="email",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 254,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CopiesLink",
        tablename="copies_link",
        column_name="token_hash",
        db_column_name="token_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": True,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="CopiesLink",
        tablename="copies_link",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
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
        table_class_name="CopiesLink",
        tablename="copies_link",
        column_name="expires_at",
        db_column_name="expires_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Setting",
        tablename="setting",
        column_name="copies_to_contact",
        db_column_name="copies_to_contact",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
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

    async def replace_function() -> None:
        engine = engine_finder()
        if engine.engine_type == "postgres":
            await engine.run_ddl(FUNCTION_SQL)

    manager.add_raw(replace_function)
    return manager
