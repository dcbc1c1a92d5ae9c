"""Verify a published record: one checker per record kind (selection, invitation)."""
