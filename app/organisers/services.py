"""Organiser accounts: passwords, sign-in (throttled per client, never locked), sessions, invitations."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError, NotFound
from app.formats import clock_time, long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.organisers import throttle
from app.tables.organisers import Organiser, OrganiserRole, OrganiserSession

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so a wrong address takes as long as a wrong password:
# made when first needed (a tenth of a second or more of CPU), not by every process that imports
# this module (each command, each web and mail worker); a web app makes it as it starts.
_DUMMY_HASH: str | None = None
_PROFILE = ""


def use_password_profile(name: str) -> None:
    """Hash new passwords with one of argon2-cffi's named parameter sets (`Config.password_profile`):
    the recommended one in service, "cheapest" in the test suite. A stored hash carries its own
    parameters, so every hash verifies whatever the profile."""
    global HASHER, _DUMMY_HASH, _PROFILE
    if name == _PROFILE:
        return
    HASHER = PasswordHasher.from_parameters(getattr(profiles, name.upper()))
    _DUMMY_HASH = None
    _PROFILE = name


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


async def prepare_hashing() -> None:
    """Make the unknown-address hash before the first sign-in needs it (off the event loop)."""
    await asyncio.get_running_loop().run_in_executor(_HASHING, _dummy_hash)

#: Password hashing (tenths of a second of CPU each in service) runs here, off the event loop, at
#: most two at a time: a flood of sign-ins queues here rather than stalling every page.
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, HASHER.hash, password)


async def verify_password(hashed: str, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, _verify, hashed, password)


EXTRA_CHECK_FOR = dt.timedelta(hours=24)
SIGN_IN_LINK_VALID_FOR = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(hours=4)
SESSION_MAX = dt.timedelta(hours=12)
INVITE_VALID_FOR = dt.timedelta(days=7)
RESET_VALID_FOR = dt.timedelta(hours=1)
MIN_PASSWORD_LENGTH = 12


class SignInRefused(DomainError):
    """Wrong email or password (deliberately not saying which)."""

    code = "sign_in_refused"
    status = 401
    field = "email"
    message = "Enter a correct email address and password"


class SignInThrottled(SignInRefused):
    """This client has failed too often: refused until a time it is told (whatever the address,
    whether or not it has an account)."""

    code = "sign_in_throttled"
    status = 429

    def __init__(self, until: dt.datetime, now: dt.datetime):
        super().__init__(f"Too many attempts from this device. Try again after {clock_time(until)}")
        self.retry_after = max(1, int((until - now).total_seconds()) + 1)


class PasswordTooWeak(DomainError):
    code = "password_too_weak"
    status = 422
    field = "password"


class InvitationInvalid(NotFound):
    """An emailed link of the accounts (an invitation, a sign-in or reset link) that no longer
    works: used, expired, or never made."""

    heading = message = "This invitation link has expired or been used"
    advice = ("Ask another organiser to invite you again.",)


class SignInLinkEnded(InvitationInvalid):
    heading = message = "This sign-in link has expired or been used"
    advice = ("Sign in again with your password: we will email you a new link.",)


class ResetLinkEnded(InvitationInvalid):
    heading = message = "This password reset link has expired or been used"
    advice = ("Ask for a new link from the sign-in page.",)


class NotAllowed(DomainError):
    """Only an administrator manages organiser accounts; nobody ends their own account, or the
    last administrator's."""

    code = "not_allowed"
    status = 403


class OrganiserNotFound(NotFound):
    message = "No organiser with this email address"


class OrganiserExists(DomainError):
    code = "organiser_exists"
    field = "email"
    message = "There is already an organiser with this email address"


@dataclass(frozen=True)
class OrganiserView:
    id: int
    email: str
    name: str
    role: str = OrganiserRole.organiser.value

    @property
    def is_administrator(self) -> bool:
        return self.role == OrganiserRole.administrator.value

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "OrganiserView":
        """From a row of the organiser (its `id`, or `organiser_id` when read through a session)."""
        return cls(row["organiser_id"] if "organiser_id" in row else row["id"], row["email"], row["name"], row["role"])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooWeak(f"Password must be {MIN_PASSWORD_LENGTH} characters or more")
    if len(password) > 200:
        raise PasswordTooWeak("Password must be 200 characters or fewer")


