"""The database schema as data, on either engine, so two databases can be compared: tables with
their columns (type, nullability, default, primary key), indexes (columns, uniqueness, partial
WHERE), foreign keys (target and ON DELETE), checks and triggers. Order-insensitive: a column added
by a later migration and the same column in a CREATE TABLE compare equal.

`python -m tests.schema URL` prints it as JSON; `tests/migrations/schema.<engine>.json` holds the
schema the migrations must build on each engine (update both in the same commit as a new migration).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import sys
from typing import Any

SKIP_TABLES = {"migration", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}  # bookkeeping, statistics


def _norm(sql: str | None) -> str | None:
    if sql is None:
        return None
    return re.sub(r"\s+", " ", sql.replace('"', "")).strip().lower()


def sqlite_schema(path: str) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if r[0] not in SKIP_TABLES]
        out: dict[str, Any] = {"tables": {}, "indexes": {}, "triggers": {}}
        for table in sorted(tables):
            columns = {}
            for _, name, kind, notnull, default, pk in conn.execute(f'PRAGMA table_info("{table}")'):
                columns[name] = {"type": kind.lower(), "not_null": bool(notnull), "default": _norm(default),
                                 "primary_key": bool(pk)}
            fks = sorted(f"{row[3]} -> {row[2]}.{row[4]} on delete {row[6].lower()}"
                         for row in conn.execute(f'PRAGMA foreign_key_list("{table}")'))
            create = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            checks = sorted(_norm(m) for m in re.findall(r"CHECK\s*\((.*?)\)\s*[,)]", create or "", re.I))
            out["tables"][table] = {"columns": columns, "foreign_keys": fks, "checks": checks}
        for name, table, sql in conn.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"):
            if table in SKIP_TABLES:
                continue
            cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
            where = re.search(r"\bWHERE\b(.*)$", sql, re.I | re.S)
            out["indexes"][name] = {"table": table, "columns": cols, "unique": bool(re.match(r"\s*CREATE UNIQUE", sql, re.I)),
                                    "where": _norm(where.group(1)) if where else None}
        # Piccolo's unique=True columns become autoindexes on SQLite: keep them, by table and columns.
        for (table,) in [(t,) for t in tables]:
            for _, name, unique, origin, partial in conn.execute(f'PRAGMA index_list("{table}")'):
                if name.startswith("sqlite_autoindex"):
                    cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
                    out["indexes"][f"unique:{table}:{','.join(cols)}"] = {
                        "table": table, "columns": cols, "unique": True, "where": None}
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"):
            out["triggers"][name] = _norm(sql)
        return out
    finally:
        conn.close()


async def _postgres_schema(url: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        out: dict[str, Any] = {"tables": {}, "indexes": {}, "triggers": {}}
        tables = [r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
            if r["table_name"] not in SKIP_TABLES]
        for table in sorted(tables):
            columns = {}
            for r in await conn.fetch(
                    "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default "
                    "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1", table):
                kind = r["data_type"] + (f"({r['character_maximum_length']})" if r["character_maximum_length"] else "")
                columns[r["column_name"]] = {"type": kind, "not_null": r["is_nullable"] == "NO",
                                             "default": _norm(r["column_default"]), "primary_key": False}
            for r in await conn.fetch(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary", table):
                columns[r["attname"]]["primary_key"] = True
            constraints = await conn.fetch(
                "SELECT conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint "
                "WHERE conrelid = $1::regclass", table)
            fks = sorted(_norm(c["def"]) for c in constraints if c["contype"] == "f")
            checks = sorted(f"{c['conname']}: {_norm(c['def'])}" for c in constraints if c["contype"] == "c")
            out["tables"][table] = {"columns": columns, "foreign_keys": fks, "checks": checks}
        for r in await conn.fetch("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"):
            if r["tablename"] in SKIP_TABLES:
                continue
            out["indexes"][r["indexname"]] = {"table": r["tablename"], "definition": _norm(r["indexdef"])}
        for r in await conn.fetch("SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE NOT tgisinternal"):
            out["triggers"][r["tgname"]] = _norm(r["def"])
        return out
    finally:
        await conn.close()


def schema(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite:///"):
        return sqlite_schema(database_url.removeprefix("sqlite:///"))
    return asyncio.run(_postgres_schema(database_url))


if __name__ == "__main__":
    print(json.dumps(schema(sys.argv[1]), indent=1, sort_keys=True))
