"""Attendance: registers, marking who came, walk-ins, QR check-in, Teams import, no-shows."""
