"""Database engines: one from `DATABASE_URL`, safe write transactions, and the migration check.

Capacity and other invariants are decided inside `write_transaction()`, which on SQLite is
`BEGIN IMMEDIATE` (a deferred transaction that reads then writes fails with "database is locked"
whatever the timeout) and on PostgreSQL an ordinary transaction whose guarded UPDATE takes the
row lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
    dict_factory,
)

from app.piccolo_app import APP_CONFIG
from app.tables.programme import Event

T = TypeVar("T")

#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT = 30


class DatabaseNotReady(RuntimeError):
    """The database is unreachable or has migrations still to apply."""


#: SQLite's words for a database it cannot reach at the moment (not a fault in a query).
_SQLITE_OUTAGE = ("database is locked", "unable to open database file", "disk i/o error", "database or disk is full")


def is_outage(exc: BaseException) -> bool:
    """True if the error says the database cannot be reached or is overloaded right now (the
    answer is 503, try again later), rather than that a query is wrong (a 500)."""
    import asyncpg

    if isinstance(exc, (OSError, asyncio.TimeoutError, ConnectionError,
                        # SQLSTATE classes 08 (connection), 57 (shutdown, cannot connect now) and 53
                        # (too many connections, disk full), whatever the subclass
                        asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                        asyncpg.exceptions.InsufficientResourcesError,
                        # the driver's own: a connection closed under it, or handed out by the pool
                        # mid-restart ("cannot switch to state 12; another operation is in progress")
                        asyncpg.exceptions.InterfaceError, asyncpg.exceptions.InternalClientError)):
        return True
    if exc.__cause__ is not None and exc.__cause__ is not exc:
        return is_outage(exc.__cause__)
    if isinstance(exc, sqlite3.OperationalError):
        return any(words in str(exc).lower() for words in _SQLITE_OUTAGE)
    return False


def sqlite_path(database_url: str) -> str:
    if not database_url.startswith("sqlite:///"):
        raise ValueError(f"not a SQLite URL: {database_url!r}")
    return database_url.removeprefix("sqlite:///")


def make_engine(database_url: str) -> Engine:
    """The Piccolo engine for a `sqlite:///path` or `postgresql://…` URL."""
    if database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": database_url})
    if database_url.startswith("sqlite:///"):
        path = sqlite_path(database_url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers carry on while one writer holds the lock; it is a property of the
        # file, so setting it once here is enough.
        with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        return _SQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT)
    raise ValueError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {database_url.split(':')[0]!r}"
    )


def bind_tables(engine: Engine) -> None:
    """Point every table of the service (and Piccolo's migration table) at `engine`."""
    from piccolo.apps.migrations.tables import Migration

    for table in [*APP_CONFIG.table_classes, Migration]:
        table._meta.db = engine


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, less a statement per query: inside a transaction Piccolo repeats
    `PRAGMA foreign_keys = 1` before every query, though the transaction's connection was opened
    with it (`get_connection`). A booking sent six such statements besides its seven."""

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> Any:
        connection.row_factory = dict_factory
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()  # RETURNING works: SQLite is 3.35 or newer here


class _PostgresTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction, made safe for a database that goes away mid-transaction.
    Piccolo's own, when its rollback fails on a dead connection, neither releases the connection
    to the pool nor resets its current-transaction context: a web request's task then ends, but a
    long-lived task (the sender, the scheduler) goes on using the dead transaction for good ("connection
    has been released back to the pool"), and each time a pool slot leaks. Here the connection
    goes back and the context is reset whatever happens; the first error is the one raised."""

    async def __aenter__(self) -> "_PostgresTransaction":
        if self._parent is not None:
            return self._parent  # type: ignore[return-value]
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    try:
                        await self.rollback()
                    except Exception:  # noqa: BLE001 - a dead connection: the server rolled it back
                        self.connection.terminate()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            await self._give_back()
            self.engine.current_transaction.reset(self.context)
        return exception is None

    async def _give_back(self) -> None:
        try:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
        except Exception:  # noqa: BLE001 - a broken connection is dropped, not returned
            self.connection.terminate()
            if self.engine.pool:
                try:
                    await self.engine.pool.release(self.connection)
                except Exception:  # noqa: BLE001
                    pass


class _ImmediateTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction, closing its connection if BEGIN itself fails (otherwise the
    aiosqlite thread is left running and keeps the process from exiting)."""

    async def begin(self) -> None:
        try:
            await super().begin()
        except BaseException:
            await self.connection.close()
            raise


def current_engine() -> Engine:
    """The engine the service's tables are bound to."""
    return Event._meta.db


#: Per event loop (weakly held: a finished loop takes its locks with it), per database file.
_sqlite_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())


