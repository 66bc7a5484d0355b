"""The service's own Prometheus metrics, counted where things happen (prometheus-client).

Counters live in each process (or in PROMETHEUS_MULTIPROC_DIR when several workers share a
machine). What the database knows for every process at once (outbox depth and age, deliveries
and failures, scheduled job runs) is read from it when /metrics is scraped
(`app.web.operations`), so it is right however many senders and web processes there are."""

from __future__ import annotations

from prometheus_client import Counter

BOOKINGS = Counter("bookings_total", "Booking requests by outcome (made, waitlisted, refused) and reason",
                   ["outcome", "reason"])


def booking_made(waitlisted: bool = False) -> None:
    BOOKINGS.labels("waitlisted" if waitlisted else "made", "").inc()


def booking_refused(reason: str) -> None:
    BOOKINGS.labels("refused", reason).inc()
