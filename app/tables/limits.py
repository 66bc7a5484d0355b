"""Piccolo table for the abuse limits' counters when they are kept in the database."""

from __future__ import annotations

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table


class RateLimitHit(Table, tablename="rate_limit_hit"):
    """How many times one client address or email address did one thing in one time window.
    `key` names the limit, who and the window; the row is useless once `expires_at` has passed
    (the timed jobs delete it)."""

    key = Varchar(length=400, unique=True)
    hits = Integer(default=0)
    expires_at = Timestamptz(index=True)
