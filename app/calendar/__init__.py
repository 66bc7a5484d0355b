"""iCalendar: invites for bookers and public feeds. Pure: data in, bytes out, no I/O."""
