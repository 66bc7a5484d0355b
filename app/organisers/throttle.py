"""Failed organiser sign-ins, counted so that no stranger can keep an organiser out.

Three counters, in the database so every process sees the same counts, each one atomic increment:
- per device: one address typed, from one client address. Its third and fourth failures are
  answered after a growing delay; its fifth refuses that client for that address for 15 minutes.
- per client: every address typed from one client address (someone trying many accounts); 20
  failures refuse that client for 15 minutes.
- per account: one address typed, from every client together. Its 50th failure in an hour tells
  the owner and asks for an emailed one-time link as well as the password for 24 hours
  (`app.organisers.services`): never a silent lock.

None of them refuses the owner from another client, and each counts the same whether or not the
address has an account, so neither the answer nor its timing says who has one. Every start and end
of a refusal is audited (ends by the scheduler's `end_throttles`, or by the next attempt).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from app.audit.services import record
from app.tables.organisers import SignInThrottle


@dataclass(frozen=True)
class Rule:
    scope: str
    failures: int
    window: dt.timedelta


PER_DEVICE = Rule("device", 5, dt.timedelta(minutes=15))
PER_CLIENT = Rule("client", 20, dt.timedelta(minutes=15))
PER_ACCOUNT = Rule("account", 50, dt.timedelta(hours=1))
BLOCK_FOR = dt.timedelta(minutes=15)
#: The device's failures from this one on are answered after a delay, doubling each time.
DELAY_FROM = 3


@dataclass(frozen=True)
class Counted:
    """What one more failure did."""

    #: Seconds to wait before answering (in units of the configured delay).
    delay_steps: int
    #: The time a refusal just started for this client ends (None: not refused).
    blocked_until: dt.datetime | None
    #: This failure was the account's PER_ACCOUNT.failures-th in its window (exactly once).
    account_alarm: bool


def _next_minute(moment: dt.datetime) -> dt.datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + dt.timedelta(minutes=1)


def _keys(email: str, client: str) -> dict[str, str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return {"device": f"device:{digest}:{client}", "client": f"client:{client}", "account": f"account:{digest}"}


async def refused_until(email: str, client: str, now: dt.datetime) -> dt.datetime | None:
    """When the refusal of this client (for this address, or for every address) ends, if it is
    refused now. Refusals that have ended are audited and forgotten first."""
    keys = _keys(email, client)
    mine = [keys["device"], keys["client"]]
    await _end(now, SignInThrottle.key.is_in(mine))
    rows = await SignInThrottle.select(SignInThrottle.blocked_until).where(
        SignInThrottle.key.is_in(mine) & (SignInThrottle.blocked_until > now))
    return max((r["blocked_until"] for r in rows), default=None)


async def count_failure(email: str, client: str, now: dt.datetime) -> Counted:
    keys = _keys(email, client)
    counts: dict[str, int] = {}
    for rule in (PER_DEVICE, PER_CLIENT, PER_ACCOUNT):
        counts[rule.scope] = await _increment(keys[rule.scope], rule, client, now)
    blocked = None
    for rule in (PER_DEVICE, PER_CLIENT):
        if counts[rule.scope] >= rule.failures:
            until = _next_minute(now + BLOCK_FOR)  # "Try again after 2:35pm" is then true
            started = await SignInThrottle.update({SignInThrottle.blocked_until: until}).where(
                (SignInThrottle.key == keys[rule.scope]) & SignInThrottle.blocked_until.is_null()
            ).returning(SignInThrottle.id)
            if started:  # once, whoever's failure crossed the line
                await record("sign_in.throttle_started", f"client {client}", scope=rule.scope, client=client,
                             until=until.isoformat())
            blocked = until if blocked is None else max(blocked, until)
    device = counts["device"]
    delay = 2 ** (device - DELAY_FROM) if blocked is None and device >= DELAY_FROM else 0
    return Counted(delay, blocked, counts["account"] == PER_ACCOUNT.failures)


async def forget_device(email: str, client: str) -> None:
    """A correct password from this client: its failures for this address start again."""
    await SignInThrottle.delete().where(
        (SignInThrottle.key == _keys(email, client)["device"]) & SignInThrottle.blocked_until.is_null())


async def end_throttles(now: dt.datetime) -> int:
    """The scheduler's pass: refusals that have ended are audited and forgotten, and counters
    whose window has ended are deleted. Returns the refusals ended."""
    ended = await _end(now, None)
    longest = max(PER_DEVICE.window, PER_CLIENT.window, PER_ACCOUNT.window)
    await SignInThrottle.delete().where(SignInThrottle.blocked_until.is_null()
                                        & (SignInThrottle.window_started_at < now - longest))
    return ended


async def _increment(key: str, rule: Rule, client: str, now: dt.datetime) -> int:
    # A window that has ended starts again (never while its refusal lasts).
    await SignInThrottle.update({SignInThrottle.failures: 0, SignInThrottle.window_started_at: now}).where(
        (SignInThrottle.key == key) & (SignInThrottle.window_started_at <= now - rule.window)
        & SignInThrottle.blocked_until.is_null())
    await SignInThrottle.insert(SignInThrottle(key=key, failures=0, window_started_at=now, client=client)).on_conflict(
        target=SignInThrottle.key, action="DO NOTHING")
    [row] = await SignInThrottle.update({SignInThrottle.failures: SignInThrottle.failures + 1}).where(
        SignInThrottle.key == key).returning(SignInThrottle.failures)
    return row["failures"]


async def _end(now: dt.datetime, among) -> int:
    where = SignInThrottle.blocked_until <= now
    if among is not None:
        where &= among
    ended = await SignInThrottle.delete().where(where).returning(
        SignInThrottle.key, SignInThrottle.client, SignInThrottle.blocked_until)
    for row in ended:  # DELETE … RETURNING: of many processes, one audits each end
        await record("sign_in.throttle_ended", f"client {row['client']}", scope=row["key"].split(":", 1)[0],
                     client=row["client"], ended=row["blocked_until"].isoformat())
    return len(ended)
