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


class OrganiserRole(enum.StrEnum):
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
    extra_check_until = Timestamptz(null=True, default=None, help_text=(
        "Until then a correct password is not enough: an emailed one-time link is needed too "
        "(set after 50 failed sign-ins in an hour; an administrator can clear it)."))
    sign_in_link_hash = Varchar(length=64, null=True, default=None, index=True, secret=True,
                                help_text="SHA-256 of the one-time link that finishes a sign-in.")
    sign_in_link_expires_at = Timestamptz(null=True, default=None)
    last_sign_in_at = Timestamptz(null=True, default=None)
    invited_by = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    invite_token_hash = Varchar(length=64, null=True, default=None, unique=True, secret=True)
    invite_expires_at = Timestamptz(null=True, default=None)
    reset_token_hash = Varchar(length=64, null=True, default=None, index=True, secret=True,
                               help_text="SHA-256 of the one-time password reset link's token.")
    reset_expires_at = Timestamptz(null=True, default=None)
    identity = Varchar(length=600, null=True, default=None, help_text=(
        "Who the council's identity provider says this is: its issuer and subject (Entra ID: the "
        "tenant and object ids), bound at the first sign-in through it; never matched by email after "
        "(unique index in a migration: SQLite cannot add a UNIQUE column)."))
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


class SignInThrottle(Table, tablename="sign_in_throttle"):
    """Failed sign-ins counted per (address typed, client), per client and per address typed,
    in the database so every process sees the same counts (`app.organisers.throttle`). Email
    addresses are kept as a hash; `key` names the counter."""

    key = Varchar(length=120, unique=True)
    failures = Integer(default=0)
    window_started_at = Timestamptz()
    blocked_until = Timestamptz(null=True, default=None, index=True)
    client = Varchar(length=64, help_text="The client address counted (for the audit record).")


class ProviderSignIn(Table, tablename="provider_sign_in"):
    """A sign-in sent to the council's identity provider and not yet back: the state (its hash),
    nonce and PKCE verifier the answer must match, in the database so that whichever process the
    browser comes back to can finish it, and only once (the row is deleted as it is used)."""

    state_hash = Varchar(length=64, unique=True, secret=True)
    nonce = Varchar(length=100, secret=True)
    code_verifier = Varchar(length=128, secret=True)
    next_path = Varchar(length=500, default="/organisers")
    expires_at = Timestamptz(index=True)
