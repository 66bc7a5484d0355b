"""Dependencies are locked: every package pyproject.toml names is pinned, with hashes, in
requirements.lock (what `make` installs from, with --require-hashes)."""

import re
import tomllib

from app.config import PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned_with_hashes_in_the_lock_file():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    lock = (PROJECT_ROOT / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\\n", lock, re.M | re.I))
    pinned = {name.lower().replace("_", "-"): version for name, version in pinned.items()}
    assert wanted <= set(pinned), f"run `make lock`: not in requirements.lock: {sorted(wanted - set(pinned))}"
    blocks = re.split(r"\n(?=[a-z0-9])", lock, flags=re.I)
    unhashed = [b.split("==")[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert unhashed == []
    for requirement in project["dependencies"]:
        exact = re.search(r"==([\w.]+)", requirement)
        if exact:  # an exact pin in pyproject.toml is the version locked
            assert pinned[_name(requirement)] == exact.group(1), requirement
