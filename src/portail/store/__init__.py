"""Persistence wiring: database, embedded PostgreSQL, transcodings, per-family encryption."""
