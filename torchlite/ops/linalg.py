"""Linalg ops (being filled in: see the core issue)."""
