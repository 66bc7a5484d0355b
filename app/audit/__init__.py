"""The audit trail: who did what to which event or booking, and when."""
