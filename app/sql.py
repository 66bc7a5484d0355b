"""The service's hand-written SQL is written once, with `{name}` markers for its values; this is
the one place that knows how each way of running it takes them:

- `for_piccolo`: Piccolo's raw queries, positional `{}` and the values in order (both engines);
- `for_sqlite`: Python's sqlite3, named `:name` parameters (the SQLite writer's one hop);
- `for_plpgsql`: a PostgreSQL function's body, each marker a variable or a field of its jsonb
  argument `p` (`p->>'name'`, cast where the column is not text).

Nothing here knows what the statements say."""

from __future__ import annotations

import re
from collections.abc import Mapping

_MARKER = re.compile(r"\{(\w+)\}")


def for_piccolo(template: str, **values: object) -> tuple[str, list[object]]:
    """A statement with {name} markers as Piccolo's raw SQL: positional {} and the values in order."""
    names = _MARKER.findall(template)
    return _MARKER.sub("{}", template), [values[n] for n in names]


def for_sqlite(template: str) -> str:
    """A statement with {name} markers as sqlite3 takes named parameters (:name)."""
    return _MARKER.sub(r":\1", template)


def for_plpgsql(template: str, variables: Mapping[str, str]) -> str:
    """A statement with {name} markers inside a PL/pgSQL function of `p jsonb`: a marker named in
    `variables` becomes that expression (a local variable, a cast field), any other `(p->>'name')`."""
    return _MARKER.sub(lambda m: variables.get(m[1], f"(p->>'{m[1]}')"), template)
