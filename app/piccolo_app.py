"""The Piccolo app: every table of the service, with migrations in the top-level migrations/."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.tables.attendance import Attendance, TeamsImportPreview
from app.tables.audit import AuditRecord
from app.tables.bookings import Booking
from app.tables.jobs import ScheduledJob
from app.tables.limits import RateLimitHit
from app.tables.mail import DeliveryAttempt, OutboxMessage
from app.tables.organisers import Organiser, OrganiserSession, ProviderSignIn, SignInThrottle
from app.tables.programme import DatedNotice, Event, EventKind, Venue
from app.tables.questionnaire import GuidanceLink, Question, QuestionnaireVersion, Response, TrainingDeclaration
from app.tables.register import CopiesLink, InspectorShare, Person, Setting, SettingLead
from app.tables.webhooks import WebhookDelivery, WebhookEndpoint, WebhookMessage
from app.tables.training import (
    Certificate,
    ClockReminder,
    Feedback,
    ForumPack,
    LeadClock,
    PackCopy,
    RecordLink,
)

APP_CONFIG = AppConfig(
    app_name="bookings_service",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=[Venue, EventKind, Event, Setting, Person, Booking, AuditRecord, OutboxMessage,
                   DeliveryAttempt, Organiser, OrganiserSession, Attendance, QuestionnaireVersion, Question, Response,
                   TrainingDeclaration, RateLimitHit, ScheduledJob, SettingLead, Certificate, Feedback, RecordLink,
                   TeamsImportPreview, SignInThrottle, GuidanceLink, DatedNotice, CopiesLink,
                   LeadClock, ClockReminder, ForumPack, PackCopy, InspectorShare, ProviderSignIn,
                   WebhookEndpoint, WebhookMessage, WebhookDelivery],
    migration_dependencies=[],
    commands=[],
)
