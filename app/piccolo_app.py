"""The Piccolo app: every table of the service, with migrations in the top-level migrations/."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.attendance.tables import Attendance
from app.audit.tables import AuditRecord
from app.bookings.tables import Booking
from app.mail.tables import DeliveryAttempt, OutboxMessage
from app.organisers.tables import Organiser, OrganiserSession
from app.questionnaire.tables import Question, Response, TrainingDeclaration
from app.programme.tables import Event, EventKind, Venue
from app.settings_register.tables import Person, Setting

APP_CONFIG = AppConfig(
    app_name="bookings_service",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=[Venue, EventKind, Event, Setting, Person, Booking, AuditRecord, OutboxMessage,
                   DeliveryAttempt, Organiser, OrganiserSession, Attendance, Question, Response,
                   TrainingDeclaration],
    migration_dependencies=[],
    commands=[],
)
