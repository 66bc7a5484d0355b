"""Changing the programme: adding, changing and cancelling events and venues, telling bookers
(`app.programme` is the programme as it is read; this package, how organisers change it)."""