def _sqlite_queue(engine: SQLiteEngine) -> asyncio.Lock:
    """Writers of one process wait their turn here, first come first served, rather than in
    SQLite's busy handler, which polls with growing sleeps and lets late arrivals overtake (p99
    of seconds under load). Only fairness: BEGIN IMMEDIATE still does the locking, so a second
    process (a CLI command) is safe too."""
    locks = _sqlite_queues.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(engine.path, asyncio.Lock())


#: What to do once the write transaction in progress has committed (`after_commit`).
_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


def after_commit(action: Callable[[], None]) -> None:
    """Run `action` once the write transaction in progress commits (never if it rolls back); at
    once outside one. For what must not see, or act on, a change before others can (waking the
    sender for an email the transaction queued)."""
    pending = _after_commit.get()
    if pending is None:
        action()
    elif action not in pending:
        pending.append(action)


@asynccontextmanager
async def write_transaction(engine: Engine | None = None) -> AsyncIterator[None]:
    """A transaction for read-then-write rules (capacity, one booking per person). Inside one
    already, it is the same transaction (a rule used on its own and within a larger change)."""
    engine = engine or current_engine()
    if engine.transaction_exists():
        yield
        return
    pending: list[Callable[[], None]] = []
    token = _after_commit.set(pending)
    try:
        if isinstance(engine, SQLiteEngine):
            async with _sqlite_queue(engine):
                async with _ImmediateTransaction(engine=engine, transaction_type=TransactionType.immediate):
                    yield
        else:
            async with _PostgresTransaction(engine=engine):
                yield
    finally:
        _after_commit.reset(token)
    for action in pending:
        action()


class _Writer:
    """A process's own connection to one SQLite file for transactions run in one hop: opened
    once, used by one thread at a time (the lock), in autocommit mode so BEGIN is the caller's."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.closed = False
        self.connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None,
                                          check_same_thread=False)
        self.connection.execute("PRAGMA foreign_keys = 1")

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.connection.close()


#: Writers by database file; a few only (a test run opens many files, a service one).
_writers: OrderedDict[str, _Writer] = OrderedDict()
_writers_lock = threading.Lock()


def sqlite_writer(path: str) -> sqlite3.Connection:
    """The process's one-hop connection to the SQLite file at `path` (made on first use)."""
    return _writer(path).connection


def _writer(path: str) -> _Writer:
    with _writers_lock:
        writer = _writers.get(path)
        if writer is None:
            writer = _writers[path] = _Writer(path)
            while len(_writers) > 4:
                _writers.popitem(last=False)[1].close()
        _writers.move_to_end(path)
        return writer


def _in_one_transaction(path: str, work: Callable[[sqlite3.Connection], T]) -> T:
    writer = _writer(path)
    with writer.lock:
        if writer.closed:  # let go of meanwhile (a process with many database files: a test run)
            return _in_one_transaction(path, work)
        connection = writer.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result