async def create_organiser(*, email: str, name: str, password: str, now: dt.datetime,
                           role: OrganiserRole = OrganiserRole.organiser) -> OrganiserView:
    """An organiser who can sign in straight away (the first one, an administrator, is made this
    way by command)."""
    check_password(password)
    email = email.strip().lower()
    if await Organiser.exists().where(Organiser.email == email):
        raise OrganiserExists(email)
    rows = await Organiser.insert(Organiser(email=email, name=name.strip(), password_hash=await hash_password(password),
                                            role=role.value, created_at=now)).returning(Organiser.id)
    await record("organiser.created", "cli", organiser=email, role=role.value)
    return OrganiserView(rows[0]["id"], email, name.strip(), role.value)


async def invite_organiser(*, email: str, name: str, invited_by: OrganiserView, config: Config,
                           now: dt.datetime) -> OrganiserView:
    """Add an organiser who sets their own password from a one-time link sent by email (an
    administrator's task). With password sign-in off, the email says to sign in with the
    council's identity provider instead: its first sign-in binds the account to that identity."""
    if not invited_by.is_administrator:
        raise NotAllowed("Only an administrator can invite organisers")
    email = email.strip().lower()
    token = secrets.token_urlsafe(32) if config.password_sign_in else None
    async with write_transaction():
        if await Organiser.exists().where(Organiser.email == email):
            raise OrganiserExists(email)
        rows = await Organiser.insert(Organiser(
            email=email, name=name.strip(), invited_by=invited_by.id, invite_token_hash=token and token_hash(token),
            invite_expires_at=now + INVITE_VALID_FOR if token else None, created_at=now,
        )).returning(Organiser.id)
        link = f"{config.base_url}/organisers/invitations/{token}" if token else f"{config.base_url}/organisers/sign-in"
        await queue_email(compose_email("organiser_invite", recipient=email, config=config,
                                        subject="You have been invited to organise safeguarding forums",
                                        name=name.strip(), invited_by=invited_by.name, link=link,
                                        provider=None if token else config.oidc_provider_name),
                          kind="organiser_invite", config=config, now=now)
        await record("organiser.invited", invited_by.email, organiser=email)
    return OrganiserView(rows[0]["id"], email, name.strip())


async def accept_invitation(token: str, *, password: str, now: dt.datetime) -> OrganiserView:
    check_password(password)
    hashed = await hash_password(password)
    async with write_transaction():
        row = await Organiser.select(Organiser.id, Organiser.email, Organiser.name, Organiser.role,
                                     Organiser.invite_expires_at).where(
            Organiser.invite_token_hash == token_hash(token)).first()
        if row is None or row["invite_expires_at"] is None or row["invite_expires_at"] < now:
            raise InvitationInvalid()
        await Organiser.update({Organiser.password_hash: hashed, Organiser.invite_token_hash: None,
                                Organiser.invite_expires_at: None}).where(Organiser.id == row["id"])
        await record("organiser.joined", row["email"])
    return OrganiserView.from_row(row)


async def invitation_exists(token: str, now: dt.datetime) -> bool:
    return await Organiser.exists().where(
        (Organiser.invite_token_hash == token_hash(token)) & (Organiser.invite_expires_at > now))


async def sign_in(*, email: str, password: str, now: dt.datetime, client: str = "local",
                  config: Config | None = None, previous: str | None = None) -> str | None:
    """A new session token (ending the session `previous` names, if any); None when the account
    needs the emailed one-time link as well, which has just been sent; or SignInRefused.

    A wrong password and an address with no account get the same answer in the same time: the
    hash always runs and the failure is counted the same (`app.organisers.throttle`). A client
    refused after too many failures is told when it may try again, before anything is looked up;
    the owner signs in from another client all the same. `client` is the client's address (the
    web layer's; "local" for commands and tests), `config` the service's (default: `Config()`)."""
    config = config or Config()
    email = email.strip().lower()
    refused_until = await throttle.refused_until(email, client, now)
    if refused_until is not None:
        raise SignInThrottled(refused_until, now)
    row = await Organiser.select().where((Organiser.email == email) & (Organiser.active == True)).first()  # noqa: E712
    if row is None or not row["password_hash"]:
        right = await asyncio.get_running_loop().run_in_executor(  # as long as a wrong password takes
            _HASHING, lambda: _verify(_dummy_hash(), password)) and False
    else:
        right = await verify_password(row["password_hash"], password)
    if not right:
        await _count_failure(email, client, row, config, now)
    await throttle.forget_device(email, client)
    if row["extra_check_until"] is not None and row["extra_check_until"] > now:
        await _send_sign_in_link(row, config, now)
        return None
    changes: dict = {Organiser.last_sign_in_at: now}
    if HASHER.check_needs_rehash(row["password_hash"]):
        changes[Organiser.password_hash] = await hash_password(password)
    session = await new_session(row["id"], changes, now, previous)
    await record("organiser.signed_in", row["email"], via="password")
    return session


