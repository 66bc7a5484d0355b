"""Ground floor: every table of the service, declared once (Piccolo)."""
