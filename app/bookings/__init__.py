"""Bookings: taking places within capacity, manage links, cancellation."""
