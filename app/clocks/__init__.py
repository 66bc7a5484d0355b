"""Each safeguarding lead's clock: their dates, the reminders before them, each setting's cover."""