async def new_session(organiser_id: int, changes: dict, now: dt.datetime, previous: str | None,
                      lasts: dt.timedelta = SESSION_MAX) -> str:
    """A new session for the account, lasting at most `lasts`, with `changes` written to the account."""
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await Organiser.update(changes).where(Organiser.id == organiser_id)
        if previous:  # a new session on every sign-in: the old one's token is worthless
            await OrganiserSession.delete().where(OrganiserSession.token_hash == token_hash(previous))
        await OrganiserSession.insert(OrganiserSession(
            token_hash=token_hash(token), organiser=organiser_id, created_at=now, last_seen_at=now,
            expires_at=now + min(lasts, SESSION_MAX)))
    return token


async def _count_failure(email: str, client: str, row: dict | None, config: Config, now: dt.datetime) -> None:
    """One more failure, counted the same whether or not `row` (the account) exists; the one
    that makes the account's 50th in an hour tells its owner and asks for the emailed link."""
    counted = await throttle.count_failure(email, client, now)
    if counted.account_alarm and row is not None:
        until = now + EXTRA_CHECK_FOR
        async with write_transaction():
            await Organiser.update({Organiser.extra_check_until: until}).where(Organiser.id == row["id"])
            await queue_email(compose_email(
                "organiser_sign_in_alarm", recipient=row["email"], config=config,
                subject="Many failed sign-ins to your organiser account", name=row["name"],
                failures=throttle.PER_ACCOUNT.failures, until=f"{clock_time(until)} on {long_date(until)}"),
                kind="organiser_sign_in_alarm", config=config, now=now)
            await record("organiser.extra_check_started", "service", organiser=row["email"],
                         until=until.isoformat(), failures=throttle.PER_ACCOUNT.failures)
    if counted.blocked_until is not None:
        raise SignInThrottled(counted.blocked_until, now)
    if counted.delay_steps:
        await asyncio.sleep(counted.delay_steps * config.sign_in_delay_seconds)
    raise SignInRefused()


async def _send_sign_in_link(row: dict, config: Config, now: dt.datetime) -> None:
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await Organiser.update({Organiser.sign_in_link_hash: token_hash(token),
                                Organiser.sign_in_link_expires_at: now + SIGN_IN_LINK_VALID_FOR}).where(
            Organiser.id == row["id"])
        await queue_email(compose_email("organiser_sign_in_link", recipient=row["email"], config=config,
                                        subject="Finish signing in", name=row["name"],
                                        link=f"{config.base_url}/organisers/sign-in/link/{token}"),
                          kind="organiser_sign_in_link", config=config, now=now)
        await record("organiser.sign_in_link_sent", row["email"])


async def sign_in_link_valid(token: str, now: dt.datetime) -> bool:
    return await Organiser.exists().where(
        (Organiser.sign_in_link_hash == token_hash(token)) & (Organiser.sign_in_link_expires_at > now)
        & (Organiser.active == True))  # noqa: E712


async def finish_sign_in(token: str, *, now: dt.datetime, previous: str | None = None) -> str:
    """The emailed link's second half of a sign-in (once, within its 15 minutes)."""
    async with write_transaction():
        used = await Organiser.update({Organiser.sign_in_link_hash: None, Organiser.sign_in_link_expires_at: None}).where(
            (Organiser.sign_in_link_hash == token_hash(token)) & (Organiser.sign_in_link_expires_at > now)
            & (Organiser.active == True)).returning(Organiser.id, Organiser.email)  # noqa: E712
        if not used:
            raise SignInLinkEnded()
        await record("organiser.signed_in_by_link", used[0]["email"])
    return await new_session(used[0]["id"], {Organiser.last_sign_in_at: now}, now, previous)


async def clear_extra_check(email: str, *, by: OrganiserView | None) -> None:
    """An administrator ends the extra check early (the owner has been spoken to)."""
    _must_administer(by)
    async with write_transaction():
        target = await _target(email)
        await Organiser.update({Organiser.extra_check_until: None}).where(Organiser.id == target["id"])
        await record("organiser.extra_check_cleared", _actor(by), organiser=target["email"])


