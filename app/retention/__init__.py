"""Retention: personal data is removed on a schedule, by code (`python -m app purge`)."""
