"""Planning the programme: adding, changing and cancelling events and venues, telling bookers."""
