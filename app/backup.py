"""Backups and restores of the whole database (`python -m app backup PATH`, `restore PATH`).

SQLite: SQLite's online backup API, which copies a consistent snapshot while the service keeps
serving (writers wait at most a moment between pages). PostgreSQL: `pg_dump` in its custom
format (a consistent snapshot from one transaction), restored by `pg_restore`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from app.db import sqlite_path


class BackupFailed(RuntimeError):
    """One line saying what went wrong."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} is not installed: install PostgreSQL's client tools (Debian: postgresql-client)")
    return found


def _pg_args(database_url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore, the password passed in the environment (never
    on the command line, where other users could read it)."""
    parts = urlsplit(database_url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    args = ["--host", parts.hostname or "localhost", "--port", str(parts.port or 5432),
            "--dbname", parts.path.lstrip("/") or "postgres"]
    if parts.username:
        args += ["--username", parts.username]
    return args, env


def backup(database_url: str, path: Path) -> int:
    """Write a consistent copy of the database to `path`. Returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite"):
        source = sqlite3.connect(sqlite_path(database_url), timeout=30)
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target, pages=256)  # in steps, so writers are not held up for long
        finally:
            target.close()
            source.close()
    else:
        args, env = _pg_args(database_url)
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), *args],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupFailed(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
    return path.stat().st_size


def restore(database_url: str, path: Path) -> None:
    """Replace the database's contents with the backup at `path` (stop the service first)."""
    if not path.exists():
        raise BackupFailed(f"No backup at {path}")
    if database_url.startswith("sqlite"):
        source = sqlite3.connect(path)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupFailed(f"{path} is not a sound SQLite database")
            target_path = Path(sqlite_path(database_url))
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(target_path)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as exc:
            raise BackupFailed(f"{path} is not a SQLite backup: {exc}") from None
        finally:
            source.close()
    else:
        args, env = _pg_args(database_url)
        done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                               "--exit-on-error", *args, str(path)], env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupFailed(f"pg_restore failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