async def sqlite_in_one_hop(engine: SQLiteEngine, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work(connection)` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK if it raises), run in a worker
    thread as one call. Piccolo's transactions hop to their connection's thread and back for every
    statement, and the write lock is held across each hop's wait for a busy event loop; here it is
    held for the statements themselves. Waits its turn in the process's queue of writers like any
    `write_transaction`; must not be called inside one (it would wait for itself)."""
    async with _sqlite_queue(engine):
        return await asyncio.to_thread(_in_one_transaction, engine.path, work)


#: Rows read per query by `read_in_slices`.
READ_SLICE = 500


async def read_in_slices(select_after: Callable[[int, int], Awaitable[list[dict[str, Any]]]], *,
                         size: int = READ_SLICE) -> list[dict[str, Any]]:
    """Every row of a large read, `size` at a time: `select_after(last_id, size)` answers the rows
    with an id above `last_id`, in id order, at most `size` (a keyset read, not OFFSET). For reads
    of megabytes (a county's questionnaire answers): PostgreSQL's driver decodes a query's rows on
    the event loop at once, and 2,500 responses in one query held every other request for up to
    90 ms."""
    rows: list[dict[str, Any]] = []
    while True:
        read = await select_after(rows[-1]["id"] if rows else 0, size)
        rows += read
        if len(read) < size:
            return rows


@lru_cache(maxsize=1)
def migration_ids() -> tuple[str, ...]:
    """IDs of the migration files in `migrations/`: read once a process (the readiness probe asks
    every few seconds)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    return tuple(manager.get_migration_ids(manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)))


async def pending_migrations(engine: Engine) -> list[str]:
    """IDs of the migration files in `migrations/` not yet applied to this database."""
    from piccolo.apps.migrations.tables import Migration

    ids = list(migration_ids())
    try:
        ran = await Migration.select(Migration.name).where(
            Migration.app_name == APP_CONFIG.app_name
        )
    except Exception as exc:  # table missing: nothing applied yet, or no database at all
        if not await _reachable(engine):
            raise DatabaseNotReady(f"Cannot connect to the database: {exc}") from exc
        return ids
    done = {row["name"] for row in ran}
    return [i for i in ids if i not in done]


async def _reachable(engine: Engine) -> bool:
    try:
        await engine.run_ddl("SELECT 1")
        return True
    except Exception:
        return False


async def ensure_migrated(engine: Engine) -> None:
    pending = await pending_migrations(engine)
    if pending:
        raise DatabaseNotReady(
            f"The database has {len(pending)} migration(s) still to apply "
            f"({', '.join(pending)}). Run: python -m app migrate"
        )


async def refresh_statistics(engine: Engine | None = None) -> None:
    """Give the query planner fresh statistics: after migrations and bulk loads. SQLite has none
    until ANALYZE, and without them picked a poor index for the evidence queries (90 ms against
    1 ms); PostgreSQL's autovacuum catches up on its own, but not at once after a bulk load."""
    engine = engine or current_engine()
    await engine.run_ddl("ANALYZE")


async def keep_optimised(engine: Engine) -> None:
    """SQLite's own upkeep of its statistics (`PRAGMA optimize`), cheap enough for every start."""
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA optimize")


async def _light_reset(connection: Any) -> None:
    """What a connection needs on its way back to the pool here: an unfinished transaction rolled
    back. asyncpg's default also unlocks advisory locks, closes cursors, stops listening and resets
    settings (a round trip for every release; py-spy put it at 4% of a booking burst's samples):
    the service holds none of those across a release."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


@asynccontextmanager
async def pooled(engine: Engine, size: int) -> AsyncIterator[None]:
    """A PostgreSQL connection pool for the block (none on SQLite, or with size 0): without one,
    every query opens a connection of its own."""
    if not isinstance(engine, PostgresEngine) or size <= 0:
        yield
        return
    await engine.start_connection_pool(min_size=1, max_size=size, reset=_light_reset)
    try:
        yield
    finally:
        await engine.close_connection_pool()
