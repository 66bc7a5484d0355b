"""Abuse limits: how often one client address, or one email address, may do one thing.

Fixed windows counted where every process sees the same count: in Redis when `REDIS_URL` is set,
else in the database (PostgreSQL: any number of processes); in memory only for the one embedded
SQLite process (`serve` refuses several workers on SQLite). Each hit is one atomic increment
(Redis INCR, an upsert returning the count, or a dict on the one event loop), so N requests at
once count N. `RATE_LIMITS=off` lifts every limit here (for benchmarks and load tests); the cap on
active bookings per email address is a booking rule (`app.bookings.services`) and stays.

A route takes a limit per client address by naming it in its `opt` (`opt={"limit": "booking"}`,
checked by the `rate_limited` guard before the body is read); a handler adds a limit per email
address once it has read the address (`await limit_email(request, "booking", email)`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler

from app.config import Config
from app.db import current_engine, write_transaction
from app.validation import canonical_email
from app.tables.limits import RateLimitHit


@dataclass(frozen=True)
class Limit:
    hits: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.hits} in {self.seconds // 60} minutes" if self.seconds >= 60 else f"{self.hits} in {self.seconds} s"


#: Every limit, per client address and per email address (README, "Abuse limits"). A school or a
#: council office shares one address among many staff, so the limits per address are generous and
#: those per email address tight.
LIMITS: dict[str, dict[str, Limit]] = {
    # Booking a place (the form and the public API), joining a waiting list, accepting an offer.
    "booking": {"address": Limit(30, 3600), "email": Limit(6, 3600)},
    # Organiser sign-in, per client address only: a limit per email address would let anyone
    # keep an organiser out (failures are throttled per client by app.organisers.throttle).
    "sign_in": {"address": Limit(30, 900)},
    # Asking for a password reset link (each sends an email), setting a password from a reset
    # link or an invitation: limits of their own, never counted against signing in.
    "password_reset": {"address": Limit(20, 3600), "email": Limit(3, 3600)},
    # The setting look-up behind the booking form's autocomplete (one request a keystroke).
    "lookup": {"address": Limit(240, 60)},
    # The questionnaire's links (a setting's secret link, starting and saving answers).
    "questionnaire": {"address": Limit(120, 600)},
    # Asking for a setting's link from the public start page: each sends an email to the address
    # on the register, so a few a day to one address.
    "questionnaire_start": {"address": Limit(30, 3600), "email": Limit(3, 86400)},
    # Public pages reached by a secret token (manage a booking, accept an offer, cancel, give
    # feedback, read one's training record, download a certificate).
    "token": {"address": Limit(120, 600)},
    # Asking for a link to one's training record: each sends an email, so a few a day to one address.
    "record_link": {"address": Limit(30, 3600), "email": Limit(3, 86400)},
    # A setting's contact asking for the link to choose copies: to that address only.
    "copies_link": {"address": Limit(30, 3600), "email": Limit(3, 86400)},
    # Checking a certificate's verification code: enough for an inspector, too few to guess codes.
    "verify": {"address": Limit(60, 3600)},
    # Passing a place to a colleague sends two emails.
    "colleague": {"address": Limit(30, 3600), "email": Limit(6, 3600)},
}


class RateLimited(HTTPException):
    """429: too many requests; `retry_after` seconds until the window ends."""

    status_code = 429

    def __init__(self, retry_after: int, what: str):
        self.retry_after = max(1, retry_after)
        self.what = what
        super().__init__(detail="Too many requests: wait and try again",
                         headers={"Retry-After": str(self.retry_after)})


class Counter(Protocol):
    async def hit(self, key: str, window_ends: float) -> int:
        """The number of hits on `key` in its window, this one included."""

    async def close(self) -> None: ...


class MemoryCounter:
    """One process's counters (the embedded SQLite process only)."""

    def __init__(self) -> None:
        self._hits: dict[str, tuple[float, int]] = {}
        self._next_prune = 0.0

    async def hit(self, key: str, window_ends: float) -> int:
        now = time.time()
        if now >= self._next_prune:
            self._hits = {k: v for k, v in self._hits.items() if v[0] > now}
            self._next_prune = now + 60
        ends, hits = self._hits.get(key, (window_ends, 0))
        self._hits[key] = (ends, hits + 1)
        return hits + 1

    async def close(self) -> None:
        self._hits.clear()