async def end_extra_checks(now: dt.datetime) -> int:
    """The scheduler's pass: extra checks whose 24 hours are over end, each audited once."""
    ended = await Organiser.update({Organiser.extra_check_until: None}).where(
        Organiser.extra_check_until <= now).returning(Organiser.email)
    for row in ended:
        await record("organiser.extra_check_ended", "service", organiser=row["email"])
    return len(ended)


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def organiser_for_session(token: str | None, now: dt.datetime) -> OrganiserView | None:
    """The signed-in organiser, if the session is live (not expired, not idle too long)."""
    if not token:
        return None
    row = await OrganiserSession.select(
        OrganiserSession.id, OrganiserSession.last_seen_at, OrganiserSession.expires_at,
        OrganiserSession.organiser.id.as_alias("organiser_id"), OrganiserSession.organiser.email.as_alias("email"),
        OrganiserSession.organiser.name.as_alias("name"), OrganiserSession.organiser.active.as_alias("active"),
        OrganiserSession.organiser.role.as_alias("role"),
    ).where(OrganiserSession.token_hash == token_hash(token)).first()
    if row is None or not row["active"] or row["expires_at"] <= now or row["last_seen_at"] + SESSION_IDLE <= now:
        return None
    if now - row["last_seen_at"] > dt.timedelta(minutes=1):  # do not write on every request
        await OrganiserSession.update({OrganiserSession.last_seen_at: now}).where(OrganiserSession.id == row["id"])
    return OrganiserView.from_row(row)


async def sign_out(token: str | None) -> None:
    if token:
        await OrganiserSession.delete().where(OrganiserSession.token_hash == token_hash(token))


async def list_organisers() -> list[dict]:
    rows = await Organiser.select(Organiser.id, Organiser.email, Organiser.name, Organiser.active, Organiser.role,
                                  Organiser.last_sign_in_at, Organiser.invite_expires_at, Organiser.extra_check_until,
                                  Organiser.password_hash).order_by(Organiser.name)
    for row in rows:
        row["joined"] = bool(row.pop("password_hash"))
    return rows


# The account lifecycle: every change audited, with who made it ("cli" from the command line).

async def _target(email: str) -> dict:
    row = await Organiser.select(Organiser.id, Organiser.email, Organiser.name, Organiser.role, Organiser.active).where(
        Organiser.email == email.strip().lower()).first()
    if row is None:
        raise OrganiserNotFound()
    return row


def _actor(by: OrganiserView | None) -> str:
    return by.email if by else "cli"


def _must_administer(by: OrganiserView | None) -> None:
    if by is not None and not by.is_administrator:
        raise NotAllowed("Only an administrator can change organiser accounts")


async def _refuse_if_last_administrator(target: dict) -> None:
    """Someone must always be able to manage the accounts."""
    administrators = (Organiser.role == OrganiserRole.administrator.value) & (Organiser.active == True)  # noqa: E712
    if target["role"] == OrganiserRole.administrator.value and await Organiser.count().where(administrators) <= 1:
        raise NotAllowed("This is the last administrator: make someone else an administrator first")


async def deactivate_organiser(email: str, *, by: OrganiserView | None) -> None:
    """End an account: it can no longer sign in, and every session it has ends at once."""
    _must_administer(by)
    async with write_transaction():
        target = await _target(email)
        if by is not None and target["id"] == by.id:
            raise NotAllowed("You cannot deactivate your own account: ask another administrator")
        await _refuse_if_last_administrator(target)
        await Organiser.update({Organiser.active: False, Organiser.reset_token_hash: None,
                                Organiser.invite_token_hash: None}).where(Organiser.id == target["id"])
        await OrganiserSession.delete().where(OrganiserSession.organiser == target["id"])
        await record("organiser.deactivated", _actor(by), organiser=target["email"])


async def reactivate_organiser(email: str, *, by: OrganiserView | None) -> None:
    _must_administer(by)
    async with write_transaction():
        target = await _target(email)
        await Organiser.update({Organiser.active: True}).where(Organiser.id == target["id"])
        await record("organiser.reactivated", _actor(by), organiser=target["email"])


async def set_role(email: str, role: OrganiserRole, *, by: OrganiserView | None) -> None:
    _must_administer(by)
    async with write_transaction():
        target = await _target(email)
        if role is not OrganiserRole.administrator:
            await _refuse_if_last_administrator(target)
        await Organiser.update({Organiser.role: role.value}).where(Organiser.id == target["id"])
        await record("organiser.role_changed", _actor(by), organiser=target["email"], role=role.value)


