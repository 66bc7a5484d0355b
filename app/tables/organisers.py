"""Piccolo tables for organiser accounts and their sessions."""

from __future__ import annotations

import enum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.readable import Readable
from piccolo.table import Table


class OrganiserRole(str, enum.Enum):
    #: Manages organiser accounts (invite, deactivate, roles) as well as everything else.
    administrator = "administrator"
    #: Runs events, registers, attendance and the questionnaire.
    organiser = "organiser"


class Organiser(Table):
    """A member of the Education Safeguarding Team who runs events. Passwords are argon2id
    hashes; an invited organiser has no password until they accept the invitation."""

    email = Varchar(length=254, unique=True, help_text="Lower-cased; the sign-in name.")
    name = Varchar(length=200)
    password_hash = Text(default="", secret=True)
    role = Varchar(length=20, choices=OrganiserRole, default=OrganiserRole.organiser)
    active = Boolean(default=True)
    failed_sign_ins = Integer(default=0, help_text="Consecutive failures; reset on success.")
    locked_until = Timestamptz(null=True, default=None)
    last_sign_in_at = Timestamptz(null=True, default=None)
    invited_by = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    invite_token_hash = Varchar(length=64, null=True, default=None, unique=True, secret=True)
    invite_expires_at = Timestamptz(null=True, default=None)
    reset_token_hash = Varchar(length=64, null=True, default=None, index=True, secret=True,
                               help_text="SHA-256 of the one-time password reset link's token.")
    reset_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class OrganiserSession(Table, tablename="organiser_session"):
    """A signed-in browser. Kept in the database so every app process sees it; the cookie holds
    a random token and only its SHA-256 is stored."""

    token_hash = Varchar(length=64, unique=True, secret=True)
    organiser = ForeignKey(Organiser, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz(index=True)
