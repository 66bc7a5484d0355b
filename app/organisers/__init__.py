"""Organisers: accounts, sign-in, sessions and the guard on every organiser route."""
