"""Piccolo tables for the questionnaire, responses and training declarations."""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from app.tables.register import Setting


class Question(Table):
    """One question of a questionnaire, as in seeds/questionnaire.toml."""

    questionnaire = Varchar(length=60, index=True)
    number = Integer()
    text = Text()
    items = JSON(default=[], help_text="Sub-items a., b., c. …")
    follow_up = Text(default="")
    framework = Text(default="", help_text="Early Years Statutory Framework reference (Accompanying Notes).")
    guidance = JSON(default=[], help_text="Guidance, model policies and websites (titles).")


class ResponseStatus(str, enum.Enum):
    sent = "sent"
    draft = "draft"
    submitted = "submitted"


class Response(Table, tablename="questionnaire_response"):
    """A setting's answers for one academic year, reached by a secret link (no account).
    `answers` maps question number to {compliant: yes|no, action_points, when_who, note}."""

    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict)
    questionnaire = Varchar(length=60)
    academic_year = Varchar(length=7)
    token_hash = Varchar(length=64, unique=True, secret=True)
    respondent_email = Varchar(length=254)
    status = Varchar(length=10, choices=ResponseStatus, default=ResponseStatus.sent)
    answers = JSON(default={})
    sent_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)


class DeclarationKind(str, enum.Enum):
    level3 = "level3"
    prevent = "prevent"


class TrainingDeclaration(Table, tablename="training_declaration"):
    """Training a setting says its DSL or a deputy took elsewhere (Q6 Level 3, Q7 Prevent)."""

    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=10, choices=DeclarationKind)
    person_name = Varchar(length=200)
    role = Varchar(length=30)
    course = Varchar(length=200)
    provider = Varchar(length=200)
    completed_on = Date()
    created_at = Timestamptz()