class RedisCounter:
    """Counters in Redis: INCR and EXPIRE in one MULTI/EXEC."""

    def __init__(self, url: str):
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    async def hit(self, key: str, window_ends: float) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(f"sgb:limit:{key}")
            pipe.expireat(f"sgb:limit:{key}", math.ceil(window_ends) + 1)
            hits, _ = await pipe.execute()
        return int(hits)

    async def close(self) -> None:
        await self._redis.aclose()


_UPSERT = ("INSERT INTO rate_limit_hit (key, hits, expires_at) VALUES ({}, 1, {}) "
           "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_hit.hits + 1 RETURNING hits")


class DatabaseCounter:
    """Counters in the service's database: one upsert that returns the new count."""

    async def hit(self, key: str, window_ends: float) -> int:
        expires = dt.datetime.fromtimestamp(window_ends, dt.timezone.utc)
        if current_engine().engine_type == "sqlite":
            async with write_transaction():  # SQLite's writers take their turn
                rows = await RateLimitHit.raw(_UPSERT, key, expires)
        else:
            rows = await RateLimitHit.raw(_UPSERT, key, expires)
        return rows[0]["hits"]

    async def close(self) -> None:
        return None


class Limiter:
    """The service's limits on one counter store."""

    def __init__(self, config: Config, counter: Counter | None = None,
                 clock: Callable[[], float] = time.time):
        self.enabled = config.rate_limits
        self.clock = clock  # the windows are the wall clock's (tests hold it still)
        self.trusted_proxies = [ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies]
        self.counter = counter or counter_for(config)
        self.store = type(self.counter).__name__

    async def check(self, action: str, scope: str, subject: str) -> None:
        """Count one hit; raise RateLimited once the limit is passed."""
        if not self.enabled:
            return
        rule = LIMITS[action][scope]
        now = self.clock()
        window = int(now // rule.seconds)
        window_ends = (window + 1) * rule.seconds
        # Email addresses are kept as a hash: the counters hold no personal data.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32] if scope == "email" else subject
        if await self.counter.hit(f"{action}:{scope}:{digest}:{window}", window_ends) > rule.hits:
            raise RateLimited(math.ceil(window_ends - now), action)

    def client_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The client's address; behind a trusted reverse proxy, the last address its
        X-Forwarded-For names that is not itself a trusted proxy."""
        peer = connection.client.host if connection.client else "unknown"
        if not self.trusted_proxies or not self._trusted(peer):
            return peer
        forwarded = [a.strip() for a in connection.headers.get("x-forwarded-for", "").split(",") if a.strip()]
        for address in reversed(forwarded):
            if not self._trusted(address):
                return address
        return peer

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


def counter_for(config: Config) -> Counter:
    if config.redis_url:
        return RedisCounter(config.redis_url)
    if config.is_postgres:
        return DatabaseCounter()
    return MemoryCounter()


def limiter_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Limiter:
    return connection.app.state["limiter"]


async def rate_limited(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard on every route: a route naming a limit in its opt counts the client address."""
    action = handler.opt.get("limit")
    if action is None:
        return
    limiter = limiter_of(connection)
    await limiter.check(action, "address", limiter.client_address(connection))


async def limit_email(connection: ASGIConnection[Any, Any, Any, Any], action: str, email: str) -> None:
    """Count one hit for an email address, in the one form the bookings store it
    (`canonical_email`): a full-width or upper-case copy of an address counts as the address."""
    await limiter_of(connection).check(action, "email", canonical_email(email))
