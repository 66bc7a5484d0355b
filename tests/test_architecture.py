"""The layers hold: the import-linter contracts in pyproject.toml pass (no module imports one above
it, the domain never imports the web, no circles), and each rule has one home."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_package_and_module_of_app_has_its_place_in_the_layers():
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    present = {f"app.{p.stem}" for p in (ROOT / "app").iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert present - named == set(), "add these to the layers in pyproject.toml"


def test_only_the_places_module_writes_the_places_taken_counter():
    writers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "app").rglob("*.py")
               if "Event.places_taken:" in p.read_text()]
    assert writers == ["app/bookings/places.py"]


def test_no_email_is_assembled_outside_the_composer():
    """Every email comes from templates/emails/ through app.mail.compose.compose_email."""
    offenders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "app").rglob("*.py")
                 if p.name != "compose.py" and ("Email(" in p.read_text() or "<p>" in p.read_text())]
    assert offenders == []


def test_no_request_is_handed_to_a_thread_by_a_guard_or_a_dependency():
    """A plain `def` guard or dependency makes Litestar run it in a worker thread for every
    request: one did (ids_in_range), and a profile of booking under load found a fifth of the
    samples in the thread pool's hand-offs."""
    import inspect

    from app.config import Config
    from app.main import create_app

    app = create_app(Config(database_url="sqlite:///:memory:", mail_sender_in_process=False))
    sync_guards, threaded = set(), set()
    for route in app.routes:
        for handler in route.route_handlers:
            for guard in handler.resolve_guards():
                if not inspect.iscoroutinefunction(guard):
                    sync_guards.add(getattr(guard, "__name__", repr(guard)))
            for name, provider in handler.resolve_dependencies().items():
                if provider.sync_to_thread:
                    threaded.add(name)
    assert sync_guards == set() and threaded == set()