class WrongPassword(DomainError):
    code = "wrong_password"
    status = 400
    field = "current"
    message = "Your current password is not right"


async def change_password(organiser: OrganiserView, *, current: str, new: str, keep: str | None) -> None:
    """A new password, given the current one; every other session of the account ends (`keep`
    names the session making the change)."""
    check_password(new)
    row = await Organiser.select(Organiser.password_hash).where(Organiser.id == organiser.id).first()
    if row is None or not await verify_password(row["password_hash"], current):
        raise WrongPassword()
    hashed = await hash_password(new)
    async with write_transaction():
        await Organiser.update({Organiser.password_hash: hashed}).where(Organiser.id == organiser.id)
        others = OrganiserSession.organiser == organiser.id
        if keep:
            others &= OrganiserSession.token_hash != token_hash(keep)
        await OrganiserSession.delete().where(others)
        await record("organiser.password_changed", organiser.email)


async def set_password(email: str, password: str) -> None:
    """The command line's password reset: a new password, every session ended."""
    check_password(password)
    hashed = await hash_password(password)
    async with write_transaction():
        target = await _target(email)
        await Organiser.update({Organiser.password_hash: hashed}).where(Organiser.id == target["id"])
        await OrganiserSession.delete().where(OrganiserSession.organiser == target["id"])
        await record("organiser.password_set", "cli", organiser=target["email"])


async def request_password_reset(email: str, *, config: Config, now: dt.datetime) -> None:
    """Email a one-time reset link if an active account has this address. Nothing is said
    either way (the page answers the same), so the form cannot tell who has an account."""
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        row = await Organiser.select(Organiser.id, Organiser.email, Organiser.name).where(
            (Organiser.email == email.strip().lower()) & (Organiser.active == True)  # noqa: E712
            & (Organiser.password_hash != "")).first()
        if row is None:
            return
        await Organiser.update({Organiser.reset_token_hash: token_hash(token),
                                Organiser.reset_expires_at: now + RESET_VALID_FOR}).where(Organiser.id == row["id"])
        link = f"{config.base_url}/organisers/password-reset/{token}"
        await queue_email(compose_email("organiser_reset", recipient=row["email"], config=config,
                                        subject="Reset your organiser password", name=row["name"], link=link),
                          kind="organiser_reset", config=config, now=now)
        await record("organiser.reset_requested", row["email"])


async def reset_link_valid(token: str, now: dt.datetime) -> bool:
    return await Organiser.exists().where(
        (Organiser.reset_token_hash == token_hash(token)) & (Organiser.reset_expires_at > now)
        & (Organiser.active == True))  # noqa: E712


async def reset_password(token: str, *, password: str, now: dt.datetime) -> None:
    """Set a new password from a reset link (once); every session of the account ends."""
    check_password(password)
    hashed = await hash_password(password)
    async with write_transaction():
        row = await Organiser.select(Organiser.id, Organiser.email).where(
            (Organiser.reset_token_hash == token_hash(token)) & (Organiser.reset_expires_at > now)
            & (Organiser.active == True)).first()  # noqa: E712
        if row is None:
            raise ResetLinkEnded()
        await Organiser.update({Organiser.password_hash: hashed, Organiser.reset_token_hash: None,
                                Organiser.reset_expires_at: None}).where(Organiser.id == row["id"])
        await OrganiserSession.delete().where(OrganiserSession.organiser == row["id"])
        await record("organiser.password_reset", row["email"])


async def sessions_of(organiser: OrganiserView, current: str | None) -> list[dict]:
    rows = await OrganiserSession.select(OrganiserSession.id, OrganiserSession.created_at, OrganiserSession.last_seen_at,
                                         OrganiserSession.token_hash).where(
        OrganiserSession.organiser == organiser.id).order_by(OrganiserSession.last_seen_at, ascending=False)
    mine = token_hash(current) if current else None
    return [{"id": r["id"], "created_at": r["created_at"], "last_seen_at": r["last_seen_at"],
             "current": r["token_hash"] == mine} for r in rows]


async def end_session(organiser: OrganiserView, session_id: int) -> None:
    """End one of one's own sessions (another browser, a lost laptop)."""
    deleted = await OrganiserSession.delete().where(
        (OrganiserSession.id == session_id) & (OrganiserSession.organiser == organiser.id)).returning(OrganiserSession.id)
    if deleted:
        await record("organiser.session_ended", organiser.email)
