"""Database engines: one from `DATABASE_URL`, safe write transactions, and the migration check.

Capacity and other invariants are decided inside `write_transaction()`. On PostgreSQL that is an
ordinary transaction whose guarded UPDATE takes the row lock. On SQLite every write transaction
goes through the process's one writer (`_Writer`): one long-lived connection to the file, its own
thread, `BEGIN IMMEDIATE` (a deferred transaction that reads then writes fails with "database is
locked" whatever the timeout). Piccolo's queries inside the transaction run on it, and so does a
booking's one hop (`sqlite_in_one_hop`): whatever takes or releases a place, with its outbox
message and audit record, is written by that one connection. Reads outside a transaction are
Piccolo's own, each on a connection of its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from concurrent.futures import ThreadPoolExecutor
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
        return SQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT)
    raise ValueError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {database_url.split(':')[0]!r}"
    )


def bind_tables(engine: Engine) -> None:
    """Point every table of the service (and Piccolo's migration table) at `engine`."""
    from piccolo.apps.migrations.tables import Migration

    for table in [*APP_CONFIG.table_classes, Migration]:
        table._meta.db = engine


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
                async with _WriterTransaction(engine=engine, transaction_type=TransactionType.immediate):
                    yield
        else:
            async with _PostgresTransaction(engine=engine):
                yield
    finally:
        _after_commit.reset(token)
    for action in pending:
        action()


class _Writer:
    """The process's one writing connection to one SQLite file: opened once, in autocommit mode
    (BEGIN is the caller's), with a thread of its own that runs every statement sent to it. One
    transaction at a time has it (`turn`); within a process the writers also queue, first come
    first served, in `_sqlite_queue`, and between processes BEGIN IMMEDIATE does the locking."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.closing = False
        self.closed = False
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        # As Piccolo opens its own (its column types read back as Python values), less its thread rule.
        self.connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None,
                                          detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
                                          check_same_thread=False)
        self.connection.execute("PRAGMA foreign_keys = 1")

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` on the writer's thread (the caller has its turn)."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, work, self.connection)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator["_Writer"]:
        """The writer, for one transaction. Never waits on the lock by blocking the event loop:
        it is only contended across event loops (a test's, a command's), and then briefly."""
        while not self.lock.acquire(blocking=False):
            await asyncio.sleep(0.001)
        try:
            if self.closed:  # let go of meanwhile (a process with many database files: a test run)
                raise _WriterGone()
            yield self
        finally:
            try:
                if not self.closed and self.connection.in_transaction:  # a COMMIT that failed
                    await self.run(lambda connection: connection.execute("ROLLBACK"))
            finally:
                self.lock.release()
                if self.closing:
                    self.close()

    def close(self) -> None:
        """Closed now if no transaction has it, else by the one that has it, once done."""
        if not self.lock.acquire(blocking=False):
            self.closing = True
            return
        try:
            if not self.closed:
                self.closed = True
                self.thread.submit(self.connection.close)
                self.thread.shutdown(wait=False)
        finally:
            self.lock.release()


class _WriterGone(Exception):
    """The writer was closed while this caller waited for its turn: take the file's new one."""


#: Writers by database file; a few only (a test run opens many files, a service one).
_writers: OrderedDict[str, _Writer] = OrderedDict()
_writers_lock = threading.Lock()


def sqlite_writer(path: str) -> sqlite3.Connection:
    """The process's writing connection to the SQLite file at `path` (made on first use)."""
    return _writer(path).connection


def _writer(path: str) -> _Writer:
    with _writers_lock:
        writer = _writers.get(path)
        if writer is None or writer.closed or writer.closing:
            writer = _writers[path] = _Writer(path)
            while len(_writers) > 4:
                _writers.popitem(last=False)[1].close()
        _writers.move_to_end(path)
        return writer


@asynccontextmanager
async def _writers_turn(path: str) -> AsyncIterator[_Writer]:
    while True:
        try:
            async with _writer(path).turn() as writer:
                yield writer
                return
        except _WriterGone:
            continue


class _Rows:
    """What Piccolo reads of an aiosqlite cursor: the rows, already fetched on the writer's thread."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    async def fetchall(self) -> list[Any]:
        return self.rows

    async def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


class _Statement:
    """`connection.execute(…)` as Piccolo uses aiosqlite's: awaited, or entered with `async with`."""

    def __init__(self, lent: "_LentWriter", sql: str, args: Any) -> None:
        self.lent, self.sql, self.args = lent, sql, args

    def __await__(self) -> Any:
        return self.lent.run(self.sql, self.args).__await__()

    async def __aenter__(self) -> _Rows:
        return await self.lent.run(self.sql, self.args)

    async def __aexit__(self, *exc: object) -> None:
        return None


class _LentWriter:
    """The writer as Piccolo's SQLite transaction sees its connection (the part of aiosqlite's
    interface it uses: `execute`, `row_factory`, `close`), lent for one transaction; `close` gives
    the turn back and leaves the connection open."""

    def __init__(self, writer: _Writer, turn: Any) -> None:
        self.writer, self.turn = writer, turn
        self.row_factory: Callable[[Any, Any], Any] | None = dict_factory

    def execute(self, sql: str, args: Any = ()) -> _Statement:
        return _Statement(self, sql, args)

    async def run(self, sql: str, args: Any) -> _Rows:
        if sql == _PICCOLOS_PRAGMA:  # sent before every query in a transaction; the writer has it already
            return _Rows([])
        factory = self.row_factory

        def work(connection: sqlite3.Connection) -> list[Any]:
            cursor = connection.execute(sql, args or ())
            rows = cursor.fetchall()
            return [factory(cursor, row) for row in rows] if factory and rows else rows

        return _Rows(await self.writer.run(work))

    async def close(self) -> None:
        await self.turn.__aexit__(None, None, None)


#: What Piccolo's SQLite engine sends before every query it runs inside a transaction.
_PICCOLOS_PRAGMA = "PRAGMA foreign_keys = 1"


class _WriterTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on the process's writer (`_Writer`) rather than on a connection
    of its own. The turn is given back whatever happens (Piccolo's own leaves its connection open
    when COMMIT itself fails), after rolling back what a failed COMMIT left open."""

    async def get_connection(self) -> _LentWriter:
        turn = _writers_turn(self.engine.path)
        writer = await turn.__aenter__()
        return _LentWriter(writer, turn)

    async def __aenter__(self) -> "_WriterTransaction":
        if self._parent is not None:
            return self._parent  # type: ignore[return-value]
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self.connection.close()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                await self.connection.close()
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


def _in_one_transaction(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    def run(connection: sqlite3.Connection) -> T:
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    return run


async def sqlite_in_one_hop(engine: SQLiteEngine, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work(connection)` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK if it raises), on the writer's
    thread as one call. A Piccolo transaction hops to the writer's thread and back for every
    statement, and the write lock is held across each hop's wait for a busy event loop; here it is
    held for the statements themselves. Waits its turn in the process's queue of writers like any
    `write_transaction`; must not be called inside one (it would wait for itself)."""
    async with _sqlite_queue(engine), _writers_turn(engine.path) as writer:
        return await writer.run(_in_one_transaction(work))


async def serialise_on(key: str) -> None:
    """Inside a write transaction: wait until no other transaction holding the same `key` is
    running, and hold it until this one ends. For a find-or-add with nothing unique to conflict on
    (a setting typed in by name): on PostgreSQL a transaction-level advisory lock on the key's
    hash; SQLite's one writer already runs one write transaction at a time."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine) and engine.transaction_exists():
        await Event.raw("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", key)


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
