"""Which records count as evidence for which questionnaire question (seeds/evidence_rules.toml):
read by the questionnaire's evaluator and by each lead's clock. Change a rule there, not in code."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parent.parent / "seeds" / "evidence_rules.toml"


@lru_cache(maxsize=1)
def rules() -> dict[int, dict[str, Any]]:
    with RULES_FILE.open("rb") as f:
        return {rule["question"]: rule for rule in tomllib.load(f)["rules"]}
