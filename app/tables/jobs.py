"""Piccolo table for the service's scheduled jobs: when each last ran, and what it did."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class ScheduledJob(Table, tablename="scheduled_job"):
    """One row per job. A process runs a job only after claiming it by moving `last_started_at`
    forward in one UPDATE whose WHERE says the job is due, so among any number of processes
    sharing the database one runs it (`app.jobs.claim`)."""

    name = Varchar(length=60, unique=True)
    last_started_at = Timestamptz(null=True, default=None)
    last_finished_at = Timestamptz(null=True, default=None)
    last_result = Text(default="")
    runs = Integer(default=0, help_text="How many times the job has run, across every process")
