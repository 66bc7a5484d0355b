"""docs/architecture.md stays true: every module it cites exists and every name it gives beside
a module is in it (imported and looked up), or, where it names a database object, is one; and
every function named `app.x.y` in its prose imports. A rename that leaves the map behind fails."""

import importlib
import re
from pathlib import Path

import pytest

from app.piccolo_app import APP_CONFIG

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text()
MIGRATIONS = "\n".join(p.read_text() for p in (ROOT / "migrations").glob("*.py"))
#: Names the map gives that are not Python: tables, columns, indexes made in the migrations.
DATABASE_NAMES = {t._meta.tablename for t in APP_CONFIG.table_classes} | {
    c._meta.name for t in APP_CONFIG.table_classes for c in t._meta.columns}
#: What the map cites from outside the service (the library call a rule runs through).
OUTSIDE = ("anyio.", "asyncio.")


def _module(path: str):
    return importlib.import_module(path.removesuffix(".py").replace("/", "."))


def cited() -> list[tuple[str, str]]:
    """(module path, name) for each name the rule table gives after a module."""
    pairs = []
    for line in DOC.splitlines():
        if not line.startswith("| ") or line.startswith("| Rule") or line.startswith("|---"):
            continue
        home = line.rstrip(" |").rsplit(" | ", 1)[-1]
        module = None
        for token in re.findall(r"`([^`]+)`", home):
            if re.fullmatch(r"app/[\w/]+\.py", token):
                module = token
            elif module and re.fullmatch(r"[A-Za-z_][\w.]*(\(\))?", token) and not token.startswith(OUTSIDE):
                pairs.append((module, token.removesuffix("()")))
    return pairs


def test_the_map_cites_enough_to_be_read_against_the_code():
    assert len(cited()) >= 60


@pytest.mark.parametrize(("module", "name"), cited(), ids=lambda v: v)
def test_each_name_the_map_gives_is_in_its_module(module, name):
    assert (ROOT / module).exists(), f"{module} does not exist"
    found = _module(module)
    try:
        for part in name.split("."):
            found = getattr(found, part)
    except AttributeError:
        assert name in DATABASE_NAMES or re.search(rf"\b{re.escape(name)}\b", MIGRATIONS), \
            f"docs/architecture.md cites {name} in {module}: no such name there"


def test_each_module_and_dotted_function_in_the_prose_imports():
    for path in set(re.findall(r"`(app/[\w/]+\.py)`", DOC)):
        assert (ROOT / path).exists(), path
    for dotted in set(re.findall(r"`(app\.[\w.]+)`", DOC)):
        module, _, name = dotted.rpartition(".")
        try:
            assert hasattr(importlib.import_module(module), name), dotted
        except ModuleNotFoundError:
            importlib.import_module(dotted)  # the whole of it is a module
