"""Piccolo tables for the questionnaire, responses and training declarations."""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Boolean,
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


class QuestionnaireVersion(Table, tablename="questionnaire_version"):
    """One wording of the questionnaire for an academic year. Seeding changed wording makes a new
    version, or rewrites the latest one while nobody has answered it; a response keeps its version."""

    code = Varchar(length=60)
    academic_year = Varchar(length=7)
    number = Integer(help_text="1, 2, ... within the academic year")
    title = Varchar(length=200)
    deadline = Date(null=True, default=None)
    fingerprint = Varchar(length=64, help_text="SHA-256 of the wording, to see a change when re-seeding")
    key_documents = JSON(default=[], help_text="The documents' list of key safeguarding documents (titles)")
    created_at = Timestamptz()


class QuestionKind(enum.StrEnum):
    yes_no = "yes_no"
    items = "items"
    #: Any of the options (Q10), with Compliant Y/N.
    choices = "choices"
    #: One option only: how the first wording asked Q10 (kept for the responses that answered it).
    choice = "choice"


class Question(Table):
    """One question of a questionnaire version, as in seeds/questionnaire.toml."""

    version = ForeignKey(QuestionnaireVersion, null=True, on_delete=OnDelete.cascade)
    questionnaire = Varchar(length=60, index=True)
    number = Integer()
    text = Text()
    items = JSON(default=[], help_text="Sub-items a., b., c. …")
    follow_up = Text(default="")
    framework = Text(default="", help_text="Early Years Statutory Framework reference (Accompanying Notes).")
    guidance = JSON(default=[], help_text="Guidance, model policies and websites (titles).")
    guidance_note = Text(default="", help_text="The Notes' own sentence before the guidance names.")
    kind = Varchar(length=10, choices=QuestionKind, default=QuestionKind.yes_no)
    not_applicable = Boolean(default=False, help_text="The first wording's rule: the setting could answer "
                                                       "'not applicable' (kept for the responses that did)")
    section = Varchar(length=100, default="", help_text="The task list's section the question is in")
    applies = JSON(default={}, help_text="When the question, its items or follow-up apply "
                                        "(app.questionnaire.answers: needs, items, follow_up, names_deputy)")


class ResponseStatus(enum.StrEnum):
    sent = "sent"
    draft = "draft"
    submitted = "submitted"


class Response(Table, tablename="questionnaire_response"):
    """A setting's answers for one academic year, reached by a secret link (no account).
    `answers` maps question number to the answer as given (app.questionnaire.answers)."""

    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict)
    version = ForeignKey(QuestionnaireVersion, null=True, on_delete=OnDelete.restrict)
    questionnaire = Varchar(length=60)
    academic_year = Varchar(length=7)
    token_hash = Varchar(length=64, unique=True, secret=True)
    respondent_email = Varchar(length=254)
    status = Varchar(length=10, choices=ResponseStatus, default=ResponseStatus.sent)
    answers = JSON(default={})
    sent_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    revision = Integer(default=0, help_text="Counts saves: a save applies only to the revision it read")
    reopened_at = Timestamptz(null=True, default=None, help_text="When a submitted response was reopened "
                                                                  "to change an answer")


class DeclarationKind(enum.StrEnum):
    level3 = "level3"
    prevent = "prevent"


class TrainingDeclaration(Table, tablename="training_declaration"):
    """Training a setting says its DSL or a deputy took elsewhere (Q6 Level 3, Q7 Prevent)."""

    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=10, choices=DeclarationKind)
    person_name = Varchar(length=200)
    email = Varchar(length=254, default="", index=True,
                    help_text="The DSL's or deputy's work email: whose clock the training counts on (empty on "
                              "declarations made before it was asked).")
    role = Varchar(length=30)
    course = Varchar(length=200)
    provider = Varchar(length=200)
    completed_on = Date()
    created_at = Timestamptz()


class GuidanceLink(Table, tablename="guidance_link"):
    """A web address an organiser gave for a guidance name or key document: the documents carry
    none, and none is invented. Without one, the name shows as plain text."""

    name = Varchar(length=300, unique=True, help_text="The guidance name as the questionnaire gives it.")
    url = Varchar(length=500)
    edition = Varchar(length=100, default="", help_text="The dated edition the address is of, e.g. 'September 2023'.")
    updated_at = Timestamptz()
