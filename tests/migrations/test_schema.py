"""The migrations build exactly the schema recorded in `tests/migrations/schema.<engine>.json`.

That record was first taken from a database built by the eight migrations the squash replaced,
so the single initial migration is shown to build the same tables, columns, defaults, keys,
indexes, checks and triggers on both engines. A new (forward) migration updates the record in the
same commit: `python -m tests.schema URL > tests/migrations/schema.<engine>.json`.
"""

import json
from pathlib import Path

from tests.schema import schema

HERE = Path(__file__).parent


def test_the_migrations_build_the_recorded_schema(database_url):
    engine = "sqlite" if database_url.startswith("sqlite") else "postgres"
    recorded = json.loads((HERE / f"schema.{engine}.json").read_text())
    built = json.loads(json.dumps(schema(database_url)))
    assert len(recorded["tables"]) == 26 and len(recorded["indexes"]) > 20
    assert built["tables"].keys() == recorded["tables"].keys()
    for table in recorded["tables"]:
        assert built["tables"][table] == recorded["tables"][table], table
    assert built["indexes"] == recorded["indexes"]
    assert built["triggers"] == recorded["triggers"]


def test_there_is_one_initial_migration_and_it_is_first():
    files = sorted(p.name for p in (HERE.parent.parent / "migrations").glob("*.py") if p.name != "__init__.py")
    assert files and "initial" in (HERE.parent.parent / "migrations" / files[0]).read_text()
