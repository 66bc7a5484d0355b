"""Booking service for the Education Safeguarding team's forums and training."""
