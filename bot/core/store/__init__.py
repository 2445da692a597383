"""Persistence: the store protocol, its records, and the SQL implementation."""
